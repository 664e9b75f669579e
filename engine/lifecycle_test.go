package engine_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/bolt"
	"github.com/charlabot/charla/engine/memory"
)

// sender records proactive messages; fail makes it refuse them.
type sender struct {
	mu   sync.Mutex
	sent []engine.Outbound
	fail bool
}

func (s *sender) Send(_ context.Context, o engine.Outbound) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("offline")
	}
	s.sent = append(s.sent, o)
	return nil
}

func (s *sender) texts() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, o := range s.sent {
		out = append(out, o.Text)
	}
	return strings.Join(out, " | ")
}

// shippingBot answers order_shipped events, waits for payments, reminds
// and closes idle conversations.
func shippingBot() *engine.Program {
	p := &engine.Program{
		Name: "shop", Languages: []string{"es"},
		Settings: engine.Settings{ReminderAfter: 5 * time.Minute, CloseAfter: 30 * time.Minute, SessionTTL: 2 * time.Hour},
		Flows: []*engine.Flow{
			{Name: "shipped", Triggers: engine.Triggers{Events: []string{"order_shipped"}},
				Steps: []engine.Step{&engine.Say{Message: msg("Tu pedido {{ event.order }} salió.")}}},
			{Name: "pay", Triggers: engine.Triggers{Keywords: []string{"pagar"}},
				Steps: []engine.Step{
					&engine.Say{Message: msg("Te espero mientras pagas.")},
					&engine.Wait{Events: []string{"paid"}, Timeout: 10 * time.Minute, Into: "payment", OnTimeout: 4},
					&engine.Say{Message: msg("Recibí tu pago de {{ payment.amount }}.")},
					&engine.End{Outcome: engine.OutcomeResolved},
					&engine.Say{Message: msg("No recibí el pago.")}, // 4
				}},
			{Name: "ask", Interruptible: true, Triggers: engine.Triggers{Keywords: []string{"nombre"}},
				Slots: []*engine.Slot{{Name: "name", Type: engine.SlotText, Scope: engine.ScopeUser}},
				Steps: []engine.Step{&engine.Ask{Slot: "name", Prompt: msg("¿Cómo te llamas?"), Exhausted: engine.Default},
					&engine.Say{Message: msg("Hola, {{ name }}.")}}},
			{Name: "optout", Triggers: engine.Triggers{Keywords: []string{"no quiero mas avisos"}},
				Slots: []*engine.Slot{{Name: engine.SlotOptOut, Type: engine.SlotBoolean, Scope: engine.ScopeUser}},
				Steps: []engine.Step{&engine.Set{Assign: []engine.Assign{{Name: engine.SlotOptOut, Value: engine.MustExpr("false")}}},
					&engine.Say{Message: msg("Listo, no más avisos.")}}},
			{Name: "inactive", Steps: []engine.Step{&engine.Say{Message: msg("¿Sigues ahí?")}}},
		},
		System: map[engine.SystemRole]string{engine.SysInactivity: "inactive"},
	}
	if err := p.Check(); err != nil {
		panic(err)
	}
	return p
}

func TestProactiveMessages(t *testing.T) {
	snd := &sender{}
	h := newHarness(t, shippingBot(), engine.Options{Senders: map[string]engine.Sender{"webchat": snd}})
	ctx := context.Background()
	if _, err := h.rt.Handle(ctx, engine.Inbound{Conversation: "c1", User: "ana", Channel: "webchat", Text: "hola"}); err != nil {
		t.Fatal(err)
	}
	res, err := h.rt.Trigger(ctx, "ana", "order_shipped", map[string]any{"order": "A1002"})
	if err != nil || !res.Delivered || res.Conversation != "c1" || texts(&engine.Turn{Messages: res.Messages}) != "Tu pedido A1002 salió." {
		t.Fatalf("trigger = %+v, %v", res, err)
	}
	if snd.texts() != "Tu pedido A1002 salió." {
		t.Fatalf("sent = %q", snd.texts())
	}
	// Offline: the message waits in the outbox, and is in the transcript.
	snd.fail = true
	res, _ = h.rt.Trigger(ctx, "ana", "order_shipped", map[string]any{"order": "A1003"})
	if res.Delivered {
		t.Fatalf("delivered while offline")
	}
	items, _ := h.rt.TakeOutbox(ctx, "c1")
	if len(items) != 1 || items[0].Message.Text != "Tu pedido A1003 salió." {
		t.Fatalf("outbox = %+v", items)
	}
	if items, _ := h.rt.Outbox(ctx, "ana"); len(items) != 0 {
		t.Fatalf("taken items still there: %+v", items)
	}
	es, _ := h.rt.Transcript(ctx, "c1", 0, 0)
	if last := es[len(es)-1]; last.Text != "Tu pedido A1003 salió." || !last.Proactive {
		t.Fatalf("transcript ends with %+v", last)
	}
	// Unknown events and users.
	if res, err := h.rt.Trigger(ctx, "ana", "nothing", nil); err != nil || !res.NoFlow {
		t.Fatalf("unknown event: %+v %v", res, err)
	}
	if _, err := h.rt.Trigger(ctx, "nadie", "order_shipped", nil); engine.ErrCode(err) != engine.ENotFound {
		t.Fatalf("unknown user: %v", err)
	}
	// Opting out.
	h.rt.Handle(ctx, engine.Inbound{Conversation: "c1", User: "ana", Channel: "webchat", Text: "no quiero más avisos"})
	res, err = h.rt.Trigger(ctx, "ana", "order_shipped", map[string]any{"order": "A1004"})
	if err != nil || !res.OptedOut || len(res.Messages) != 0 {
		t.Fatalf("opted out: %+v %v", res, err)
	}
}

