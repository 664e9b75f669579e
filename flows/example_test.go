package flows_test

import (
	"fmt"

	"github.com/charlabot/charla/flows"
)

func ExampleLoadFiles() {
	bot, err := flows.LoadFiles(map[string]string{
		"bot.yaml": "name: demo\nlanguages: [es, en]\n",
		"flows/order.yaml": `
flow: order_status
slots:
  order: {type: pattern, pattern: '[A-Z]\d{4}', entity: order_id}
steps:
  - ask: order
    say: {es: "¿Cuál es tu número de pedido?", en: "What is your order number?"}
  - say: "Buscando {{ order }}…"
  - goto: nowhere
`,
	})
	if err != nil {
		for _, d := range bot.Diagnostics {
			fmt.Println(d)
		}
		return
	}
	fmt.Println(bot.Program.Name)
	// Output:
	// flows/order.yaml:9:11: unknown step "nowhere" in flow order_status
}

func ExampleLoadDir() {
	bot, err := flows.LoadDir("../examples/hello")
	if err != nil {
		fmt.Println(err)
		return
	}
	p := bot.Program
	fmt.Println(p.Name, p.Languages, len(bot.TestCases()), "tests")
	fmt.Println(p.Flow("welcome").Triggers.Intents, p.System["human"])
	// Output:
	// hello [es en] 3 tests
	// [greet] human
}
