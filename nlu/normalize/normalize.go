// Package normalize turns chat text into tokens for intent matching:
// Unicode NFKC, case folding, repeated letters squeezed ("holaaaa" →
// "hola"), chat abbreviations expanded ("xq" → "porque", "pls" →
// "please"), voseo mapped to tú forms ("podés" → "puedes"), emoji kept as
// tokens, snowball stemming (on the accented word) and, last, the accents
// folded ("envío" → "envi").
package normalize

import (
	"strings"
	"sync"
	"unicode"

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
	raw := split(Clean(text))
	out := make([]Token, 0, len(raw))
	for _, w := range raw {
		out = appendWord(out, w, lang)
	}
	return out
}

// Text returns the normalised text of tokens: their Norm joined by spaces.
func Text(tokens []Token) string {
	var b strings.Builder
	for i, t := range tokens {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.Norm)
	}
	return b.String()
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

// split cuts cleaned text into words (letters, digits, inner apostrophes)
// and emoji; everything else separates.
func split(s string) []string {
	rs := []rune(s)
	var out []string
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case isWordRune(r):
			j := i + 1
			for j < len(rs) && (isWordRune(rs[j]) || (isApostrophe(rs[j]) && j+1 < len(rs) && unicode.IsLetter(rs[j+1]))) {
				j++
			}
			w := make([]rune, 0, j-i)
			for _, c := range rs[i:j] {
				if isApostrophe(c) {
					c = '\''
				}
				w = append(w, c)
			}
			out = append(out, string(w))
			i = j
		case IsEmoji(r):
			out = append(out, string(r))
			i++
		default:
			i++
		}
	}
	return out
}

// Squeeze shortens runs of three or more equal letters to one:
// "holaaaa" → "hola", "siii" → "si", "nooo" → "no". Runs of two are kept
// ("llamar", "leer").
func Squeeze(w string) string {
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

func appendWord(out []Token, w, lang string) []Token {
	r0 := []rune(w)[0]
	if IsEmoji(r0) {
		return append(out, Token{Norm: w, Fold: w, Stem: w, Kind: Emoji})
	}
	w = Squeeze(w)
	for _, part := range strings.Fields(Expand(w, lang)) {
		out = append(out, makeToken(part, lang))
	}
	return out
}

func makeToken(w, lang string) Token {
	letters, digits := 0, 0
	for _, r := range w {
		if unicode.IsDigit(r) {
			digits++
		} else if unicode.IsLetter(r) {
			letters++
		}
	}
	t := Token{Norm: w, Fold: Fold(w), Kind: Word}
	switch {
	case digits > 0 && letters == 0:
		t.Kind = Number
		t.Stem = t.Fold
		return t
	case digits > 0:
		t.Kind = Code
		t.Stem = t.Fold
		return t
	}
	t.Stem = Fold(Stem(w, lang))
	return t
}

// Stem returns the snowball stem of a lower-case word in lang ("es", "en");
// other languages are returned unchanged. Stems are cached (the first
// maxCachedStems words of each language): chat reuses a small vocabulary,
// and a cache hit costs a tenth of the stemmer.
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
	c.mu.RLock()
	s, ok := c.m[w]
	c.mu.RUnlock()
	if ok {
		return s
	}
	s = stem(w, lang)
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]string{}
	}
	if len(c.m) < maxCachedStems {
		c.m[w] = s
	}
	c.mu.Unlock()
	return s
}

const maxCachedStems = 1 << 15

type stemCache struct {
	mu sync.RWMutex
	m  map[string]string // word → stem
}

var stemCaches [2]stemCache

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
