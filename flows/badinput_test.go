package flows_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charlabot/charla/flows"
)

const miniBot = "name: t\nlanguages: [es]\n"

// TestBadInput feeds hostile and broken files to the compiler: each must
// give a positioned error, quickly, and never a panic.
func TestBadInput(t *testing.T) {
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for i := 0; i < 9; i++ {
		name := string(rune('b' + i))
		bomb += name + ": &" + name + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = name
	}
	tests := []struct {
		name, file, src string
		want            string // the diagnostic, as printed
	}{
		{"non-UTF-8", "flows/x.yaml", "flow: x\nsteps:\n  - say: \"caf\xe9\"\n", "flows/x.yaml:3:14: invalid UTF-8 (the file must be UTF-8 text)"},
		{"NUL byte", "flows/x.yaml", "flow: x\x00\n", "flows/x.yaml:1:8: NUL byte in a text file"},
		{"alias bomb", "tests/t.yaml", bomb + "tests:\n  - name: t\n    turns: [{event: e, data: {x: *j}}]\n", "tests/t.yaml:2:8: aliases expand this document beyond 1000000 nodes"},
		{"alias bomb in a flow", "flows/x.yaml", bomb + "flow: x\nsteps: [{say: hola}]\n", "flows/x.yaml:2:8: aliases expand this document beyond 1000000 nodes"},
		{"deep nesting", "flows/x.yaml", "flow: x\nsteps: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n", "flows/x.yaml:2:108: nesting too deep (more than 100 levels)"},
		{"deeper than yaml.v3 allows", "flows/x.yaml", "flow: x\nsteps: " + strings.Repeat("[", 20000) + "\n", "flows/x.yaml:2:1: YAML syntax: exceeded max depth of 10000"},
		{"deep if/then", "flows/x.yaml", "flow: x\nsteps:\n" + deepThen(120), "flows/x.yaml:"},
		{"syntax", "flows/x.yaml", "flow: x\nsteps:\n  - say: 'open\n", "flows/x.yaml:3:10: YAML syntax: this text opened with ' is never closed: add the closing ' where the text ends"},
		{"not a mapping", "flows/x.yaml", "- a\n- b\n", "flows/x.yaml:1:1: a flow file must be a mapping with flow: (or flows: and a list of flows), not a list"},
		{"empty flow file", "flows/x.yaml", "", ""},
		{"control character", "flows/x.yaml", "flow: x\x07\n", "flows/x.yaml:1:1: YAML syntax: control characters are not allowed"},
		{"unknown anchor", "flows/x.yaml", "flow: x\nsteps:\n  - say: *hola\n", "flows/x.yaml:3:10: YAML syntax: unknown anchor 'hola' referenced"},
		{"recursive alias", "flows/x.yaml", "flow: x\nsteps: &s [{then: *s}]\n", "flows/x.yaml:2:19: aliases expand this document beyond 1000000 nodes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bot, err := flows.LoadFiles(map[string]string{"bot.yaml": miniBot, tt.file: tt.src})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("want no error, got %v", bot.Diagnostics)
				}
				return
			}
			if err == nil {
				t.Fatalf("want %q, got no error", tt.want)
			}
			for _, d := range bot.Diagnostics {
				if strings.HasPrefix(d.Error(), tt.want) {
					return
				}
			}
			t.Errorf("want %q, got:\n%s", tt.want, bot.Diagnostics)
		})
	}
}

func deepThen(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		ind := strings.Repeat("    ", i)
		b.WriteString(ind + "  - if: true\n" + ind + "    then:\n")
	}
	b.WriteString(strings.Repeat("    ", n) + "  - say: hola\n")
	return b.String()
}

// TestHugeFile checks that a 50 MB file is refused before it is parsed.
func TestHugeFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bot.yaml"), []byte(miniBot), 0o644)
	os.MkdirAll(filepath.Join(dir, "nlu"), 0o755)
	big := filepath.Join(dir, "nlu", "es.yaml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	line := []byte("  - un ejemplo de entrenamiento bastante largo para llenar el archivo\n")
	f.WriteString("intents:\n  greet:\n")
	for n := 0; n < 50<<20; n += len(line) {
		f.Write(line)
	}
	f.Close()
	bot, err := flows.LoadDir(dir)
	if err == nil || !strings.Contains(bot.Diagnostics.Error(), "nlu/es.yaml:1:1: file too large (50.0 MB; the limit is 8.0 MB)") {
		t.Fatalf("err = %v", err)
	}
}

