package engine_test

import (
	"context"
	"regexp"
	"slices"
	"testing"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/keyword"
)

const (
	txtNotify   = "¿Te aviso cuando avance?"
	txtNotified = "Te aviso."
)

// askingBot is sizeBot whose order status, a digression, asks a yes/no
// question of its own.
func askingBot(interruptible bool) *engine.Program {
	p := sizeBot()
	os := p.Flow("order_status")
	os.Interruptible = interruptible
	os.Slots = []*engine.Slot{{Name: "notify", Type: engine.SlotBoolean}}
	os.Steps = []engine.Step{
		&engine.Say{Message: msg("Tu pedido va en camino.")},
		&engine.Ask{Slot: "notify", Prompt: msg(txtNotify), Exhausted: engine.Default},
		&engine.Branch{Cond: engine.MustExpr("notify"), Else: 4},
		&engine.Say{Message: msg(txtNotified)},
	}
	if err := p.Check(); err != nil {
		panic(err)
	}
	return p
}

// toNotify brings conversation c to the order status's question, pushed
// over the size exchange's question about the size.
func toNotify(h *harness, c string) {
	h.t.Helper()
	h.expect(c, "quiero cambiar la talla", txtAskOrder)
	h.expect(c, "A1234", txtAskSize)
	h.expect(c, "¿y dónde está mi pedido?", "Tu pedido va en camino.", txtNotify)
}

func TestAnswerToTheInterruptedQuestion(t *testing.T) {
	p := askingBot(true)
	h := newHarness(t, p, withNLU(p))
	toNotify(h, "c")
	// Not a yes or no, but a size: back to the exchange, with it.
	tr := h.expect("c", "entonces la 43", "Volviendo a tu cambio de talla:", "Confirm the exchange of order A1234 to size 43?")
	if tr.Conversation.Flow != "size_exchange" || tr.Conversation.Slots["size"] != 43.0 {
		t.Fatalf("after the answer: %+v", tr.Conversation)
	}
	evs, _ := h.rt.Events(context.Background(), 0, 0)
	if !hasEvent(evs, engine.EvFlowAbandoned, "order_status", "left") {
		t.Fatalf("the order status should be left: %+v", evs)
	}
	h.expect("c", "sí", "Done! Order A1234 will be exchanged to size 43. You will receive an email with the return label.")
}

func TestInterruptedQuestionTopWins(t *testing.T) {
	p := askingBot(true)
	h := newHarness(t, p, withNLU(p))
	// A yes answers the question on top; the exchange is resumed after it.
	toNotify(h, "c")
	h.expect("c", "sí", txtNotified, "Volviendo a tu cambio de talla:", txtRetrySize)
	// Free text is no answer to a number below: the question on top is
	// asked again.
	toNotify(h, "d")
	h.expect("d", "la grande", "Respóndeme sí o no, por favor.", txtNotify)
	// A message that starts another flow is a digression, not an answer
	// below: "hola 43" greets.
	toNotify(h, "e")
	tr := h.say("e", "hola 43")
	if texts(tr) != txtGreeting+" | Volviendo a el estado de tu pedido: | "+txtNotify {
		t.Fatalf("hola 43: %q", texts(tr))
	}
	// An invalid value for the question below is no answer to it either.
	toNotify(h, "f")
	h.expect("f", "la 50", "Respóndeme sí o no, por favor.", txtNotify)
}

func TestInterruptedQuestionNotInterruptible(t *testing.T) {
	// A digression that keeps the shopper on its question is not left.
	p := askingBot(false)
	h := newHarness(t, p, withNLU(p))
	toNotify(h, "c")
	h.expect("c", "43", "Respóndeme sí o no, por favor.", txtNotify)
}

// expecting adds a "size" entity to a bare number only when the question
// expects sizes, as the real NLU does.
type expecting struct{ engine.Understander }

