package flows_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/charlabot/charla/flows"
)

// docsBot is the bot the examples of docs/flows.md are compiled in: the
// names they use are declared here.
var docsBot = map[string]string{
	"bot.yaml": `name: docs
languages: [es, en]
queues: {orders: {}, ventas: {}, cambios: {}}
settings: {default_queue: orders}
`,
	"actions.yaml": `actions:
  get_order:
    params: {id: string}
    result: {id: string, size: integer, days_since_delivery: integer, eta: date, orders: [string], milestones: [{date: date, label: string}]}
  create_exchange:
    params: {order: string, size: number}
    result: {id: string}
`,
	"nlu/es.yaml": "intents: {change_size: [cambiar talla], bye: [chao], greet: [hola]}\n",
	"nlu/en.yaml": "intents: {change_size: [change size], bye: [bye], greet: [hi]}\n",
	"flows/others.yaml": `flows:
  - {flow: welcome, steps: [{say: hola}]}
  - {flow: csat, steps: [{say: gracias}]}
  - flow: order_status
    slots: {order: {type: text}}
    steps: [{say: pedido}]
`,
}

// docsSteps wraps the step examples of docs/flows.md in a flow that
// declares what they read.
const docsSteps = `flow: example
slots:
  order: {type: pattern, pattern: '[A-Z]\d{4}', entity: order_id}
  size: {type: number}
  confirmed_slot: {type: boolean}
  stock: {type: integer}
  tries: {type: integer}
  total: {type: number}
steps:
  - action: get_order
    args: {id: order}
    into: o
  - set: {label: '""'}
`

var yamlBlockRE = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// TestDocsExamples compiles the YAML examples of docs/flows.md.
func TestDocsExamples(t *testing.T) {
	data, err := os.ReadFile("../docs/flows.md")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range yamlBlockRE.FindAllStringSubmatch(string(data), -1) {
		src := m[1]
		files := map[string]string{}
		for k, v := range docsBot {
			files[k] = v
		}
		switch {
		case strings.Contains(src, "\nflow: ") || strings.HasPrefix(src, "flow: ") || strings.Contains(src, "flow: size_exchange"):
			if strings.Contains(src, "flow: welcome") || strings.Contains(src, "flow: size_exchange") {
				delete(files, "flows/others.yaml")
				files["flows/others.yaml"] = "flows:\n  - {flow: csat, steps: [{say: gracias}]}\n  - {flow: order_status, steps: [{say: x}]}\n"
				if !strings.Contains(src, "flow: welcome") {
					files["flows/others.yaml"] += "  - {flow: welcome, steps: [{say: hola}]}\n"
				}
			}
			files["flows/doc.yaml"] = src
		case strings.HasPrefix(src, "flows:"):
			files["flows/doc.yaml"] = src
		case strings.HasPrefix(src, "- "):
			files["flows/doc.yaml"] = docsSteps + indent(src, "  ")
		case strings.HasPrefix(src, "triggers:"), strings.HasPrefix(src, "slots:"):
			files["flows/doc.yaml"] = "flow: example\n" + src + "steps: [{say: x}]\n"
			files["flows/others.yaml"] = strings.Replace(files["flows/others.yaml"], "    slots: {order: {type: text}}\n", "", 1)
		case strings.HasPrefix(src, "system:"):
			files["bot.yaml"] += src
			files["flows/doc.yaml"] = "flow: handoff\nsteps: [{handoff: orders}]\n"
		case strings.HasPrefix(src, "# yaml-language-server:") && strings.Count(src, "\n") == 1:
			continue // the editor line alone
		default:
			t.Errorf("docs/flows.md example not compiled by this test:\n%s", src)
			continue
		}
		n++
		bot, err := flows.LoadFiles(files)
		if err != nil {
			t.Errorf("docs/flows.md example does not compile:\n%s\n%s", src, bot.Diagnostics)
		}
	}
	if n < 20 {
		t.Errorf("only %d examples compiled", n)
	}
}

