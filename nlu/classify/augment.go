package classify

import (
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charlabot/charla/nlu/lexicon"
	"github.com/charlabot/charla/nlu/normalize"
)

// augment returns, for each of the designer's examples, cfg.Augment
// altered copies the way shoppers alter what they write: a word swapped for
// another of the same lexicon concept ("pedido" → "encomienda", "Nequi" →
// "Yape"), a word dropped, a typo (two letters swapped, one dropped or
// doubled). Each copy weighs cfg.AugmentWeight. The copies depend only on
// the example's text and cfg.Seed, so training stays deterministic.
func augment(examples []Example, weights []float64, cfg Config, lex *lexicon.Lexicon) ([]Example, []float64) {
	if cfg.Augment <= 0 {
		return examples, weights
	}
	// the designer's examples: all but the background ones
	mine, intents := 0, map[string]bool{}
	for i, ex := range examples {
		if weights == nil || weights[i] == 1 || ex.Intent != OOS {
			mine++
			intents[ex.Intent] = true
		}
	}
	if mine > cfg.AugmentMax*len(intents) {
		return examples, weights
	}
	if weights == nil {
		weights = make([]float64, len(examples))
		for i := range weights {
			weights[i] = 1
		}
	}
	n := len(examples)
	for i := range n {
		ex := examples[i]
		if ex.Intent == OOS && weights[i] != 1 {
			continue // the background set is not the designer's
		}
		h := fnv.New64a()
		h.Write([]byte(ex.Text))
		rng := rand.New(rand.NewPCG(h.Sum64(), cfg.Seed))
		seen := map[string]bool{ex.Text: true}
		for range cfg.Augment {
			t := alter(ex.Text, cfg.Lang, lex, rng)
			if seen[t] {
				continue
			}
			seen[t] = true
			examples = append(examples, Example{Text: t, Intent: ex.Intent})
			weights = append(weights, cfg.AugmentWeight*weights[i])
		}
	}
	return examples, weights
}

// alter changes one or two words of text.
func alter(text, lang string, lex *lexicon.Lexicon, rng *rand.Rand) string {
	words := strings.Fields(text)
	if len(words) == 0 {
		return text
	}
	edits := 1 + rng.IntN(2)
	for range edits {
		i := rng.IntN(len(words))
		w := words[i]
		core, pre, post := trimPunct(w)
		fold := normalize.Fold(strings.ToLower(core))
		var alts []string
		if lex != nil {
			alts = lex.Alternatives(fold, lang)
		}
		switch r := rng.Float64(); {
		case len(alts) > 0 && r < 0.6:
			words[i] = pre + alts[rng.IntN(len(alts))] + post
		case len(words) > 3 && r < 0.8:
			words = append(words[:i:i], words[i+1:]...)
		default:
			words[i] = pre + typo(core, rng) + post
		}
	}
	return strings.Join(words, " ")
}

func trimPunct(w string) (core, pre, post string) {
	start := strings.IndexFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) })
	if start < 0 {
		return "", w, ""
	}
	end := strings.LastIndexFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) })
	_, sz := utf8.DecodeRuneInString(w[end:])
	return w[start : end+sz], w[:start], w[end+sz:]
}

// typo makes one keyboard slip in a word of four letters or more.
func typo(w string, rng *rand.Rand) string {
	rs := []rune(w)
	if len(rs) < 4 {
		return w
	}
	i := 1 + rng.IntN(len(rs)-2)
	switch rng.IntN(3) {
	case 0: // two letters swapped
		rs[i], rs[i+1] = rs[i+1], rs[i]
	case 1: // a letter dropped
		rs = append(rs[:i:i], rs[i+1:]...)
	default: // a letter doubled
		rs = append(rs[:i+1:i+1], rs[i:]...)
	}
	return string(rs)
}
