package engine_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/keyword"
)

func withNLU(p *engine.Program) engine.Options {
	return engine.Options{Understander: keyword.New(p)}
}

func TestDigressionAndResume(t *testing.T) {
	p := sizeBot()
	h := newHarness(t, p, withNLU(p))
	h.expect("c", "quiero cambiar la talla", txtAskOrder)
	h.expect("c", "A1234", txtAskSize)
	tr := h.expect("c", "¿y dónde está mi pedido?", "Tu pedido va en camino.", "Volviendo a tu cambio de talla:", txtRetrySize)
	if tr.Conversation.Flow != "size_exchange" || tr.Conversation.Slots["order"] != "A1234" {
		t.Fatalf("after the digression: %+v", tr.Conversation)
	}
	h.expect("c", "43", "Confirm the exchange of order A1234 to size 43?")
}

func TestEntitiesFillEverySlot(t *testing.T) {
	p := sizeBot()
	h := newHarness(t, p, withNLU(p))
	tr := h.expect("c", "quiero cambiar el pedido A1234 a talla 43", "Confirm the exchange of order A1234 to size 43?")
	if tr.Conversation.Slots["size"] != 43.0 {
		t.Fatalf("slots = %v", tr.Conversation.Slots)
	}
	// An entity for a later question fills it while answering an earlier one.
	h.expect("d", "quiero cambiar la talla", txtAskOrder)
	h.expect("d", "es el B2222, talla 40", "Confirm the exchange of order B2222 to size 40?")
}

func TestCorrectionRerunsWhatDependsOnIt(t *testing.T) {
	p := sizeBot()
	h := newHarness(t, p, withNLU(p))
	h.expect("c", "quiero cambiar el pedido A1234 a talla 43", "Confirm the exchange of order A1234 to size 43?")
	tr := h.expect("c", "no, mejor la 44", "Confirm the exchange of order A1234 to size 44?")
	if tr.Conversation.Slots["size"] != 44.0 {
		t.Fatalf("size = %v", tr.Conversation.Slots["size"])
	}
	if _, ok := tr.Conversation.Slots["confirmed"]; ok {
		t.Fatalf("the confirmation should be forgotten: %v", tr.Conversation.Slots)
	}
	// An invalid correction is not taken.
	h.expect("c", "mejor la 50", "Please answer si or no. Confirm the exchange of order A1234 to size 44?")
	h.expect("c", "sí", "Done! Order A1234 will be exchanged to size 44. You will receive an email with the return label.")
}

func TestValidAnswerIsNotADigression(t *testing.T) {
	p := sizeBot()
	// A flow asking which topic, whose answer "estado" is also a keyword of order_status.
	p.Flows = append(p.Flows, &engine.Flow{
		Name:          "topics",
		Interruptible: true,
		Triggers:      engine.Triggers{Keywords: []string{"temas"}},
		Slots: []*engine.Slot{{Name: "topic", Type: engine.SlotChoice, Choices: []engine.Choice{
			{Value: "estado", Label: engine.Lit("Estado")}, {Value: "factura", Label: engine.Lit("Factura")}}}},
		Steps: []engine.Step{
			&engine.Ask{Slot: "topic", Prompt: msg("¿Qué tema?"), Exhausted: engine.Default},
			&engine.Say{Message: msg("Tema: {{ topic }}")},
		},
	})
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, p, withNLU(p))
	tr := h.expect("c", "temas", "¿Qué tema?")
	if got := tr.Messages[0].Choices; len(got) != 2 || got[0].Label != "Estado" || got[1].Value != "factura" {
		t.Fatalf("choices = %+v", got)
	}
	h.expect("c", "estado", "Tema: estado")
}

