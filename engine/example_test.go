package engine_test

import (
	"context"
	"fmt"
	"os"
	"regexp"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/bolt"
	"github.com/charlabot/charla/engine/keyword"
	"github.com/charlabot/charla/engine/memory"
)

// A bot built in Go: one flow that asks for an order number and looks the
// order up with an action the embedding program provides. (A bot directory
// compiled by flows.LoadDir gives the same *engine.Program.)
func Example() {
	p := &engine.Program{
		Name:      "shop",
		Languages: []string{"es"},
		Actions:   []*engine.ActionSpec{{Name: "get_order", Params: []engine.Param{{Name: "id", Type: engine.String, Required: true}}}},
		Flows: []*engine.Flow{{
			Name:     "order_status",
			Triggers: engine.Triggers{Keywords: []string{"pedido"}},
			Slots:    []*engine.Slot{{Name: "order", Type: engine.SlotPattern, Pattern: regexp.MustCompile(`[A-Z]\d{4}`)}},
			Steps: []engine.Step{
				&engine.Ask{Slot: "order", Prompt: say("¿Cuál es el número de tu pedido?"), Exhausted: engine.Default},
				&engine.Action{Name: "get_order", Args: []engine.Assign{{Name: "id", Value: engine.MustExpr("order")}}, Into: "o", OnError: engine.Default},
				&engine.Say{Message: say("Tu pedido {{ order }} está {{ o.status }}.")},
			},
		}},
	}
	if err := p.Check(); err != nil {
		panic(err)
	}
	rt, err := engine.NewRuntime(p, engine.Options{Store: memory.New(), Understander: keyword.New(p)})
	if err != nil {
		panic(err)
	}
	rt.RegisterAction("get_order", func(ctx context.Context, call engine.ActionCall) (any, error) {
		return map[string]any{"status": "en camino"}, nil // ctx carries the turn's deadline
	})
	ctx := context.Background()
	for _, text := range []string{"¿dónde está mi pedido?", "es el A1002"} {
		turn, err := rt.Handle(ctx, engine.Inbound{Conversation: "c1", Channel: "web", Text: text})
		if err != nil {
			panic(err)
		}
		for _, m := range turn.Messages {
			fmt.Println(m.Text)
		}
	}
	// Output:
	// ¿Cuál es el número de tu pedido?
	// Tu pedido A1002 está en camino.
}

func say(s string) *engine.Message { return &engine.Message{Variants: []engine.Text{engine.Lit(s)}} }

// Proactive messages: an event starts the flow it triggers in the user's
// latest conversation, and its messages go out through that channel's
// Sender (or wait in the user's outbox when it cannot deliver them).
func ExampleRuntime_Trigger() {
	p := &engine.Program{Name: "shop", Languages: []string{"es"}, Flows: []*engine.Flow{{
		Name:     "shipped",
		Triggers: engine.Triggers{Events: []string{"order_shipped"}},
		Steps:    []engine.Step{&engine.Say{Message: say("Tu pedido {{ event.order }} salió hacia tu casa.")}},
	}}}
	if err := p.Check(); err != nil {
		panic(err)
	}
	rt, _ := engine.NewRuntime(p, engine.Options{Store: memory.New()})
	rt.RegisterSender("telegram", engine.SenderFunc(func(ctx context.Context, out engine.Outbound) error {
		fmt.Printf("to %s on %s: %s\n", out.Conversation, out.Channel, out.Text)
		return nil
	}))
	ctx := context.Background()
	rt.Handle(ctx, engine.Inbound{Conversation: "tg-42", User: "ana", Channel: "telegram", Text: "hola"})
	res, err := rt.Trigger(ctx, "ana", "order_shipped", map[string]any{"order": "A1002"})
	if err != nil {
		panic(err)
	}
	fmt.Println("delivered:", res.Delivered)
	// Output:
	// to tg-42 on telegram: Tu pedido A1002 salió hacia tu casa.
	// delivered: true
}

// The durable store: one bbolt file; every turn is on disk before Handle
// returns, and conversations survive restarts. Run keeps timers firing.
func Example_bolt() {
	dir, _ := os.MkdirTemp("", "charla-example-")
	defer os.RemoveAll(dir)
	p := &engine.Program{Name: "counter", Languages: []string{"es"}, Flows: []*engine.Flow{{
		Name:     "count",
		Triggers: engine.Triggers{Keywords: []string{"otra"}},
		Slots:    []*engine.Slot{{Name: "n", Type: engine.SlotInteger, Scope: engine.ScopeConversation}},
		Steps: []engine.Step{
			&engine.Set{Assign: []engine.Assign{{Name: "n", Value: engine.MustExpr("(n ?? 0) + 1")}}},
			&engine.Say{Message: say("Van {{ n }}.")},
		},
	}}}
	if err := p.Check(); err != nil {
		panic(err)
	}
	ctx := context.Background()
	for range 2 { // two runs of the program, on the same file
		st, err := bolt.Open(dir, bolt.Options{})
		if err != nil {
			panic(err)
		}
		rt, _ := engine.NewRuntime(p, engine.Options{Store: st})
		turn, _ := rt.Handle(ctx, engine.Inbound{Conversation: "c1", Text: "otra"})
		fmt.Println(turn.Messages[0].Text)
		st.Close()
	}
	// Output:
	// Van 1.
	// Van 2.
}
