package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/charlabot/charla/engine"
)

// orderBot asks for an order and looks it up with the action get_order.
func orderBot(spec *engine.ActionSpec, onError int) *engine.Program {
	p := &engine.Program{
		Name: "orders", Languages: []string{"es"},
		Actions: []*engine.ActionSpec{spec},
		Flows: []*engine.Flow{
			{Name: "status", Triggers: engine.Triggers{Keywords: []string{"pedido"}},
				Slots: []*engine.Slot{{Name: "order", Type: engine.SlotText}},
				Steps: []engine.Step{
					&engine.Ask{Slot: "order", Prompt: msg("¿Número?"), Exhausted: engine.Default},
					&engine.Action{Name: spec.Name, Args: []engine.Assign{{Name: "id", Value: engine.MustExpr("order")}}, Into: "o", OnError: onError},
					&engine.Say{Message: msg("Tu pedido {{ o.id }} está {{ o.status }} ({{ o.days }} días).")},
					&engine.End{Outcome: engine.OutcomeResolved},
					&engine.Say{Message: msg("No pude consultar tu pedido.")}, // 4: on_error
				}},
			{Name: "oops", Steps: []engine.Step{&engine.Say{Message: msg("Algo falló.")}}},
		},
		System: map[engine.SystemRole]string{engine.SysError: "oops"},
	}
	if err := p.Check(); err != nil {
		panic(err)
	}
	return p
}

var orderResult = engine.ObjectOf(map[string]*engine.Type{"id": engine.String, "status": engine.String, "days": engine.Integer})

func TestGoAction(t *testing.T) {
	spec := &engine.ActionSpec{Name: "get_order", Result: orderResult,
		Params: []engine.Param{{Name: "id", Type: engine.String, Required: true}}}
	var calls []engine.ActionCall
	o := engine.Options{Actions: map[string]engine.ActionFunc{"get_order": func(ctx context.Context, c engine.ActionCall) (any, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("no deadline")
		}
		calls = append(calls, c)
		type order struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Days   int64  `json:"days"`
		}
		return order{c.Args["id"].(string), "en camino", 2}, nil
	}}}
	h := newHarness(t, orderBot(spec, 4), o)
	h.expect("c", "mi pedido", "¿Número?")
	h.expect("c", "A1", "Tu pedido A1 está en camino (2 días).")
	if len(calls) != 1 || calls[0].Conversation != "c" || calls[0].IdempotencyKey == "" || calls[0].Attempt != 1 {
		t.Fatalf("calls = %+v", calls)
	}
}

func TestActionFailures(t *testing.T) {
	spec := &engine.ActionSpec{Name: "get_order", Result: orderResult, Timeout: 20 * time.Millisecond}
	release := make(chan struct{})
	defer close(release)
	cases := map[string]engine.ActionFunc{
		"error": func(context.Context, engine.ActionCall) (any, error) { return nil, errors.New("boom") },
		"panic": func(context.Context, engine.ActionCall) (any, error) { panic("oh no") },
		"hang": func(context.Context, engine.ActionCall) (any, error) { // ignores its context
			<-release
			return nil, nil
		},
		"wrong type": func(context.Context, engine.ActionCall) (any, error) {
			return map[string]any{"id": "A1", "status": "ok", "days": "many"}, nil
		},
	}
	for name, fn := range cases {
		t.Run(name, func(t *testing.T) {
			// With an error branch.
			h := newHarness(t, orderBot(spec, 4), engine.Options{Actions: map[string]engine.ActionFunc{"get_order": fn}})
			h.expect("c", "pedido", "¿Número?")
			h.expect("c", "A1", "No pude consultar tu pedido.")
			evs, _ := h.rt.Events(context.Background(), 0, 0)
			if !hasEvent(evs, engine.EvActionError, "status", "") {
				t.Fatalf("no action_error event")
			}
			// Without one: the error flow.
			h = newHarness(t, orderBot(spec, engine.Default), engine.Options{Actions: map[string]engine.ActionFunc{"get_order": fn}})
			h.expect("c", "pedido", "¿Número?")
			tr := h.expect("c", "A1", "Algo falló.")
			if tr.Conversation.Flow != "" {
				t.Fatalf("flow = %q", tr.Conversation.Flow)
			}
			h.expect("c", "pedido", "¿Número?")
		})
	}
}

