package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// start runs the real program on a free loopback port with its data in dir.
func start(t *testing.T, dir string, extra ...string) *Main {
	t.Helper()
	m := NewMain()
	m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	m.Getenv = func(string) string { return "" } // no tokens, no Telegram
	args := append([]string{"--addr", "127.0.0.1:0", "--data", dir}, extra...)
	if err := m.ParseFlags(args, io.Discard); err != nil {
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
	return m
}

type reply struct {
	Text    string `json:"text"`
	Flow    string `json:"flow"`
	Choices []struct {
		Label string `json:"label"`
		Value string `json:"value"`
	} `json:"choices"`
}

type turnResult struct {
	Messages     []reply `json:"messages"`
	Conversation struct {
		Status string         `json:"status"`
		Flow   string         `json:"flow"`
		Slots  map[string]any `json:"slots"`
	} `json:"conversation"`
	NLU struct {
		Intent string `json:"intent"`
	} `json:"nlu"`
}

func post(t *testing.T, url string, body any, into any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if into != nil {
		if err := json.Unmarshal(raw, into); err != nil {
			t.Fatalf("%s: %v: %s", url, err, raw)
		}
	}
	return resp.StatusCode
}

// say sends one REST message and checks the replies: each want is a prefix
// of the reply at its place.
func say(t *testing.T, m *Main, conv string, msg map[string]any, want ...string) turnResult {
	t.Helper()
	var r turnResult
	if code := post(t, m.URL()+"/api/v1/conversations/"+conv+"/messages", msg, &r); code != 200 {
		t.Fatalf("%v: HTTP %d", msg, code)
	}
	var got []string
	for _, m := range r.Messages {
		got = append(got, m.Text)
	}
	if len(got) != len(want) {
		t.Fatalf("%v: %d replies, want %d:\n%s", msg, len(got), len(want), strings.Join(got, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) {
			t.Fatalf("%v: reply %d is\n  %q\nwant it to start with\n  %q", msg, i+1, got[i], w)
		}
	}
	return r
}

func text(s string) map[string]any { return map[string]any{"text": s, "user": "ana"} }

func choice(s string) map[string]any { return map[string]any{"choice": s, "user": "ana"} }

// The whole contract over REST: a shopper named by the REST user field
// exchanges a size with a digression in the middle, gets a proactive
// shipping update, and everything survives a restart.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the NLU and serves HTTP")
	}
	dir := t.TempDir()
	m := start(t, dir)
	url := m.URL()

	say(t, m, "e2e", text("hola"), "¡Hola, Ana! Soy el asistente de Tienda Charla.")
	r := say(t, m, "e2e", text("quiero cambiar la talla"), "¿De cuál de tus pedidos quieres cambiar la talla?")
	if len(r.Messages[0].Choices) != 2 || r.Messages[0].Choices[0].Value != "A1002" || r.Messages[0].Choices[1].Label != "A1001 · Runner Pro (entregado)" {
		t.Fatalf("order buttons: %+v", r.Messages[0].Choices)
	}
	say(t, m, "e2e", choice("A1001"), "Tu pedido A1001 es Runner Pro en talla 42. ¿Qué talla necesitas?")

	// A digression: the status of the other order, then back to the exchange.
	r = say(t, m, "e2e", text("¿y dónde está mi pedido?"), "¿Sobre cuál de tus pedidos?")
	if r.Conversation.Flow != "order_status" || r.Messages[0].Flow != "order_status" {
		t.Fatalf("the digression: %+v", r.Conversation)
	}
	say(t, m, "e2e", choice("A1002"), "Tu pedido A1002 va en camino 🚚\n✔ ", "¿Quieres que te avise por este chat cuando tu pedido avance?")
	r = say(t, m, "e2e", text("sí, avísame"),
		"¡Listo! Te escribo por aquí en cuanto tu pedido A1002 avance.",
		"Volviendo a tu cambio de talla…",
		"¿Qué talla necesitas? Puedes escribirla como 42, M o US 10.")
	if r.Conversation.Flow != "size_exchange" || r.Conversation.Slots["order"] != "A1001" || r.Conversation.Slots["notifications"] != true {
		t.Fatalf("back in the exchange: %+v", r.Conversation)
	}

	// Out of stock, the nearest sizes, a pick, a confirmation.
	r = say(t, m, "e2e", text("la 44"), "No nos queda Runner Pro en talla 44 😕. Las tallas más cercanas que tenemos son: 43, 45. ¿Te sirve alguna?")
	if len(r.Messages[0].Choices) != 2 || r.Messages[0].Choices[1].Value != "45" {
		t.Fatalf("nearest sizes: %+v", r.Messages[0].Choices)
	}
	say(t, m, "e2e", choice("45"), "Cambio tu Runner Pro talla 42 por la talla 45. ¿Lo confirmo?")
	say(t, m, "e2e", text("sí"), "¡Listo! Tu cambio quedó registrado con el número CX-0001.", "¿Cómo calificarías mi ayuda, de 1 a 5?")
	r = say(t, m, "e2e", choice("5"), "¡Gracias por calificarnos! 💛")
	if r.Conversation.Status != "bot" || r.Conversation.Flow != "" {
		t.Fatalf("after the exchange: %+v", r.Conversation)
	}

	// The shop reports a shipping event: a proactive message in ana's conversation.
	var d map[string]any
	code := post(t, url+"/api/v1/events", map[string]any{"user": "ana", "event": "order_update",
		"data": map[string]any{"order": "A1002", "milestone": "distribution_center"}}, &d)
	if (code != 200 && code != 202) || d["conversation"] != "e2e" {
		t.Fatalf("event: %d %v", code, d)
	}
	// The carrier reports the next step through the shop's own API.
	var adv map[string]any
	if code := post(t, url+"/shop/api/orders/A1002/advance", nil, &adv); code != 200 || adv["milestone"] != "distribution_center" {
		t.Fatalf("advance: %d %v", code, adv)
	}
	resp, err := http.Get(url + "/api/v1/conversations/e2e/messages")
	if err != nil {
		t.Fatal(err)
	}
	var entries []struct {
		From, Text string
	}
	json.NewDecoder(resp.Body).Decode(&entries)
	resp.Body.Close()
	n := 0
	for _, e := range entries {
		if e.From == "bot" && e.Text == "🏬 Tu pedido A1002 llegó al centro de distribución." {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("proactive messages in the transcript: %d\n%+v", n, entries[len(entries)-3:])
	}
	before := len(entries)

	// Privacy: an anonymous shopper sees the shipping status, but changes
	// need the order's email.
	say(t, m, "anon", map[string]any{"text": "estado del pedido A1004"}, "Tu pedido A1004 está pagado y lo estamos preparando", "¿Quieres que te avise")
	say(t, m, "anon", map[string]any{"text": "no gracias"}, "Perfecto. Aquí estoy si necesitas algo más.")
	say(t, m, "anon", map[string]any{"text": "quiero cancelar el pedido A1004"}, "Para cuidar tus datos, necesito confirmar que el pedido A1004 es tuyo.")
	say(t, m, "anon", map[string]any{"text": "luis@example.com"}, "¡Gracias! Correo confirmado.", "Tu pedido A1004 (Camiseta Básica, talla S) todavía no ha salido. ¿Lo cancelo?")
	say(t, m, "anon", map[string]any{"choice": "yes"}, "Listo, cancelé tu pedido A1004.", "¿Cómo calificarías mi ayuda, de 1 a 5?")
	say(t, m, "z", map[string]any{"text": "dónde está mi pedido Z9999"}, "No encuentro el pedido Z9999.")

	// Health, metrics, the web chat.
	for _, path := range []string{"/healthz", "/metrics", "/", "/widget.js"} {
		resp, err := http.Get(url + path)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", path, resp.Status, err)
		}
		resp.Body.Close()
	}

	// A restart on the same data directory keeps conversations and the shop.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"charla.db", "shop.db"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	m2 := start(t, dir)
	say(t, m2, "e2e", text("quiero cambiar la talla del pedido A1001"), "El pedido A1001 ya tiene el cambio CX-0001 en curso.")
	resp, err = http.Get(m2.URL() + "/api/v1/conversations/e2e/messages")
	if err != nil {
		t.Fatal(err)
	}
	entries = nil
	json.NewDecoder(resp.Body).Decode(&entries)
	resp.Body.Close()
	if len(entries) != before+2 || entries[0].Text != "hola" {
		t.Fatalf("the transcript after a restart: %d entries, want %d", len(entries), before+2)
	}
}

