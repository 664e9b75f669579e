package classify

import (
	"sort"
	"unicode/utf8"

	"github.com/charlabot/charla/nlu/lexicon"
	"github.com/charlabot/charla/nlu/normalize"
)

// speller corrects a word the model has never seen to a known word one
// edit away (a letter missing, extra, wrong or two letters swapped), the
// commonest such word winning: "pedio" → "pedido", "dirrecion" →
// "direccion". Known words of four or five letters have too many
// neighbours for that; an unknown word only becomes one of them by getting
// a doubled letter back ("tala" → "talla"). The
// known words are those of the training data and, when there is one, of
// the lexicon (a training word wins over a lexicon word). A word with a
// doubled letter whose single-letter form is known gets that form first
// ("graciass" → "gracias", "nahh" → "nah"). It indexes the single-letter
// deletions of every known word (symmetric delete), so a look-up costs a
// few map probes.
type speller struct {
	stems   map[string]string   // known folded word → its stem
	count   map[string]int      // known folded word → occurrences
	deletes map[string][]string // deletion of a known word → known words
	lex     *lexicon.Lexicon
	lang    string
	minLen  int
}

func newSpeller(words map[string]string, count map[string]int, lex *lexicon.Lexicon, lang string) *speller {
	s := &speller{stems: words, count: count, deletes: map[string][]string{}, lex: lex, lang: lang, minLen: 6}
	keys := make([]string, 0, len(words))
	for w := range words {
		keys = append(keys, w)
	}
	if lex != nil {
		for _, w := range lex.Words() {
			if _, ok := words[w]; !ok {
				keys = append(keys, w)
			}
		}
	}
	sort.Strings(keys)
	for _, w := range keys {
		if utf8.RuneCountInString(w) < s.minLen {
			continue
		}
		for _, d := range deletions(w) {
			s.deletes[d] = appendUnique(s.deletes[d], w)
		}
	}
	return s
}

func appendUnique(l []string, w string) []string {
	for _, x := range l {
		if x == w {
			return l
		}
	}
	return append(l, w)
}

func deletions(w string) []string {
	rs := []rune(w)
	out := make([]string, 0, len(rs))
	for i := range rs {
		out = append(out, string(rs[:i])+string(rs[i+1:]))
	}
	return out
}

func (s *speller) known(w string) bool {
	if _, ok := s.stems[w]; ok {
		return true
	}
	return s.lex != nil && s.lex.Known(w)
}

// stem returns the stem of a known word.
func (s *speller) stem(w string) string {
	if st, ok := s.stems[w]; ok {
		return st
	}
	return normalize.Fold(normalize.Stem(w, s.lang))
}

// correct returns the known word closest to the unknown folded word w and
// its stem, or false when w is known, short, or has no neighbour.
func (s *speller) correct(w string) (string, string, bool) {
	if s.known(w) {
		return "", "", false
	}
	if d := squeezeDoubles(w); d != w && s.known(d) {
		return d, s.stem(d), true
	}
	if utf8.RuneCountInString(w) < 4 {
		return "", "", false
	}
	best, bestN := "", 0
	consider := func(c string) {
		if utf8.RuneCountInString(c) < s.minLen || !s.known(c) || !withinOne(w, c) {
			return
		}
		n := 2*s.count[c] + 1 // a training word beats a lexicon word
		if n > bestN || (n == bestN && c < best) {
			best, bestN = c, n
		}
	}
	for _, c := range s.deletes[w] { // w lacks a letter
		consider(c)
	}
	for _, d := range deletions(w) {
		consider(d) // w has an extra letter
		for _, c := range s.deletes[d] {
			consider(c) // a wrong letter, or two swapped
		}
	}
	if bestN == 0 {
		// a doubled letter written once: "tala" → "talla"
		rs := []rune(w)
		for i := range rs {
			if d := string(rs[:i+1]) + string(rs[i:]); s.known(d) {
				return d, s.stem(d), true
			}
		}
		return "", "", false
	}
	return best, s.stem(best), true
}

// squeezeDoubles shortens every run of a repeated letter to one letter
// ("graciass" → "gracias").
func squeezeDoubles(w string) string {
	var prev rune
	out := make([]rune, 0, len(w))
	for _, r := range w {
		if r == prev {
			continue
		}
		out = append(out, r)
		prev = r
	}
	return string(out)
}

// withinOne reports whether a and b are at most one edit apart, counting a
// swap of adjacent letters as one edit.
func withinOne(a, b string) bool {
	x, y := []rune(a), []rune(b)
	if len(x) < len(y) {
		x, y = y, x
	}
	switch len(x) - len(y) {
	case 0:
		diff := -1
		for i := range x {
			if x[i] != y[i] {
				if diff >= 0 {
					// a swap of adjacent letters
					return i == diff+1 && x[diff] == y[i] && x[i] == y[diff] && string(x[i+1:]) == string(y[i+1:])
				}
				diff = i
			}
		}
		return true
	case 1:
		i := 0
		for i < len(y) && x[i] == y[i] {
			i++
		}
		return string(x[i+1:]) == string(y[i:])
	}
	return false
}
