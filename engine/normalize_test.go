package engine

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"¡Sí, MAÑANA!":           "si manana",
		"  Cámbiame   la talla…": "cambiame la talla",
		"A1234-B":                "a1234 b",
		"hola👍🏽gracias":          "hola 👍 🏽 gracias",
		"":                       "",
		"\x00\xff":               "",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadNumber(t *testing.T) {
	for in, want := range map[string]float64{
		"43": 43, "talla 43": 43, "la 42,5": 42.5, "42.5 por favor": 42.5, "-3": -3,
		"cuarenta y tres": 43, "forty-three": 43, "treinta": 30, "veintitrés": 23, "dos": 2,
	} {
		got, _, ok := ReadNumber(in)
		if !ok || got != want {
			t.Errorf("ReadNumber(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"A1234", "hola", "", "x2y"} {
		if n, _, ok := ReadNumber(in); ok {
			t.Errorf("ReadNumber(%q) = %v, want nothing", in, n)
		}
	}
}

func TestReadYesNo(t *testing.T) {
	for in, want := range map[string]bool{
		"sí": true, "Si claro": true, "dale": true, "yes please": true, "👍": true, "de acuerdo": true,
		"no": false, "no gracias": false, "nop": false, "nope": false, "y": true, "S": true, "n": false,
		"sí, gracias": true, "yes thanks": true, "no, thanks": false, "ok": true, "claro, gracias": true,
	} {
		got, ok := ReadYesNo(in)
		if !ok || got != want {
			t.Errorf("ReadYesNo(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"quizás", "sí y no", "", "43", "¿y dónde está mi pedido?", "y eso", "n s",
		"ok gracias", "ok thanks", "Vale, chao!", "perfecto, muchas gracias", "dale gracias 👍", "ok thank you"} {
		if _, ok := ReadYesNo(in); ok {
			t.Errorf("ReadYesNo(%q) read an answer", in)
		}
	}
}

func TestAckClosing(t *testing.T) {
	for _, in := range []string{"ok gracias", "ok thanks", "Vale, chao!", "perfecto, muchas gracias", "ok, thank you so much", "👍 gracias"} {
		if !AckClosing(in) {
			t.Errorf("AckClosing(%q) = false", in)
		}
	}
	for _, in := range []string{"", "ok", "gracias", "sí, gracias", "no gracias", "yes thanks", "claro, gracias", "ok, la 43"} {
		if AckClosing(in) {
			t.Errorf("AckClosing(%q) = true", in)
		}
	}
}

func TestBareYes(t *testing.T) {
	for _, in := range []string{"sí", "Dale!", "ok", "yes", "sí, por favor", "claro que sí", "de una", "de acuerdo", "go ahead", "👍", "okey dale", "y"} {
		if !BareYes(in) {
			t.Errorf("BareYes(%q) = false", in)
		}
	}
	for _, in := range []string{"", "no", "sí, la 45", "ok gracias", "dale chao", "sí y no", "quiero la de la izquierda", "por favor", "n"} {
		if BareYes(in) {
			t.Errorf("BareYes(%q) = true", in)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"¡Sí, MAÑANA!", "A1234", "cuarenta y tres", "\xff\x00", "👍🏽"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if !utf8.ValidString(n) || strings.Contains(n, "  ") || strings.HasPrefix(n, " ") || strings.HasSuffix(n, " ") {
			t.Fatalf("Normalize(%q) = %q", s, n)
		}
		if Normalize(n) != n {
			t.Fatalf("not idempotent: %q → %q → %q", s, n, Normalize(n))
		}
		ReadNumber(s)
		ReadYesNo(s)
		BareYes(s)
		AckClosing(s)
		c := cleanText(s, 64)
		if !utf8.ValidString(c) || len(c) > 64 {
			t.Fatalf("cleanText(%q) = %q", s, c)
		}
	})
}

func TestEnvIsNotAvailable(t *testing.T) {
	if _, err := CompileExpr("len($env) > 0", nil, nil); err == nil || !strings.Contains(err.Error(), "$env is not available") {
		t.Fatalf("err = %v", err)
	}
}
