package normalize

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// foldTable maps the runes below foldLimit to their base letter without
// diacritics (á → a, ñ → n, ç → c); 0 means "unchanged".
const foldLimit = 0x250

var foldTable [foldLimit]rune

func init() {
	for r := rune(0xC0); r < foldLimit; r++ {
		d := []rune(norm.NFD.String(string(r)))
		if len(d) > 1 && unicode.Is(unicode.Mn, d[1]) {
			foldTable[r] = d[0]
		}
	}
}

// FoldRune returns r without diacritics (á → a, Ñ → N); combining marks
// fold to -1 (drop them).
func FoldRune(r rune) rune {
	if r < foldLimit {
		if f := foldTable[r]; f != 0 {
			return f
		}
		return r
	}
	if unicode.Is(unicode.Mn, r) {
		return -1
	}
	return r
}

// Fold removes diacritics from s: "envío" → "envio", "año" → "ano".
func Fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		if f := FoldRune(r); f >= 0 {
			b.WriteRune(f)
		}
	}
	return b.String()
}

// Clean applies Unicode NFKC and lower-casing: "ＨＯＬＡ" → "hola",
// "ＳＩ" → "si". (Full case folding would also turn "ß" into "ss"; Spanish
// and English chat does not need it.)
func Clean(s string) string {
	if !norm.NFKC.IsNormalString(s) {
		s = norm.NFKC.String(s)
	}
	return strings.ToLower(s)
}

// FoldRunes returns the runes of s, lower-cased and without diacritics, one
// for each rune of s, so that offsets in the result are offsets in s.
// Entity extractors match on it and report positions in the original text.
func FoldRunes(s string) []rune { return AppendFoldRunes(make([]rune, 0, len(s)), s) }

// AppendFoldRunes appends the folded runes of s (see [FoldRunes]) to dst.
func AppendFoldRunes(dst []rune, s string) []rune {
	for _, r := range s {
		f := r
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				f += 'a' - 'A'
			}
			dst = append(dst, f)
			continue
		}
		f = unicode.ToLower(r)
		if f < foldLimit {
			if g := foldTable[f]; g != 0 {
				f = g
			}
		} else if unicode.Is(unicode.Mn, f) {
			f = ' '
		} else if f >= 0xFF01 && f <= 0xFF5E { // full-width ASCII
			f = unicode.ToLower(f - 0xFF01 + '!')
		}
		dst = append(dst, f)
	}
	return dst
}
