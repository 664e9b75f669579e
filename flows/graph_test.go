package flows_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charlabot/charla/flows"
)

// TestGraphGolden draws the example bots in both formats and compares the
// drawings with testdata/graph/*.golden; -update rewrites them.
func TestGraphGolden(t *testing.T) {
	cases := []struct {
		name, dir string
		opt       flows.GraphOptions
	}{
		{"hello.mermaid", "../examples/hello", flows.GraphOptions{}},
		{"hello.dot", "../examples/hello", flows.GraphOptions{Format: "dot"}},
		{"shop.mermaid", "testdata/valid/shop", flows.GraphOptions{}},
		{"shop.dot", "testdata/valid/shop", flows.GraphOptions{Format: "dot"}},
		{"shop_order_status.mermaid", "testdata/valid/shop", flows.GraphOptions{Flow: "order_status"}},
		{"hello_system.mermaid", "../examples/hello", flows.GraphOptions{System: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bot, err := flows.LoadDir(tc.dir)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := flows.Graph(&buf, bot.Program, tc.opt); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "graph", tc.name+".golden")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./flows -run TestGraphGolden -update)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s differs from the drawing:\n%s", golden, buf.String())
			}
		})
	}
}

func TestGraphEdges(t *testing.T) {
	bot, err := flows.LoadDir("testdata/valid/shop")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := flows.Graph(&buf, bot.Program, flows.GraphOptions{Format: "dot"}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`size_exchange_2 -> size_exchange_3 [label="yes"]`, // if o.days_since_delivery > 30
		`[label="error"]`, `[label="exhausted"]`, `[label="timeout"]`,
		`handoff_2 -> csat_start [label="call", style=dashed]`,
		`size_exchange_8 -> welcome_start [label="start", style=dashed]`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s", want)
		}
	}
	if err := flows.Graph(&buf, bot.Program, flows.GraphOptions{Flow: "nope"}); err == nil {
		t.Error("want an error for an unknown flow")
	}
}