func (e expecting) Understand(ctx context.Context, q engine.Query) (*engine.Understanding, error) {
	u, err := e.Understander.Understand(ctx, q)
	if err != nil || !slices.Contains(q.Expect, engine.EntitySize) {
		return u, err
	}
	if n, ok := u.Entity(engine.EntityNumber); ok {
		u.Entities = append(u.Entities, engine.Entity{Entity: engine.EntitySize, Value: n.Value, Text: n.Text, Start: n.Start, End: n.End})
	}
	return u, nil
}

func TestInterruptedQuestionReadAsItExpects(t *testing.T) {
	p := askingBot(true)
	se := p.Flow("size_exchange")
	se.Slot("size").Entity = engine.EntitySize // taken only from a size entity
	se.Slot("size").Type = engine.SlotText
	se.Slot("size").Validate = engine.MustExpr(`size matches "^[0-9]+$"`)
	h := newHarness(t, p, engine.Options{Understander: expecting{keyword.New(p)}})
	toNotify(h, "c")
	tr := h.expect("c", "43", "Volviendo a tu cambio de talla:", "Confirm the exchange of order A1234 to size 43?")
	if tr.Conversation.Slots["size"] != "43" {
		t.Fatalf("size = %#v", tr.Conversation.Slots["size"])
	}
}

func TestDigressionAnswerCarriesOver(t *testing.T) {
	p := askingBot(true)
	h := newHarness(t, p, withNLU(p))
	// "no" answers the order status; the 44 is the size the exchange asks.
	toNotify(h, "c")
	tr := h.expect("c", "no, mejor la 44", "Volviendo a tu cambio de talla:", "Confirm the exchange of order A1234 to size 44?")
	if tr.Conversation.Flow != "size_exchange" || tr.Conversation.Slots["size"] != 44.0 {
		t.Fatalf("after the answer: %+v", tr.Conversation)
	}
	// What the digression took is not taken again: the "no" does not
	// answer the confirmation below.
	h.expect("d", "quiero cambiar el pedido A1234 a talla 43", "Confirm the exchange of order A1234 to size 43?")
	h.expect("d", "¿y dónde está mi pedido?", "Tu pedido va en camino.", txtNotify)
	h.expect("d", "no", "Volviendo a tu cambio de talla:", txtRetryConfirm[:len(txtRetryConfirm)-len(txtConfirm)]+"Confirm the exchange of order A1234 to size 43?")
	// At the confirmation, a new size is a correction: back to the size
	// question's next step, confirmed again.
	h.expect("e", "quiero cambiar el pedido A1234 a talla 43", "Confirm the exchange of order A1234 to size 43?")
	h.expect("e", "¿y dónde está mi pedido?", "Tu pedido va en camino.", txtNotify)
	tr = h.expect("e", "no, mejor la 45", "Volviendo a tu cambio de talla:", "Confirm the exchange of order A1234 to size 45?")
	if tr.Conversation.Slots["size"] != 45.0 {
		t.Fatalf("size = %v", tr.Conversation.Slots["size"])
	}
}

func TestDigressionTriggerDoesNotCarryOver(t *testing.T) {
	// The message that starts a digression is the digression's: what it
	// says is not an answer to the question below when the digression
	// ends at once.
	p := sizeBot()
	h := newHarness(t, p, withNLU(p))
	h.expect("c", "quiero cambiar el pedido A1234 a talla 43", "Confirm the exchange of order A1234 to size 43?")
	tr := h.expect("c", "¿y dónde está mi pedido? la 44", "Tu pedido va en camino.", "Volviendo a tu cambio de talla:",
		"Please answer si or no. Confirm the exchange of order A1234 to size 43?")
	if tr.Conversation.Slots["size"] != 43.0 {
		t.Fatalf("size = %v", tr.Conversation.Slots["size"])
	}
}