func TestWaitForEventOrTimeout(t *testing.T) {
	h := newHarness(t, shippingBot(), engine.Options{})
	ctx := context.Background()
	h.rt.Handle(ctx, engine.Inbound{Conversation: "c1", User: "ana", Channel: "web", Text: "quiero pagar"})
	c, _ := h.rt.Conversation(ctx, "c1")
	if c.Flow != "pay" {
		t.Fatalf("flow = %q", c.Flow)
	}
	res, err := h.rt.Trigger(ctx, "ana", "paid", map[string]any{"amount": 120.5})
	if err != nil || texts(&engine.Turn{Messages: res.Messages}) != "Recibí tu pago de 120.5." {
		t.Fatalf("paid: %+v %v", res, err)
	}
	// The timeout.
	h.rt.Handle(ctx, engine.Inbound{Conversation: "c2", User: "luis", Channel: "web", Text: "pagar"})
	h.clock.Add(9 * time.Minute)
	if n, _ := h.rt.FireTimers(ctx); n != 1 { // the reminder only (the wait is not a question)
		t.Logf("fired %d", n)
	}
	h.clock.Add(2 * time.Minute)
	h.rt.FireTimers(ctx)
	es, _ := h.rt.Transcript(ctx, "c2", 0, 0)
	if last := es[len(es)-1]; last.Text != "No recibí el pago." {
		t.Fatalf("transcript: %+v", es)
	}
}

func TestInactivityReminderAndClose(t *testing.T) {
	snd := &sender{}
	h := newHarness(t, shippingBot(), engine.Options{Senders: map[string]engine.Sender{"web": snd}})
	ctx := context.Background()
	h.rt.Handle(ctx, engine.Inbound{Conversation: "c1", User: "ana", Channel: "web", Text: "mi nombre"})
	h.clock.Add(4 * time.Minute)
	if n, _ := h.rt.FireTimers(ctx); n != 0 {
		t.Fatalf("%d timers fired early", n)
	}
	h.clock.Add(time.Minute)
	h.rt.FireTimers(ctx)
	if snd.texts() != "¿Sigues ahí?" {
		t.Fatalf("sent %q", snd.texts())
	}
	c, _ := h.rt.Conversation(ctx, "c1")
	if c.Flow != "ask" {
		t.Fatalf("the question was dropped: %+v", c)
	}
	h.clock.Add(30 * time.Minute)
	h.rt.FireTimers(ctx)
	c, _ = h.rt.Conversation(ctx, "c1")
	if c.Status != engine.StatusClosed || c.Flow != "" {
		t.Fatalf("after the silence: %+v", c)
	}
	// A new message opens it again, afresh.
	tr, _ := h.rt.Handle(ctx, engine.Inbound{Conversation: "c1", User: "ana", Channel: "web", Text: "mi nombre"})
	if tr.Conversation.Status != engine.StatusBot || texts(tr) != "¿Cómo te llamas?" {
		t.Fatalf("reopened: %+v", tr)
	}
}

func TestTimersSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	open := func() (*engine.Runtime, *bolt.Store, *sender) {
		st, err := bolt.Open(dir, bolt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		snd := &sender{}
		rt, err := engine.NewRuntime(shippingBot(), engine.Options{Store: st, Now: clk.Now, Senders: map[string]engine.Sender{"web": snd}})
		if err != nil {
			t.Fatal(err)
		}
		return rt, st, snd
	}
	ctx := context.Background()
	rt, st, _ := open()
	rt.Handle(ctx, engine.Inbound{Conversation: "c1", User: "ana", Channel: "web", Text: "mi nombre"})
	rt.Handle(ctx, engine.Inbound{Conversation: "c2", User: "luis", Channel: "web", Text: "pagar"})
	st.Close()
	clk.Add(11 * time.Minute) // down for a while: the timers are overdue
	rt, st, snd := open()
	defer st.Close()
	n, err := rt.FireTimers(ctx)
	if err != nil || n < 2 {
		t.Fatalf("fired %d, %v", n, err)
	}
	if got := snd.texts(); !strings.Contains(got, "¿Sigues ahí?") || !strings.Contains(got, "No recibí el pago.") {
		t.Fatalf("after restart sent %q", got)
	}
	// The user-scoped slot is in the profile, across conversations.
	rt.Handle(ctx, engine.Inbound{Conversation: "c1", User: "ana", Channel: "web", Text: "Ana"})
	tr, _ := rt.Handle(ctx, engine.Inbound{Conversation: "c3", User: "ana", Channel: "web", Text: "mi nombre"})
	if texts(tr) != "Hola, Ana." {
		t.Fatalf("new conversation: %q", texts(tr))
	}
}

func TestSessionExpiry(t *testing.T) {
	p := shippingBot()
	p.Settings.ReminderAfter, p.Settings.CloseAfter = 0, 0
	h := newHarness(t, p, engine.Options{})
	ctx := context.Background()
	h.rt.Handle(ctx, engine.Inbound{Conversation: "c1", Channel: "web", Text: "mi nombre"})
	h.clock.Add(3 * time.Hour)
	h.rt.FireTimers(ctx)
	s, _ := h.rt.Session(ctx, "c1")
	if len(s.Stack) != 0 {
		t.Fatalf("stack after expiry: %+v", s.Stack)
	}
	evs, _ := h.rt.Events(ctx, 0, 0)
	if !hasEvent(evs, engine.EvFlowAbandoned, "ask", "expired") {
		t.Fatalf("events: %+v", evs)
	}
}

// failingStore fails its commits while fail is set.
type failingStore struct {
	engine.Store
	fail bool
}

func (s *failingStore) Commit(ctx context.Context, c *engine.Commit) error {
	if s.fail {
		return errors.New("disk full")
	}
	return s.Store.Commit(ctx, c)
}

func TestStoreWriteFailure(t *testing.T) {
	fs := &failingStore{Store: memory.New()}
	p := sizeBot()
	h := newHarness(t, p, engine.Options{Store: fs})
	ctx := context.Background()
	h.expect("c", "cambiar talla", txtAskOrder)
	fs.fail = true
	_, err := h.rt.Handle(ctx, engine.Inbound{Conversation: "c", ID: "x", Text: "A1234"})
	if engine.ErrCode(err) != engine.EUnavailable {
		t.Fatalf("err = %v", err)
	}
	s, _ := h.rt.Session(ctx, "c")
	if _, ok := s.Top().Vars.Get("order"); ok || s.Seq != 2 {
		t.Fatalf("the failed turn left a trace: %+v", s)
	}
	fs.fail = false
	tr, err := h.rt.Handle(ctx, engine.Inbound{Conversation: "c", ID: "x", Text: "A1234"})
	if err != nil || texts(tr) != txtAskSize || tr.Duplicate {
		t.Fatalf("retry: %q %v", texts(tr), err)
	}
}

func TestBadInput(t *testing.T) {
	p := sizeBot()
	h := newHarness(t, p, withNLU(p))
	ctx := context.Background()
	inputs := map[string]string{
		"empty":   "",
		"spaces":  "   \n\t ",
		"1MB":     strings.Repeat("talla ", 1<<20/6),
		"binary":  string([]byte{0xff, 0xfe, 0x00, 0x01, 0x80, 'h', 'o', 'l', 'a'}),
		"emoji":   "😀🙏👍🏽",
		"control": "\x00\x1b[31mhola\x07\x7f",
	}
	for name, text := range inputs {
		t.Run(name, func(t *testing.T) {
			for _, conv := range []string{"fresh-" + name, "asking-" + name} {
				if strings.HasPrefix(conv, "asking") {
					h.expect(conv, "cambiar talla", txtAskOrder)
				}
				tr, err := h.rt.Handle(ctx, engine.Inbound{Conversation: conv, Text: text})
				if err != nil {
					t.Fatalf("%s: %v", conv, err)
				}
				for _, m := range tr.Messages {
					if len(m.Text) > 10000 {
						t.Fatalf("huge reply")
					}
				}
				es, _ := h.rt.Transcript(ctx, conv, 0, 0)
				for _, e := range es {
					if len(e.Text) > 8<<10 || strings.ContainsAny(e.Text, "\x00\x1b\x07") {
						t.Fatalf("stored %q…", e.Text[:min(len(e.Text), 40)])
					}
				}
			}
			// The conversation still works.
			h.expect("asking-"+name, "A1234", txtAskSize)
		})
	}
	if _, err := h.rt.Handle(ctx, engine.Inbound{Text: "hola"}); engine.ErrCode(err) != engine.EInvalid {
		t.Fatalf("no conversation id: %v", err)
	}
	if _, err := h.rt.Handle(ctx, engine.Inbound{Conversation: strings.Repeat("x", 1000), Text: "hola"}); engine.ErrCode(err) != engine.EInvalid {
		t.Fatalf("huge conversation id: %v", err)
	}
}