func TestCancelAtAnyPoint(t *testing.T) {
	p := sizeBot()
	h := newHarness(t, p, withNLU(p))
	h.expect("c", "quiero cambiar la talla", txtAskOrder)
	h.expect("c", "A1234", txtAskSize)
	tr := h.expect("c", "olvídalo", "De acuerdo, lo dejamos.")
	if tr.Conversation.Flow != "" || len(tr.Conversation.Slots) != 0 {
		t.Fatalf("after cancel: %+v", tr.Conversation)
	}
	evs, _ := h.rt.Events(context.Background(), 0, 0)
	if !hasEvent(evs, engine.EvFlowAbandoned, "size_exchange", "cancel") {
		t.Fatalf("no abandoned event: %+v", evs)
	}
}

func hasEvent(evs []engine.Event, kind engine.EventKind, flow, detail string) bool {
	for _, e := range evs {
		if e.Kind == kind && (flow == "" || e.Flow == flow) && (detail == "" || e.Detail == detail) {
			return true
		}
	}
	return false
}

// agents is a fake hand-off hook.
type agents struct {
	mu       sync.Mutex
	requests []engine.HandoffRequest
	forwards []engine.Entry
}

func (a *agents) Request(_ context.Context, r engine.HandoffRequest) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests = append(a.requests, r)
	return nil
}

func (a *agents) Forward(_ context.Context, _ string, e engine.Entry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.forwards = append(a.forwards, e)
	return nil
}

func TestHumanRequestAndRelease(t *testing.T) {
	p := sizeBot()
	ag := &agents{}
	o := withNLU(p)
	o.Agents = ag
	h := newHarness(t, p, o)
	ctx := context.Background()
	h.expect("c", "quiero cambiar la talla", txtAskOrder)
	h.expect("c", "A1234", txtAskSize)
	tr := h.expect("c", "quiero hablar con una persona", "Te paso con una persona.")
	if tr.Conversation.Status != engine.StatusQueued {
		t.Fatalf("status = %s", tr.Conversation.Status)
	}
	if len(ag.requests) != 1 || ag.requests[0].Reason != "asked for a person" || ag.requests[0].Slots["order"] != "A1234" || len(ag.requests[0].Stack) != 2 {
		t.Fatalf("requests = %+v", ag.requests)
	}
	h.expect("c", "¿hola? ¿alguien?") // silent while queued
	if len(ag.forwards) != 1 || ag.forwards[0].Text != "¿hola? ¿alguien?" {
		t.Fatalf("forwards = %+v", ag.forwards)
	}
	if err := h.rt.Assign(ctx, "c", "maria"); err != nil {
		t.Fatal(err)
	}
	if err := h.rt.AgentSend(ctx, "c", "maria", engine.Outbound{Text: "Hola, soy María."}); err != nil {
		t.Fatal(err)
	}
	c, _ := h.rt.Conversation(ctx, "c")
	if c.Status != engine.StatusAgent {
		t.Fatalf("status = %s", c.Status)
	}
	tr, err := h.rt.Release(ctx, "c", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(tr); got != "Volviendo a tu cambio de talla: | "+txtRetrySize {
		t.Fatalf("release said %q", got)
	}
	h.expect("c", "43", "Confirm the exchange of order A1234 to size 43?")
	es, _ := h.rt.Transcript(ctx, "c", 0, 0)
	var agent *engine.Entry
	for i := range es {
		if es[i].From == engine.FromAgent {
			agent = &es[i]
		}
	}
	if agent == nil || agent.Text != "Hola, soy María." || agent.Agent != "maria" || !agent.Proactive {
		t.Fatalf("agent entry = %+v", agent)
	}
}

func TestFallbackSuggestsAndEscalates(t *testing.T) {
	p := sizeBot()
	fb := p.Flow("fallback")
	fb.Steps = []engine.Step{&engine.Say{Message: &engine.Message{Variants: []engine.Text{engine.Lit(txtFallback)},
		ChoicesFrom: engine.MustExpr("suggestions")}}}
	h := newHarness(t, p, withNLU(p))
	tr := h.expect("c", "mi pedido", txtFallback) // half of two intents' words: below the threshold
	ch := tr.Messages[0].Choices
	if len(ch) == 0 {
		t.Fatalf("no suggestions")
	}
	// Pressing a suggestion starts its flow.
	var value string
	for _, c := range ch {
		if c.Value == "change_size" {
			value = c.Value
		}
	}
	if value == "" {
		t.Fatalf("suggestions = %+v", ch)
	}
	tr2, err := h.rt.Handle(context.Background(), engine.Inbound{Conversation: "c", Choice: value})
	if err != nil || texts(tr2) != txtAskOrder {
		t.Fatalf("pressing %q: %q %v", value, texts(tr2), err)
	}
	// Three misunderstandings in a row: a person.
	h.expect("e", "blablabla", txtFallback)
	h.expect("e", "xyz", txtFallback)
	tr = h.expect("e", "qwerty", "Te paso con una persona.")
	if tr.Conversation.Status != engine.StatusQueued {
		t.Fatalf("status = %s", tr.Conversation.Status)
	}
}

func TestKnowledgeBase(t *testing.T) {
	p := sizeBot()
	p.KB = []*engine.Article{{ID: "envios", Title: engine.Lit("Envíos"),
		Questions: map[string][]string{"es": {"cuanto cuesta el envio", "costo de envio"}},
		Answer:    msg("El envío cuesta $5.000.")}}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, p, withNLU(p))
	h.expect("c", "¿cuánto cuesta el envío?", "El envío cuesta $5.000.")
	h.expect("c", "quiero cambiar la talla", txtAskOrder)
	h.expect("c", "cuanto cuesta el envio", "El envío cuesta $5.000.", "Volviendo a tu cambio de talla:", txtRetryOrder)
}

