package engine_test

import (
	"context"
	"slices"
	"testing"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/memory"
)

func TestFragmentsAnsweredOnce(t *testing.T) {
	p := &engine.Program{Name: "fragments", Languages: []string{"es"}, Flows: []*engine.Flow{
		{Name: "hola", Triggers: engine.Triggers{Keywords: []string{"hola"}},
			Steps: []engine.Step{&engine.Say{Message: &engine.Message{Variants: []engine.Text{engine.Lit("¡Hola!")}}}}},
		{Name: "fallback", System: true,
			Steps: []engine.Step{&engine.Say{Message: &engine.Message{Variants: []engine.Text{engine.Lit("¿Cómo?")}}}}},
	}, System: map[engine.SystemRole]string{engine.SysFallback: "fallback"}}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	rt, err := engine.NewRuntime(p, engine.Options{Store: memory.New()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	in := engine.Inbound{Conversation: "wa-1", Channel: "whatsapp", ID: "wamid.a", Fragments: []string{"wamid.b", "wamid.c"}, Text: "hola\nquiero\ncambiar"}
	tr, err := rt.Handle(ctx, in)
	if err != nil || tr.Duplicate || len(tr.Messages) != 1 {
		t.Fatalf("joined turn: %+v %v", tr, err)
	}
	// each fragment redelivered alone is a duplicate answered with the same replies
	for _, id := range []string{"wamid.a", "wamid.b", "wamid.c"} {
		tr, err := rt.Handle(ctx, engine.Inbound{Conversation: "wa-1", Channel: "whatsapp", ID: id, Text: "quiero"})
		if err != nil || !tr.Duplicate || len(tr.Messages) != 1 || tr.Messages[0].Text != "¡Hola!" {
			t.Errorf("redelivered %s: %+v %v", id, tr, err)
		}
	}
	// a burst mixing an answered fragment with a new one runs: nothing new is lost
	tr, err = rt.Handle(ctx, engine.Inbound{Conversation: "wa-1", Channel: "whatsapp", ID: "wamid.c", Fragments: []string{"wamid.d"}, Text: "cambiar\nla talla"})
	if err != nil || tr.Duplicate {
		t.Fatalf("partly new burst: %+v %v", tr, err)
	}
	es, _ := rt.Transcript(ctx, "wa-1", 0, 0)
	var users []string
	for _, e := range es {
		if e.From == engine.FromUser {
			users = append(users, e.ID)
		}
	}
	if !slices.Equal(users, []string{"wamid.a", "wamid.c"}) {
		t.Errorf("user entries %v", users)
	}
}

func TestSayTemplate(t *testing.T) {
	p := &engine.Program{Name: "templates", Languages: []string{"es", "en"}, Flows: []*engine.Flow{
		{Name: "envio", Triggers: engine.Triggers{Keywords: []string{"envio"}}, Steps: []engine.Step{
			&engine.Say{Message: &engine.Message{Variants: []engine.Text{engine.Lit("Tu pedido va en camino.")},
				Template: &engine.MessageTemplate{Name: "shipping_update", Params: []*engine.Template{engine.MustTemplate("A{{ 1000 + 234 }}"), engine.MustTemplate("Servientrega")}}}},
			&engine.Say{Message: &engine.Message{Variants: []engine.Text{engine.Lit("¿Algo más?")},
				Template: &engine.MessageTemplate{Name: "anything_else", Lang: "es_MX"}}},
		}},
	}}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	rt, err := engine.NewRuntime(p, engine.Options{Store: memory.New()})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := rt.Handle(context.Background(), engine.Inbound{Conversation: "wa-2", Channel: "whatsapp", ID: "m1", Text: "envio", Lang: "es"})
	if err != nil || len(tr.Messages) != 2 {
		t.Fatalf("%+v %v", tr, err)
	}
	t1, t2 := tr.Messages[0].Template, tr.Messages[1].Template
	if t1 == nil || t1.Name != "shipping_update" || t1.Lang != "es" || !slices.Equal(t1.Params, []string{"A1234", "Servientrega"}) {
		t.Errorf("first template %+v", t1)
	}
	if t2 == nil || t2.Lang != "es_MX" || t2.Params != nil {
		t.Errorf("second template %+v", t2)
	}
	// kept in the transcript, so an outbox delivery still has it
	es, _ := rt.Transcript(context.Background(), "wa-2", 0, 0)
	if es[1].Template == nil || es[1].Outbound("wa-2", "").Template.Name != "shipping_update" {
		t.Errorf("transcript entry %+v", es[1])
	}
}
