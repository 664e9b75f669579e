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
	h.expect("c", "cero", "Al menos uno.")
	h.expect("c", "tres", "¿when?")
	h.expect("c", "2026-12-24", "¿email?")
	h.expect("c", "escríbeme a ana@example.com", "¿photo?")
	// A file is not an image: asked again; then a photo.
	tr, _ = h.rt.Handle(ctx, engine.Inbound{Conversation: "c", Attachments: []engine.Attachment{{ID: "f1", Kind: "file", Name: "a.pdf"}}})
	if texts(tr) != "¿photo?" {
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
