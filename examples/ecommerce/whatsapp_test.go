package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/charlabot/charla/channels/channeltest"
)

// The reference shop on WhatsApp, end to end: signed webhooks in, the fake
// Graph API out, the real program in between. A shopper proves an order is
// hers, exchanges a size by tapping reply buttons and a list, follows an
// order and gets its update proactively, and asks for a person; outside
// the 24-hour window an update without a template is refused and recorded.
func TestWhatsApp(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the NLU and serves HTTP")
	}
	api := channeltest.NewGraphAPI(t, "EAAGtest")
	phone := &channeltest.WhatsApp{AppSecret: "app-secret", PhoneNumberID: "106540352242922", API: api}
	env := phone.Env()
	m := NewMain()
	m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	m.Getenv = func(k string) string { return env[k] }
	if err := m.ParseFlags([]string{"--addr", "127.0.0.1:0", "--memory"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m.Shutdown(ctx)
	})
	phone.Webhook = m.URL() + "/webhooks/whatsapp"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ana := phone.User("573001234567", "Ana")

	// expect reads the next messages: each want is a prefix of one; it
	// returns the last as the Graph API got it.
	expect := func(want ...string) channeltest.GraphMessage {
		t.Helper()
		var last channeltest.GraphMessage
		for _, w := range want {
			m, err := ana.NextRaw(ctx)
			if err != nil {
				t.Fatalf("waiting for %q: %v", w, err)
			}
			if !strings.HasPrefix(m.Text, w) {
				t.Fatalf("got %s %q, want %q", m.Kind, m.Text, w)
			}
			last = m
		}
		return last
	}
	say := func(text string, want ...string) channeltest.GraphMessage {
		t.Helper()
		if err := ana.Say(ctx, text); err != nil {
			t.Fatal(err)
		}
		return expect(want...)
	}
	press := func(i int, want ...string) {
		t.Helper()
		if err := ana.Press(ctx, channeltest.Received{}, i); err != nil {
			t.Fatal(err)
		}
		expect(want...)
	}

	g := say("hola", "¡Hola! Soy el asistente de Tienda Charla.")
	if g.Kind != "list" || len(g.Buttons) != 6 || g.Buttons[0].Title != "📦 Mi pedido" {
		t.Fatalf("the greeting's six options: %s %+v", g.Kind, g.Buttons)
	}

	// the size exchange: the order is proven hers by its email
	say("quiero cambiar la talla del pedido A1001", "Para cuidar tus datos, necesito confirmar que el pedido A1001 es tuyo.")
	say("ana@example.com", "¡Gracias! Correo confirmado.", "Tu pedido A1001 es Runner Pro en talla 42. ¿Qué talla necesitas?")
	c := say("43", "Cambio tu Runner Pro talla 42 por la talla 43. ¿Lo confirmo?")
	if c.Kind != "buttons" || c.Buttons[0].Title != "Sí, confirmar" {
		t.Fatalf("confirmation: %s %+v", c.Kind, c.Buttons)
	}
	press(0, "¡Listo! Tu cambio quedó registrado con el número CX-0001.", "¿Cómo calificarías mi ayuda, de 1 a 5?")
	press(4, "¡Gracias por calificarnos! 💛")

	// order status, and a proactive update when the carrier reports
	say("dónde está mi pedido A1002", "Tu pedido A1002 va en camino 🚚", "¿Quieres que te avise por este chat cuando tu pedido avance?")
	press(0, "¡Listo! Te escribo por aquí en cuanto tu pedido A1002 avance.")
	advance := func() {
		t.Helper()
		resp, err := http.Post(m.URL()+"/shop/api/orders/A1002/advance", "application/json", nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("advance: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	advance()
	update := expect("🏬 Tu pedido A1002 llegó al centro de distribución.")
	if err := phone.Status(ctx, ana.WaID(), update.ID, "read", 0); err != nil {
		t.Fatal(err)
	}

	// a person: the hand-off reply first, then the place in the queue
	say("quiero hablar con un asesor", "Te comunico con el equipo", "Estás en el lugar 1 de la fila")

	// WhatsApp says the window closed: the update names no template, so
	// it is refused, not lost (it stays in the transcript and the outbox)
	api.CloseWindow(ana.WaID(), true)
	advance()

	// (the read status went through the conversation's queue before the
	// hand-off; the refusal happened inside the shop's request)
	resp, err := http.Get(m.URL() + "/api/v1/conversations/" + ana.ID() + "/messages?receipts=true")
	if err != nil {
		t.Fatal(err)
	}
	var entries []struct {
		From    string
		Receipt *struct{ Ref, Status, Form, Error string }
	}
	json.NewDecoder(resp.Body).Decode(&entries)
	resp.Body.Close()
	var receipts []string
	for _, e := range entries {
		if e.From != "status" || e.Receipt.Status == "accepted" && e.Receipt.Ref != update.ID {
			continue // the queue notice's receipt is recorded after it is sent: not waited for
		}
		r, s := e.Receipt, []string{e.Receipt.Status}
		if r.Form != "" {
			s = append(s, r.Form)
		}
		if r.Ref == update.ID {
			s = append(s, "(the update)")
		}
		if strings.Contains(r.Error, "template") {
			s = append(s, "(template required)")
		}
		receipts = append(receipts, strings.Join(s, " "))
	}
	want := "accepted text (the update),read (the update),failed (template required)"
	if got := strings.Join(receipts, ","); got != want {
		t.Errorf("receipts on the transcript:\n%s\nwant\n%s", got, want)
	}
}
