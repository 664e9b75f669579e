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
// few map probes. The index holds no pointers (hashes of the deletions and
// integer chains into the word list), so that the garbage collector does
// not walk its hundred thousand entries.
type speller struct {
	stems  map[string]string // known folded word → its stem
	count  map[string]int    // known folded word → occurrences
	lex    *lexicon.Lexicon
	lang   string
	minLen int

	words []string         // the indexed known words (minLen letters or more)
	head  map[uint64]int32 // hash of a deletion → first posting + 1
	post  []int32          // posting → index in words
	next  []int32          // posting → next posting with the same hash + 1
}

func newSpeller(words map[string]string, count map[string]int, lex *lexicon.Lexicon, lang string) *speller {
	s := &speller{stems: words, count: count, lex: lex, lang: lang, minLen: 6, head: map[uint64]int32{}}
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
		rs := []rune(w)
		if len(rs) < s.minLen {
			continue
		}
		s.words = append(s.words, w)
		for i := range rs {
			h := deletionHash(rs, i)
			s.post = append(s.post, int32(len(s.words)-1))
			s.next = append(s.next, s.head[h])
			s.head[h] = int32(len(s.post))
		}
	}
	return s
}

// deletionHash is the FNV-1a hash of the runes rs without rs[i] (i = -1:
// all of them).
func deletionHash(rs []rune, i int) uint64 {
	h := uint64(14695981039346656037)
	var buf [utf8.UTFMax]byte
	for j, r := range rs {
		if j == i {
			continue
		}
		n := utf8.EncodeRune(buf[:], r)
		for _, b := range buf[:n] {
			h ^= uint64(b)
			h *= 1099511628211
		}
	}
	return h
}

// each calls f with every indexed word that has a deletion of hash h (and,
// rarely, another word whose deletion shares the hash: callers check).
func (s *speller) each(h uint64, f func(string)) {
	for p := s.head[h]; p != 0; p = s.next[p-1] {
		f(s.words[s.post[p-1]])
	}
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
	rs := []rune(w)
	s.each(deletionHash(rs, -1), consider) // w lacks a letter
	for i := range rs {
		if len(rs) > s.minLen {
			consider(string(rs[:i]) + string(rs[i+1:])) // w has an extra letter
		}
		s.each(deletionHash(rs, i), consider) // a wrong letter, or two swapped
	}
	if bestN == 0 {
		// a doubled letter written once: "tala" → "talla"
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