func TestMissingBotYAML(t *testing.T) {
	bot, err := flows.LoadFiles(map[string]string{"flows/x.yaml": "flow: x\nsteps: [{say: hola}]\n"})
	if err == nil || bot.Diagnostics[0].Error() != "bot.yaml: missing bot.yaml: a bot directory needs one (name and languages)" {
		t.Fatalf("err = %v", err)
	}
	if _, err := flows.LoadDir("testdata/nope"); err == nil {
		t.Fatal("want an error for a missing directory")
	}
}

// TestManyErrors checks that a file full of broken expressions is reported
// with a bounded number of diagnostics.
func TestManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("flow: x\nsteps:\n")
	for i := 0; i < 20000; i++ {
		b.WriteString("  - say: \"{{ nope }}\"\n")
	}
	// No wall-clock assertion (the race detector and a shared machine make
	// times meaningless): a hang is caught by the test timeout, and the
	// compiler's speed by BenchmarkCompile.
	bot, err := flows.LoadFiles(map[string]string{"bot.yaml": miniBot, "flows/x.yaml": b.String()})
	if err == nil || len(bot.Diagnostics) != 501 || !strings.Contains(bot.Diagnostics[500].Msg, "too many problems") {
		t.Fatalf("%d diagnostics, last %v", len(bot.Diagnostics), bot.Diagnostics[len(bot.Diagnostics)-1])
	}
}

// TestEmptyFiles checks that an empty file, or one holding only comments,
// is a warning in every file kind but bot.yaml, where it is an error.
func TestEmptyFiles(t *testing.T) {
	for _, name := range []string{"flows/x.yaml", "nlu/es.yaml", "kb/x.yaml", "tests/x.yaml", "actions.yaml"} {
		for _, src := range []string{"", "# nothing yet\n\n# (later)\n", "\xef\xbb\xbf\r\n"} {
			bot, err := flows.LoadFiles(map[string]string{"bot.yaml": miniBot, name: src})
			if err != nil {
				t.Fatalf("%s %q: %v", name, src, bot.Diagnostics)
			}
			want := name + ":1:1: warning: empty file (or only comments): nothing in it is read\n"
			if got := bot.Diagnostics.String(); got != want {
				t.Errorf("%s %q: got %q, want %q", name, src, got, want)
			}
		}
	}
	bot, err := flows.LoadFiles(map[string]string{"bot.yaml": "# a bot\n"})
	if err == nil || bot.Diagnostics.String() != "bot.yaml:1:1: bot.yaml is empty: it needs at least a name and languages\n" {
		t.Errorf("empty bot.yaml: %v", bot.Diagnostics)
	}
}

// TestYMLFiles checks that bot.yml and actions.yml are read as their
// .yaml spellings are, and that both spellings at once is an error.
func TestYMLFiles(t *testing.T) {
	bot, err := flows.LoadFiles(map[string]string{
		"bot.yml":      miniBot,
		"actions.yml":  "actions:\n  get_order: {params: {id: string}}\n",
		"flows/x.yml":  "flow: x\nsteps: [{action: get_order, args: {id: '\"A1\"'}}]\n",
		"data/shop.ym": "not read\n",
	})
	if err != nil || bot.Program.Name != "t" || len(bot.Diagnostics) != 0 {
		t.Fatalf("err = %v, diagnostics:\n%s", err, bot.Diagnostics)
	}
	bot, err = flows.LoadFiles(map[string]string{"bot.yml": miniBot, "bot.yaml": miniBot})
	if err == nil || bot.Diagnostics.String() != "bot.yml: both bot.yaml and bot.yml: keep one\n" {
		t.Errorf("both spellings: %v", bot.Diagnostics)
	}
}
