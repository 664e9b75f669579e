package entity

import (
	"testing"

	"github.com/charlabot/charla/engine"
)

// At a yes/no question the answer is what the message starts with: a yes
// word inside a question that asks for something else is no yes.
func TestYesNoIsTheAnswer(t *testing.T) {
	es := mustNew(t, "es", nil, Options{})
	en := mustNew(t, "en", nil, Options{})
	yes, no := true, false
	for _, tt := range []struct {
		x    *Extractor
		text string
		want *bool // nil: no boolean
	}{
		{es, "¿y ya llegó mi pedido?", nil},
		{es, "¿ya llegó mi pedido?", nil},
		{es, "ya llegó mi pedido", nil},
		{es, "¿y eso cuánto tarda?", nil},
		{es, "eso no me sirve", nil},
		{es, "¿no hay otra talla?", nil},
		{es, "quiero saber si ya salió", nil},
		{es, "¿ok y cuándo llega?", nil},
		{es, "la verdad es que sí y no", nil},
		{es, "no sé", nil},
		{es, "no lo se", nil},
		{es, "no estoy segura", nil},
		{es, "no me acuerdo", nil},
		{es, "no me interesa", &no},
		{es, "no, se me olvidó", &no},
		{en, "is it there yet?", nil},
		{en, "right, where is my order?", &yes}, // its own clause
		{es, "ya", &yes},
		{es, "Ya!", &yes},
		{es, "eso", &yes},
		{es, "eso es", &yes},
		{es, "¿sí?", &yes},
		{es, "sí, ¿cuánto tarda?", &yes},
		{es, "pues sí", &yes},
		{es, "creo que no", &no},
		{es, "gracias, sí", &yes},
		{es, "mmm no", &no},
		{es, "ok, no", &no},
		{es, "vale, no gracias", &no},
		{es, "ya no", &no},
		{es, "todavía no", &no},
		{es, "claro que no", &no},
		{es, "claro que sí", &yes},
		{es, "bueno, pero si", &yes},
		{es, "sí, esa es la dirección", &yes},
		{es, "😊 sí", &yes},
		{en, "not yet", &no},
		{en, "well, yes", &yes},
	} {
		e, ok := find(t, tt.x, tt.text, engine.EntityBoolean, engine.EntityBoolean)
		switch {
		case tt.want == nil && ok:
			t.Errorf("%q: read %v (%q), want no yes or no", tt.text, e.Value, e.Text)
		case tt.want != nil && (!ok || e.Value != *tt.want):
			t.Errorf("%q: read %v %v, want %v", tt.text, e.Value, ok, *tt.want)
		}
	}
	// Not expected: a yes only as the first word.
	if e, ok := find(t, es, "¿ya llegó?", engine.EntityBoolean); ok {
		t.Errorf("unexpected yes in a question: %v", e)
	}
	if e, ok := find(t, es, "sí, quiero cambiar la talla", engine.EntityBoolean); !ok || e.Value != true {
		t.Errorf("a leading yes: %v %v", e, ok)
	}
}