func TestCorrectionKeepsWhatCameBefore(t *testing.T) {
	// The size was given with the order, before the order was looked up: a
	// new size forgets what the steps after the size question set (the
	// stock checked), not the product looked up before it.
	p := &engine.Program{
		Name: "corr", Languages: []string{"es"},
		Flows: []*engine.Flow{{
			Name: "exchange", Interruptible: true,
			Triggers: engine.Triggers{Keywords: []string{"cambiar"}},
			Slots: []*engine.Slot{
				{Name: "order", Type: engine.SlotPattern, Pattern: regexp.MustCompile(`[A-Z]\d{4}`), Entity: "order_id"},
				{Name: "size", Type: engine.SlotNumber},
				{Name: "confirmed", Type: engine.SlotBoolean},
			},
			Steps: []engine.Step{
				&engine.Ask{Slot: "order", Prompt: msg("¿Pedido?"), Exhausted: engine.Default},
				&engine.Set{Assign: []engine.Assign{{Name: "product", Value: engine.MustExpr(`"Runner " + order`)}}},
				&engine.Ask{Slot: "size", Prompt: msg("¿Talla?"), Exhausted: engine.Default},
				&engine.Set{Assign: []engine.Assign{{Name: "checked", Value: engine.MustExpr(`size`)}}},
				&engine.Ask{Slot: "confirmed", Prompt: msg("¿{{ product }} en {{ checked }}?"), Exhausted: engine.Default},
			},
		}},
		NLU: []*engine.NLUData{{Lang: "es", Entities: []*engine.EntityData{{Name: "order_id", Pattern: regexp.MustCompile(`[A-Z]\d{4}`)}}}},
	}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, p, withNLU(p))
	h.expect("c", "cambiar el A1234 por la talla 43", "¿Runner A1234 en 43?")
	h.expect("c", "no, mejor la 44", "¿Runner A1234 en 44?")
}

// pickBot asks a choice among topics and then a size offered as buttons.
func pickBot(sizes ...string) *engine.Program {
	var buttons []engine.Choice
	for _, s := range sizes {
		buttons = append(buttons, engine.Choice{Value: s})
	}
	p := &engine.Program{
		Name: "pick", Languages: []string{"es", "en"},
		Flows: []*engine.Flow{{
			Name: "pick", Interruptible: true,
			Triggers: engine.Triggers{Keywords: []string{"empezar", "start"}},
			Slots: []*engine.Slot{
				{Name: "topic", Type: engine.SlotChoice, Choices: []engine.Choice{
					{Value: "estado", Label: engine.Lit("Estado")}, {Value: "factura", Label: engine.Lit("Factura")}}},
				{Name: "size", Type: engine.SlotNumber, Invalid: engine.Lit("No reconozco esa talla.")},
			},
			Steps: []engine.Step{
				&engine.Ask{Slot: "topic", Prompt: msg("¿Qué tema?"), Exhausted: engine.Default},
				&engine.Ask{Slot: "size", Prompt: &engine.Message{Variants: []engine.Text{engine.Lit("¿Te sirve alguna?")}, Choices: buttons},
					Exhausted: engine.Default},
				&engine.Say{Message: msg("{{ topic }} {{ size }}")},
			},
		}},
	}
	if err := p.Check(); err != nil {
		panic(err)
	}
	return p
}

func TestBareYesAtOptions(t *testing.T) {
	p := pickBot("43", "45")
	h := newHarness(t, p, withNLU(p))
	h.expect("c", "empezar", "¿Qué tema?")
	tr := h.expect("c", "sí", "¿Cuál prefieres: Estado o Factura?")
	if got := tr.Messages[0].Choices; len(got) != 2 || got[1].Value != "factura" || tr.Conversation.Flow != "pick" {
		t.Fatalf("choices %+v, flow %q", got, tr.Conversation.Flow)
	}
	h.expect("c", "factura", "¿Te sirve alguna?")
	tr = h.expect("c", "dale", "¿Cuál prefieres: 43 o 45?")
	if got := tr.Messages[0].Choices; len(got) != 2 || got[0].Value != "43" {
		t.Fatalf("choices %+v", got)
	}
	// Asking which counts as a try: the third bare yes is the question's last.
	h.expect("c", "ok", "¿Cuál prefieres: 43 o 45?")
	tr = h.say("c", "vale")
	if tr.Conversation.Flow != "" {
		t.Fatalf("after three tries: %q, flow %q", texts(tr), tr.Conversation.Flow)
	}
	// "sí, la 45" is an answer, not a bare yes.
	h.expect("d", "empezar", "¿Qué tema?")
	h.expect("d", "estado", "¿Te sirve alguna?")
	h.expect("d", "sí, la 45", "estado 45")
	// English.
	h.expect("e", "start", "¿Qué tema?")
	if err := h.rt.SetLang(context.Background(), "e", "en"); err != nil {
		t.Fatal(err)
	}
	h.expect("e", "yes", "Which one would you like: Estado or Factura?")
}

