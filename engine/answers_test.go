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
