package classify

import (
	"embed"
	"slices"
	"strings"
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

// withBackground adds the background examples when examples have no OOS
// class and cfg allows it.
func withBackground(examples []Example, cfg Config) []Example {
	if cfg.NoBackground || slices.ContainsFunc(examples, func(e Example) bool { return e.Intent == OOS }) {
		return examples
	}
	bg := Background(cfg.Lang)
	if len(bg) == 0 {
		return examples
	}
	// no more background than twice an average intent, so that it does not
	// drown a bot with few examples; spread evenly over the list
	if n := 2 * len(examples) / max(len(labels(examples)), 1); n < len(bg) {
		n = max(n, 10)
		picked := make([]Example, 0, n)
		for i := range n {
			picked = append(picked, bg[i*len(bg)/n])
		}
		bg = picked
	}
	return append(slices.Clip(examples), bg...)
}
