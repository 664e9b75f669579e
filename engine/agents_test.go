package engine_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charlabot/charla/engine"
)

// enderAgents is a fake hand-off hook that is also told when hand-offs end.
type enderAgents struct {
	agents
	mu    sync.Mutex
	ended []string // "conversation why"
}

func (a *enderAgents) HandoffEnded(_ context.Context, conv, why string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ended = append(a.ended, conv+" "+why)
	return nil
}

func (a *enderAgents) endings() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.ended...)
}

func TestLeaveQueueCommand(t *testing.T) {
	p := sizeBot()
	ag := &enderAgents{}
	o := withNLU(p)
	o.Agents = ag
	h := newHarness(t, p, o)
	h.expect("c", "quiero cambiar la talla", txtAskOrder)
	h.expect("c", "hablar con una persona", "Te paso con una persona.")
	// A message that merely contains the command is for the agent.
	h.expect("c", "quiero cancelar mi pedido")
	if len(ag.forwards) != 1 {
		t.Fatalf("forwards = %+v", ag.forwards)
	}
	tr := h.expect("c", "Cancelar", "De acuerdo, lo dejamos.")
	if tr.Conversation.Status != engine.StatusBot || tr.Conversation.Flow != "" {
		t.Fatalf("after leaving: %+v", tr.Conversation)
	}
	if got := ag.endings(); len(got) != 1 || got[0] != "c cancel" {
		t.Fatalf("ended = %q", got)
	}
	if len(ag.forwards) != 1 {
		t.Fatalf("the command was forwarded: %+v", ag.forwards)
	}
	evs, _ := h.rt.Events(context.Background(), 0, 0)
	if !hasEvent(evs, engine.EvFlowAbandoned, "size_exchange", "cancel") || !hasEvent(evs, engine.EvReleased, "", "cancel") {
		t.Fatalf("events = %+v", evs)
	}
}

func TestLeaveQueueOnlyWhileQueued(t *testing.T) {
	p := sizeBot()
	ag := &enderAgents{}
	o := withNLU(p)
	o.Agents = ag
	h := newHarness(t, p, o)
	ctx := context.Background()
	h.expect("c", "hablar con una persona", "Te paso con una persona.")
	if err := h.rt.Assign(ctx, "c", "maria"); err != nil {
		t.Fatal(err)
	}
	// With an agent, "cancelar" is part of the conversation with them.
	tr := h.expect("c", "cancelar")
	if tr.Conversation.Status != engine.StatusAgent || len(ag.forwards) != 1 {
		t.Fatalf("status %s, forwards %+v", tr.Conversation.Status, ag.forwards)
	}
}

func TestLeaveCommandsFromSettings(t *testing.T) {
	p := sizeBot()
	p.Handoff.Leave = []string{"salir de la fila"}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	ag := &enderAgents{}
	o := withNLU(p)
	o.Agents = ag
	h := newHarness(t, p, o)
	h.expect("c", "hablar con una persona", "Te paso con una persona.")
	h.expect("c", "cancelar") // not a configured command: forwarded
	tr := h.expect("c", "Salir de la fila", "De acuerdo, lo dejamos.")
	if tr.Conversation.Status != engine.StatusBot {
		t.Fatalf("status = %s", tr.Conversation.Status)
	}
}

func TestNotifyAndRequeue(t *testing.T) {
	p := sizeBot()
	ag := &enderAgents{}
	o := withNLU(p)
	o.Agents = ag
	var sent []engine.Outbound
	o.Senders = map[string]engine.Sender{"test": engine.SenderFunc(func(_ context.Context, out engine.Outbound) error {
		sent = append(sent, out)
		return nil
	})}
	h := newHarness(t, p, o)
	ctx := context.Background()
	if err := h.rt.Notify(ctx, "nobody", engine.Outbound{Text: "x"}); engine.ErrCode(err) != engine.ENotFound {
		t.Fatalf("Notify on no conversation: %v", err)
	}
	h.expect("c", "hablar con una persona", "Te paso con una persona.")
	if err := h.rt.Notify(ctx, "c", engine.Outbound{Text: "Estás en el lugar 2 de la fila."}); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 1 || sent[0].Text != "Estás en el lugar 2 de la fila." || sent[0].From != "" {
		t.Fatalf("sent = %+v", sent)
	}
	es, _ := h.rt.Transcript(ctx, "c", 0, 0)
	last := es[len(es)-1]
	if last.From != engine.FromBot || !last.Proactive || last.Text != "Estás en el lugar 2 de la fila." {
		t.Fatalf("last entry = %+v", last)
	}
	if err := h.rt.Requeue(ctx, "c", "ventas"); engine.ErrCode(err) != "" {
		t.Fatal(err)
	}
	if err := h.rt.Assign(ctx, "c", "maria"); err != nil {
		t.Fatal(err)
	}
	if err := h.rt.Requeue(ctx, "c", "cambios"); err != nil {
		t.Fatal(err)
	}
	s, _ := h.rt.Session(ctx, "c")
	if s.Status != engine.StatusQueued || s.Handoff.Agent != "" || s.Handoff.Queue != "cambios" {
		t.Fatalf("after requeue: %s %+v", s.Status, s.Handoff)
	}
	if len(ag.endings()) != 0 {
		t.Fatalf("ended = %q", ag.endings())
	}
	if _, err := h.rt.Release(ctx, "c", ""); err != nil {
		t.Fatal(err)
	}
	if got := ag.endings(); len(got) != 1 || got[0] != "c released" {
		t.Fatalf("ended = %q", got)
	}
	h.expect("d", "hola", txtGreeting)
	if err := h.rt.Requeue(ctx, "d", ""); engine.ErrCode(err) != engine.EConflict {
		t.Fatalf("Requeue of a conversation with the bot: %v", err)
	}
}