func TestGoActionRetriesUnavailable(t *testing.T) {
	spec := &engine.ActionSpec{Name: "get_order", Retries: 2}
	n := 0
	fn := func(_ context.Context, c engine.ActionCall) (any, error) {
		n++
		if c.Attempt < 3 {
			return nil, engine.Errorf(engine.EUnavailable, "busy")
		}
		return map[string]any{"id": "A1", "status": "listo", "days": 1}, nil
	}
	h := newHarness(t, orderBot(spec, 4), engine.Options{Actions: map[string]engine.ActionFunc{"get_order": fn}})
	h.expect("c", "pedido", "¿Número?")
	h.expect("c", "A1", "Tu pedido A1 está listo (1 días).")
	if n != 3 {
		t.Fatalf("%d attempts", n)
	}
}

func TestHTTPAction(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies []map[string]any
	var fails atomic.Int32
	fails.Store(2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		json.Unmarshal(b, &m)
		mu.Lock()
		got = append(got, r)
		bodies = append(bodies, m)
		mu.Unlock()
		if fails.Add(-1) >= 0 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id": "A1", "status": "entregado", "days": 5, "extra": [1, 2]}`))
	}))
	defer srv.Close()
	spec := &engine.ActionSpec{Name: "get_order", Result: orderResult, Retries: 3, Timeout: 2 * time.Second,
		HTTP: &engine.HTTPSpec{Method: "POST", URL: engine.MustTemplate("${SHOP_API}/orders/{{ id }}"),
			Headers: map[string]string{"Authorization": "Bearer ${SHOP_TOKEN}"}, Backoff: time.Millisecond}}
	env := func(k string) string {
		switch k {
		case "SHOP_TOKEN":
			return "s3cret"
		case "SHOP_API":
			return srv.URL
		}
		return "${LEAK}" // no value of an argument is expanded
	}
	h := newHarness(t, orderBot(spec, 4), engine.Options{Getenv: env})
	h.expect("c", "pedido", "¿Número?")
	h.expect("c", "A1 x/y ${SHOP_TOKEN}", "Tu pedido A1 está entregado (5 días).")
	if len(got) != 3 {
		t.Fatalf("%d requests, want 3 (2 failures, then success)", len(got))
	}
	r := got[2]
	if r.URL.EscapedPath() != "/orders/A1%20x%2Fy%20$%7BSHOP_TOKEN%7D" || r.Header.Get("Authorization") != "Bearer s3cret" ||
		r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("request %s %v", r.URL.EscapedPath(), r.Header)
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" || got[0].Header.Get("Idempotency-Key") != key {
		t.Fatalf("idempotency keys %q %q", got[0].Header.Get("Idempotency-Key"), key)
	}
	if bodies[2]["args"].(map[string]any)["id"] != "A1 x/y ${SHOP_TOKEN}" || bodies[2]["conversation"].(map[string]any)["id"] != "c" {
		t.Fatalf("body = %v", bodies[2])
	}
}

