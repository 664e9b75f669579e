package handoff_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/handoff"
	"github.com/charlabot/charla/engine/keyword"
	"github.com/charlabot/charla/engine/memory"
)

func msg(s string) *engine.Message { return &engine.Message{Variants: []engine.Text{engine.Lit(s)}} }

// shopBot is a small shop with three queues and three agents.
func shopBot() *engine.Program {
	p := &engine.Program{
		Name:      "tienda",
		Languages: []string{"es", "en"},
		Settings:  engine.Settings{DefaultQueue: "ventas"},
		Flows: []*engine.Flow{
			{
				Name:          "cambio",
				Title:         engine.Lit("tu cambio de talla"),
				Interruptible: true,
				Triggers:      engine.Triggers{Keywords: []string{"cambio"}},
				Slots: []*engine.Slot{
					{Name: "pedido", Type: engine.SlotPattern, Pattern: regexp.MustCompile(`[A-Z]\d{4}`)},
					{Name: "cliente", Type: engine.SlotText, Scope: engine.ScopeUser},
				},
				Steps: []engine.Step{
					&engine.Ask{Slot: "pedido", Prompt: msg("¿Cuál es tu pedido?"), Exhausted: engine.Default},
					&engine.Handoff{StepMeta: engine.StepMeta{ID: "a_cambios"}, Queue: "cambios", Priority: 1, Note: engine.MustTemplate("Cambio del pedido {{ pedido }}")},
					&engine.Say{Message: msg("Gracias por esperar. ¿Algo más?")},
					&engine.End{Outcome: engine.OutcomeResolved},
				},
			},
			{Name: "nocturno", Triggers: engine.Triggers{Keywords: []string{"noche"}},
				Steps: []engine.Step{&engine.Handoff{Queue: "noche"}}},
			{Name: "manual", Triggers: engine.Triggers{Keywords: []string{"reclamo"}},
				Steps: []engine.Step{&engine.Handoff{Queue: "reclamos"}}},
			{Name: "csat", Slots: []*engine.Slot{{Name: "nota", Type: engine.SlotInteger}},
				Steps: []engine.Step{
					&engine.Ask{Slot: "nota", Prompt: msg("¿Cómo calificarías la atención, del 1 al 5?"), Exhausted: engine.Default},
					&engine.Say{Message: msg("¡Gracias por tu opinión!")},
				}},
			{Name: "fallback", System: true, Steps: []engine.Step{&engine.Say{Message: msg("No te entendí.")}}},
			{Name: "cancel", System: true, Triggers: engine.Triggers{Keywords: []string{"cancelar"}},
				Steps: []engine.Step{&engine.Say{Message: msg("Listo, lo dejamos aquí.")}}},
			{Name: "human", System: true, Triggers: engine.Triggers{Keywords: []string{"asesor"}},
				Steps: []engine.Step{&engine.Say{Message: msg("Te comunico con una persona.")}, &engine.Handoff{}}},
			{Name: "resume", System: true, Steps: []engine.Step{&engine.Say{Message: msg("Volviendo a {{ resumed }}.")}}},
		},
		System: map[engine.SystemRole]string{engine.SysFallback: "fallback", engine.SysCancel: "cancel",
			engine.SysHuman: "human", engine.SysResume: "resume"},
		Queues: []*engine.Queue{
			{Name: "ventas", Title: engine.Lit("ventas"), Skills: []string{"ventas"}},
			{Name: "cambios", Title: engine.Lit("cambios"), Skills: []string{"cambios"}, Priority: 5, MaxWait: 10 * time.Minute, Fallback: "ventas"},
			{Name: "noche", Title: engine.Lit("soporte nocturno"), Agents: []string{"ana"}, Hours: &engine.Hours{Timezone: "UTC"},
				AfterHours: engine.Lit("Atendemos de noche solamente.")},
			{Name: "reclamos", Skills: []string{"reclamos"}, Manual: true, MaxWait: 5 * time.Minute},
		},
		Agents: []*engine.AgentSpec{
			{ID: "ana", Name: "Ana", Skills: []string{"ventas", "cambios", "reclamos"}, MaxChats: 2},
			{ID: "beto", Name: "Beto", Skills: []string{"ventas", "reclamos"}, MaxChats: 1},
			{ID: "caro", Name: "Caro", Skills: []string{"cambios"}, MaxChats: 3},
		},
	}
	if err := p.Check(); err != nil {
		panic(err)
	}
	return p
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is a runtime and its desk, with a channel that records what it sends.
type fixture struct {
	t     *testing.T
	rt    *engine.Runtime
	desk  *handoff.Desk
	clock *clock
	store engine.Store
	hs    handoff.Store
	mu    sync.Mutex
	sent  map[string][]string
	n     int
}

func newFixture(t *testing.T, p *engine.Program, store engine.Store, hs handoff.Store, c *clock) *fixture {
	t.Helper()
	if c == nil {
		c = &clock{t: time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)} // a Monday
	}
	f := &fixture{t: t, clock: c, store: store, hs: hs, sent: map[string][]string{}}
	f.desk = &handoff.Desk{Store: hs, Now: c.Now}
	rt, err := engine.NewRuntime(p, engine.Options{Store: store, Now: c.Now, Agents: f.desk,
		Understander: keyword.New(p),
		Senders: map[string]engine.Sender{"test": engine.SenderFunc(func(_ context.Context, out engine.Outbound) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.sent[out.Conversation] = append(f.sent[out.Conversation], out.Text)
			return nil
		})}})
	if err != nil {
		t.Fatal(err)
	}
	f.rt = rt
	f.desk.Runtime = rt
	if err := f.desk.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) say(conv, text string) []string {
	f.t.Helper()
	f.n++
	tr, err := f.rt.Handle(context.Background(), engine.Inbound{Conversation: conv, User: "u-" + conv, Channel: "test", ID: fmt.Sprint("m", f.n), Text: text})
	if err != nil {
		f.t.Fatalf("Handle(%q): %v", text, err)
	}
	var out []string
	for _, m := range tr.Messages {
		out = append(out, m.Text)
	}
	return out
}

