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
		default:
			continue // bot.yaml fragments and editor lines
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
