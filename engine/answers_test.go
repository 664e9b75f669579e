package engine_test

import (
	"context"
	"regexp"
	"slices"
	"testing"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/keyword"
)

// expectingNLU is the keyword understander reading sizes as the real NLU
// does: a bare number ("43") is a size only when the question expects one,
// "talla 43" always.
type expectingNLU struct{ kw engine.Understander }

var sizeCue = regexp.MustCompile(`(?i)talla\s+\d`)

func (n expectingNLU) Understand(ctx context.Context, q engine.Query) (*engine.Understanding, error) {
	u, err := n.kw.Understand(ctx, q)
	if err != nil || u == nil {
		return u, err
	}
	expected := slices.Contains(q.Expect, engine.EntitySize)
	var out []engine.Entity
	for _, e := range u.Entities {
		switch {
		case e.Entity == engine.EntitySize:
			if expected || sizeCue.MatchString(q.Text) {
				out = append(out, e)
			}
		case e.Entity == engine.EntityNumber && expected && e.Value.(float64) >= 16 && e.Value.(float64) <= 52:
			out = append(out, e, engine.Entity{Entity: engine.EntitySize, Value: e.Value, Text: e.Text, Start: e.Start, End: e.End})
		default:
			out = append(out, e)
		}
	}
	u.Entities = out
	return u, nil
}

// ordersBot asks which of two orders (buttons, and one that is no order),
// then the size, then a confirmation.
func ordersBot() *engine.Program {
	p := &engine.Program{
		Name: "orders", Languages: []string{"es", "en"},
		Flows: []*engine.Flow{{
			Name: "exchange", Interruptible: true,
			Triggers: engine.Triggers{Keywords: []string{"cambiar", "exchange"}},
			Slots: []*engine.Slot{
				{Name: "order", Type: engine.SlotPattern, Pattern: regexp.MustCompile(`[A-Z]\d{4}`), Entity: engine.EntityOrderID},
				{Name: "size", Type: engine.SlotNumber, Entity: engine.EntitySize},
				{Name: "confirmed", Type: engine.SlotBoolean},
			},
			Steps: []engine.Step{
				&engine.Ask{Slot: "order", Exhausted: engine.Default, Prompt: &engine.Message{
					Variants: []engine.Text{engine.Lit("¿Cuál pedido?")},
					Choices: []engine.Choice{
						{Value: "A1002", Label: engine.Lit("A1002 · Chaqueta")},
						{Value: "A1001", Label: engine.Lit("A1001 · Runner")},
						{Value: "forgot", Label: engine.Lit("No tengo el número")},
					}}},
				&engine.Ask{Slot: "size", Prompt: msg("¿Qué talla?"), Exhausted: engine.Default},
				&engine.Ask{Slot: "confirmed", Prompt: msg("¿Cambio {{ order }} a la {{ size }}?"), Exhausted: engine.Default},
				&engine.Say{Message: msg("Listo: {{ order }} {{ size }} {{ confirmed }}")},
			},
		}},
		NLU: []*engine.NLUData{{Lang: "es", Entities: []*engine.EntityData{{Name: engine.EntityOrderID, Pattern: regexp.MustCompile(`[A-Z]\d{4}`)}}}},
	}
	if err := p.Check(); err != nil {
		panic(err)
	}
	return p
}

func ordersHarness(t *testing.T, p *engine.Program) *harness {
	return newHarness(t, p, engine.Options{Understander: expectingNLU{keyword.New(p)}})
}

// At a question with options, an answer that is none of them is told the
// options (not the slot type's format hint), and the question is asked
// again with its buttons; it counts as a try.
func TestInvalidAnswerListsOptions(t *testing.T) {
	h := ordersHarness(t, ordersBot())
	h.expect("c", "cambiar", "¿Cuál pedido?")
	tr := h.expect("c", "el azul", "Elige una de las opciones: A1002 · Chaqueta o A1001 · Runner.", "¿Cuál pedido?")
	if got := tr.Messages[1].Choices; len(got) != 3 || got[1].Value != "A1001" {
		t.Fatalf("the question's buttons again: %+v", got)
	}
	h.expect("c", "el rojo", "Elige una de las opciones: A1002 · Chaqueta o A1001 · Runner.", "¿Cuál pedido?")
	if tr := h.say("c", "el verde"); tr.Conversation.Flow != "" {
		t.Fatalf("the third try ends the question: %q in %q", texts(tr), tr.Conversation.Flow)
	}
	// English.
	h.expect("e", "exchange", "¿Cuál pedido?")
	if err := h.rt.SetLang(context.Background(), "e", "en"); err != nil {
		t.Fatal(err)
	}
	h.expect("e", "blue", "Please pick one of these: A1002 · Chaqueta or A1001 · Runner.", "¿Cuál pedido?")
}