func TestReloadKeepsVersionUntilSafePoint(t *testing.T) {
	p1 := sizeBot()
	p1.Version = "v1"
	h := newHarness(t, p1, engine.Options{})
	h.expect("c", "cambiar talla", txtAskOrder)
	p2 := sizeBot()
	p2.Version = "v2"
	p2.Flow("size_exchange").Steps[1].(*engine.Ask).Prompt = msg("¿Talla nueva?")
	p2.Flow("greeting").Steps[0] = &engine.Say{Message: msg("¡Hola, versión 2!")}
	if err := h.rt.Reload(p2); err != nil {
		t.Fatal(err)
	}
	h.expect("d", "hola", "¡Hola, versión 2!") // new conversations: v2
	h.expect("c", "A1234", txtAskSize)         // in progress: still v1
	h.expect("c", "43", "Confirm the exchange of order A1234 to size 43?")
	h.expect("c", "si", "Done! Order A1234 will be exchanged to size 43. You will receive an email with the return label.")
	h.expect("c", "hola", "¡Hola, versión 2!") // a safe point: v2 now
	s, _ := h.rt.Session(context.Background(), "c")
	if s.Version != "v2" {
		t.Fatalf("version = %q", s.Version)
	}
}

func TestVersionGoneAfterRestart(t *testing.T) {
	// A conversation stored by a program version this process never loaded
	// goes on with the current program, at the same question.
	st := memory.New()
	p1 := sizeBot()
	p1.Version = "v1"
	h := newHarness(t, p1, engine.Options{Store: st})
	h.expect("c", "cambiar talla", txtAskOrder)
	h.expect("c", "A1234", txtAskSize)
	p2 := sizeBot()
	p2.Version = "v2"
	p2.Flow("size_exchange").Steps[1].(*engine.Ask).Reprompt = msg("¿Y la talla?")
	h2 := newHarness(t, p2, engine.Options{Store: st})
	h2.n = 100 // message ids go on from the first process's
	h2.expect("c", "43", "Confirm the exchange of order A1234 to size 43?")
}

func TestEraseAndExport(t *testing.T) {
	h := newHarness(t, shippingBot(), engine.Options{})
	ctx := context.Background()
	h.rt.Handle(ctx, engine.Inbound{Conversation: "c1", User: "ana", Channel: "web", Text: "mi nombre"})
	h.rt.Handle(ctx, engine.Inbound{Conversation: "c1", User: "ana", Channel: "web", Text: "Ana"})
	h.rt.Handle(ctx, engine.Inbound{Conversation: "c2", User: "ana", Channel: "telegram", Text: "pagar"})
	h.rt.Handle(ctx, engine.Inbound{Conversation: "c3", User: "luis", Channel: "web", Text: "pagar"})
	d, err := h.rt.ExportUser(ctx, "ana")
	if err != nil {
		t.Fatal(err)
	}
	if d.Profile == nil || d.Profile.Slots["name"] != "Ana" || len(d.Profile.Identities) != 2 || len(d.Conversations) != 2 || len(d.Events) == 0 {
		t.Fatalf("export = %+v", d)
	}
	for _, c := range d.Conversations {
		if len(c.Transcript) == 0 {
			t.Fatalf("no transcript for %s", c.Conversation.ID)
		}
	}
	for _, e := range d.Events {
		if e.User != "ana" {
			t.Fatalf("someone else's event: %+v", e)
		}
	}
	if err := h.rt.EraseUser(ctx, "ana"); err != nil {
		t.Fatal(err)
	}
	d, _ = h.rt.ExportUser(ctx, "ana")
	if d.Profile != nil || len(d.Conversations) != 0 || len(d.Events) != 0 {
		t.Fatalf("after erase: %+v", d)
	}
	if c, _ := h.rt.Conversation(ctx, "c3"); c == nil {
		t.Fatalf("luis's conversation is gone")
	}
}

