package lexicon

import (
	"slices"
	"strings"
	"testing"

	"github.com/charlabot/charla/nlu/normalize"
)

func match(text, lang string) []string {
	return Default().Match(normalize.Tokens(text, lang), lang)
}

func TestMatch(t *testing.T) {
	tests := []struct {
		text, lang string
		want, not  []string
	}{
		{"dónde está mi encomienda", "es", []string{"where", "order"}, nil},
		{"quiero que me devuelvan la guita", "es", []string{"money"}, nil},
		{"ni a palos", "es", []string{"no"}, nil},
		{"kiero cambiar la tala de mis tenis", "es", []string{"exchange", "change", "shoes"}, nil},
		{"pagan con yape o plin?", "es", []string{"wallet"}, nil},
		{"se puede pagar en cuotas sin interés", "es", []string{"pay", "installments"}, nil},
		{"como mando de vuelta el paquete", "es", []string{"return", "order"}, nil}, // a phrase found by the stem of its first word
		{"cuántos puntitos me quedan", "es", []string{"points"}, nil},               // diminutive
		{"where's my parcel", "en", []string{"track", "order"}, nil},
		{"I want my money back", "en", []string{"refund"}, nil},
		{"refunds take how long", "en", []string{"refund", "when"}, nil},
		{"adios", "en", []string{"bye"}, nil},                  // Spanish words count in English
		{"el tracking no carga", "es", []string{"track"}, nil}, // and English ones in Spanish
		{"👍", "es", []string{"yes"}, nil},
		// short-message-only words: a bare "no" refuses, a "no" in a sentence does not
		{"no", "es", []string{"no"}, nil},
		{"no gracias", "es", []string{"no"}, nil},
		{"no me llegó nada del pedido todavía", "es", nil, []string{"no"}},
		{"si compro hoy cuándo llega", "es", nil, []string{"yes"}},
		// own-language-only words: English "yo" greets, Spanish "yo" is "I"
		{"yo", "en", []string{"greet"}, nil},
		{"yo quiero cambiar la talla", "es", nil, []string{"greet"}},
		// words the normaliser respells do not bring their entry's concept
		{"okis", "es", []string{"yes"}, nil},
		{"nel, no me interesa", "es", nil, []string{"yes"}},
	}
	for _, tt := range tests {
		got := match(tt.text, tt.lang)
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Errorf("Match(%q) = %v, want %s in it", tt.text, got, w)
			}
		}
		for _, w := range tt.not {
			if slices.Contains(got, w) {
				t.Errorf("Match(%q) = %v, want no %s", tt.text, got, w)
			}
		}
	}
}

func TestParse(t *testing.T) {
	l := Parse(`
# a comment
[order swap]
es: pedido, compra, =orden
en: order, parcel
[greet]
en: !yo, hi there
es: ^hola
`)
	if got := l.Concepts(); !slices.Equal(got, []string{"order", "greet"}) {
		t.Errorf("Concepts() = %v", got)
	}
	if !l.Known("pedido") || l.Known("hola") || l.Known("nada") {
		t.Errorf("Known: pedido %v, hola %v, nada %v", l.Known("pedido"), l.Known("hola"), l.Known("nada"))
	}
	if alts := l.Alternatives("pedido", "es"); !slices.Equal(alts, []string{"compra", "orden"}) {
		t.Errorf("Alternatives(pedido) = %v", alts)
	}
	if alts := l.Alternatives("hola", "es"); alts != nil {
		t.Errorf("Alternatives(hola) = %v, greet is not swappable", alts)
	}
	for _, tt := range []struct {
		text, lang, want string
	}{
		{"mis compras", "es", "order"}, // by stem
		{"la orden", "es", "order"},
		{"hi there", "en", "greet"},
		{"yo", "en", "greet"},
		{"yo", "es", ""},
		{"hola", "es", "greet"},
		{"hola, dónde está mi pedido ahora mismo", "es", "order"},
	} {
		got := strings.Join(l.Match(normalize.Tokens(tt.text, tt.lang), tt.lang), " ")
		if got != tt.want {
			t.Errorf("Match(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// TestBuiltinIsClean checks the built-in lexicon: every concept has words
// in both languages, and no word is listed twice in one concept and
// language.
func TestBuiltinIsClean(t *testing.T) {
	concept, langs := "", map[string]bool{}
	check := func() {
		if concept != "" && (!langs["es"] || !langs["en"]) {
			t.Errorf("[%s] lacks a language: %v", concept, langs)
		}
	}
	for _, line := range strings.Split(source, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#':
		case line[0] == '[':
			check()
			concept, langs = strings.Fields(strings.Trim(line, "[]"))[0], map[string]bool{}
		default:
			lang, list, _ := strings.Cut(line, ":")
			langs[lang] = true
			seen := map[string]bool{}
			for _, w := range strings.Split(list, ",") {
				w = strings.TrimSpace(w)
				if seen[w] {
					t.Errorf("[%s] %s: %q twice", concept, lang, w)
				}
				seen[w] = true
			}
		}
	}
	check()
}

func FuzzMatch(f *testing.F) {
	for _, s := range []string{"dónde está mi pedido", "ni a palos", "", "👍👍", "no no no no", "cuántos puntitos", "where's my parcel"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, lang := range []string{"es", "en"} {
			for _, c := range match(s, lang) {
				if c == "" {
					t.Fatalf("Match(%q) has an empty concept", s)
				}
			}
		}
	})
}

func BenchmarkMatch(b *testing.B) {
	toks := normalize.Tokens("hola che, me podés decir dónde está mi compra? la pagué con mercado pago hace una semana", "es")
	l := Default()
	for b.Loop() {
		l.Match(toks, "es")
	}
}
