package engine_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/memory"
)

// The texts of the peer benchmark's size-exchange conversation.
const (
	txtGreeting = "Hi! I'm the store assistant. What would you like to do?\n" +
		"1. Change the size of an order (say \"cambiar la talla\")\n" +
		"2. Track an order\n" +
		"3. Talk to a person"
	txtAskOrder     = "What is your order number? (one capital letter and 4 digits, e.g. A1234)"
	txtRetryOrder   = "That is not a valid order number. Please type one capital letter followed by 4 digits, e.g. A1234."
	txtAskSize      = "Which new size would you like? (35-46)"
	txtRetrySize    = "Please give a size between 35 and 46."
	txtConfirm      = "Confirm the exchange of order {{ order }} to size {{ size }}?"
	txtRetryConfirm = "Please answer si or no. Confirm the exchange of order {{ order }} to size {{ size }}?"
	txtDone         = "Done! Order {{ order }} will be exchanged to size {{ size }}. You will receive an email with the return label."
	txtCancelled    = "OK, the exchange has been cancelled."
	txtFallback     = "Sorry, I did not understand. Say \"hola\" to see the menu."
)

func msg(s string) *engine.Message {
	return &engine.Message{Variants: []engine.Text{engine.Lit(s)}}
}

// sizeBot is the peer benchmark's bot, built in Go, plus a few flows the
// tests need (order status as a digression, cancel, human, resume, error).
func sizeBot() *engine.Program {
	p := &engine.Program{
		Name:      "sizes",
		Languages: []string{"es", "en"},
		Flows: []*engine.Flow{
			{
				Name:     "greeting",
				Triggers: engine.Triggers{Keywords: []string{"hola", "buenas", "hello", "hi", "hey"}},
				Steps:    []engine.Step{&engine.Say{Message: msg(txtGreeting)}},
			},
			{
				Name:          "size_exchange",
				Title:         engine.Text{"es": engine.MustTemplate("tu cambio de talla"), "en": engine.MustTemplate("your size exchange")},
				Interruptible: true,
				Triggers:      engine.Triggers{Intents: []string{"change_size"}, Keywords: []string{"talla", "cambiar", "cambio", "size", "exchange"}},
				Slots: []*engine.Slot{
					{Name: "order", Type: engine.SlotPattern, Pattern: regexp.MustCompile(`[A-Z]\d{4}`), Entity: "order_id"},
					{Name: "size", Type: engine.SlotNumber, Validate: engine.MustExpr("size >= 35 && size <= 46"), Invalid: engine.Lit(txtRetrySize)},
					{Name: "confirmed", Type: engine.SlotBoolean},
				},
				Steps: []engine.Step{
					&engine.Ask{Slot: "order", Prompt: msg(txtAskOrder), Reprompt: msg(txtRetryOrder), Exhausted: engine.Default},
					&engine.Ask{StepMeta: engine.StepMeta{ID: "ask_size"}, Slot: "size", Prompt: msg(txtAskSize), Reprompt: msg(txtRetrySize), Exhausted: engine.Default},
					&engine.Ask{Slot: "confirmed", Prompt: msg(txtConfirm), Reprompt: msg(txtRetryConfirm), Exhausted: engine.Default},
					&engine.Branch{Cond: engine.MustExpr("confirmed"), Else: 5},
					&engine.Say{Message: msg(txtDone)},
					&engine.End{Outcome: engine.OutcomeResolved}, // 5: also the else target of the branch when cancelled
				},
			},
			{
				Name:          "order_status",
				Title:         engine.Lit("el estado de tu pedido"),
				Interruptible: true,
				Triggers:      engine.Triggers{Intents: []string{"order_status"}, Keywords: []string{"donde esta mi pedido", "estado"}},
				Steps:         []engine.Step{&engine.Say{Message: msg("Tu pedido va en camino.")}},
			},
			{Name: "fallback", System: true, Steps: []engine.Step{&engine.Say{Message: msg(txtFallback)}}},
			{Name: "cancel", System: true, Triggers: engine.Triggers{Keywords: []string{"olvidalo", "cancelar"}},
				Steps: []engine.Step{&engine.Say{Message: msg("De acuerdo, lo dejamos.")}}},
			{Name: "human", System: true, Triggers: engine.Triggers{Keywords: []string{"hablar con una persona"}},
				Steps: []engine.Step{&engine.Say{Message: msg("Te paso con una persona.")}, &engine.Handoff{}}},
			{Name: "resume", System: true, Steps: []engine.Step{&engine.Say{Message: msg("Volviendo a {{ resumed }}:")}}},
		},
		System: map[engine.SystemRole]string{
			engine.SysFallback: "fallback", engine.SysCancel: "cancel", engine.SysHuman: "human", engine.SysResume: "resume",
		},
		NLU: []*engine.NLUData{{
			Lang: "es",
			Intents: []*engine.IntentData{
				{Name: "change_size", Examples: []string{"quiero cambiar la talla", "cambiar el pedido"}},
				{Name: "order_status", Examples: []string{"donde esta mi pedido", "estado de mi pedido"}},
			},
			Entities: []*engine.EntityData{{Name: "order_id", Pattern: regexp.MustCompile(`[A-Z]\d{4}`)}},
		}},
	}
	// The cancelled branch: say cancelled then end.
	se := p.Flows[1]
	se.Steps = []engine.Step{
		se.Steps[0], se.Steps[1], se.Steps[2],
		&engine.Branch{Cond: engine.MustExpr("confirmed"), Else: 6},
		&engine.Say{Message: msg(txtDone)},
		&engine.End{Outcome: engine.OutcomeResolved},
		&engine.Say{Message: msg(txtCancelled)},
		&engine.End{Outcome: engine.OutcomeAbandoned},
	}
	if err := p.Check(); err != nil {
		panic(err)
	}
	return p
}

