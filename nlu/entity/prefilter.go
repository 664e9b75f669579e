package entity

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"unicode"
	"unicode/utf8"
)

// Cheap tests that tell when a regular expression cannot match, so that
// most messages skip most of them: entities are looked for in every
// message, and a regular expression that fails still reads the whole text.

// runeSet is a set of runes one of which every match of some expression
// contains. The nil set filters nothing.
type runeSet struct {
	ascii [2]uint64
	other []rune
}

// in reports whether s has a rune of the set (always true for nil).
func (rs *runeSet) in(s string) bool {
	if rs == nil {
		return true
	}
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if rs.ascii[b>>6]&(1<<(b&63)) != 0 {
				return true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if slices.Contains(rs.other, r) {
			return true
		}
		i += n
	}
	return false
}

func (rs *runeSet) add(r rune) {
	if r < utf8.RuneSelf {
		rs.ascii[r>>6] |= 1 << (r & 63)
	} else if !slices.Contains(rs.other, r) {
		rs.other = append(rs.other, r)
	}
}

// requiredRunes returns the runes one of which every match of the
// expression contains, or nil when it cannot tell (a match may be empty or
// be made of any runes).
func requiredRunes(expr string) *runeSet {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	set, ok := needed(re.Simplify())
	if !ok {
		return nil
	}
	rs := &runeSet{}
	for _, r := range set {
		rs.add(r)
	}
	return rs
}

// maxNeeded bounds the runes of a class taken as a requirement.
const maxNeeded = 64

// needed returns runes one of which every match of re contains.
func needed(re *syntax.Regexp) ([]rune, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return nil, false
		}
		r := re.Rune[0]
		out := []rune{r}
		if re.Flags&syntax.FoldCase != 0 {
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				out = append(out, f)
			}
		}
		return out, true
	case syntax.OpCharClass:
		var out []rune
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if len(out)+int(re.Rune[i+1]-re.Rune[i]) >= maxNeeded {
				return nil, false
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				out = append(out, r)
			}
		}
		return out, len(out) > 0
	case syntax.OpCapture, syntax.OpPlus:
		return needed(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return needed(re.Sub[0])
		}
	case syntax.OpConcat:
		var best []rune
		found := false
		for _, sub := range re.Sub {
			if set, ok := needed(sub); ok && (!found || len(set) < len(best)) {
				best, found = set, true
			}
		}
		return best, found
	case syntax.OpAlternate:
		var out []rune
		for _, sub := range re.Sub {
			set, ok := needed(sub)
			if !ok {
				return nil, false
			}
			out = append(out, set...)
		}
		return out, true
	}
	return nil, false
}

// isSpace reports the runes regexp's \s matches.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

// tail returns the offset in s where its last run of non-space bytes
// starts (its trailing spaces skipped). An expression of the form
// `X\s*$`, where X matches no space, can only match from there; matching
// s[tail(s):] instead of s gives the same match (\b sees a space or the
// start of the text either way) without reading the whole text.
func tail(s string) int {
	i := len(s)
	for i > 0 && isSpace(s[i-1]) {
		i--
	}
	for i > 0 && !isSpace(s[i-1]) {
		i--
	}
	return i
}

// matchTail is re.FindStringSubmatchIndex(s) for an expression anchored at
// the end as [tail] describes, with offsets in s.
func matchTail(re *regexp.Regexp, s string) []int {
	off := tail(s)
	m := re.FindStringSubmatchIndex(s[off:])
	for i := range m {
		if m[i] >= 0 {
			m[i] += off
		}
	}
	return m
}

// hasASCIIWord reports whether s has a maximal run of ASCII word
// characters ([0-9A-Za-z_], what regexp's \b knows) in set: an expression
// `\b(?:w1|w2|…)\b` can only match then.
func hasASCIIWord(s string, set map[string]bool) bool {
	for i := 0; i < len(s); {
		if !isASCIIWord(s[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(s) && isASCIIWord(s[j]) {
			j++
		}
		if set[s[i:j]] {
			return true
		}
		i = j
	}
	return false
}

// hasASCIIWordEnding reports whether a run of ASCII word characters of s
// ends with a word of set (which holds words of 3 to 10 letters).
func hasASCIIWordEnding(s string, set map[string]bool) bool {
	for i := 0; i < len(s); {
		if !isASCIIWord(s[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(s) && isASCIIWord(s[j]) {
			j++
		}
		for n := 3; n <= 10 && n <= j-i; n++ {
			if set[s[j-n:j]] {
				return true
			}
		}
		i = j
	}
	return false
}

func isASCIIWord(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}