func (f *fixture) choose(conv, value string) {
	f.t.Helper()
	f.n++
	if _, err := f.rt.Handle(context.Background(), engine.Inbound{Conversation: conv, User: "u-" + conv, Channel: "test", ID: fmt.Sprint("m", f.n), Choice: value}); err != nil {
		f.t.Fatal(err)
	}
}

// told returns and forgets what the channel sent to conv outside turns.
func (f *fixture) told(conv string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.sent[conv]
	delete(f.sent, conv)
	return s
}

func (f *fixture) status(conv string) engine.Status {
	f.t.Helper()
	c, err := f.rt.Conversation(context.Background(), conv)
	if err != nil {
		f.t.Fatal(err)
	}
	return c.Status
}

func (f *fixture) ticket(agent, conv string) handoff.TicketView {
	f.t.Helper()
	tv, err := f.desk.Ticket(agent, conv)
	if err != nil {
		f.t.Fatalf("Ticket(%s, %s): %v", agent, conv, err)
	}
	return tv
}

func check(t *testing.T, what string, got, want any) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s:\n got  %v\n want %v", what, got, want)
	}
}

func TestTicketCarriesEverything(t *testing.T) {
	f := newFixture(t, shopBot(), memory.New(), handoff.NewMemory(), nil)
	f.say("c1", "cambio")
	got := f.say("c1", "A1234")
	check(t, "turn", got, []string{})
	tv := f.ticket("caro", "c1")
	check(t, "state", tv.State, handoff.StateWaiting)
	check(t, "queue", tv.Queue, "cambios")
	check(t, "reason", tv.Reason, "Cambio del pedido A1234")
	check(t, "where", tv.Flow+" "+tv.Step, "cambio a_cambios")
	check(t, "slots", tv.Slots["pedido"], "A1234")
	check(t, "channel", tv.Channel, "test")
	check(t, "priority (step + queue)", tv.Priority, 6)
	check(t, "position", tv.Position, 1)
	if tv.Profile == nil || len(tv.Profile.Identities) != 1 || tv.Profile.Identities[0].Channel != "test" {
		t.Errorf("profile = %+v", tv.Profile)
	}
	check(t, "told", f.told("c1"), []string{"Estás en el lugar 1 de la fila de cambios. Ahora mismo no hay nadie conectado; te atenderán en cuanto alguien esté disponible. Si prefieres volver con el asistente, escribe «cancelar»."})
	check(t, "status", f.status("c1"), engine.StatusQueued)
	// beto does not serve cambios: he does not see it.
	if _, err := f.desk.Ticket("beto", "c1"); engine.ErrCode(err) != engine.ENotFound {
		t.Errorf("beto sees c1: %v", err)
	}
	if n := len(f.desk.Tickets("beto")); n != 0 {
		t.Errorf("beto sees %d tickets", n)
	}
	if err := f.desk.Claim(context.Background(), "c1", "beto"); engine.ErrCode(err) != engine.ENotFound {
		t.Errorf("beto claims c1: %v", err)
	}
}

