package flows_test

import (
	"testing"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/flows"
)

// The main line ends the flow: it does not run on into the blocks placed
// after it (an exhausted block said after a successful answer).
func TestMainLineEndsBeforeBlocks(t *testing.T) {
	bot, err := flows.LoadFiles(map[string]string{
		"bot.yaml": "name: demo\nlanguages: [es]\n",
		"flows/size.yaml": `
flow: size
slots:
  size: {type: number}
steps:
  - ask: size
    say: "¿Talla?"
    exhausted:
      - say: "agotado"
  - say: "Listo: {{ size }}"
`,
	})
	if err != nil {
		t.Fatal(err, bot.Diagnostics)
	}
	f := bot.Program.Flow("size")
	if _, ok := f.Steps[2].(*engine.End); !ok {
		t.Fatalf("step 2 is %T, want the main line's End", f.Steps[2])
	}
	if ask := f.Steps[0].(*engine.Ask); ask.Exhausted != 3 {
		t.Fatalf("exhausted goes to %d", ask.Exhausted)
	}
	for _, d := range bot.Diagnostics {
		t.Errorf("unexpected diagnostic %s", d)
	}
}