func indent(s, by string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = by + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

var schemaLineRE = regexp.MustCompile(`\$schema=\S*/(\w+)\.schema\.json`)

// TestBotDirectoryExamples compiles the bot.yaml, actions.yaml, nlu and kb
// examples of docs/bot-directory.md.
func TestBotDirectoryExamples(t *testing.T) {
	data, err := os.ReadFile("../docs/bot-directory.md")
	if err != nil {
		t.Fatal(err)
	}
	file := map[string]string{"bot": "bot.yaml", "actions": "actions.yaml", "nlu": "nlu/es.yaml", "kb": "kb/faq.yaml"}
	n := 0
	for _, m := range yamlBlockRE.FindAllStringSubmatch(string(data), -1) {
		k := schemaLineRE.FindStringSubmatch(m[1])
		if k == nil || file[k[1]] == "" {
			continue
		}
		files := map[string]string{
			"bot.yaml":     "name: docs\nlanguages: [es, en]\n",
			"flows/x.yaml": "flows:\n  - {flow: handoff, steps: [{handoff: ~}]}\n  - {flow: a, triggers: {intents: [change_size, order_status]}, steps: [{say: x}]}\n",
			"nlu/es.yaml":  "intents: {change_size: [cambiar], order_status: [pedido]}\n",
			"nlu/en.yaml":  "intents: {change_size: [change], order_status: [order]}\n",
		}
		files[file[k[1]]] = m[1]
		n++
		if bot, err := flows.LoadFiles(files); err != nil {
			t.Errorf("docs/bot-directory.md %s example does not compile:\n%s", k[1], bot.Diagnostics)
		}
	}
	if n != 4 {
		t.Errorf("%d examples compiled, want 4", n)
	}
}

// TestOtherDocsExamples compiles the YAML examples of the README and of the
// other pages: each block is put in the file it belongs to (bot.yaml
// fragments under the example bot's name and languages) in a bot that
// declares the names it uses.
func TestOtherDocsExamples(t *testing.T) {
	bot := "name: docs\nlanguages: [es, en]\nqueues: {orders: {}}\nsettings: {default_queue: orders}\n"
	base := map[string]string{
		"actions.yaml": docsBot["actions.yaml"],
		"nlu/es.yaml":  "intents: {change_size: [cambiar talla], order_status: [pedido]}\n",
		"nlu/en.yaml":  "intents: {change_size: [change size], order_status: [order]}\n",
		"flows/others.yaml": `flows:
  - {flow: csat, steps: [{say: gracias}]}
  - {flow: pedido, slots: {pedido: {type: text, scope: conversation}}, steps: [{ask: pedido, say: x}]}
`,
	}
	cases := []struct {
		doc  string
		file string // where the block goes; "bot.yaml" fragments are merged into the example bot
		min  int    // blocks expected
	}{
		{"../README.md", "flows/doc.yaml", 1},
		{"../docs/handoff.md", "bot.yaml", 1},
		{"../docs/http-api.md", "bot.yaml", 1},
		{"../docs/nlu.md", "nlu/es.yaml", 1},
		{"../docs/channels/telegram.md", "bot.yaml", 1},
		{"../docs/channels/whatsapp.md", "", 2},
	}
	for _, tc := range cases {
		data, err := os.ReadFile(tc.doc)
		if err != nil {
			t.Fatal(err)
		}
		blocks := yamlBlockRE.FindAllStringSubmatch(string(data), -1)
		if len(blocks) < tc.min {
			t.Errorf("%s: %d YAML examples, want %d", tc.doc, len(blocks), tc.min)
		}
		for _, m := range blocks {
			src := m[1]
			files := map[string]string{"bot.yaml": bot}
			for k, v := range base {
				files[k] = v
			}
			file := tc.file
			if file == "" {
				file = "bot.yaml"
				if strings.HasPrefix(src, "flow:") {
					file = "flows/doc.yaml"
				}
			}
			switch file {
			case "bot.yaml":
				files[file] = "name: docs\nlanguages: [es, en]\n" + src
			case "nlu/es.yaml":
				files[file] = src
				files["flows/doc.yaml"] = "flow: d\ntriggers: {intents: [order_status, change_size]}\nsteps: [{say: x}]\n"
				delete(files, "nlu/en.yaml")
				files["bot.yaml"] = "name: docs\nlanguages: [es]\n"
			default:
				files[file] = src
			}
			if b, err := flows.LoadFiles(files); err != nil {
				t.Errorf("%s: example does not compile:\n%s\n%s", tc.doc, src, b.Diagnostics.String())
			}
		}
	}
}

// TestTestsExample runs the checker over the tests/*.yaml example of
// docs/bot-directory.md, in a bot with the flow and actions it names.
func TestTestsExample(t *testing.T) {
	data, err := os.ReadFile("../docs/bot-directory.md")
	if err != nil {
		t.Fatal(err)
	}
	var src string
	for _, m := range yamlBlockRE.FindAllStringSubmatch(string(data), -1) {
		if strings.Contains(m[1], "schema/tests.schema.json") {
			src = m[1]
		}
	}
	if src == "" {
		t.Fatal("no tests example")
	}
	bot, err := flows.LoadFiles(map[string]string{
		"bot.yaml": "name: docs\nlanguages: [es, en]\n",
		"actions.yaml": `actions:
  get_order: {params: {id: string}, result: {id: string, size: integer, days_since_delivery: integer}}
  check_stock: {params: {size: number}, result: {stock: integer}}
  create_exchange: {params: {order: string, size: number}, result: {id: string}}
`,
		"flows/size_exchange.yaml": `flow: size_exchange
slots:
  order: {type: pattern, pattern: '[A-Z]\d{4}'}
  size: {type: number}
steps:
  - id: ask_size
    ask: size
    say: "¿Talla?"
`,
		"flows/profile.yaml": "flow: profile\nslots: {name: {type: text, scope: user}}\nsteps: [{ask: name, say: x}]\n",
		"tests/t.yaml":       src,
	})
	if err != nil {
		t.Fatalf("docs/bot-directory.md tests example does not compile:\n%s", bot.Diagnostics)
	}
	if len(bot.TestCases()) != 1 {
		t.Errorf("%d tests", len(bot.TestCases()))
	}
}