func TestRetriesExhausted(t *testing.T) {
	p := sizeBot()
	h := newHarness(t, p, engine.Options{})
	h.expect("c", "cambiar talla", txtAskOrder)
	h.expect("c", "no sé", txtRetryOrder)
	h.expect("c", "ni idea", txtRetryOrder)
	tr := h.expect("c", "???", txtFallback) // the third failure gives up on the flow
	if tr.Conversation.Flow != "" {
		t.Fatalf("flow = %q", tr.Conversation.Flow)
	}
}

// loopBot has a flow that never waits, a flow whose expression fails at
// run time, and an error flow.
func loopBot() *engine.Program {
	p := &engine.Program{
		Name: "loops", Languages: []string{"es"},
		Flows: []*engine.Flow{
			{Name: "loop", Triggers: engine.Triggers{Keywords: []string{"loop"}},
				Steps: []engine.Step{&engine.Set{Assign: []engine.Assign{{Name: "n", Value: engine.MustExpr("(n ?? 0) + 1")}}}, &engine.Goto{Target: 0}}},
			{Name: "boom", Interruptible: true, Triggers: engine.Triggers{Keywords: []string{"boom"}},
				Slots: []*engine.Slot{{Name: "x", Type: engine.SlotNumber}},
				Steps: []engine.Step{
					&engine.Ask{Slot: "x", Prompt: msg("¿x?"), Exhausted: engine.Default},
					&engine.Say{Message: msg("{{ x / missing.field }}")},
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

func TestLoopGuard(t *testing.T) {
	p := loopBot()
	p.Settings.MaxSteps = 50
	h := newHarness(t, p, engine.Options{})
	tr := h.expect("c", "loop", "Algo falló.")
	if tr.Conversation.Flow != "" {
		t.Fatalf("flow = %q", tr.Conversation.Flow)
	}
	evs, _ := h.rt.Events(context.Background(), 0, 0)
	found := false
	for _, e := range evs {
		if e.Kind == engine.EvError && strings.Contains(e.Detail, "loop guard") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no loop-guard event in %+v", evs)
	}
	h.expect("c", "loop", "Algo falló.") // the conversation still works
}

func TestRuntimeExpressionFailure(t *testing.T) {
	h := newHarness(t, loopBot(), engine.Options{})
	h.expect("c", "boom", "¿x?")
	tr := h.expect("c", "3", "Algo falló.")
	if tr.Conversation.Flow != "" || tr.Conversation.Status != engine.StatusBot {
		t.Fatalf("conversation = %+v", tr.Conversation)
	}
	s, _ := h.rt.Session(context.Background(), "c")
	if len(s.Stack) != 0 {
		t.Fatalf("stack = %+v", s.Stack)
	}
	h.expect("c", "boom", "¿x?")
}

func TestDuplicateMessageIsAnsweredOnce(t *testing.T) {
	p := sizeBot()
	h := newHarness(t, p, engine.Options{})
	ctx := context.Background()
	send := func(id, text string) *engine.Turn {
		tr, err := h.rt.Handle(ctx, engine.Inbound{Conversation: "c", ID: id, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	send("1", "cambiar talla")
	a := send("2", "A1234")
	b := send("2", "A1234")
	if !b.Duplicate || a.Duplicate || texts(a) != texts(b) || texts(b) != txtAskSize {
		t.Fatalf("first %q (dup %v), again %q (dup %v)", texts(a), a.Duplicate, texts(b), b.Duplicate)
	}
	es, _ := h.rt.Transcript(ctx, "c", 0, 0)
	if len(es) != 4 {
		t.Fatalf("transcript has %d entries, want 4", len(es))
	}
	// A redelivered message that had no reply gets none.
	send("3", "43")
	s, _ := h.rt.Session(ctx, "c")
	if s.Top().Step != 2 {
		t.Fatalf("step = %d", s.Top().Step)
	}
}

func TestFiftyConcurrentMessagesOneConversation(t *testing.T) {
	p := &engine.Program{Name: "count", Languages: []string{"es"},
		Flows: []*engine.Flow{{Name: "count", Triggers: engine.Triggers{Patterns: []*regexp.Regexp{regexp.MustCompile(`.`)}},
			Slots: []*engine.Slot{{Name: "n", Type: engine.SlotInteger, Scope: engine.ScopeConversation}},
			Steps: []engine.Step{
				&engine.Set{Assign: []engine.Assign{{Name: "n", Value: engine.MustExpr("(n ?? 0) + 1")}}},
				&engine.Say{Message: msg("{{ n }}:{{ text }}")},
			}}}}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, p, engine.Options{})
	ctx := context.Background()
	var wg sync.WaitGroup
	replies := make([]string, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr, err := h.rt.Handle(ctx, engine.Inbound{Conversation: "c", ID: itoa(i), Text: "m" + itoa(i)})
			if err != nil {
				t.Error(err)
				return
			}
			replies[i] = texts(tr)
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, r := range replies {
		n, text, _ := strings.Cut(r, ":")
		if text != "m"+itoa(i) || seen[n] {
			t.Fatalf("reply %d = %q", i, r)
		}
		seen[n] = true
	}
	es, _ := h.rt.Transcript(ctx, "c", 0, 0)
	if len(es) != 100 {
		t.Fatalf("transcript: %d entries", len(es))
	}
	// In order: each reply follows its message, and the count grows by one.
	for i := 0; i < 100; i += 2 {
		if es[i].From != engine.FromUser || es[i+1].Text != itoa(i/2+1)+":"+es[i].Text {
			t.Fatalf("entries %d-%d: %+v %+v", i, i+1, es[i], es[i+1])
		}
	}
	c, _ := h.rt.Conversation(ctx, "c")
	if c.Slots["n"] != 50 {
		t.Fatalf("n = %v", c.Slots["n"])
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// A trigger guard reading `waiting` keeps a flow from starting as a
// digression: a lone "no" answers nothing while an order number is asked
// for, and starts its flow when nothing is pending.
func TestGuardOnWaiting(t *testing.T) {
	p := sizeBot()
	p.Flows = append(p.Flows, &engine.Flow{
		Name:     "nothing_else",
		Triggers: engine.Triggers{Keywords: []string{"no gracias"}, Guard: engine.MustExpr(`waiting == ""`)},
		Steps:    []engine.Step{&engine.Say{Message: msg("¡Que tengas un buen día!")}},
	})
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, p, withNLU(p))
	h.expect("c", "quiero cambiar la talla", txtAskOrder)
	h.expect("c", "no gracias", txtRetryOrder)
	h.expect("c", "A1234", txtAskSize)
	h.expect("d", "no gracias", "¡Que tengas un buen día!")
	env := engine.Builtins()
	if env[engine.VarWaiting] != engine.String {
		t.Fatalf("waiting is not a string builtin: %v", env[engine.VarWaiting])
	}
}

// An entity in a message that asks for another flow fills that flow, and
// is not a correction of the interrupted one.
func TestDigressionIsNotACorrection(t *testing.T) {
	p := sizeBot()
	h := newHarness(t, p, withNLU(p))
	h.expect("c", "quiero cambiar la talla", txtAskOrder)
	h.expect("c", "A1234", txtAskSize)
	tr := h.expect("c", "¿y dónde está mi pedido B2222?", "Tu pedido va en camino.", "Volviendo a tu cambio de talla:", txtRetrySize)
	if tr.Conversation.Slots["order"] != "A1234" {
		t.Fatalf("the exchange's order became %v", tr.Conversation.Slots["order"])
	}
	// The same flow asked again with a new value is a correction.
	tr = h.expect("c", "quiero cambiar la talla del pedido B2222", txtAskSize)
	if tr.Conversation.Slots["order"] != "B2222" {
		t.Fatalf("a correction was not taken: %v", tr.Conversation.Slots)
	}
}

// A flow marked Leave (a survey) ends when the shopper moves on to
// something else, instead of being resumed afterwards.
func TestDigressionLeavesASurvey(t *testing.T) {
	p := sizeBot()
	p.Flows = append(p.Flows, &engine.Flow{
		Name:          "survey",
		Interruptible: true,
		Leave:         true,
		Triggers:      engine.Triggers{Keywords: []string{"encuesta"}},
		Slots:         []*engine.Slot{{Name: "rating", Type: engine.SlotInteger}},
		Steps: []engine.Step{
			&engine.Ask{Slot: "rating", Prompt: msg("¿De 1 a 5?"), Exhausted: engine.Default},
			&engine.Say{Message: msg("¡Gracias!")},
		},
	})
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, p, withNLU(p))
	h.expect("c", "encuesta", "¿De 1 a 5?")
	tr := h.expect("c", "¿y dónde está mi pedido?", "Tu pedido va en camino.")
	if tr.Conversation.Flow != "" {
		t.Fatalf("the survey was resumed: %+v", tr.Conversation)
	}
	h.expect("c", "encuesta", "¿De 1 a 5?")
	h.expect("c", "4", "¡Gracias!")
}

// FuzzHandle sends arbitrary texts and buttons to a conversation in the
// middle of a flow: a turn never fails, never panics, and the conversation
// still answers afterwards.
func FuzzHandle(f *testing.F) {
	for _, s := range []string{"hola", "A1234", "no, mejor la 44", "olvídalo", "\x00\xff", "😀", "quiero cambiar el pedido A1234 a talla 43"} {
		f.Add(s, false)
	}
	p := sizeBot()
	h := newHarness(f, p, withNLU(p))
	ctx := context.Background()
	n := 0
	f.Fuzz(func(t *testing.T, text string, button bool) {
		n++
		conv := "f" + strconv.Itoa(n)
		h.rt.Handle(ctx, engine.Inbound{Conversation: conv, Text: "cambiar talla"})
		in := engine.Inbound{Conversation: conv, Text: text}
		if button {
			in = engine.Inbound{Conversation: conv, Choice: text}
		}
		if _, err := h.rt.Handle(ctx, in); err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if _, err := h.rt.Handle(ctx, engine.Inbound{Conversation: conv, Text: "hola"}); err != nil {
			t.Fatalf("after %q: %v", text, err)
		}
	})
}