func TestFlags(t *testing.T) {
	var errs bytes.Buffer
	if code := run(context.Background(), []string{"--nope"}, &errs); code != 2 {
		t.Errorf("an unknown flag: exit %d", code)
	}
	if code := run(context.Background(), []string{"--watch"}, &errs); code != 2 || !strings.Contains(errs.String(), "--watch needs --bot") {
		t.Errorf("--watch without --bot: exit %d: %s", code, errs.String())
	}
	if code := run(context.Background(), []string{"extra"}, &errs); code != 2 {
		t.Errorf("an argument: exit %d", code)
	}
	if code := run(context.Background(), []string{"--help"}, &errs); code != 0 {
		t.Errorf("--help: exit %d", code)
	}
	// A bot directory on disk that does not compile is reported.
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "bot.yaml"), []byte("name: x\n"), 0o644)
	errs.Reset()
	if code := run(context.Background(), []string{"--bot", bad, "--memory", "--addr", "127.0.0.1:0"}, &errs); code != 1 {
		t.Errorf("a broken bot: exit %d: %s", code, errs.String())
	}
}

// After a person gives the conversation back, the bot asks for a rating.
func TestRatingAfterAHandOff(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the NLU and serves HTTP")
	}
	m := start(t, t.TempDir(), "--memory")
	r := say(t, m, "h", text("quiero hablar con un asesor"), "Te comunico con una persona del equipo.")
	if r.Conversation.Status != "queued" {
		t.Fatalf("after asking for a person: %+v", r.Conversation)
	}
	say(t, m, "h", text("hola? sigue ahí alguien?")) // the bot stays quiet; the person reads it
	ctx := context.Background()
	rt := m.Server.Runtime()
	if err := rt.Assign(ctx, "h", "maria"); err != nil {
		t.Fatal(err)
	}
	turn, err := rt.Release(ctx, "h", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(turn.Messages) != 1 || turn.Messages[0].Text != "¿Cómo calificarías mi ayuda, de 1 a 5?" || len(turn.Messages[0].Choices) != 5 {
		t.Fatalf("after the release: %+v", turn.Messages)
	}
	say(t, m, "h", choice("2"), "Gracias. ¿Qué podríamos hacer mejor?")
	say(t, m, "h", choice("-"), "Gracias por tu opinión, nos ayuda a mejorar.")
}

