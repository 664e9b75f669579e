package classify

import (
	"slices"
	"sort"
	"unicode/utf8"

	"github.com/charlabot/charla/nlu/lexicon"
	"github.com/charlabot/charla/nlu/normalize"
)

// speller corrects a word the model has never seen to a known word when a
// typo is much likelier than a real word the model does not know:
// "pedio" → "pedido", "dirrecion" → "direccion", "tala" → "talla".
//
// A word is never corrected when it is a real word: one the model knows
// (its training data, the lexicon) or a frequent word of Spanish or
// English (lexicon.CommonWords: "perdón" is not a misspelt "person" to an
// English model). Otherwise every known word within reach is weighed by
// what it takes to turn it into the typed word, the likeliest typos
// costing least: a doubled letter written once or twice ("tala",
// "graciass") 0.3, a silent h or a letter that sounds the same in Spanish
// (b/v, s/z/c, y/i, g/j, k/c/q) 0.4, a key next to the right one or two
// letters swapped 0.6, a missing letter 0.8, any other edit 1. A correction
// is made only when its cost fits the typed word's length: nothing below
// four letters, a doubled letter at four, a missing letter or a cheaper
// edit at five, one edit
// at six or seven, up to two from eight letters (short words have many
// real neighbours; a long word with a typo rarely has another reading).
// The cheapest candidate wins, then the commonest in the training data
// (a training word beats a lexicon word), then the first in alphabetical
// order.
//
// Candidates come from an index of the deletions of every known word
// (symmetric delete): the typed word and its one- and (from eight letters)
// two-letter deletions are looked up in it. The index holds no pointers
// (hashes of the deletions and integer chains into the word list), so that
// the garbage collector does not walk its entries.
type speller struct {
	stems  map[string]string // known folded word → its stem
	count  map[string]int    // known folded word → occurrences
	lex    *lexicon.Lexicon
	common *lexicon.Common
	lang   string

	words []string   // the indexed known words (minLen letters or more)
	head  *hashIndex // hash of a deletion → first posting + 1
	post  []int32    // posting → index in words
	next  []int32    // posting → next posting with the same hash + 1
}

// minLen is the shortest known word a correction can reach.
const minLen = 4

func newSpeller(words map[string]string, count map[string]int, lex *lexicon.Lexicon, lang string) *speller {
	s := &speller{stems: words, count: count, lex: lex, common: lexicon.CommonWords(), lang: lang}
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
	n := 0
	for _, w := range keys {
		n += utf8.RuneCountInString(w) + 1
	}
	s.head = newHashIndex(n)
	for _, w := range keys {
		rs := []rune(w)
		if len(rs) < minLen {
			continue
		}
		s.words = append(s.words, w)
		s.postDeletion(deletionHash(rs, -1, -1))
		for i := range rs {
			s.postDeletion(deletionHash(rs, i, -1))
		}
	}
	return s
}

func (s *speller) postDeletion(h uint64) {
	s.post = append(s.post, int32(len(s.words)-1))
	s.next = append(s.next, max(s.head.get(h), 0))
	s.head.put(h, int32(len(s.post)))
}

