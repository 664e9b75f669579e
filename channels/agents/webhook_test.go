package agents_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/charlabot/charla/channels/agents"
	"github.com/charlabot/charla/engine"
)

func TestSignAndVerify(t *testing.T) {
	secret := []byte("s3cr3t")
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"type":"agent.message"}`)
	sig := agents.Sign(secret, now, body)
	check(t, "format", sig[:13], "t=1800000000,")
	for _, c := range []struct {
		name, header string
		secret, body []byte
		at           time.Time
		ok           bool
	}{
		{"good", sig, secret, body, now, true},
		{"4 minutes later", sig, secret, body, now.Add(4 * time.Minute), true},
		{"6 minutes later", sig, secret, body, now.Add(6 * time.Minute), false},
		{"from the future", sig, secret, body, now.Add(-6 * time.Minute), false},
		{"wrong secret", sig, []byte("other"), body, now, false},
		{"tampered body", sig, secret, []byte(`{"type":"conversation.close"}`), now, false},
		{"second signature matches", "t=1800000000,v1=00," + sig[13:], secret, body, now, true},
		{"no signature", "t=1800000000", secret, body, now, false},
		{"empty", "", secret, body, now, false},
		{"garbage", "v1=zz,t=abc", secret, body, now, false},
	} {
		err := agents.Verify(c.secret, c.header, c.body, c.at)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
		if err != nil && engine.ErrCode(err) != engine.EUnauthorized {
			t.Errorf("%s: code %s", c.name, engine.ErrCode(err))
		}
	}
}

// helpdesk is a fake external help desk that records signed events.
type helpdesk struct {
	t      *testing.T
	secret []byte
	mu     sync.Mutex
	events []agents.WebhookEvent
	fail   int // answer 500 to this many requests first
	got    chan struct{}
}

func (h *helpdesk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := agents.Verify(h.secret, r.Header.Get(agents.SignatureHeader), body, time.Now()); err != nil {
		h.t.Errorf("bad signature: %v", err)
		w.WriteHeader(401)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fail > 0 {
		h.fail--
		w.WriteHeader(500)
		return
	}
	var ev agents.WebhookEvent
	json.Unmarshal(body, &ev)
	if ev.Type != r.Header.Get("X-Charla-Event") || ev.ID != r.Header.Get("X-Charla-Delivery") {
		h.t.Errorf("headers %q do not match the event %s %s", r.Header, ev.Type, ev.ID)
	}
	raw := map[string]any{}
	json.Unmarshal(body, &raw)
	ev.Data = raw["data"]
	h.events = append(h.events, ev)
	h.got <- struct{}{}
}

func (h *helpdesk) wait(n int) []agents.WebhookEvent {
	h.t.Helper()
	for range n {
		select {
		case <-h.got:
		case <-time.After(5 * time.Second):
			h.t.Fatalf("waiting for webhook events; got %d", len(h.events))
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]agents.WebhookEvent(nil), h.events...)
}

func TestWebhookOut(t *testing.T) {
	hd := &helpdesk{t: t, secret: []byte("s3cr3t"), fail: 1, got: make(chan struct{}, 16)}
	srv := httptest.NewServer(hd)
	defer srv.Close()
	e := newEnv(t, botFiles(), func(w *agents.Webhook) { w.URL, w.Secret, w.Now = srv.URL, hd.secret, time.Now })
	e.shopper("c1", "cambio")
	e.shopper("c1", "A1234")
	e.shopper("c1", "¿hola?")
	bye := e.desk.Connect("ana")
	defer bye()
	if _, err := e.desk.Release(context.Background(), "c1", "ana", ""); err != nil {
		t.Fatal(err)
	}
	evs := hd.wait(3)
	var types []string
	for _, ev := range evs {
		types = append(types, ev.Type+" "+ev.Conversation)
	}
	check(t, "events", types, []string{"handoff.requested c1", "message.customer c1", "conversation.closed c1"})
	req := evs[0].Data.(map[string]any)
	tk := req["ticket"].(map[string]any)
	check(t, "ticket", fmt.Sprint(tk["queue"], " ", tk["reason"], " ", tk["slots"], " ", tk["channel"]), "cambios Cambio del pedido A1234 map[pedido:A1234] webchat")
	var lines []string
	for _, x := range req["transcript"].([]any)[:3] {
		lines = append(lines, x.(map[string]any)["text"].(string))
	}
	check(t, "transcript", lines, []string{"cambio", "¿Cuál es tu pedido?", "A1234"})
	check(t, "message", evs[1].Data.(map[string]any)["message"].(map[string]any)["text"], "¿hola?")
	check(t, "closed", evs[2].Data.(map[string]any)["why"], "released")
}

func TestWebhookEventsFilter(t *testing.T) {
	hd := &helpdesk{t: t, secret: []byte("k"), got: make(chan struct{}, 16)}
	srv := httptest.NewServer(hd)
	defer srv.Close()
	e := newEnv(t, botFiles(), func(w *agents.Webhook) {
		w.URL, w.Secret, w.Now, w.Events = srv.URL, hd.secret, time.Now, []string{"conversation.closed"}
	})
	e.shopper("c1", "hablar con una persona")
	e.shopper("c1", "cancelar")
	evs := hd.wait(1)
	check(t, "only closed", fmt.Sprint(len(evs), " ", evs[0].Type, " ", evs[0].Data.(map[string]any)["why"]), "1 conversation.closed cancel")
}

func (e *env) helpdesk(secret []byte, at time.Time, ev map[string]any) (int, map[string]any) {
	e.t.Helper()
	body, _ := json.Marshal(ev)
	req, _ := http.NewRequest("POST", e.srv.URL+"/agent/api/v1/helpdesk", bytes.NewReader(body))
	req.Header.Set(agents.SignatureHeader, agents.Sign(secret, at, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestWebhookIn(t *testing.T) {
	secret := []byte("s3cr3t")
	e := newEnv(t, botFiles(), func(w *agents.Webhook) { w.URL, w.Secret = "http://127.0.0.1:1/unused", secret })
	ctx := context.Background()
	e.shopper("c1", "hablar con una persona")
	now := e.clock.Now()
	st, _ := e.helpdesk([]byte("wrong"), now, map[string]any{"type": "agent.message", "conversation": "c1", "agent": "Laura", "text": "x"})
	check(t, "wrong secret", st, 401)
	st, _ = e.helpdesk(secret, now.Add(-time.Hour), map[string]any{"type": "agent.message", "conversation": "c1", "agent": "Laura", "text": "x"})
	check(t, "an old request", st, 401)
	ev := map[string]any{"id": "e1", "type": "agent.message", "conversation": "c1", "agent": "Laura", "text": "Hola, te ayudo yo."}
	st, out := e.helpdesk(secret, now, ev)
	check(t, "reply", fmt.Sprint(st, " ", out), "200 map[status:ok]")
	st, out = e.helpdesk(secret, now, ev)
	check(t, "replayed", fmt.Sprint(st, " ", out), "200 map[status:duplicate]")
	es, _ := e.rt.Transcript(ctx, "c1", 0, 0)
	var lines []string
	for _, x := range es {
		lines = append(lines, x.From+" "+x.Agent+": "+x.Text)
	}
	check(t, "transcript", lines[len(lines)-2:], []string{"bot : Hola, te atiende Laura.", "agent helpdesk:Laura: Hola, te ayudo yo."})
	st, _ = e.helpdesk(secret, now, map[string]any{"type": "agent.message", "conversation": "c1", "agent": "Pedro", "text": "yo también"})
	check(t, "another external agent", st, 409)
	st, _ = e.helpdesk(secret, now, map[string]any{"type": "conversation.dance", "conversation": "c1", "agent": "Laura"})
	check(t, "unknown type", st, 400)
	st, _ = e.helpdesk(secret, now, map[string]any{"type": "conversation.close", "conversation": "c 1", "agent": "Laura"})
	check(t, "bad id", st, 400)
	st, _ = e.helpdesk(secret, now, map[string]any{"type": "conversation.release", "conversation": "c1", "agent": "Laura", "flow": "csat"})
	check(t, "release", st, 200)
	c, _ := e.rt.Conversation(ctx, "c1")
	check(t, "back with the bot", fmt.Sprint(c.Status, " ", c.Flow), "bot csat")
	// Without a help desk, the endpoint does not exist.
	e2 := newEnv(t, botFiles(), nil)
	st, _ = e2.helpdesk(secret, now, ev)
	check(t, "no help desk", st, 404)
}