// The invalid system flow reads the options: `expected` is "choice" and
// `options` lists them.
func TestInvalidFlowReadsOptions(t *testing.T) {
	p := ordersBot()
	p.Flows = append(p.Flows, &engine.Flow{Name: "hint", System: true,
		Steps: []engine.Step{&engine.Say{Message: msg("[{{ expected }}] {{ options }}")}}})
	p.System = map[engine.SystemRole]string{engine.SysInvalid: "hint"}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	h := ordersHarness(t, p)
	h.expect("c", "cambiar", "¿Cuál pedido?")
	h.expect("c", "el azul", "[choice] A1002 · Chaqueta o A1001 · Runner", "¿Cuál pedido?")
	h.expect("c", "A1001", "¿Qué talla?")
	h.expect("c", "grande", "[number] ", "¿Qué talla?") // no options: the type
}

// A size given while the order is asked is no order, but the size a later
// question asks for: it fills that slot, and once the order is picked the
// size question is skipped.
func TestLaterSlotFilledFromNonAnswer(t *testing.T) {
	h := ordersHarness(t, ordersBot())
	h.expect("c", "cambiar", "¿Cuál pedido?")
	tr := h.say("c", "43")
	if tr.Conversation.Slots["size"] != 43.0 || tr.Conversation.Slots["order"] != nil || tr.Conversation.Flow != "exchange" {
		t.Fatalf("%q: slots %v", texts(tr), tr.Conversation.Slots)
	}
	h.expect("c", "A1001", "¿Cambio A1001 a la 43?")
	h.expect("c", "sí", "Listo: A1001 43 true")

	// With the answer: "A1001, la 43" answers the order and gives the size.
	h.expect("d", "cambiar", "¿Cuál pedido?")
	h.expect("d", "A1001, 43", "¿Cambio A1001 a la 43?")

	// An answer that is a valid answer to the question stays its answer: a
	// bare 43 at the size question.
	h.expect("e", "cambiar", "¿Cuál pedido?")
	h.expect("e", "A1002", "¿Qué talla?")
	h.expect("e", "43", "¿Cambio A1002 a la 43?")
}

func TestNoneOfThem(t *testing.T) {
	for _, in := range []string{"no", "No.", "ninguna", "ninguna de las dos", "no me sirve ninguna", "no, gracias",
		"nop", "none of them", "neither", "ninguno me gusta", "no quiero ninguna", "I don't want any", "nada"} {
		if !engine.NoneOfThem(in) {
			t.Errorf("NoneOfThem(%q) = false", in)
		}
	}
	for _, in := range []string{"", "sí", "no sé", "no, la 44", "no, cancela", "no tengo el número", "la de la izquierda",
		"gracias", "de las dos", "no me acuerdo", "don", "i want the one of the left"} {
		if engine.NoneOfThem(in) {
			t.Errorf("NoneOfThem(%q) = true", in)
		}
	}
}

