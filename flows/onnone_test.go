package flows_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/flows"
)

// on_none: the steps a refusal of an ask step's options goes to.
func TestOnNone(t *testing.T) {
	bot, err := flows.LoadFiles(map[string]string{
		"bot.yaml": "name: demo\nlanguages: [es, en]\n",
		"flows/size.yaml": `
flow: size
slots:
  size: {type: text}
steps:
  - ask: size
    say: {es: "¿Te sirve alguna?", en: "Would one of them work?"}
    buttons: ["43", "45"]
    on_none:
      - say: {es: "Entiendo. Te aviso cuando llegue tu talla.", en: "Understood. I'll tell you when your size arrives."}
      - end: abandoned
  - say: "Listo: {{ size }}"
`,
	})
	if err != nil {
		t.Fatal(err, bot.Diagnostics)
	}
	f := bot.Program.Flow("size")
	ask := f.Steps[0].(*engine.Ask)
	if ask.OnNone <= 0 || ask.OnNone >= len(f.Steps) {
		t.Fatalf("on_none target %d of %d steps", ask.OnNone, len(f.Steps))
	}
	if s, ok := f.Steps[ask.OnNone].(*engine.Say); !ok || !strings.Contains(s.Message.Variants[0]["es"].Source, "Te aviso") {
		t.Fatalf("on_none goes to %#v", f.Steps[ask.OnNone])
	}
	var buf bytes.Buffer
	if err := flows.Graph(&buf, bot.Program, flows.GraphOptions{Format: "dot"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `size_0 -> size_3 [label="none"]`) {
		t.Errorf("no none edge in\n%s", buf.String())
	}

	// Not on a yes/no question, and only with ask.
	for src, want := range map[string]string{
		`
flow: yn
slots:
  ok: {type: boolean}
steps:
  - ask: ok
    say: "¿Confirmo?"
    on_none: {say: "no", end: abandoned}
`: "on_none: ok is a yes/no question",
		`
flow: yn
steps:
  - say: "hola"
    on_none: {say: "no"}
`: "on_none needs ask in the same step",
	} {
		bot, err := flows.LoadFiles(map[string]string{"bot.yaml": "name: demo\nlanguages: [es]\n", "flows/yn.yaml": src})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q, got %v %v", want, err, bot.Diagnostics)
		}
	}
}
