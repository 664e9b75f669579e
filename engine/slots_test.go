package engine_test

import (
	"context"
	"testing"

	"github.com/charlabot/charla/engine"
)

// formBot asks one slot of each kind, then says them all.
func formBot() *engine.Program {
	slots := []*engine.Slot{
		{Name: "color", Type: engine.SlotChoice, Choices: []engine.Choice{
			{Value: "rojo", Label: engine.Text{"es": engine.MustTemplate("Rojo"), "en": engine.MustTemplate("Red")}, Synonyms: []string{"colorado"}},
			{Value: "azul_marino", Label: engine.Lit("Azul marino")}}},
		{Name: "qty", Type: engine.SlotInteger, Validate: engine.MustExpr("qty > 0"), Invalid: engine.Lit("Al menos uno.")},
		{Name: "when", Type: engine.SlotDate},
		{Name: "email", Type: engine.SlotEmail, Scope: engine.ScopeUser},
		{Name: "photo", Type: engine.SlotAttachment, Accept: []string{"image"}},
		{Name: "place", Type: engine.SlotLocation},
		{Name: "ok", Type: engine.SlotBoolean},
	}
	var steps []engine.Step
	for _, s := range slots {
		steps = append(steps, &engine.Ask{Slot: s.Name, Prompt: msg("¿" + s.Name + "?"), Exhausted: engine.Default})
	}
	steps = append(steps, &engine.Say{Message: msg("{{ color }} {{ qty }} {{ when }} {{ email }} {{ photo.kind }} {{ place.lat }} {{ ok }}")})
	p := &engine.Program{Name: "form", Languages: []string{"es", "en"},
		Flows: []*engine.Flow{
			{Name: "form", Triggers: engine.Triggers{Keywords: []string{"formulario"}}, Slots: slots, Steps: steps},
			{Name: "csat", Triggers: engine.Triggers{Keywords: []string{"encuesta"}},
				Slots: []*engine.Slot{{Name: "score", Type: engine.SlotInteger}},
				Steps: []engine.Step{&engine.Ask{Slot: "score", Prompt: msg("¿Del 1 al 5?"), Exhausted: engine.Default}, &engine.Say{Message: msg("¡Gracias!")}}},
		}}
	if err := p.Check(); err != nil {
		panic(err)
	}
	return p
}

func TestSlotTypes(t *testing.T) {
	h := newHarness(t, formBot(), engine.Options{})
	ctx := context.Background()
	h.expect("c", "formulario", "¿color?")
	tr := h.expect("c", "quiero el COLORADO por favor", "¿qty?") // a synonym inside a phrase, any case
	if tr.Conversation.Slots["color"] != "rojo" {
		t.Fatalf("color = %v", tr.Conversation.Slots["color"])
	}
	h.expect("c", "cero", "Al menos uno.")            // rejected by validate: why
	h.expect("c", "muchos", "Al menos uno.", "¿qty?") // not a number: the slot's invalid text, and the question again
	h.expect("c", "tres", "¿when?")
	h.expect("c", "el otro", "Necesito una fecha, por ejemplo «mañana» o «25 de noviembre».", "¿when?") // no invalid text: the type's hint
	h.expect("c", "2026-12-24", "¿email?")
	h.expect("c", "no tengo", "Necesito un correo electrónico, por ejemplo ana@ejemplo.com.", "¿email?")
	h.expect("c", "escríbeme a ana@example.com", "¿photo?")
	// A file is not an image: asked again; then a photo.
	tr, _ = h.rt.Handle(ctx, engine.Inbound{Conversation: "c", Attachments: []engine.Attachment{{ID: "f1", Kind: "file", Name: "a.pdf"}}})
	if texts(tr) != "Necesito una foto: envíala como imagen. | ¿photo?" {
		t.Fatalf("a file: %q", texts(tr))
	}
	tr, _ = h.rt.Handle(ctx, engine.Inbound{Conversation: "c", Attachments: []engine.Attachment{{ID: "i1", Kind: "image", URL: "https://x/i.jpg", Size: 10}}})
	if texts(tr) != "¿place?" {
		t.Fatalf("an image: %q", texts(tr))
	}
	tr, _ = h.rt.Handle(ctx, engine.Inbound{Conversation: "c", Location: &engine.Location{Lat: 4.6, Lon: -74.1}})
	if texts(tr) != "¿ok?" {
		t.Fatalf("a location: %q", texts(tr))
	}
	tr, _ = h.rt.Handle(ctx, engine.Inbound{Conversation: "c", Choice: "yes"})
	if texts(tr) != "rojo 3 2026-12-24 ana@example.com image 4.6 true" {
		t.Fatalf("the form: %q", texts(tr))
	}
	s, _ := h.rt.Session(ctx, "c")
	if s.Vars == nil {
		t.Fatalf("an anonymous user's user-scoped slot lives in the session")
	}
	if v, _ := s.Vars.Get("email"); v != "ana@example.com" {
		t.Fatalf("email = %v", v)
	}
	// Choices come as buttons in the conversation's language, and are
	// answered by number.
	tr, _ = h.rt.Handle(ctx, engine.Inbound{Conversation: "e", Lang: "en", Text: "formulario"})
	if b := tr.Messages[0].Choices; len(b) != 2 || b[0].Label != "Red" || b[1].Value != "azul_marino" {
		t.Fatalf("buttons %+v", b)
	}
	tr = h.say("e", "2")
	if tr.Conversation.Slots["color"] != "azul_marino" {
		t.Fatalf("by number: %v", tr.Conversation.Slots)
	}
	if _, ok := tr.Conversation.Slots["qty"]; ok || tr.Conversation.Slots["color"] == nil {
		t.Fatalf("slots %v", tr.Conversation.Slots)
	}
	h.expect("e", "a lot", "Al menos uno.", "¿qty?")
	h.expect("e", "3", "¿when?")
	h.expect("e", "someday", `I need a date, for example "tomorrow" or "November 25".`, "¿when?")
	if d, ok := tr.Conversation.Slots["when"]; ok {
		t.Fatalf("when = %v", d)
	}
}

