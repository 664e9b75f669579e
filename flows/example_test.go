package flows_test

import (
	"context"
	"fmt"
	"log"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/memory"
	"github.com/charlabot/charla/flows"
	"github.com/charlabot/charla/nlu"
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

// A Go program that embeds charla: it compiles a bot directory
// (testdata/orders: one flow that asks for an order number and calls the
// action get_order), trains the NLU, registers the action as a Go function
// and handles a message. channels/server serves the same runtime over the
// web chat, REST and Telegram.
func Example_embedding() {
	bot, err := flows.LoadDir("testdata/orders")
	if err != nil {
		log.Fatal(err) // every problem, as path:line:col: message
	}
	und, err := nlu.New(bot.Program)
	if err != nil {
		log.Fatal(err)
	}
	rt, err := engine.NewRuntime(bot.Program, engine.Options{Store: memory.New(), Understander: und})
	if err != nil {
		log.Fatal(err)
	}
	rt.RegisterAction("get_order", func(ctx context.Context, call engine.ActionCall) (any, error) {
		return map[string]any{"status": "en camino"}, nil // call.Args["id"] is "A1002"
	})
	turn, err := rt.Handle(context.Background(), engine.Inbound{Conversation: "c1", Text: "¿dónde está mi pedido A1002?"})
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range turn.Messages {
		fmt.Println(m.Text)
	}
	// Output:
	// Tu pedido A1002 está en camino.
}