func TestAutomaticAssignmentLeastLoaded(t *testing.T) {
	f := newFixture(t, shopBot(), memory.New(), handoff.NewMemory(), nil)
	ctx := context.Background()
	for i := range 4 {
		f.say(fmt.Sprint("v", i), "asesor") // ventas
	}
	check(t, "waiting", f.desk.Queues("", "es")[0].Waiting, 4)
	f.desk.Connect("beto") // max 1
	check(t, "v0 → beto", f.ticket("beto", "v0").Agent, "beto")
	check(t, "status", f.status("v0"), engine.StatusAgent)
	check(t, "told v0", f.told("v0"), []string{
		"Estás en el lugar 1 de la fila de ventas. Ahora mismo no hay nadie conectado; te atenderán en cuanto alguien esté disponible. Si prefieres volver con el asistente, escribe «cancelar».",
		"Hola, te atiende Beto."})
	f.desk.Connect("ana") // max 2
	check(t, "v1 → ana", f.ticket("ana", "v1").Agent, "ana")
	check(t, "v2 → ana", f.ticket("ana", "v2").Agent, "ana")
	check(t, "v3 waits", f.ticket("ana", "v3").State, handoff.StateWaiting)
	// A conversation of cambios goes to caro, who has none, rather than
	// waiting for ana.
	f.desk.Connect("caro")
	f.say("k1", "cambio")
	f.say("k1", "B2222")
	check(t, "k1 → caro", f.ticket("caro", "k1").Agent, "caro")
	// beto gives v0 back: v3 goes to him.
	if _, err := f.desk.Release(ctx, "v0", "beto", ""); err != nil {
		t.Fatal(err)
	}
	check(t, "v3 → beto", f.ticket("beto", "v3").Agent, "beto")
	check(t, "v0 with the bot", f.status("v0"), engine.StatusBot)
	agents := f.desk.Agents()
	check(t, "loads", fmt.Sprint(agents[0].Chats, agents[1].Chats, agents[2].Chats), "2 1 1")
}

func TestAwayAgentsClaimByHand(t *testing.T) {
	f := newFixture(t, shopBot(), memory.New(), handoff.NewMemory(), nil)
	ctx := context.Background()
	f.desk.Connect("ana")
	if err := f.desk.SetStatus(ctx, "ana", handoff.Away); err != nil {
		t.Fatal(err)
	}
	f.say("c", "asesor")
	check(t, "waits", f.ticket("ana", "c").State, handoff.StateWaiting)
	if err := f.desk.Send(ctx, "c", "ana", "hola"); engine.ErrCode(err) != engine.EConflict {
		t.Errorf("send before claiming: %v", err)
	}
	if err := f.desk.Claim(ctx, "c", "ana"); err != nil {
		t.Fatal(err)
	}
	if err := f.desk.Claim(ctx, "c", "ana"); err != nil {
		t.Errorf("claiming one's own again: %v", err)
	}
	if err := f.desk.Claim(ctx, "c", "beto"); engine.ErrCode(err) != engine.EConflict || !strings.Contains(err.Error(), "Ana has this conversation") {
		t.Errorf("beto claims ana's: %v", err)
	}
	// A manual queue is never assigned automatically.
	if err := f.desk.SetStatus(ctx, "ana", handoff.Available); err != nil {
		t.Fatal(err)
	}
	f.say("r", "reclamo")
	check(t, "manual queue waits", f.ticket("ana", "r").State, handoff.StateWaiting)
}

