package entity

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/nlu/normalize"
)

// lookup matches a designer's list of values and synonyms.
type lookup struct {
	name    string
	fuzzy   bool
	phrases []phrase         // longest first
	byFirst map[string][]int // first word → indices in phrases, ascending
}

type phrase struct {
	words []string
	value string
}

func newLookup(e *engine.EntityData) *lookup {
	l := &lookup{name: e.Name, fuzzy: e.Fuzzy}
	for _, v := range e.Values {
		for _, s := range append([]string{v.Value}, v.Synonyms...) {
			ws := splitWords(s)
			if len(ws) > 0 {
				l.phrases = append(l.phrases, phrase{ws, v.Value})
			}
		}
	}
	// longer phrases first, so "zapatillas de running" beats "zapatillas"
	for i := 1; i < len(l.phrases); i++ {
		for j := i; j > 0 && len(l.phrases[j].words) > len(l.phrases[j-1].words); j-- {
			l.phrases[j], l.phrases[j-1] = l.phrases[j-1], l.phrases[j]
		}
	}
	l.byFirst = map[string][]int{}
	for p, ph := range l.phrases {
		l.byFirst[ph.words[0]] = append(l.byFirst[ph.words[0]], p)
	}
	return l
}

// candidates appends to dst the phrases whose first word w can match
// exactly: the same word, or with a plural -s/-es added or taken away
// (see find), in the order of l.phrases.
func (l *lookup) candidates(dst []int, w string) []int {
	n := len(dst)
	dst = append(dst, l.byFirst[w]...)
	dst = append(dst, l.byFirst[w+"s"]...)
	dst = append(dst, l.byFirst[w+"es"]...)
	if s, ok := strings.CutSuffix(w, "s"); ok {
		dst = append(dst, l.byFirst[s]...)
	}
	if s, ok := strings.CutSuffix(w, "es"); ok {
		dst = append(dst, l.byFirst[s]...)
	}
	c := dst[n:]
	slices.Sort(c)
	return dst[:n+len(slices.Compact(c))]
}

// samePlural reports whether a is b, or b with -s or -es added.
func samePlural(a, b string) bool {
	rest, ok := strings.CutPrefix(a, b)
	return ok && (rest == "" || rest == "s" || rest == "es")
}

func splitWords(s string) []string {
	f := normalize.FoldRunes(s)
	var out []string
	for i := 0; i < len(f); {
		if !isWordRune(f[i]) {
			i++
			continue
		}
		j := i
		for j < len(f) && isWordRune(f[j]) {
			j++
		}
		out = append(out, normalize.Squeeze(string(f[i:j])))
		i = j
	}
	return out
}

// find returns the non-overlapping matches in t, left to right, the
// longest phrase and then an exact match winning.
func (l *lookup) find(t *text) []engine.Entity {
	ws := t.squeezed()
	var out []engine.Entity
	var buf [8]int
	for i := 0; i < len(ws); {
		best, bestLen, bestExact := -1, 0, false
		cands := buf[:0]
		if !l.fuzzy {
			cands = l.candidates(cands, ws[i])
		}
		for c := 0; ; c++ {
			var p int
			if l.fuzzy {
				if c == len(l.phrases) {
					break
				}
				p = c
			} else {
				if c == len(cands) {
					break
				}
				p = cands[c]
			}
			ph := l.phrases[p]
			n := len(ph.words)
			if i+n > len(ws) || n < bestLen {
				continue
			}
			exact, ok := true, true
			for k, pw := range ph.words {
				switch {
				case samePlural(ws[i+k], pw) || samePlural(pw, ws[i+k]):
				case l.fuzzy && closeEnough(ws[i+k], pw):
					exact = false
				default:
					ok = false
				}
				if !ok {
					break
				}
			}
			if ok && (n > bestLen || (exact && !bestExact)) {
				best, bestLen, bestExact = p, n, exact
			}
		}
		if best < 0 {
			i++
			continue
		}
		s, e := t.words[i].start, t.words[i+bestLen-1].end
		out = append(out, t.entity(l.name, l.phrases[best].value, s, e))
		i += bestLen
	}
	return out
}

// closeEnough allows one typo in words of 4 to 7 letters and two from 8.
func closeEnough(a, b string) bool {
	n := utf8.RuneCountInString(b)
	limit := 0
	switch {
	case n >= 8:
		limit = 2
	case n >= 4:
		limit = 1
	}
	if limit == 0 {
		return false
	}
	return distance(a, b, limit) <= limit
}

// distance is the optimal-string-alignment edit distance between a and
// b, or limit+1 when it exceeds limit.
func distance(a, b string, limit int) int {
	x, y := []rune(a), []rune(b)
	if d := len(x) - len(y); d > limit || -d > limit {
		return limit + 1
	}
	prev2 := make([]int, len(y)+1)
	prev := make([]int, len(y)+1)
	cur := make([]int, len(y)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(x); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(y)]
}
