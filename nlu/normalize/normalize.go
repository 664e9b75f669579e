// Package normalize turns chat text into tokens for intent matching:
// Unicode NFKC, case folding, repeated letters squeezed ("holaaaa" →
// "hola"), chat abbreviations expanded ("xq" → "porque", "pls" →
// "please"), voseo mapped to tú forms ("podés" → "puedes"), emoji kept as
// tokens, snowball stemming (on the accented word) and, last, the accents
// folded ("envío" → "envi").
package normalize

import (
	"hash/maphash"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"github.com/kljensen/snowball/spanish"
)

// Kind is what a token is made of.
type Kind uint8

const (
	Word   Kind = iota // letters
	Number             // digits only ("43", "2")
	Code               // letters and digits mixed ("a1002", "2x1")
	Emoji              // one emoji or pictograph
)

// Token is a normalised token of a text.
type Token struct {
	Norm string // lower-case, expanded, accents kept: "también"
	Fold string // Norm without accents: "tambien"
	Stem string // the snowball stem of Norm, accents folded: "tambi"
	Kind Kind
}

// Tokens normalises text written in lang ("es", "en"; anything else is
// tokenised without language-specific rules) and returns its tokens.
func Tokens(text, lang string) []Token {
	var out []Token
	for _, w := range AppendWords(nil, text, lang) {
		out = append(out, MakeToken(w, lang))
	}
	return out
}

// AppendWords appends to dst the normalised words of text (a token's Norm:
// cleaned, squeezed, chat forms expanded; an emoji is a word of its own),
// the steps of [Tokens] before folding and stemming.
func AppendWords(dst []string, text, lang string) []string {
	s := Clean(text)
	for i := 0; i < len(s); {
		w, n, ok := nextWord(s[i:])
		i += n
		if !ok {
			continue
		}
		r0, _ := utf8.DecodeRuneInString(w)
		if IsEmoji(r0) {
			dst = append(dst, w)
			continue
		}
		e := Expand(Squeeze(w), lang)
		if e != "" && strings.IndexByte(e, ' ') < 0 {
			dst = append(dst, e)
			continue
		}
		dst = append(dst, strings.Fields(e)...)
	}
	return dst
}

// IsEmoji reports whether r is an emoji or pictograph.
func IsEmoji(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF, r >= 0x2600 && r <= 0x27BF, r >= 0x2B00 && r <= 0x2BFF,
		r >= 0x2190 && r <= 0x21FF, r == 0x2764, r == 0x2122, r == 0x00A9, r == 0x00AE:
		return !isEmojiModifier(r)
	}
	return false
}

