package flows_test

import (
	"strings"
	"testing"

	"github.com/charlabot/charla/flows"
)

// TestExpressionPositions checks that an error inside an expression or a
// template is reported at the character of the YAML file that holds it,
// whatever the style of the scalar.
func TestExpressionPositions(t *testing.T) {
	tests := []struct {
		name, step string
		want       string // line:col of "zz" (the flow starts at line 1; steps at line 3)
	}{
		{"plain condition", "  - if: size > zz\n    say: x\n", "3:16"},
		{"double-quoted", "  - if: \"size > zz\"\n    say: x\n", "3:17"},
		{"double-quoted with escapes", "  - say: \"\\\"{{ size }}\\\" \\u00e9 {{ zz }}\"\n", "3:36"},
		{"single-quoted with ''", "  - say: 'it''s {{ zz }}'\n", "3:20"},
		{"plain, two lines", "  - say: hola\n      y {{ zz }}\n", "4:12"},
		{"double-quoted, two lines", "  - say: \"hola\n      y {{ zz }}\"\n", "4:12"},
		{"literal block", "  - say: |\n      Hola.\n      Tu talla {{ zz }}\n", "5:19"},
		{"folded block", "  - say: >-\n      Hola,\n\n      talla {{ zz }}\n", "6:16"},
		{"language map", "  - say:\n      es: \"{{ zz }}\"\n", "4:15"},
		{"variants", "  - say:\n      - uno\n      - dos {{ zz }}\n", "5:16"},
		{"emoji before", "  - say: \"😀 {{ zz }}\"\n", "3:16"},
		{"set", "  - set: {n: 'size * zz'}\n", "3:22"},
		{"validate in slots", "", "1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "flow: f\nsteps:\n" + tt.step
			if tt.step == "" {
				src = "flow: f\nslots:\n  s: {type: number, validate: 's > zz', invalid: no}\nsteps:\n  - ask: s\n    say: x\n"
				tt.want = "3:36"
			}
			src = strings.Replace(src, "flow: f\n", "flow: f\n", 1)
			files := map[string]string{
				"bot.yaml":     "name: t\nlanguages: [es]\n",
				"flows/f.yaml": strings.Replace(src, "steps:\n", "slots:\n  size: {type: number}\nsteps:\n", 1),
			}
			if tt.step == "" {
				files["flows/f.yaml"] = src
			} else {
				// two lines were inserted above the steps
				parts := strings.SplitN(tt.want, ":", 2)
				tt.want = itoa(atoi(parts[0])+2) + ":" + parts[1]
			}
			bot, err := flows.LoadFiles(files)
			if err == nil {
				t.Fatal("no error")
			}
			var got []string
			for _, d := range bot.Diagnostics {
				if strings.Contains(d.Msg, "zz") {
					got = append(got, d.Error())
				}
			}
			want := "flows/f.yaml:" + tt.want + ":"
			if len(got) != 1 || !strings.HasPrefix(got[0], want) {
				t.Errorf("got %q, want %s…\n%s", got, want, files["flows/f.yaml"])
			}
		})
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
