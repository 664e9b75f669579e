package entity

import (
	"regexp"
	"slices"
	"testing"
)

func TestRequiredRunes(t *testing.T) {
	tests := []struct {
		expr      string
		in, notIn []string
		none      bool // no filter
	}{
		{expr: "(?i)" + DefaultOrderPattern, in: []string{"a1002", "7"}, notIn: []string{"hola", "abc-def"}},
		{expr: `(?i)\b([A-Z]{3,6}-[A-Z0-9]{3,6})\b`, in: []string{"CLUB-1234"}, notIn: []string{"club 1234"}},
		{expr: `(?i)k`, in: []string{"K", "k", "\u212a"}, notIn: []string{"x"}},
		{expr: `\d{3}-\d{6}|[A-Z]{2}\d`, in: []string{"5", "-"}, notIn: []string{"AB"}},
		{expr: `a*`, none: true},
		{expr: `.+`, none: true},
		{expr: `(`, none: true},
	}
	for _, tt := range tests {
		rs := requiredRunes(tt.expr)
		if (rs == nil) != tt.none {
			t.Errorf("%s: filter %v, want none: %v", tt.expr, rs != nil, tt.none)
			continue
		}
		for _, s := range tt.in {
			if !rs.in(s) {
				t.Errorf("%s: %q must pass the filter", tt.expr, s)
			}
		}
		for _, s := range tt.notIn {
			if rs.in(s) {
				t.Errorf("%s: %q must not pass the filter", tt.expr, s)
			}
		}
	}
}

// filtered are the expressions the extractor guards with a prefilter.
var filtered = []string{"(?i)(?:^|[^\\pL\\pN])#?\\s?([A-Z]\\d{4})(?:$|[^\\pL\\pN])", `(?i)\b([A-Z]{3,6}-[A-Z0-9]{3,6})\b`, `\b\d{8}[A-Z]\b`}

// FuzzPrefilters checks that the prefilters never hide a match: a text a
// guarded expression matches passes its rune filter, and an expression
// anchored at the end matches the text's last word as it matches the
// text.
func FuzzPrefilters(f *testing.F) {
	for _, s := range []string{"pedido #A1002", "talla 42", "cuesta $ 50", "usd20", "el  la\t", "CLUB-1234 x", "12345678Z", "la semana pasada"} {
		f.Add(s)
	}
	tails := []*regexp.Regexp{moneyBeforeRe, sizeCueRe, strongCueRe, systemPreRe, morningRe}
	f.Fuzz(func(t *testing.T, s string) {
		for _, e := range filtered {
			if regexp.MustCompile(e).MatchString(s) && !requiredRunes(e).in(s) {
				t.Fatalf("%s matches %q, which the filter drops", e, s)
			}
		}
		for _, re := range tails {
			if got, want := matchTail(re, s), re.FindStringSubmatchIndex(s); !slices.Equal(got, want) {
				t.Fatalf("%s on %q: tail match %v, whole %v", re, s, got, want)
			}
		}
	})
}