func TestReminderCountsFromLastMessage(t *testing.T) {
	snd := &sender{}
	h := newHarness(t, shippingBot(), engine.Options{Senders: map[string]engine.Sender{"web": snd}})
	ctx := context.Background()
	h.rt.Handle(ctx, engine.Inbound{Conversation: "c1", Channel: "web", Text: "mi nombre"})
	h.clock.Add(4 * time.Minute)
	h.rt.Handle(ctx, engine.Inbound{Conversation: "c1", Channel: "web", Text: ""}) // still there (asked again)
	h.clock.Add(2 * time.Minute)                                                   // 6 min after the first, 2 after the last
	h.rt.FireTimers(ctx)
	if got := snd.texts(); got != "" {
		t.Fatalf("reminded too early: %q", got)
	}
	h.clock.Add(3 * time.Minute)
	h.rt.FireTimers(ctx)
	if got := snd.texts(); got != "¿Sigues ahí?" {
		t.Fatalf("sent %q", got)
	}
}

// A flow parked at a wait step waits for the world, not for the shopper:
// no "¿Sigues ahí?", and the conversation's silence (close_after,
// session_ttl) counts from the end of the wait, so a wait of days reaches
// its timeout branch, and a wait without one waits for its event.
func TestWaitOutlivesInactivityTimers(t *testing.T) {
	p := shippingBot()
	p.Flows = append(p.Flows,
		&engine.Flow{Name: "notify", Triggers: engine.Triggers{Keywords: []string{"avisame"}},
			Steps: []engine.Step{
				&engine.Say{Message: msg("Te aviso cuando salga.")},
				&engine.Wait{Events: []string{"order_shipped"}, Timeout: 72 * time.Hour, OnTimeout: 3},
				&engine.End{Outcome: engine.OutcomeResolved},
				&engine.Say{Message: msg("Tu pedido aún no sale; te escribo cuando salga.")}, // 3
			}},
		&engine.Flow{Name: "forever", Triggers: engine.Triggers{Keywords: []string{"espero"}},
			Steps: []engine.Step{
				&engine.Wait{Events: []string{"paid"}, Into: "payment"},
				&engine.Say{Message: msg("Pago recibido: {{ payment.amount }}.")},
			}},
	)
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	snd := &sender{}
	h := newHarness(t, p, engine.Options{Senders: map[string]engine.Sender{"web": snd}})
	ctx := context.Background()
	if tr, err := h.rt.Handle(ctx, engine.Inbound{Conversation: "c1", User: "ana", Channel: "web", Text: "avisame"}); err != nil || texts(tr) != "Te aviso cuando salga." {
		t.Fatalf("avisame: %v %v", texts(tr), err)
	}
	h.rt.Handle(ctx, engine.Inbound{Conversation: "c2", User: "luis", Channel: "web", Text: "espero"})
	for i := 0; i < 71; i++ { // hour by hour: reminder, close and expiry would all have come due
		h.clock.Add(time.Hour)
		h.rt.FireTimers(ctx)
	}
	if got := snd.texts(); got != "" {
		t.Fatalf("sent while waiting: %q", got)
	}
	for _, id := range []string{"c1", "c2"} {
		if c, _ := h.rt.Conversation(ctx, id); c.Status != engine.StatusBot || c.Flow == "" {
			t.Fatalf("%s ended while its flow waited: %+v", id, c)
		}
	}
	h.clock.Add(time.Hour)
	h.rt.FireTimers(ctx)
	if got := snd.texts(); got != "Tu pedido aún no sale; te escribo cuando salga." {
		t.Fatalf("at the wait's timeout: %q", got)
	}
	res, err := h.rt.Trigger(ctx, "luis", "paid", map[string]any{"amount": 30})
	if err != nil || texts(&engine.Turn{Messages: res.Messages}) != "Pago recibido: 30." {
		t.Fatalf("the event after 72 hours: %+v %v", res, err)
	}
	// After the wait, silence counts again: the conversation with nothing
	// in progress is left alone; one at a question is reminded.
	h.rt.Handle(ctx, engine.Inbound{Conversation: "c1", User: "ana", Channel: "web", Text: "mi nombre"})
	h.clock.Add(5 * time.Minute)
	h.rt.FireTimers(ctx)
	if got := snd.texts(); !strings.HasSuffix(got, "¿Sigues ahí?") {
		t.Fatalf("no reminder at a question after the wait: %q", got)
	}
}