// A "no" at a question with options that is not a yes/no one refuses the
// options: without on_none the options come again, listed and as buttons,
// with the way out, as a try of the question.
func TestNoneOfTheOptions(t *testing.T) {
	p := pickBot("43", "45")
	h := newHarness(t, p, withNLU(p))
	h.expect("c", "empezar", "¿Qué tema?")
	tr := h.expect("c", "ninguna de las dos", "Estas son las opciones que tengo: Estado o Factura. Elige una.")
	if got := tr.Messages[0].Choices; len(got) != 2 || got[1].Value != "factura" || tr.Conversation.Flow != "pick" {
		t.Fatalf("choices %+v, flow %q", got, tr.Conversation.Flow)
	}
	h.expect("c", "factura", "¿Te sirve alguna?")
	h.expect("c", "no", "Estas son las opciones que tengo: 43 o 45. Elige una.")
	h.expect("c", "no sé", "No reconozco esa talla.", "¿Te sirve alguna?") // not a refusal: an invalid answer
	// Refused to the last try: the flow is left (no fallback: the message
	// was understood).
	if tr := h.expect("c", "no", "De acuerdo, lo dejamos aquí."); tr.Conversation.Flow != "" {
		t.Fatalf("the third try ends the question: flow %q", tr.Conversation.Flow)
	}
	evs, _ := h.rt.Events(context.Background(), 0, 0)
	if !hasEvent(evs, engine.EvFlowAbandoned, "pick", "none:size") || hasEvent(evs, engine.EvFallback, "", "") {
		t.Fatalf("events: %+v", evs)
	}
	// "no, la 45" is an answer.
	h.expect("d", "empezar", "¿Qué tema?")
	h.expect("d", "estado", "¿Te sirve alguna?")
	h.expect("d", "no, la 45", "estado 45")

	// With a cancel flow the way out is said; in English too.
	p.Flows = append(p.Flows, &engine.Flow{Name: "cancel", System: true, Triggers: engine.Triggers{Keywords: []string{"cancelar", "cancel"}},
		Steps: []engine.Step{&engine.Say{Message: msg("Lo dejamos.")}}})
	p.System = map[engine.SystemRole]string{engine.SysCancel: "cancel"}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	h = newHarness(t, p, withNLU(p))
	h.expect("c", "empezar", "¿Qué tema?")
	h.expect("c", "no", "Estas son las opciones que tengo: Estado o Factura. Elige una, o escribe «cancelar» si prefieres dejarlo.")
	h.expect("c", "cancelar", "Lo dejamos.")
	h.expect("e", "start", "¿Qué tema?")
	if err := h.rt.SetLang(context.Background(), "e", "en"); err != nil {
		t.Fatal(err)
	}
	h.expect("e", "none of them", `These are the options I have: Estado or Factura. Pick one, or type "cancel" if you'd rather leave it.`)

	// The question's exhausted steps, when it has them, take the last try.
	ask := p.Flow("pick").Steps[1].(*engine.Ask)
	ask.Exhausted = len(p.Flow("pick").Steps)
	p.Flow("pick").Steps = append(p.Flow("pick").Steps, &engine.Say{Message: msg("Te paso con alguien.")})
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	h = newHarness(t, p, withNLU(p))
	h.expect("c", "empezar", "¿Qué tema?")
	h.expect("c", "estado", "¿Te sirve alguna?")
	h.expect("c", "no", "Estas son las opciones que tengo: 43 o 45. Elige una, o escribe «cancelar» si prefieres dejarlo.")
	h.expect("c", "ninguna", "Estas son las opciones que tengo: 43 o 45. Elige una, o escribe «cancelar» si prefieres dejarlo.")
	h.expect("c", "no", "Te paso con alguien.")

	// A yes/no question's "no" is its answer.
	sb := sizeBot()
	hs := newHarness(t, sb, withNLU(sb))
	hs.expect("c", "quiero cambiar la talla", txtAskOrder)
	hs.expect("c", "A1234", txtAskSize)
	hs.expect("c", "43", "Confirm the exchange of order A1234 to size 43?")
	hs.expect("c", "no", txtCancelled)
}

// An ask step's on_none steps take a refusal of its options.
func TestOnNone(t *testing.T) {
	p := pickBot("43", "45")
	f := p.Flow("pick")
	ask := f.Steps[1].(*engine.Ask)
	ask.OnNone = len(f.Steps)
	f.Steps = append(f.Steps,
		&engine.Say{Message: msg("Entiendo: ninguna te sirve. ¿Quieres que te avise cuando llegue tu talla?")},
		&engine.End{Outcome: engine.OutcomeAbandoned})
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, p, withNLU(p))
	h.expect("c", "empezar", "¿Qué tema?")
	h.expect("c", "estado", "¿Te sirve alguna?")
	tr := h.expect("c", "no me sirve ninguna", "Entiendo: ninguna te sirve. ¿Quieres que te avise cuando llegue tu talla?")
	if tr.Conversation.Flow != "" {
		t.Fatalf("flow %q", tr.Conversation.Flow)
	}
	// The question without on_none (the topic) still shows the options again.
	h.expect("d", "empezar", "¿Qué tema?")
	h.expect("d", "no", "Estas son las opciones que tengo: Estado o Factura. Elige una.")

	// A target out of range is refused.
	ask.OnNone = len(f.Steps) + 5
	if err := p.Check(); err == nil {
		t.Fatal("an on_none target out of range must be an error")
	}
}