func TestHandoffEndsByInactivity(t *testing.T) {
	p := sizeBot()
	p.Settings.CloseAfter = 30 * time.Minute
	ag := &enderAgents{}
	o := withNLU(p)
	o.Agents = ag
	h := newHarness(t, p, o)
	h.expect("c", "hablar con una persona", "Te paso con una persona.")
	h.clock.Add(31 * time.Minute)
	if _, err := h.rt.FireTimers(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := ag.endings(); len(got) != 1 || got[0] != "c closed:inactivity" {
		t.Fatalf("ended = %q", got)
	}
}

func TestCheckAgents(t *testing.T) {
	p := sizeBot()
	p.Queues = []*engine.Queue{{Name: "ventas", Agents: []string{"ana", "pepe"}}}
	p.Agents = []*engine.AgentSpec{{ID: "ana"}, {ID: "ana"}}
	p.Handoff.CSAT = "encuesta"
	err := p.Check()
	for _, want := range []string{`agent "ana" declared twice`, `queue "ventas" names unknown agent "pepe"`, `csat names unknown flow "encuesta"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check() = %v, want %q", err, want)
		}
	}
	a := &engine.AgentSpec{ID: "ana", Skills: []string{"cambios"}}
	for _, c := range []struct {
		q    engine.Queue
		want bool
	}{
		{engine.Queue{}, true},
		{engine.Queue{Agents: []string{"ana"}}, true},
		{engine.Queue{Agents: []string{"jose"}}, false},
		{engine.Queue{Skills: []string{"ventas", "cambios"}}, true},
		{engine.Queue{Skills: []string{"ventas"}}, false},
	} {
		if got := a.Serves(&c.q); got != c.want {
			t.Errorf("Serves(%+v) = %v", c.q, got)
		}
	}
}

func TestTurnStarted(t *testing.T) {
	p := sizeBot()
	p.Settings.CloseAfter = 30 * time.Minute
	h := newHarness(t, p, withNLU(p))
	if tr := h.say("c", "hola"); !tr.Started {
		t.Error("the first turn did not start the conversation")
	}
	if tr := h.say("c", "quiero cambiar la talla"); tr.Started {
		t.Error("the second turn started it")
	}
	h.clock.Add(31 * time.Minute)
	if _, err := h.rt.FireTimers(context.Background()); err != nil {
		t.Fatal(err)
	}
	if tr := h.say("c", "hola"); !tr.Started {
		t.Error("the first turn after closing did not start it afresh")
	}
}

// A /start on Telegram or a web chat page opened again sends
// conversation_start: while a person has the conversation (or it waits for
// one) the bot's welcome must not run over it.
func TestConversationStartDuringHandoff(t *testing.T) {
	p := sizeBot()
	p.Flows = append(p.Flows, &engine.Flow{Name: "welcome", Triggers: engine.Triggers{Events: []string{engine.EventConversationStart}},
		Steps: []engine.Step{&engine.Say{Message: msg("¡Hola! ¿En qué te ayudo?")}}})
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	ag := &enderAgents{}
	o := withNLU(p)
	o.Agents = ag
	h := newHarness(t, p, o)
	ctx := context.Background()
	start := engine.Inbound{Conversation: "c", User: "u", Channel: "test", Event: engine.EventConversationStart}
	if tr, err := h.rt.Handle(ctx, start); err != nil || texts(tr) != "¡Hola! ¿En qué te ayudo?" {
		t.Fatalf("first start: %q %v", texts(tr), err)
	}
	h.expect("c", "hablar con una persona", "Te paso con una persona.")
	for _, status := range []engine.Status{engine.StatusQueued, engine.StatusAgent} {
		if status == engine.StatusAgent {
			if err := h.rt.Assign(ctx, "c", "maria"); err != nil {
				t.Fatal(err)
			}
		}
		tr, err := h.rt.Handle(ctx, start)
		if err != nil || texts(tr) != "" || tr.Conversation.Status != status {
			t.Fatalf("start while %s: %q, status %s, %v", status, texts(tr), tr.Conversation.Status, err)
		}
	}
}