func TestCSATEvent(t *testing.T) {
	h := newHarness(t, formBot(), engine.Options{})
	h.expect("c", "encuesta", "¿Del 1 al 5?")
	h.expect("c", "5", "¡Gracias!")
	evs, _ := h.rt.Events(context.Background(), 0, 0)
	for _, e := range evs {
		if e.Kind == engine.EvCSAT && e.Value == 5 && e.Flow == "csat" {
			return
		}
	}
	t.Fatalf("no csat event: %+v", evs)
}

// TestInvalidFlow: a bot's invalid flow says what the question expects
// (it reads `expected`), then the question is asked again; a question
// with a reprompt uses its own words; every unreadable answer counts as a
// try.
func TestInvalidFlow(t *testing.T) {
	p := formBot()
	p.Flows = append(p.Flows, &engine.Flow{Name: "hint", Steps: []engine.Step{
		&engine.Say{Message: msg("Espero {{ expected }}.")}}})
	p.Flows[0].Steps[2].(*engine.Ask).Reprompt = msg("¿Qué día? Por ejemplo 2026-12-24.")
	p.System = map[engine.SystemRole]string{engine.SysInvalid: "hint"}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, p, engine.Options{})
	h.expect("c", "formulario", "¿color?")
	h.expect("c", "verde", "Espero choice.", "¿color?") // the buttons come again with the question
	tr := h.say("c", "rosado")
	if texts(tr) != "Espero choice. | ¿color?" || len(tr.Messages[1].Choices) != 2 {
		t.Fatalf("second try: %q %+v", texts(tr), tr.Messages)
	}
	// The third unreadable answer exhausts the slot: the flow is left.
	tr = h.say("c", "morado")
	if tr.Conversation.Flow != "" {
		t.Fatalf("after three tries the flow is still waiting: %+v", tr.Conversation)
	}
	h.expect("c", "formulario", "¿color?")
	h.expect("c", "rojo", "¿qty?")
	h.expect("c", "1", "¿when?")
	h.expect("c", "algún día", "¿Qué día? Por ejemplo 2026-12-24.") // the reprompt says it
	evs, _ := h.rt.Events(context.Background(), 0, 0)
	for _, e := range evs {
		if e.Flow == "hint" {
			t.Fatalf("the invalid flow is logged: %+v", e)
		}
	}
}
