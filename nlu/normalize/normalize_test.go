package normalize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func norms(ts []Token) string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Norm)
	}
	return strings.Join(out, " ")
}

func stems(ts []Token) string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Stem)
	}
	return strings.Join(out, " ")
}

func TestTokensNorm(t *testing.T) {
	tests := []struct {
		lang, in, want string
	}{
		{"es", "Holaaaa!!", "hola"},
		{"es", "ＨＯＬＡ", "hola"},
		{"es", "siiii", "si"},
		{"es", "xq no llega?", "porque no llega"},
		{"es", "porfa ayudame", "por favor ayúdame"},
		{"es", "q onda, tb quiero info", "que onda también quiero información"},
		{"es", "kiero cambiar la tala", "quiero cambiar la tala"},
		{"es", "che, ¿me podés decir dónde está mi compra?", "che me puedes decir dónde está mi compra"},
		{"es", "vos sabés si tenés la 42?", "tú sabes si tienes la 42"},
		{"es", "decime cuándo llega", "dime cuándo llega"},
		{"es", "gracias 🙏🏽 👍", "gracias 🙏 👍"},
		{"es", "llamar leer", "llamar leer"},
		{"en", "where's my order A1002", "where is my order a1002"},
		{"en", "I can't log in, pls help", "i can not log in please help"},
		{"en", "u guys r great thx", "you guys are great thanks"},
		{"en", "wanna return it", "want to return it"},
		{"en", "don't", "do not"},
		{"xx", "Mixed ÀÉÎ", "mixed àéî"},
	}
	for _, tt := range tests {
		if got := norms(Tokens(tt.in, tt.lang)); got != tt.want {
			t.Errorf("Tokens(%q, %s) = %q, want %q", tt.in, tt.lang, got, tt.want)
		}
	}
}

func TestStemThenFold(t *testing.T) {
	tests := []struct {
		lang, a, b string // texts that must stem alike
	}{
		{"es", "envío", "envio"},
		{"es", "pedidos", "pedido"},
		{"es", "devolución", "devolucion"},
		{"es", "sabés", "sabes"},
		{"es", "podés", "puedes"},
		{"es", "cambiar", "cambio"},
		{"en", "orders", "ordering"},
		{"en", "shipped", "shipping"},
	}
	for _, tt := range tests {
		a, b := stems(Tokens(tt.a, tt.lang)), stems(Tokens(tt.b, tt.lang))
		if a != b {
			t.Errorf("%s: stem(%q) = %q, stem(%q) = %q; want equal", tt.lang, tt.a, a, tt.b, b)
		}
	}
	// stems carry no accents
	for _, tok := range Tokens("información envío tamaño", "es") {
		if tok.Stem != Fold(tok.Stem) {
			t.Errorf("stem %q keeps an accent", tok.Stem)
		}
	}
}

func TestKinds(t *testing.T) {
	ts := Tokens("pedido A1002 talla 43 😀", "es")
	want := []Kind{Word, Code, Word, Number, Emoji}
	if len(ts) != len(want) {
		t.Fatalf("tokens %v", ts)
	}
	for i, k := range want {
		if ts[i].Kind != k {
			t.Errorf("token %q kind %d, want %d", ts[i].Norm, ts[i].Kind, k)
		}
	}
}

func TestFold(t *testing.T) {
	tests := map[string]string{"envío": "envio", "año": "ano", "pingüino": "pinguino", "ÉXITO": "EXITO", "plain": "plain", "ça": "ca"}
	for in, want := range tests {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
	if got := string(FoldRunes("Ñandú ＡＢ")); got != "nandu ab" {
		t.Errorf("FoldRunes = %q", got)
	}
	if n := len(FoldRunes("a\u0301b")); n != 3 {
		t.Errorf("FoldRunes must keep one rune per rune, got %d", n)
	}
}

func TestSqueeze(t *testing.T) {
	tests := map[string]string{"holaaaa": "hola", "nooo": "no", "buenoooo": "bueno", "llamar": "llamar", "2000": "2000", "": ""}
	for in, want := range tests {
		if got := Squeeze(in); got != want {
			t.Errorf("Squeeze(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBadInput(t *testing.T) {
	inputs := []string{"", "   ", "\x00\xff\xfe", strings.Repeat("holaaaa ", 12000), "😀😀😀", "مرحبا 你好 hola привет", "\u200d\ufe0f", "''''", "a'b'c"}
	for _, in := range inputs {
		for _, lang := range []string{"es", "en", ""} {
			ts := Tokens(in, lang)
			for _, tok := range ts {
				if tok.Norm == "" {
					t.Errorf("Tokens(%.20q) gave an empty token", in)
				}
			}
		}
	}
	if ts := Tokens("😀😀", "es"); len(ts) != 2 || ts[0].Kind != Emoji {
		t.Errorf("emoji-only text: %v", ts)
	}
}

func FuzzTokens(f *testing.F) {
	for _, s := range []string{"hola", "xq no llegaaa?", "where's my order", "😀 A1002", "\xff", "podés", "a'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, lang := range []string{"es", "en"} {
			for _, tok := range Tokens(s, lang) {
				if !utf8.ValidString(tok.Stem) && utf8.ValidString(s) {
					t.Fatalf("invalid stem %q from %q", tok.Stem, s)
				}
			}
		}
		if len(FoldRunes(s)) != utf8.RuneCountInString(s) {
			t.Fatalf("FoldRunes(%q) changed the rune count", s)
		}
	})
}
