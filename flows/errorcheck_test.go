package flows_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/charlabot/charla/flows"
)

// expectRE matches the expectations that testdata files carry on the lines
// they concern: # ERROR "text" or # WARNING "text"; @-N or @+N moves the
// expectation to another line.
var expectRE = regexp.MustCompile(`#\s*(ERROR|WARNING)(@[-+]\d+)?\s+"((?:[^"\\]|\\.)*)"`)

type expectation struct {
	file     string
	line     int
	severity flows.Severity
	text     string
}

func readExpectations(t *testing.T, dir string) []expectation {
	t.Helper()
	var out []expectation
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(data), "\n") {
			for _, m := range expectRE.FindAllStringSubmatch(line, -1) {
				e := expectation{file: path, line: i + 1, severity: flows.SevError}
				if m[1] == "WARNING" {
					e.severity = flows.SevWarning
				}
				if m[2] != "" {
					off, _ := strconv.Atoi(m[2][1:])
					e.line += off
				}
				text, err := strconv.Unquote(`"` + m[3] + `"`)
				if err != nil {
					t.Fatalf("%s:%d: bad expectation: %v", path, i+1, err)
				}
				e.text = text
				out = append(out, e)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestErrorCheck compiles each bot of testdata/errors and checks that it
// reports exactly the diagnostics its files announce, on exactly their
// lines, and that the whole list, columns included, is the one in
// testdata/errors/NAME.golden (-update rewrites it).
func TestErrorCheck(t *testing.T) {
	entries, err := os.ReadDir("testdata/errors")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join("testdata/errors", e.Name()))
		}
	}
	if len(dirs) == 0 {
		t.Fatal("no testdata bots")
	}
	sort.Strings(dirs)
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			bot, err := flows.LoadDir(dir)
			if bot == nil {
				t.Fatal(err)
			}
			golden := dir + ".golden"
			got := bot.Diagnostics.String()
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if want, err := os.ReadFile(golden); err != nil {
				t.Errorf("%v (run go test -update)", err)
			} else if got != string(want) {
				t.Errorf("diagnostics differ from %s (go test -update rewrites it):\n got:\n%s\nwant:\n%s", golden, got, want)
			}
			want := readExpectations(t, dir)
			matched := make([]bool, len(want))
			for _, d := range bot.Diagnostics {
				found := false
				for i, w := range want {
					if !matched[i] && w.file == d.Pos.File && w.line == d.Pos.Line && w.severity == d.Severity && strings.Contains(d.Msg, w.text) {
						matched[i], found = true, true
						break
					}
				}
				if !found {
					t.Errorf("unexpected: %s", d)
				}
			}
			for i, w := range want {
				if !matched[i] {
					kind := "error"
					if w.severity == flows.SevWarning {
						kind = "warning"
					}
					t.Errorf("%s:%d: missing %s %q", w.file, w.line, kind, w.text)
				}
			}
			if (len(bot.Diagnostics.Errors()) > 0) != (err != nil) {
				t.Errorf("err = %v with %d errors", err, len(bot.Diagnostics.Errors()))
			}
		})
	}
}
