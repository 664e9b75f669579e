package keyword_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/keyword"
)

func program() *engine.Program {
	return &engine.Program{Languages: []string{"es", "en"},
		NLU: []*engine.NLUData{
			{Lang: "es", Intents: []*engine.IntentData{
				{Name: "change_size", Examples: []string{"quiero cambiar la talla", "cambio de talla"}},
				{Name: "order_status", Examples: []string{"dónde está mi pedido"}},
			}, Entities: []*engine.EntityData{
				{Name: "order_id", Pattern: regexp.MustCompile(`[A-Z]\d{4}`)},
				{Name: "color", Values: []engine.EntityValue{{Value: "azul marino", Synonyms: []string{"navy"}}, {Value: "azul"}}},
			}},
			{Lang: "en", Intents: []*engine.IntentData{{Name: "order_status", Examples: []string{"where is my order"}}}},
		},
		KB: []*engine.Article{{ID: "envios", Questions: map[string][]string{"es": {"cuánto cuesta el envío"}}}},
	}
}

func TestUnderstand(t *testing.T) {
	u := keyword.New(program())
	ctx := context.Background()
	cases := []struct {
		text, lang    string
		intent        string
		minConf       float64
		entity, text2 string
		value         any
	}{
		{text: "Quiero cambiar la TALLA", lang: "es", intent: "change_size", minConf: 0.99},
		{text: "hola, ¿dónde está mi pedido A1234?", lang: "es", intent: "order_status", minConf: 0.6, entity: "order_id", value: "A1234"},
		{text: "¿cuánto cuesta el envío?", lang: "es", intent: "kb:envios", minConf: 0.99},
		{text: "mi pedido", lang: "es", intent: "order_status", minConf: 0.1},
		{text: "la quiero en azul marino", lang: "es", entity: "color", value: "azul marino"},
		{text: "navy please", lang: "es", entity: "color", value: "azul marino"},
		{text: "mejor la 44", lang: "es", entity: "size", value: 44.0},
		{text: "cuarenta y tres", lang: "es", entity: "number", value: 43.0},
		{text: "sí, claro", lang: "es", entity: "boolean", value: true},
		{text: "escríbeme a ana@example.com", lang: "es", entity: "email", value: "ana@example.com"},
		{text: "where is my order", intent: "order_status", minConf: 0.99}, // language detected
	}
	for _, c := range cases {
		r, err := u.Understand(ctx, engine.Query{Text: c.text, Lang: c.lang})
		if err != nil {
			t.Fatal(err)
		}
		if c.intent != "" {
			in, conf := r.Top()
			if in != c.intent || conf < c.minConf {
				t.Errorf("%q: top %s %.2f, want %s ≥ %.2f", c.text, in, conf, c.intent, c.minConf)
			}
		}
		if c.entity != "" {
			e, ok := r.Entity(c.entity)
			if !ok || e.Value != c.value {
				t.Errorf("%q: %s = %v (%v), want %v; all %+v", c.text, c.entity, e.Value, ok, c.value, r.Entities)
			}
		}
	}
	r, _ := u.Understand(ctx, engine.Query{Text: "where is my order"})
	if r.Lang != "en" {
		t.Errorf("detected %q", r.Lang)
	}
	// Nothing to read: nothing understood, never an error.
	for _, s := range []string{"", "   ", "😀😀", "\xff\xfe"} {
		r, err := u.Understand(ctx, engine.Query{Text: s, Lang: "es"})
		if err != nil || len(r.Intents) != 0 {
			t.Errorf("%q: %+v %v", s, r, err)
		}
	}
	// The order id's position is in characters.
	r, _ = u.Understand(ctx, engine.Query{Text: "¿dónde está A1234?", Lang: "es"})
	if e, _ := r.Entity("order_id"); e.Start != 12 || e.End != 17 || e.Text != "A1234" {
		t.Errorf("position %+v", e)
	}
}
