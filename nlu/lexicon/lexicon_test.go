package lexicon

import (
	"slices"
	"testing"

	"github.com/charlabot/charla/nlu/normalize"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		text, lang string
		want       []string
	}{
		{"dónde está mi encomienda", "es", []string{"where", "order"}},
		{"quiero que me devuelvan la guita", "es", []string{"money"}},
		{"me devolvieron mal el vuelto", "es", nil},
		{"ni a palos", "es", []string{"no"}},
		{"kiero cambiar la tala de mis tenis", "es", []string{"exchange", "change", "shoes"}},
		{"pagan con yape o plin?", "es", []string{"wallet", "wallet"}},
		{"se puede pagar en cuotas sin interés", "es", []string{"pay", "installments", "installments"}},
		{"where's my parcel", "en", []string{"where", "order"}},
		{"I want my money back", "en", []string{"refund"}},
		{"refunds take how long", "en", []string{"refund", "when"}},
		{"adios", "en", []string{"bye"}},
	}
	l := Default()
	for _, tt := range tests {
		got := l.Match(normalize.Tokens(tt.text, tt.lang), tt.lang)
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Errorf("Match(%q) = %v, want %s in it", tt.text, got, w)
			}
		}
		if tt.want == nil && len(got) > 0 {
			t.Logf("Match(%q) = %v", tt.text, got)
		}
	}
}