func isEmojiModifier(r rune) bool {
	return (r >= 0x1F3FB && r <= 0x1F3FF) || r == 0x200D || r == 0xFE0F || r == 0xFE0E || r == 0x20E3
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

func isApostrophe(r rune) bool { return r == '\'' || r == '’' || r == '`' || r == '´' }

// nextWord returns the first word of s (letters, digits, inner
// apostrophes written as "'"; or one emoji) and how many bytes of s it and
// what precedes it take; ok is false when s has no more words.
func nextWord(s string) (w string, n int, ok bool) {
	i := 0
	for i < len(s) {
		r, sz := utf8.DecodeRuneInString(s[i:])
		if isWordRune(r) {
			break
		}
		if IsEmoji(r) {
			return s[i : i+sz], i + sz, true
		}
		i += sz
	}
	if i == len(s) {
		return "", i, false
	}
	j := i
	plain := true // every apostrophe inside is "'"
	for j < len(s) {
		r, sz := utf8.DecodeRuneInString(s[j:])
		if isWordRune(r) {
			j += sz
			continue
		}
		if isApostrophe(r) {
			if r2, _ := utf8.DecodeRuneInString(s[j+sz:]); j+sz < len(s) && unicode.IsLetter(r2) {
				plain = plain && r == '\''
				j += sz
				continue
			}
		}
		break
	}
	if plain {
		return s[i:j], j, true
	}
	var b strings.Builder
	for _, r := range s[i:j] {
		if isApostrophe(r) {
			r = '\''
		}
		b.WriteRune(r)
	}
	return b.String(), j, true
}

// Squeeze shortens runs of three or more equal letters to one:
// "holaaaa" → "hola", "siii" → "si", "nooo" → "no". Runs of two are kept
// ("llamar", "leer").
func Squeeze(w string) string {
	if !hasRun3(w) {
		return w
	}
	rs := []rune(w)
	out := rs[:0]
	for i := 0; i < len(rs); {
		j := i + 1
		for j < len(rs) && rs[j] == rs[i] {
			j++
		}
		if j-i >= 3 && unicode.IsLetter(rs[i]) {
			out = append(out, rs[i])
		} else {
			out = append(out, rs[i:j]...)
		}
		i = j
	}
	return string(out)
}

// hasRun3 reports whether w has three equal runes in a row.
func hasRun3(w string) bool {
	var a, b rune = -1, -2
	for _, r := range w {
		if r == a && r == b {
			return true
		}
		a, b = b, r
	}
	return false
}

// Expand returns the words a chat word stands for in lang: abbreviations,
// contractions, voseo forms ("xq" → "porque", "don't" → "do not",
// "podés" → "puedes"). The word must be clean and squeezed.
func Expand(w, lang string) string {
	switch lang {
	case "es":
		if e, ok := abbrevES[w]; ok {
			return e
		}
		if e, ok := voseoES[w]; ok {
			return e
		}
		if e, ok := abbrevES[Fold(w)]; ok {
			return e
		}
		w = kToQu(w)
		// Voseo present "sabés", "hablás": the tú form is the same
		// without the accent ("sabes"), and stems alike.
		if n := len(w); n >= 5 && (strings.HasSuffix(w, "és") || strings.HasSuffix(w, "ás")) {
			w = w[:n-3] + Fold(w[n-3:])
		}
		return w
	case "en":
		if e, ok := irregularNotEN[w]; ok {
			return e
		}
		if i := strings.IndexByte(w, '\''); i > 0 {
			for suf, e := range contractionsEN {
				if strings.HasSuffix(w, suf) && len(w) > len(suf) {
					return w[:len(w)-len(suf)] + " " + e
				}
			}
			return strings.ReplaceAll(w, "'", "")
		}
		if e, ok := abbrevEN[w]; ok {
			return e
		}
	}
	return w
}

// kToQu spells the chat "k" of Spanish as the dictionary does:
// "kiero" → "quiero", "aki" → "aqui".
func kToQu(w string) string {
	if !strings.Contains(w, "k") {
		return w
	}
	rs := []rune(w)
	var b strings.Builder
	for i, r := range rs {
		if r == 'k' && i+1 < len(rs) && (rs[i+1] == 'e' || rs[i+1] == 'i' || rs[i+1] == 'é' || rs[i+1] == 'í') {
			b.WriteString("qu")
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// MakeToken returns the token of a normalised word (see [AppendWords]):
// its kind, its form without accents and its stem.
func MakeToken(w, lang string) Token {
	r0, _ := utf8.DecodeRuneInString(w)
	if IsEmoji(r0) {
		return Token{Norm: w, Fold: w, Stem: w, Kind: Emoji}
	}
	t := Token{Norm: w, Fold: Fold(w), Kind: KindOf(w)}
	if t.Kind != Word {
		t.Stem = t.Fold
		return t
	}
	t.Stem = Fold(Stem(w, lang))
	return t
}

// KindOf returns what a normalised word is made of: an emoji, digits only,
// letters and digits, or letters.
func KindOf(w string) Kind {
	r0, _ := utf8.DecodeRuneInString(w)
	if IsEmoji(r0) {
		return Emoji
	}
	letters, digits := 0, 0
	for _, r := range w {
		if unicode.IsDigit(r) {
			digits++
		} else if unicode.IsLetter(r) {
			letters++
		}
	}
	switch {
	case digits > 0 && letters == 0:
		return Number
	case digits > 0:
		return Code
	}
	return Word
}

// Stem returns the snowball stem of a lower-case word in lang ("es", "en");
// other languages are returned unchanged. Recent stems are cached in a
// fixed-size table read and written without locks (many conversations
// stem at once on every core); a model keeps the stems of the words it
// knows in a table of its own.
func Stem(w, lang string) string {
	var c *stemCache
	switch lang {
	case "es":
		c = &stemCaches[0]
	case "en":
		c = &stemCaches[1]
	default:
		return w
	}
	slot := &c.slots[maphash.String(stemSeed, w)&(stemSlots-1)]
	if p := slot.Load(); p != nil && p.word == w {
		return p.stem
	}
	s := stem(w, lang)
	slot.Store(&stemPair{w, s})
	return s
}

// stemSlots is the size of each language's stem cache: a direct-mapped
// table (a word goes to one slot, replacing what was there).
const stemSlots = 1 << 14

type stemPair struct{ word, stem string }

type stemCache struct {
	slots [stemSlots]atomic.Pointer[stemPair]
}

var (
	stemCaches [2]stemCache
	stemSeed   = maphash.MakeSeed()
)

func stem(w, lang string) string {
	switch lang {
	case "es":
		// people drop accents; snowball needs the one of -ción and -sión
		if strings.HasSuffix(w, "cion") || strings.HasSuffix(w, "sion") {
			w = w[:len(w)-2] + "ón"
		}
		return spanish.Stem(w, true)
	case "en":
		return english.Stem(w, true)
	}
	return w
}