func TestReadYesNoAnswerFirst(t *testing.T) {
	for in, want := range map[string]bool{
		"pues sí": true, "creo que no": false, "gracias, sí": true, "¿sí?": true, "ya": true, "Ya!": true,
		"eso es": true, "eso": true, "ok, no": false, "vale, no gracias": false, "claro que no": false,
		"claro que sí": true, "ya no": false, "todavía no": false, "sí, ¿cuánto tarda?": true,
		"bueno, pero sí": true, "mmm no": false, "hola! sí por favor": true, "😊 sí": true, "sí quiero": true,
		"no, se me olvidó": false, "no me interesa": false, "no, lo sé": false,
	} {
		got, ok := engine.ReadYesNo(in)
		if !ok || got != want {
			t.Errorf("ReadYesNo(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"¿y ya llegó mi pedido?", "¿ya llegó mi pedido?", "ya llegó mi pedido", "eso no me sirve",
		"¿no hay otra talla?", "¿y si lo cambio por la 44?", "quiero saber si ya salió", "la verdad es que sí y no",
		"¿Ok y cuándo llega?", "listo el pedido?", "no sé", "No se", "mmm no lo sé", "no estoy segura", "no me acuerdo",
		"no tengo idea", "pues no sé la verdad"} {
		if v, ok := engine.ReadYesNo(in); ok {
			t.Errorf("ReadYesNo(%q) = %v, want no answer", in, v)
		}
	}
}

// anywhereNLU is an understander that reads a yes in any "ya" of the
// message, as a careless one would.
type anywhereNLU struct{ kw engine.Understander }

func (n anywhereNLU) Understand(ctx context.Context, q engine.Query) (*engine.Understanding, error) {
	u, err := n.kw.Understand(ctx, q)
	if err != nil || u == nil {
		return u, err
	}
	rs := []rune(q.Text)
	for i := 0; i+2 <= len(rs); i++ {
		if string(rs[i:i+2]) == "ya" && (i == 0 || rs[i-1] == ' ' || rs[i-1] == '¿') {
			u.Entities = append(u.Entities, engine.Entity{Entity: engine.EntityBoolean, Value: true, Text: "ya", Start: i, End: i + 2})
		}
	}
	return u, nil
}

// At a yes/no question, a question that asks for something else is a
// digression, not a yes, whatever yes the understander read in it.
func TestQuestionIsNoYes(t *testing.T) {
	p := sizeBot()
	os := p.Flow("order_status")
	os.Triggers.Keywords = append(os.Triggers.Keywords, "llego mi pedido")
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	for name, nlu := range map[string]engine.Understander{"keyword": keyword.New(p), "anywhere": anywhereNLU{keyword.New(p)}} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, p, engine.Options{Understander: nlu})
			h.expect("c", "quiero cambiar la talla", txtAskOrder)
			h.expect("c", "A1234", txtAskSize)
			h.expect("c", "43", "Confirm the exchange of order A1234 to size 43?")
			tr := h.expect("c", "¿y ya llegó mi pedido?", "Tu pedido va en camino.", "Volviendo a tu cambio de talla:",
				"Please answer si or no. Confirm the exchange of order A1234 to size 43?")
			if tr.Conversation.Slots["confirmed"] != nil {
				t.Fatalf("confirmed = %v", tr.Conversation.Slots["confirmed"])
			}
			h.expect("c", "¿ya llegó mi pedido?", "Tu pedido va en camino.", "Volviendo a tu cambio de talla:",
				"Please answer si or no. Confirm the exchange of order A1234 to size 43?")
			// A yes of its own clause is the answer.
			h.expect("c", "ya, gracias", "Done! Order A1234 will be exchanged to size 43. You will receive an email with the return label.")
		})
	}
}