// deletionHash is the FNV-1a hash of the runes rs without rs[i] and rs[j]
// (-1: none).
func deletionHash(rs []rune, i, j int) uint64 {
	h := uint64(14695981039346656037)
	var buf [utf8.UTFMax]byte
	for k, r := range rs {
		if k == i || k == j {
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

// known reports whether the model knows the folded word w.
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

// budget is the most a correction of a typed word of n letters may cost.
func budget(n int) float64 {
	switch {
	case n < 4:
		return 0
	case n == 4:
		return 0.3
	case n == 5:
		return costMiss
	case n <= 7:
		return 1
	case n <= 10:
		return 1.4
	}
	return 1.8
}

// correct returns the known word the unknown folded word w is a typo of,
// and its stem, or false when w is a real word or no correction is likely
// enough.
func (s *speller) correct(w string) (string, string, bool) {
	if s.known(w) || s.common.HasWord(w) {
		return "", "", false
	}
	if d := squeezeDoubles(w); d != w && s.known(d) { // "graciass", "nahh"
		return d, s.stem(d), true
	}
	if s.common.HasStem(w) {
		return "", "", false
	}
	var buf [32]rune
	rs := append(buf[:0], []rune(w)...)
	limit := budget(len(rs))
	if limit == 0 {
		return "", "", false
	}
	best, bestCost, bestN := "", limit+1e-9, 0
	var seenBuf [16]int32
	seen := seenBuf[:0]
	consider := func(p int32) {
		if slices.Contains(seen, p) {
			return
		}
		seen = append(seen, p)
		c := s.words[p]
		cost := typoCost(rs, c, bestCost)
		if cost > bestCost+1e-9 {
			return
		}
		n := 2*s.count[c] + 1 // a training word beats a lexicon word
		if cost < bestCost-1e-9 || n > bestN || (n == bestN && c < best) {
			best, bestCost, bestN = c, cost, n
		}
	}
	s.each(deletionHash(rs, -1, -1), consider) // a letter missing, or a doubled letter written twice
	for i := range rs {
		s.each(deletionHash(rs, i, -1), consider) // a letter extra, wrong, or two swapped
	}
	if len(rs) >= 8 {
		for i := range rs {
			for j := i + 1; j < len(rs); j++ {
				s.each(deletionHash(rs, i, j), consider) // two edits
			}
		}
	}
	if best == "" {
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

// each calls f with the index of every indexed word that has a deletion
// of hash h (and, rarely, of another word whose deletion shares the hash:
// typoCost checks the words themselves).
func (s *speller) each(h uint64, f func(int32)) {
	for p := max(s.head.get(h), 0); p != 0; p = s.next[p-1] {
		f(s.post[p-1])
	}
}

// Edit costs; see speller.
const (
	costDouble = 0.3 // a doubled letter written once, or a letter doubled
	costSound  = 0.4 // a letter that sounds the same, a silent h
	costKey    = 0.6 // a neighbouring key, two letters swapped
	costMiss   = 0.8 // a letter missing
	costOther  = 1.0
)

// typoCost is the least cost of the edits that turn the known word c into
// the typed word w (optimal string alignment: each letter edited once), or
// more than limit when it exceeds limit.
func typoCost(w []rune, c string, limit float64) float64 {
	var cbuf [32]rune
	x := append(cbuf[:0], []rune(c)...)
	if d := len(w) - len(x); d > 2 || d < -2 {
		return limit + 1
	}
	n, m := len(x), len(w)
	// d[i][j]: cost of turning x[:i] into w[:j]
	var rows [3][34]float64
	if m+1 > len(rows[0]) || n+1 > 33 {
		return limit + 1
	}
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= m; j++ {
		prev[j] = 0
		if j > 0 {
			prev[j] = prev[j-1] + insertCost(w, j-1)
		}
	}
	for i := 1; i <= n; i++ {
		cur[0] = prev[0] + deleteCost(x, i-1)
		rowMin := cur[0]
		for j := 1; j <= m; j++ {
			sub := 0.0
			if x[i-1] != w[j-1] {
				sub = substCost(x[i-1], w[j-1])
			}
			v := min(prev[j-1]+sub, prev[j]+deleteCost(x, i-1), cur[j-1]+insertCost(w, j-1))
			if i > 1 && j > 1 && x[i-1] == w[j-2] && x[i-2] == w[j-1] && x[i-1] != x[i-2] {
				v = min(v, prev2[j-2]+costKey)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > limit+1e-9 {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[m]
}

// insertCost is the cost of the typed word w having its letter j extra.
func insertCost(w []rune, j int) float64 {
	r := w[j]
	switch {
	case j > 0 && w[j-1] == r, j+1 < len(w) && w[j+1] == r:
		return costDouble
	case r == 'h':
		return costSound
	case j > 0 && keyNear(w[j-1], r), j+1 < len(w) && keyNear(w[j+1], r):
		return costKey
	}
	return costOther
}

// deleteCost is the cost of the typed word lacking the letter i of the
// known word x.
func deleteCost(x []rune, i int) float64 {
	r := x[i]
	switch {
	case i > 0 && x[i-1] == r, i+1 < len(x) && x[i+1] == r:
		return costDouble
	case r == 'h', r == 'u' && i > 0 && x[i-1] == 'q': // "ablar", "qiero"
		return costSound
	}
	return costMiss
}

// substCost is the cost of typing b for a.
func substCost(a, b rune) float64 {
	switch {
	case soundAlike(a, b):
		return costSound
	case keyNear(a, b):
		return costKey
	}
	return costOther
}

// soundAlike reports letters Spanish spells alike in some words.
func soundAlike(a, b rune) bool {
	if a > b {
		a, b = b, a
	}
	switch [2]rune{a, b} {
	case [2]rune{'b', 'v'}, [2]rune{'s', 'z'}, [2]rune{'c', 's'}, [2]rune{'c', 'z'}, [2]rune{'i', 'y'},
		[2]rune{'g', 'j'}, [2]rune{'c', 'k'}, [2]rune{'k', 'q'}, [2]rune{'s', 'x'}:
		return true
	}
	return false
}

// keyRows are the letter rows of a QWERTY keyboard (Spanish layouts add ñ
// after l).
var keyRows = [3]string{"qwertyuiop", "asdfghjklñ", "zxcvbnm"}

// keyPos is each letter's row and column; a lower row sits half a key to
// the right of the one above.
var keyPos = func() map[rune][2]int {
	m := map[rune][2]int{}
	for r, row := range keyRows {
		for c, ch := range []rune(row) {
			m[ch] = [2]int{r, 2*c + r}
		}
	}
	return m
}()

// keyNear reports whether a and b are neighbouring keys.
func keyNear(a, b rune) bool {
	pa, ok1 := keyPos[a]
	pb, ok2 := keyPos[b]
	if !ok1 || !ok2 || a == b {
		return false
	}
	dr, dc := pa[0]-pb[0], pa[1]-pb[1]
	switch dr {
	case 0:
		return dc == 2 || dc == -2
	case 1, -1:
		return dc >= -1 && dc <= 1
	}
	return false
}