func TestHTTPActionFailures(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	cases := map[string]http.HandlerFunc{
		"500": func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 500) },
		"invalid JSON": func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"id": "A1", "status": `))
		},
		"hang": func(w http.ResponseWriter, r *http.Request) {
			io.ReadAll(r.Body) // so the server notices the client leaving
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		},
		"404": func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) },
	}
	for name, hf := range cases {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(hf)
			defer srv.Close()
			spec := &engine.ActionSpec{Name: "get_order", Result: orderResult, Retries: 1, Timeout: 50 * time.Millisecond,
				HTTP: &engine.HTTPSpec{URL: engine.MustTemplate(srv.URL + "/o"), Backoff: time.Millisecond}}
			h := newHarness(t, orderBot(spec, 4), engine.Options{})
			h.expect("c", "pedido", "¿Número?")
			h.expect("c", "A1", "No pude consultar tu pedido.")
			evs, _ := h.rt.Events(context.Background(), 0, 0)
			for _, e := range evs {
				if e.Kind == engine.EvActionError && strings.Contains(e.Detail, srv.URL) {
					t.Fatalf("the URL leaked into the log: %q", e.Detail)
				}
			}
		})
	}
}

func TestDuplicateDoesNotRepeatAction(t *testing.T) {
	spec := &engine.ActionSpec{Name: "get_order"}
	n := 0
	fn := func(context.Context, engine.ActionCall) (any, error) {
		n++
		return map[string]any{"id": "A1", "status": "ok", "days": 1}, nil
	}
	h := newHarness(t, orderBot(spec, 4), engine.Options{Actions: map[string]engine.ActionFunc{"get_order": fn}})
	ctx := context.Background()
	h.rt.Handle(ctx, engine.Inbound{Conversation: "c", ID: "1", Text: "pedido"})
	for range 3 {
		tr, err := h.rt.Handle(ctx, engine.Inbound{Conversation: "c", ID: "2", Text: "A1"})
		if err != nil || texts(tr) != "Tu pedido A1 está ok (1 días)." {
			t.Fatalf("%q %v", texts(tr), err)
		}
	}
	if n != 1 {
		t.Fatalf("the action ran %d times", n)
	}
}

// countingUnderstander records how many texts it reads at once.
type countingUnderstander struct {
	mu           sync.Mutex
	inside, most int
}

func (u *countingUnderstander) Understand(ctx context.Context, q engine.Query) (*engine.Understanding, error) {
	u.mu.Lock()
	u.inside++
	u.most = max(u.most, u.inside)
	u.mu.Unlock()
	for range 20 { // long enough for others to try to come in
		runtime.Gosched()
	}
	u.mu.Lock()
	u.inside--
	u.mu.Unlock()
	return &engine.Understanding{}, nil
}

// TestActiveTurnsBound: no more turns compute at once than
// Options.ActiveTurns, and a turn waiting for an action does not count, so
// fifty slow actions run at once behind a bound of two.
func TestActiveTurnsBound(t *testing.T) {
	const n = 50
	spec := &engine.ActionSpec{Name: "get_order", Result: orderResult}
	var started atomic.Int32
	all := make(chan struct{})
	u := &countingUnderstander{}
	h := newHarness(t, orderBot(spec, 4), engine.Options{ActiveTurns: 2, Understander: u,
		Actions: map[string]engine.ActionFunc{"get_order": func(ctx context.Context, c engine.ActionCall) (any, error) {
			if started.Add(1) == n {
				close(all)
			}
			select { // every action is in flight before any returns
			case <-all:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			return map[string]any{"id": c.Args["id"], "status": "en camino", "days": 1}, nil
		}}})
	for i := range n {
		h.expect(fmt.Sprint("c", i), "mi pedido", "¿Número?")
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr, err := h.rt.Handle(context.Background(), engine.Inbound{Conversation: fmt.Sprint("c", i), Text: fmt.Sprint("A", i)})
			if err != nil || len(tr.Messages) != 1 || tr.Messages[0].Text != fmt.Sprintf("Tu pedido A%d está en camino (1 días).", i) {
				t.Errorf("conversation %d: %v %+v", i, err, tr)
			}
		}()
	}
	wg.Wait()
	if u.most > 2 {
		t.Fatalf("%d turns computed at once with ActiveTurns 2", u.most)
	}
}

// blockingUnderstander holds the turns that read "espera" until release
// is closed.
type blockingUnderstander struct{ release chan struct{} }

func (u blockingUnderstander) Understand(ctx context.Context, q engine.Query) (*engine.Understanding, error) {
	if q.Text == "espera" {
		<-u.release
	}
	return &engine.Understanding{}, nil
}

// TestDeadlineCountsFromAdmission: a turn that waited for its place longer
// than the turn's timeout still gets the whole timeout for its actions, and
// reports how long it waited (synctest: the clock is fake).
func TestDeadlineCountsFromAdmission(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		spec := &engine.ActionSpec{Name: "get_order", Result: orderResult}
		p := orderBot(spec, 4)
		p.Settings.TurnTimeout = time.Second
		var left time.Duration
		u := blockingUnderstander{release: make(chan struct{})}
		h := newHarness(t, p, engine.Options{ActiveTurns: 1, Understander: u,
			Actions: map[string]engine.ActionFunc{"get_order": func(ctx context.Context, c engine.ActionCall) (any, error) {
				dl, _ := ctx.Deadline()
				left = time.Until(dl)
				return map[string]any{"id": c.Args["id"], "status": "en camino", "days": 1}, nil
			}}})
		h.expect("b", "mi pedido", "¿Número?")
		go h.rt.Handle(context.Background(), engine.Inbound{Conversation: "a", Text: "espera"}) // holds the only place
		synctest.Wait()
		done := make(chan *engine.Turn)
		go func() {
			tr, err := h.rt.Handle(context.Background(), engine.Inbound{Conversation: "b", Text: "A1"})
			if err != nil {
				t.Error(err)
			}
			done <- tr
		}()
		synctest.Wait()
		time.Sleep(5 * time.Second) // b waits five times its timeout
		close(u.release)
		tr := <-done
		if texts(tr) != "Tu pedido A1 está en camino (1 días)." {
			t.Fatalf("b: %q", texts(tr))
		}
		if left != time.Second {
			t.Fatalf("the action had %v of the turn's 1s", left)
		}
		if tr.Waited != 5*time.Second {
			t.Fatalf("Waited = %v, want 5s", tr.Waited)
		}
	})
}