func TestBareYesAtOneOption(t *testing.T) {
	p := pickBot("43")
	h := newHarness(t, p, withNLU(p))
	h.expect("c", "empezar", "¿Qué tema?")
	h.expect("c", "estado", "¿Te sirve alguna?")
	h.expect("c", "sí", "estado 43")
}

func TestAside(t *testing.T) {
	p := sizeBot()
	p.Flows = append(p.Flows, &engine.Flow{
		Name: "thanks", Aside: true,
		Triggers: engine.Triggers{Keywords: []string{"gracias"}},
		Steps:    []engine.Step{&engine.Say{Message: msg("¡Con gusto!")}},
	})
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, p, withNLU(p))
	// With nothing pending, an aside is a flow like another.
	h.expect("c", "gracias", "¡Con gusto!")
	// At a question: said, then the question again (its reprompt), no
	// resume flow, the flow kept, no try counted.
	h.expect("c", "quiero cambiar la talla", txtAskOrder)
	h.expect("c", "no lo sé", txtRetryOrder)
	h.expect("c", "no me acuerdo", txtRetryOrder)
	tr := h.expect("c", "gracias", "¡Con gusto!", txtRetryOrder)
	if tr.Conversation.Flow != "size_exchange" {
		t.Fatalf("flow = %q", tr.Conversation.Flow)
	}
	h.expect("c", "A1234", txtAskSize) // a third invalid answer would have ended the flow
	evs, _ := h.rt.Events(context.Background(), 0, 0)
	if !hasEvent(evs, engine.EvFlowStarted, "thanks", "aside") || !hasEvent(evs, engine.EvFlowCompleted, "thanks", "") {
		t.Fatalf("events: %+v", evs)
	}

	// At the question of a flow that is not interruptible too.
	p2 := sizeBot()
	p2.Flow("size_exchange").Interruptible = false
	p2.Flows = append(p2.Flows, p.Flow("thanks"))
	if err := p2.Check(); err != nil {
		t.Fatal(err)
	}
	h2 := newHarness(t, p2, withNLU(p2))
	h2.expect("c", "quiero cambiar la talla", txtAskOrder)
	h2.expect("c", "¿y dónde está mi pedido?", txtRetryOrder) // no digression
	h2.expect("c", "gracias", "¡Con gusto!", txtRetryOrder)
}

func TestAsideAtAWait(t *testing.T) {
	p := sizeBot()
	p.Flows = append(p.Flows,
		&engine.Flow{Name: "thanks", Aside: true, Triggers: engine.Triggers{Keywords: []string{"gracias"}},
			Steps: []engine.Step{&engine.Say{Message: msg("¡Con gusto!")}}},
		&engine.Flow{Name: "shipping", Interruptible: true, Triggers: engine.Triggers{Keywords: []string{"envio"}},
			Steps: []engine.Step{
				&engine.Say{Message: msg("Te aviso cuando salga.")},
				&engine.Wait{Events: []string{"shipped"}, OnTimeout: engine.Default},
				&engine.Say{Message: msg("¡Salió!")},
			}})
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, p, withNLU(p))
	h.expect("c", "envio", "Te aviso cuando salga.")
	tr := h.expect("c", "gracias", "¡Con gusto!")
	if tr.Conversation.Flow != "shipping" {
		t.Fatalf("the wait should go on: %+v", tr.Conversation)
	}
}