// clock is a settable clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// harness runs conversations against a runtime.
type harness struct {
	t     testing.TB
	rt    *engine.Runtime
	store engine.Store
	clock *clock
	n     int
}

func newHarness(t testing.TB, p *engine.Program, o engine.Options) *harness {
	t.Helper()
	h := &harness{t: t, clock: newClock()}
	if o.Store == nil {
		o.Store = memory.New()
	}
	if o.Now == nil {
		o.Now = h.clock.Now
	}
	h.store = o.Store
	rt, err := engine.NewRuntime(p, o)
	if err != nil {
		t.Fatal(err)
	}
	h.rt = rt
	return h
}

// say sends a text and returns the turn.
func (h *harness) say(conv, text string) *engine.Turn {
	h.t.Helper()
	h.n++
	tr, err := h.rt.Handle(context.Background(), engine.Inbound{Conversation: conv, Channel: "test", ID: fmt.Sprint("m", h.n), Text: text})
	if err != nil {
		h.t.Fatalf("Handle(%q): %v", text, err)
	}
	return tr
}

// expect sends a text and checks the replies' texts, joined by " | ".
func (h *harness) expect(conv, text string, want ...string) *engine.Turn {
	h.t.Helper()
	tr := h.say(conv, text)
	if got := texts(tr); got != strings.Join(want, " | ") {
		h.t.Fatalf("%q:\n got  %q\n want %q", text, got, strings.Join(want, " | "))
	}
	return tr
}

func texts(tr *engine.Turn) string {
	var s []string
	for _, m := range tr.Messages {
		s = append(s, m.Text)
	}
	return strings.Join(s, " | ")
}

func TestSizeExchangeHappyPath(t *testing.T) {
	h := newHarness(t, sizeBot(), engine.Options{})
	h.expect("c1", "hola", txtGreeting)
	h.expect("c1", "quiero cambiar la talla", txtAskOrder)
	h.expect("c1", "A1234", txtAskSize)
	tr := h.expect("c1", "43", "Confirm the exchange of order A1234 to size 43?")
	if tr.Conversation.Flow != "size_exchange" || tr.Conversation.Slots["size"] != 43.0 || tr.Conversation.Slots["order"] != "A1234" {
		t.Fatalf("conversation = %+v", tr.Conversation)
	}
	tr = h.expect("c1", "si", "Done! Order A1234 will be exchanged to size 43. You will receive an email with the return label.")
	if tr.Conversation.Flow != "" || tr.Conversation.Status != engine.StatusBot {
		t.Fatalf("conversation after the end = %+v", tr.Conversation)
	}
}

func TestSizeExchangePeerVerification(t *testing.T) {
	// The peer benchmark's own checks: reprompts, a "no" path, fallback.
	h := newHarness(t, sizeBot(), engine.Options{})
	h.expect("v", "hola", txtGreeting)
	h.expect("v", "quiero cambiar la talla", txtAskOrder)
	h.expect("v", "a12", txtRetryOrder)
	h.expect("v", "A1234", txtAskSize)
	h.expect("v", "50", txtRetrySize)
	h.expect("v", "43", "Confirm the exchange of order A1234 to size 43?")
	h.expect("v", "si", "Done! Order A1234 will be exchanged to size 43. You will receive an email with the return label.")
	h.expect("v", "hola", txtGreeting)

	h.expect("w", "cambio de talla", txtAskOrder)
	h.expect("w", "B9876", txtAskSize)
	h.expect("w", "treinta", txtRetrySize)
	h.expect("w", "38", "Confirm the exchange of order B9876 to size 38?")
	h.expect("w", "quizas", "Please answer si or no. Confirm the exchange of order B9876 to size 38?")
	h.expect("w", "no", txtCancelled)
	h.expect("w", "que tal", txtFallback)
}