func TestClaimRace(t *testing.T) {
	f := newFixture(t, shopBot(), memory.New(), handoff.NewMemory(), nil)
	ctx := context.Background()
	for _, a := range []string{"ana", "beto"} {
		f.desk.Connect(a)
	}
	for i := range 50 {
		conv := fmt.Sprint("r", i)
		f.say(conv, "reclamo") // manual: nobody gets it automatically
		var wg sync.WaitGroup
		errs := make([]error, 2)
		start := make(chan struct{})
		for j, a := range []string{"ana", "beto"} {
			wg.Go(func() {
				<-start
				errs[j] = f.desk.Claim(ctx, conv, a)
			})
		}
		close(start)
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch engine.ErrCode(err) {
			case "":
				wins++
			case engine.EConflict:
			default:
				t.Fatalf("claim: %v", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%s: %d winners (%v)", conv, wins, errs)
		}
		tv := f.ticket("ana", conv)
		s, _ := f.rt.Session(ctx, conv)
		if s.Status != engine.StatusAgent || s.Handoff.Agent != tv.Agent {
			t.Fatalf("%s: runtime says %s %+v, desk says %s", conv, s.Status, s.Handoff, tv.Agent)
		}
		if _, err := f.desk.Release(ctx, conv, tv.Agent, ""); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConversationWithAnAgent(t *testing.T) {
	f := newFixture(t, shopBot(), memory.New(), handoff.NewMemory(), nil)
	ctx := context.Background()
	sub := f.desk.Subscribe(64)
	defer sub.Close()
	f.say("c", "cambio")
	f.say("c", "A1234")
	f.desk.Connect("caro")
	f.told("c")
	check(t, "silent while with an agent", f.say("c", "¿me ayudas con la talla?"), []string{})
	if err := f.desk.Send(ctx, "c", "caro", "Claro, ¿qué talla necesitas?"); err != nil {
		t.Fatal(err)
	}
	check(t, "sent", f.told("c"), []string{"Claro, ¿qué talla necesitas?"})
	es, _ := f.rt.Transcript(ctx, "c", 0, 0)
	last := es[len(es)-1]
	check(t, "transcript", last.From+" "+last.Agent+" "+last.Text, "agent caro Claro, ¿qué talla necesitas?")
	var kinds []string
	for len(sub.C) > 0 {
		ev := <-sub.C
		kinds = append(kinds, string(ev.Kind))
		if ev.Kind == handoff.EvMessage && ev.Entry.From == engine.FromUser && ev.Entry.Text != "¿me ayudas con la talla?" {
			t.Errorf("forwarded %+v", ev.Entry)
		}
	}
	check(t, "events", kinds, []string{"ticket.queued", "agent.status", "ticket.updated", "message", "message"})
	// Back to the bot: the flow goes on after its handoff step.
	tr, err := f.desk.Release(ctx, "c", "caro", "")
	if err != nil {
		t.Fatal(err)
	}
	check(t, "release", tr.Messages[0].Text, "Gracias por esperar. ¿Algo más?")
	if _, err := f.desk.Ticket("caro", "c"); engine.ErrCode(err) != engine.ENotFound {
		t.Errorf("ticket after release: %v", err)
	}
	ev := <-sub.C
	check(t, "removed", fmt.Sprint(ev.Kind, " ", ev.Why), "ticket.removed released")
}

func TestCloseStartsCSAT(t *testing.T) {
	f := newFixture(t, shopBot(), memory.New(), handoff.NewMemory(), nil)
	ctx := context.Background()
	f.desk.Connect("ana")
	f.say("c", "asesor")
	f.told("c")
	if err := f.desk.Close(ctx, "c", "beto"); engine.ErrCode(err) != engine.EConflict {
		t.Errorf("beto closes ana's conversation: %v", err)
	}
	if err := f.desk.Close(ctx, "c", "ana"); err != nil {
		t.Fatal(err)
	}
	check(t, "csat asked", f.told("c"), []string{"¿Cómo calificarías la atención, del 1 al 5?"})
	check(t, "answer", f.say("c", "5"), []string{"¡Gracias por tu opinión!"})
	evs, _ := f.rt.Events(ctx, 0, 0)
	closed := false
	for _, e := range evs {
		closed = closed || (e.Kind == engine.EvClosed && e.Detail == "ana")
	}
	if !closed {
		t.Errorf("no closed event by ana: %+v", evs)
	}
}

func TestTransfer(t *testing.T) {
	f := newFixture(t, shopBot(), memory.New(), handoff.NewMemory(), nil)
	ctx := context.Background()
	f.desk.Connect("beto")
	f.say("c", "asesor")
	check(t, "beto has it", f.ticket("beto", "c").Agent, "beto")
	f.told("c")
	if err := f.desk.Transfer(ctx, "c", "beto", handoff.Target{Queue: "cambios"}, "Quiere cambiar la talla del A1234"); err != nil {
		t.Fatal(err)
	}
	tv := f.ticket("caro", "c")
	check(t, "moved", fmt.Sprint(tv.Queue, " ", tv.State, " ", tv.Note), "cambios waiting Quiere cambiar la talla del A1234")
	check(t, "told", f.told("c"), []string{
		"Te paso con el equipo de cambios. No tienes que repetir nada: verán toda la conversación.",
		"Estás en el lugar 1 de la fila de cambios. Ahora mismo no hay nadie conectado; te atenderán en cuanto alguien esté disponible. Si prefieres volver con el asistente, escribe «cancelar».",
	})
	check(t, "runtime", f.status("c"), engine.StatusQueued)
	if _, err := f.desk.Ticket("beto", "c"); engine.ErrCode(err) != engine.ENotFound {
		t.Errorf("beto still sees it: %v", err)
	}
	f.desk.Connect("caro")
	check(t, "caro has it", f.ticket("caro", "c").Agent, "caro")
	// Straight to an agent, who must be connected.
	if err := f.desk.Transfer(ctx, "c", "caro", handoff.Target{Agent: "ana"}, "para ti"); engine.ErrCode(err) != engine.EConflict {
		t.Errorf("transfer to an agent offline: %v", err)
	}
	f.desk.Connect("ana")
	if err := f.desk.Transfer(ctx, "c", "caro", handoff.Target{Agent: "ana"}, "para ti"); err != nil {
		t.Fatal(err)
	}
	tv = f.ticket("ana", "c")
	check(t, "ana has it", fmt.Sprint(tv.Agent, " ", tv.Note), "ana para ti")
	check(t, "moves", len(tv.Moves), 4)
	check(t, "told", f.told("c"), []string{"Hola, te atiende Caro.", "Hola, te atiende Ana."})
}

func TestDisconnectedAgentGivesConversationsBack(t *testing.T) {
	f := newFixture(t, shopBot(), memory.New(), handoff.NewMemory(), nil)
	ctx := context.Background()
	bye := f.desk.Connect("beto")
	f.say("a", "asesor")
	f.say("b", "asesor")
	check(t, "a → beto", f.ticket("ana", "a").Agent, "beto")
	check(t, "b waits", f.ticket("ana", "b").Position, 1)
	bye()
	check(t, "status", f.desk.Status("beto"), handoff.Offline)
	f.clock.Add(time.Minute)
	f.desk.Tick(ctx)
	check(t, "within the grace", f.ticket("ana", "a").Agent, "beto")
	// Reconnecting within the grace keeps it.
	bye = f.desk.Connect("beto")
	f.clock.Add(5 * time.Minute)
	f.desk.Tick(ctx)
	check(t, "reconnected", f.ticket("ana", "a").Agent, "beto")
	bye()
	f.clock.Add(2 * time.Minute)
	f.desk.Tick(ctx)
	tv := f.ticket("ana", "a")
	check(t, "back at the head", fmt.Sprint(tv.State, " ", tv.Position), "waiting 1")
	check(t, "b behind it", f.ticket("ana", "b").Position, 2)
	check(t, "runtime", f.status("a"), engine.StatusQueued)
	// ana signs in: she gets both; signing out puts them back at once.
	f.desk.Connect("ana")
	check(t, "a → ana", f.ticket("ana", "a").Agent, "ana")
	check(t, "b → ana", f.ticket("ana", "b").Agent, "ana")
	if err := f.desk.SignOut(ctx, "ana"); err != nil {
		t.Fatal(err)
	}
	check(t, "a at the head", f.ticket("ana", "a").Position, 1)
	check(t, "b second", f.ticket("ana", "b").Position, 2)
}

func TestMaxWaitFallbacks(t *testing.T) {
	f := newFixture(t, shopBot(), memory.New(), handoff.NewMemory(), nil)
	ctx := context.Background()
	f.say("c", "cambio")
	f.say("c", "A1234")
	f.told("c")
	f.clock.Add(9 * time.Minute)
	f.desk.Tick(ctx)
	check(t, "still in cambios", f.ticket("ana", "c").Queue, "cambios")
	f.clock.Add(time.Minute)
	f.desk.Tick(ctx)
	tv := f.ticket("ana", "c")
	check(t, "moved to the fallback", fmt.Sprint(tv.Queue, " ", tv.State), "ventas waiting")
	check(t, "told", f.told("c"), []string{"Te paso con el equipo de ventas. No tienes que repetir nada: verán toda la conversación."})
	s, _ := f.rt.Session(ctx, "c")
	check(t, "runtime queue", s.Handoff.Queue, "ventas")
	// reclamos has no fallback: after its max_wait, a message for later.
	f.say("r", "reclamo")
	f.told("r")
	f.clock.Add(5 * time.Minute)
	f.desk.Tick(ctx)
	check(t, "a message", f.ticket("ana", "r").State, handoff.StateMessage)
	check(t, "told", f.told("r"), []string{"Lo siento, nadie del equipo puede atenderte ahora. Déjanos tu mensaje y te responderemos por aquí en cuanto podamos."})
	f.say("r", "El zapato llegó roto")
	check(t, "taken", f.told("r"), []string{"Gracias, recibimos tu mensaje. Te responderemos por este medio."})
	f.say("r", "Y la caja también")
	check(t, "only once", f.told("r"), []string(nil))
	check(t, "unread", f.ticket("ana", "r").Unread, 2)
}

func TestAfterHours(t *testing.T) {
	f := newFixture(t, shopBot(), memory.New(), handoff.NewMemory(), nil)
	ctx := context.Background()
	f.say("n", "noche")
	check(t, "offer", f.told("n"), []string{"Atendemos de noche solamente.", "¿Quieres dejarnos un mensaje? Te responderemos por aquí en cuanto podamos."})
	check(t, "state", f.ticket("ana", "n").State, handoff.StateAfterHours)
	f.choose("n", handoff.ChoiceLeaveMessage)
	check(t, "prompt", f.told("n"), []string{"Escribe tu mensaje y una persona del equipo lo verá en cuanto pueda."})
	f.say("n", "Necesito factura")
	check(t, "taken", f.told("n"), []string{"Gracias, recibimos tu mensaje. Te responderemos por este medio."})
	check(t, "a message", f.ticket("ana", "n").State, handoff.StateMessage)
	// The conversation closes by inactivity: the message stays for ana.
	if err := f.desk.HandoffEnded(ctx, "n", "closed:inactivity"); err != nil {
		t.Fatal(err)
	}
	f.desk.Connect("ana")
	check(t, "messages are claimed by hand", f.ticket("ana", "n").State, handoff.StateMessage)
	if err := f.desk.Claim(ctx, "n", "ana"); err != nil {
		t.Fatal(err)
	}
	if err := f.desk.Send(ctx, "n", "ana", "Te la envío hoy."); err != nil {
		t.Fatal(err)
	}
	// The other choice: back to the assistant.
	f.say("m", "noche")
	f.choose("m", handoff.ChoiceBackToBot)
	check(t, "back with the bot", f.status("m"), engine.StatusBot)
	if _, err := f.desk.Ticket("ana", "m"); engine.ErrCode(err) != engine.ENotFound {
		t.Errorf("ticket after going back: %v", err)
	}
}

func TestShopperLeavesTheQueue(t *testing.T) {
	f := newFixture(t, shopBot(), memory.New(), handoff.NewMemory(), nil)
	f.say("c", "asesor")
	check(t, "cancel", f.say("c", "cancelar"), []string{"Listo, lo dejamos aquí."})
	if _, err := f.desk.Ticket("ana", "c"); engine.ErrCode(err) != engine.ENotFound {
		t.Errorf("ticket after cancel: %v", err)
	}
}

func TestAgentReminder(t *testing.T) {
	f := newFixture(t, shopBot(), memory.New(), handoff.NewMemory(), nil)
	ctx := context.Background()
	sub := f.desk.Subscribe(64)
	defer sub.Close()
	f.desk.Connect("beto")
	f.say("c", "asesor")
	f.say("c", "¿hola?")
	f.clock.Add(2 * time.Minute)
	f.desk.Tick(ctx)
	f.clock.Add(time.Minute)
	f.desk.Tick(ctx)
	f.desk.Tick(ctx) // once
	var reminders []string
	for len(sub.C) > 0 {
		if ev := <-sub.C; ev.Kind == handoff.EvReminder {
			reminders = append(reminders, ev.Agent+" "+ev.Ticket.Conversation)
		}
	}
	check(t, "reminders", reminders, []string{"beto c"})
	if err := f.desk.Send(ctx, "c", "beto", "Perdón, aquí estoy."); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(10 * time.Minute)
	f.desk.Tick(ctx)
	for len(sub.C) > 0 {
		if ev := <-sub.C; ev.Kind == handoff.EvReminder {
			t.Errorf("reminded after answering")
		}
	}
}

func TestPlaceUpdates(t *testing.T) {
	f := newFixture(t, shopBot(), memory.New(), handoff.NewMemory(), nil)
	ctx := context.Background()
	for _, c := range []string{"a", "b", "c", "d"} {
		f.say(c, "asesor")
		f.told(c)
	}
	f.desk.Connect("beto")
	if err := f.desk.SetStatus(ctx, "beto", handoff.Away); err != nil { // no estimate while away
		t.Fatal(err)
	}
	if err := f.desk.SetStatus(ctx, "beto", handoff.Available); err != nil {
		t.Fatal(err)
	}
	check(t, "a → beto", f.ticket("beto", "a").Agent, "beto")
	f.desk.Tick(ctx) // within UpdateEvery: only who became next is told
	check(t, "b", f.told("b"), []string{"¡Eres el siguiente! En un momento te atiende una persona."})
	check(t, "c", f.told("c"), []string(nil))
	f.clock.Add(time.Minute)
	f.desk.Tick(ctx)
	check(t, "c", f.told("c"), []string{"Ahora estás en el lugar 2 de la fila. Tiempo estimado: unos 8 minutos."})
	check(t, "d", f.told("d"), []string{"Ahora estás en el lugar 3 de la fila. Tiempo estimado: unos 12 minutos."})
	f.desk.Tick(ctx)
	check(t, "nothing new", f.told("c"), []string(nil))
	pos, wait, ok := f.desk.Place("d")
	check(t, "place", fmt.Sprint(pos, " ", wait, " ", ok), "3 12m0s true")
}

func TestSubscriberThatLags(t *testing.T) {
	f := newFixture(t, shopBot(), memory.New(), handoff.NewMemory(), nil)
	sub := f.desk.Subscribe(1)
	f.say("a", "asesor")
	f.say("b", "asesor")
	n := 0
	for range sub.C {
		n++
	}
	if !sub.Lagged() || n != 1 {
		t.Errorf("lagged %v after %d events", sub.Lagged(), n)
	}
	sub.Close() // closing a dropped subscription is fine
}

func TestQueuesView(t *testing.T) {
	f := newFixture(t, shopBot(), memory.New(), handoff.NewMemory(), nil)
	f.say("a", "asesor")
	f.say("n", "noche")
	f.desk.Connect("caro")
	var got []string
	for _, q := range f.desk.Queues("ana", "es") {
		got = append(got, fmt.Sprint(q.Name, " waiting=", q.Waiting, " messages=", q.Messages, " agents=", q.Agents, " open=", q.Open))
	}
	check(t, "ana's queues", got, []string{
		"ventas waiting=1 messages=0 agents=0 open=true",
		"cambios waiting=0 messages=0 agents=1 open=true",
		"noche waiting=0 messages=1 agents=0 open=false",
		"reclamos waiting=0 messages=0 agents=0 open=true",
	})
	var names []string
	for _, q := range f.desk.Queues("beto", "es") {
		names = append(names, q.Name)
	}
	check(t, "beto's queues", names, []string{"ventas", "reclamos"})
	l := f.desk.Lengths()
	check(t, "lengths", fmt.Sprint(l["ventas"][handoff.StateWaiting], l["noche"][handoff.StateMessage]), "1 1")
	if !slices.Equal([]string{"ana"}, []string{f.desk.Agents()[0].ID}) {
		t.Error("agents view")
	}
}

// countingStore counts the durable writes.
type countingStore struct {
	*handoff.Memory
	mu     sync.Mutex
	writes int
}

func (c *countingStore) SaveTickets(ctx context.Context, put []*handoff.Ticket, del []string) error {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return c.Memory.SaveTickets(ctx, put, del)
}

func (c *countingStore) count() int { c.mu.Lock(); defer c.mu.Unlock(); return c.writes }

// A shopper's message does not wait for a write of its own: the ticket's
// bookkeeping is saved by the next Tick (or the next change that must be
// saved at once).
func TestBookkeepingIsSavedSoon(t *testing.T) {
	cs := &countingStore{Memory: handoff.NewMemory()}
	f := newFixture(t, shopBot(), memory.New(), cs, nil)
	ctx := context.Background()
	f.desk.Connect("beto")
	f.say("c", "asesor")
	n := cs.count()
	f.say("c", "¿hola?")
	f.say("c", "¿alguien?")
	check(t, "writes for two messages", cs.count()-n, 0)
	saved := func() *handoff.Ticket {
		ts, _ := cs.Tickets(ctx)
		return ts[0]
	}
	check(t, "unread on disk before the tick", saved().Unread, 0)
	f.desk.Tick(ctx)
	check(t, "writes at the tick", cs.count()-n, 1)
	check(t, "unread on disk after the tick", saved().Unread, 2)
	f.desk.Tick(ctx)
	check(t, "nothing more to write", cs.count()-n, 1)
}

func TestTextsNameTheLeaveCommandAndMayBeOverridden(t *testing.T) {
	p := shopBot()
	p.Handoff.Leave = []string{"salir"}
	p.Handoff.Texts = map[string]engine.Text{"assigned": {"es": engine.MustTemplate("{{ agent }} te atiende ahora.")}}
	f := newFixture(t, p, memory.New(), handoff.NewMemory(), nil)
	f.say("c", "asesor")
	check(t, "queued", f.told("c"), []string{"Estás en el lugar 1 de la fila de ventas. Ahora mismo no hay nadie conectado; te atenderán en cuanto alguien esté disponible. Si prefieres volver con el asistente, escribe «salir»."})
	f.desk.Connect("beto")
	check(t, "assigned", f.told("c"), []string{"Beto te atiende ahora."})
	check(t, "leaving", f.say("c", "salir"), []string{}) // with an agent, it is for the agent
}

// A hand-off whose ticket was lost (a crash between the turn's commit and
// the desk's write) is rebuilt from the conversation on its next message.
func TestLostTicketIsRebuilt(t *testing.T) {
	store := memory.New()
	f := newFixture(t, shopBot(), store, handoff.NewMemory(), nil)
	f.say("c", "cambio")
	f.say("c", "A1234")
	g := newFixture(t, shopBot(), store, handoff.NewMemory(), f.clock) // the desk's data is gone
	g.n = f.n                                                          // new message ids
	if n := len(g.desk.Tickets("ana")); n != 0 {
		t.Fatalf("%d tickets", n)
	}
	check(t, "still silent", g.say("c", "¿hola?"), []string{})
	tv := g.ticket("ana", "c")
	check(t, "rebuilt", fmt.Sprint(tv.Queue, " ", tv.State, " ", tv.Reason, " ", tv.Slots["pedido"], " ", tv.Stack), "cambios waiting Cambio del pedido A1234 A1234 [cambio]")
}