// wsFrame is a web chat frame, as much of it as these tests read.
type wsFrame struct{ Type, From, Text, Error string }

// next reads frames until a bot message or an error, and returns it.
func next(t *testing.T, ws *websocket.Conn) wsFrame {
	t.Helper()
	for {
		var f wsFrame
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		if err := ws.ReadJSON(&f); err != nil {
			t.Fatal(err)
		}
		if (f.Type == "message" && f.From == "bot") || f.Type == "error" {
			return f
		}
	}
}

// The web chat: its opening is a conversation_start (the welcome speaks
// first), and a return of a faulty item takes the photo as an attachment.
func TestWebChatGreetingAndPhoto(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the NLU and serves HTTP")
	}
	m := start(t, t.TempDir())
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(m.URL(), "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	send := func(v map[string]any) {
		t.Helper()
		if err := ws.WriteJSON(v); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(prefix string) {
		t.Helper()
		if f := next(t, ws); !strings.HasPrefix(f.Text, prefix) {
			t.Fatalf("got %+v, want a message starting with %q", f, prefix)
		}
	}
	send(map[string]any{"type": "hello", "lang": "es"})
	expect("¡Hola! Soy el asistente de Tienda Charla.")
	send(map[string]any{"type": "message", "text": "me llegaron las zapatillas del pedido A1001 con la suela despegada, quiero devolverlas", "id": "1"})
	expect("Para cuidar tus datos, necesito confirmar que el pedido A1001 es tuyo.")
	send(map[string]any{"type": "message", "text": "ana@example.com", "id": "2"})
	expect("¡Gracias! Correo confirmado.")
	expect("Envíame una foto del producto donde se vea el defecto 📷") // the reason was in the first message
	// A 1×1 PNG.
	png := "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
	send(map[string]any{"type": "attachment", "data": png, "name": "suela.png", "mime": "image/png", "id": "3"})
	expect("Abro la devolución de Runner Pro del pedido A1001.")
	send(map[string]any{"type": "choice", "value": "yes", "id": "4"})
	expect("¡Listo! Tu devolución es la RT-0001.")
	expect("¿Cómo calificarías mi ayuda, de 1 a 5?")
}

// The embedded bot is the directory on disk: the tests and `charla test`
// read the same files the binary serves.
func TestEmbeddedBotIsTheDirectory(t *testing.T) {
	m := start(t, t.TempDir(), "--bot", ".", "--memory")
	say(t, m, "d", map[string]any{"text": "hola"}, "¡Hola! Soy el asistente de Tienda Charla.")
}
