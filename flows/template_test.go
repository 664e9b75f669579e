package flows_test

import (
	"context"
	"slices"
	"testing"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/memory"
	"github.com/charlabot/charla/flows"
)

// A say step names the approved template that a channel with a
// customer-service window sends instead outside it.
func TestSayTemplate(t *testing.T) {
	bot, err := flows.LoadFiles(map[string]string{
		"bot.yaml": "name: tienda\nlanguages: [es, en]\n",
		"flows/envio.yaml": `
flow: shipped
triggers: {events: [order_shipped]}
slots:
  order: {type: text}
steps:
  - set: {order: 'event.order'}
  - say: {es: "Tu pedido {{ order }} va en camino.", en: "Your order {{ order }} is on its way."}
    template: {name: shipping_update, lang: es_MX, params: ["{{ order }}", "Servientrega"]}
  - say: "¿Algo más?"
    template: anything_else
`,
	})
	if err != nil {
		t.Fatalf("%v %v", err, bot.Diagnostics)
	}
	say := bot.Program.Flow("shipped").Steps[1].(*engine.Say)
	if tm := say.Message.Template; tm == nil || tm.Name != "shipping_update" || tm.Lang != "es_MX" || len(tm.Params) != 2 || tm.Pos.Line != 9 {
		t.Fatalf("compiled %+v", tm)
	}

	store := memory.New()
	rt, err := engine.NewRuntime(bot.Program, engine.Options{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := rt.Handle(ctx, engine.Inbound{Conversation: "wa-57300", User: "wa-57300", Channel: "whatsapp", Text: "hola", ID: "m1"}); err != nil {
		t.Fatal(err)
	}
	tr, err := rt.Trigger(ctx, "wa-57300", "order_shipped", map[string]any{"order": "A1234"})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Messages) != 2 {
		t.Fatalf("messages %+v", tr.Messages)
	}
	got := tr.Messages[0].Template
	if got == nil || got.Name != "shipping_update" || !slices.Equal(got.Params, []string{"A1234", "Servientrega"}) {
		t.Errorf("rendered %+v", got)
	}
	if got := tr.Messages[1].Template; got == nil || got.Name != "anything_else" || got.Lang != "es" {
		t.Errorf("second %+v", got)
	}
}
