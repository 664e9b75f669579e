package flows_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charlabot/charla/flows"
)

// genBot writes a bot of nFlows flows of nSteps steps each, using most
// constructs: slots, asks, conditions, actions with error blocks, sets,
// templates, buttons, gotos.
func genBot(nFlows, nSteps int) map[string]string {
	files := map[string]string{
		"bot.yaml":     "name: big\nlanguages: [es, en]\nqueues: {ventas: {}}\n",
		"actions.yaml": "actions:\n  lookup:\n    params: {id: string}\n    result: {id: string, size: integer, status: string, tags: [string]}\n",
	}
	var nlu strings.Builder
	nlu.WriteString("intents:\n")
	for f := 0; f < nFlows; f++ {
		fmt.Fprintf(&nlu, "  intent_%d: [ejemplo %d, otro ejemplo %d]\n", f, f, f)
		var b strings.Builder
		fmt.Fprintf(&b, "flow: flow_%d\ndescription: generated\ntriggers: {intents: [intent_%d]}\nslots:\n", f, f)
		fmt.Fprintf(&b, "  order: {type: pattern, pattern: '[A-Z]\\d{4}', entity: order_id}\n")
		fmt.Fprintf(&b, "  size: {type: number, validate: 'size >= 34 && size <= 48', invalid: {es: \"De 34 a 48.\", en: \"34 to 48.\"}}\n")
		b.WriteString("steps:\n")
		for s := 0; s < nSteps; s++ {
			switch s % 5 {
			case 0:
				fmt.Fprintf(&b, "  - id: s%d\n    ask: order\n    say: {es: \"¿Pedido? ({{ lang }})\", en: \"Order? ({{ lang }})\"}\n", s)
			case 1:
				fmt.Fprintf(&b, "  - action: lookup\n    args: {id: order}\n    into: o%d\n    on_error: {say: \"No pude.\", handoff: ventas}\n", s)
			case 2:
				fmt.Fprintf(&b, "  - if: o%d.size > 40 && o%d.status == \"delivered\"\n    say: \"Talla {{ o%d.size }} de {{ order }}\"\n    buttons: [\"sí\", \"no\"]\n", s-1, s-1, s-1)
			case 3:
				fmt.Fprintf(&b, "  - set: {n%d: 'len(o%d.tags) + 1'}\n  - ask: size\n    say: {es: \"¿Talla?\", en: \"Size?\"}\n", s, s-2)
			case 4:
				fmt.Fprintf(&b, "  - if: size > 44\n    then:\n      - say: \"Grande: {{ size }}\"\n    else:\n      - say: \"Normal\"\n")
			}
		}
		b.WriteString("  - end: resolved\n")
		files[fmt.Sprintf("flows/f%03d.yaml", f)] = b.String()
	}
	files["nlu/es.yaml"] = nlu.String()
	files["nlu/en.yaml"] = nlu.String()
	return files
}

// BenchmarkCompile200x25 compiles a generated bot of 200 flows of 25 steps.
func BenchmarkCompile200x25(b *testing.B) {
	files := genBot(200, 25)
	if _, err := flows.LoadFiles(files); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := flows.LoadFiles(files); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadHello is what charla validate does on the quick-start bot.
func BenchmarkLoadHello(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := flows.LoadDir("../examples/hello"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadShop loads the testdata shop bot from disk.
func BenchmarkLoadShop(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := flows.LoadDir("testdata/valid/shop"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestGeneratedBotCompiles(t *testing.T) {
	files := genBot(3, 25)
	bot, err := flows.LoadFiles(files)
	if err != nil {
		t.Fatal(bot.Diagnostics)
	}
	if n := len(bot.Program.Flow("flow_1").Steps); n < 25 {
		t.Fatalf("%d steps", n)
	}
}
