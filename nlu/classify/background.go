package classify

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/charlabot/charla/nlu/lexicon"
)

// Background out-of-scope examples: everyday requests a shop's assistant is
// not for (weather, recipes, sport, travel, health, chit-chat), written for
// charla. When a bot's training data has no out-of-scope examples, these
// are added as the OOS class, so that the model has something to prefer
// over a shop intent for a message that is about none of them.
//
//go:embed background/*.txt
var backgroundFS embed.FS

// Background returns the built-in out-of-scope examples of lang (none for
// a language charla has no list for).
func Background(lang string) []Example {
	b, err := backgroundFS.ReadFile("background/" + lang + ".txt")
	if err != nil {
		return nil
	}
	var out []Example
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, Example{Text: line, Intent: OOS})
		}
	}
	return out
}

// Fingerprint identifies the built-in data the models depend on (the
// background sets and the lexicon), for cache keys: a model trained with
// other built-in data is trained again.
func Fingerprint() string {
	h := sha256.New()
	for _, lang := range []string{"en", "es"} {
		b, _ := backgroundFS.ReadFile("background/" + lang + ".txt")
		h.Write(b)
	}
	h.Write([]byte(lexicon.Fingerprint()))
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// withBackground adds the background examples when examples have no OOS
// class and cfg allows it, and returns the weight of every example: 1 for
// the designer's, and for the background ones a weight that makes them
// count together as BackgroundShare times an average intent, so that they
// do not drown a bot with few examples (nil when every weight is 1).
func withBackground(examples []Example, cfg Config) ([]Example, []float64) {
	if cfg.NoBackground || slices.ContainsFunc(examples, func(e Example) bool { return e.Intent == OOS }) {
		return examples, nil
	}
	bg := Background(cfg.Lang)
	if len(bg) == 0 {
		return examples, nil
	}
	share := float64(len(examples)) / float64(max(len(labels(examples)), 1)) * cfg.BackgroundShare
	w := min(1, share/float64(len(bg)))
	weights := make([]float64, len(examples)+len(bg))
	for i := range weights {
		weights[i] = 1
		if i >= len(examples) {
			weights[i] = w
		}
	}
	return append(slices.Clip(examples), bg...), weights
}
