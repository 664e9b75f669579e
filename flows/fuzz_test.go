package flows_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/charlabot/charla/flows"
)

// fuzzFiles is where the fuzzed text goes: kind selects the file.
var fuzzFiles = []string{"flows/f.yaml", "bot.yaml", "actions.yaml", "nlu/es.yaml", "kb/k.yaml", "tests/t.yaml"}

// FuzzLoad compiles a bot one of whose files is fuzzed. It must never
// panic or hang; every diagnostic has a position inside the bot's files;
// the list is sorted; a bot without errors has a program.
func FuzzLoad(f *testing.F) {
	for i, name := range fuzzFiles {
		dir := filepath.Dir(name)
		if dir == "." {
			dir = ""
		}
		for _, root := range []string{"testdata/valid/shop", "../examples/hello", "testdata/errors/names", "testdata/errors/tests", "testdata/errors/expressions", "testdata/errors/syntax", "testdata/errors/designer"} {
			paths, _ := filepath.Glob(filepath.Join(root, dir, "*.yaml"))
			if dir == "" {
				paths, _ = filepath.Glob(filepath.Join(root, filepath.Base(name)))
			}
			for _, p := range paths {
				if data, err := os.ReadFile(p); err == nil {
					f.Add(data, uint8(i))
				}
			}
		}
	}
	f.Add([]byte("flow: x\nsteps: &s [{then: *s}]\n"), uint8(0))
	f.Add([]byte("flow: x\nsteps:\n  - if: \"a >\"\n    say: \"{{\"\n"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		name := fuzzFiles[int(kind)%len(fuzzFiles)]
		files := map[string]string{
			"bot.yaml":     "name: f\nlanguages: [es, en]\nqueues: {q: {}}\n",
			"actions.yaml": "actions:\n  a: {params: {x: string}, result: {id: string}}\n",
			"nlu/es.yaml":  "intents: {i: [hola]}\n",
			"flows/g.yaml": "flow: g\nsteps: [{say: hola}]\n",
		}
		files[name] = string(data)
		done := make(chan struct{})
		timer := time.AfterFunc(10*time.Second, func() {
			select {
			case <-done:
			default:
				panic(fmt.Sprintf("compiling took over 10s: %s = %q", name, data))
			}
		})
		bot, err := flows.LoadFiles(files)
		close(done)
		timer.Stop()
		if bot == nil {
			t.Fatalf("no bot: %v", err)
		}
		if (err == nil) != (bot.Program != nil) {
			t.Fatalf("err %v but program %v", err, bot.Program != nil)
		}
		if !sort.IsSorted(bot.Diagnostics) {
			t.Fatal("diagnostics not sorted")
		}
		for _, d := range bot.Diagnostics {
			if d.Pos.Line <= 0 && !strings.HasPrefix(d.Msg, "missing bot.yaml") {
				t.Fatalf("no position: %s", d)
			}
			if _, known := files[d.Pos.File]; !known && !strings.HasPrefix(d.Pos.File, "(default)/") {
				t.Fatalf("unknown file: %s", d)
			}
		}
	})
}
