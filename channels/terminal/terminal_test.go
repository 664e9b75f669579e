package terminal_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charlabot/charla/channels/terminal"
	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/keyword"
	"github.com/charlabot/charla/engine/memory"
	"github.com/charlabot/charla/flows"
)

const bot = `name: t
languages: [es, en]
`

const flowsYAML = `flow: who
triggers: {keywords: [quien]}
steps:
  - if: user.verified
    say: "Eres {{ user.id }}, verificado."
    else: {say: "No sé quién eres."}
---
flow: color
triggers: {keywords: [color]}
slots:
  c: {type: choice, choices: [{value: red, label: Rojo}, {value: blue, label: Azul}]}
steps:
  - ask: c
    say: "¿Qué color?"
  - say: "Elegiste {{ c }}."
---
flow: shipped
triggers: {events: [shipped]}
steps:
  - say: "Tu pedido {{ event.order }} salió."
---
flow: idioma
triggers: {keywords: [idioma, language]}
slots:
  c: {type: choice, choices: [{value: red, label: {es: Rojo, en: Red}}, {value: blue, label: {es: Azul, en: Blue}}]}
steps:
  - ask: c
    say: {es: "¿Qué color?", en: "Which colour?"}
  - say: {es: "Elegiste {{ c }}.", en: "You chose {{ c }}."}
---
flow: pedido
triggers: {keywords: [pedido]}
slots:
  cliente: {type: text, scope: conversation}
  modelo: {type: text}
  talla: {type: number}
steps:
  - set: {cliente: '"Ana"'}
  - ask: modelo
    say: "¿Qué modelo?"
  - id: ask_talla
    ask: talla
    say: "¿Qué talla?"
  - say: "{{ modelo }} talla {{ talla }}."
---
flow: persona
triggers: {keywords: [persona]}
steps:
  - say: "Te paso con alguien."
    handoff: ventas
---
flow: hola
triggers: {events: [conversation_start]}
steps:
  - say: "¡Bienvenido!"
---
flow: pago
triggers: {keywords: [pagar]}
steps:
  - say: "Esperando el pago."
  - wait: paid
    timeout: 1h
    into: pay
  - say: "Pago {{ pay.id }} recibido."
---
flow: avisos
triggers: {keywords: [sin avisos]}
slots:
  notifications: {type: boolean, scope: user}
steps:
  - set: {notifications: 'false'}
  - say: "Sin avisos."
`

const queues = `queues:
  ventas: {}
`

func runtime(t *testing.T) *engine.Runtime {
	t.Helper()
	return runtimeOn(t, memory.New(), nil)
}

// runtimeOn returns a runtime of the test bot on store, with a clock (nil: the time).
func runtimeOn(t *testing.T, store engine.Store, now func() time.Time) *engine.Runtime {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bot.yaml"), []byte(bot+queues), 0o644)
	os.MkdirAll(filepath.Join(dir, "flows"), 0o755)
	os.WriteFile(filepath.Join(dir, "flows", "f.yaml"), []byte(flowsYAML), 0o644)
	b, err := flows.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := engine.NewRuntime(b.Program, engine.Options{Store: store, Understander: keyword.New(b.Program), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// chat runs a piped chat of the lines in on rt; set, if not nil, sets
// the chat's fields. It returns what the chat wrote on Out and on Err.
func chat(t *testing.T, rt *engine.Runtime, in string, set func(*terminal.Chat)) (out, errOut string) {
	t.Helper()
	var o, e bytes.Buffer
	c := &terminal.Chat{In: strings.NewReader(in), Out: &o, Err: &e}
	if set != nil {
		set(c)
	}
	if err := c.Run(context.Background(), rt); err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String()
}

// syncBuffer is a bytes.Buffer safe to read while the chat writes; a
// write signals changed.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestChatPiped(t *testing.T) {
	for _, tc := range []struct {
		name     string
		verified bool
		want     string
	}{
		{"vouched", true, "Eres ana, verificado.\n"},
		{"not vouched", false, "No sé quién eres.\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			c := &terminal.Chat{In: strings.NewReader("quien\ncolor\n2\n/quit\ncolor\n"), Out: &out, User: "ana", Verified: tc.verified}
			if err := c.Run(context.Background(), runtime(t)); err != nil {
				t.Fatal(err)
			}
			want := tc.want + "¿Qué color?\n  1. Rojo\n  2. Azul\nElegiste blue.\n"
			if out.String() != want {
				t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
			}
		})
	}
}

// Messages sent outside a turn are printed as they come; Run returns when
// ctx ends even while it waits for a line.
func TestChatProactiveAndCancel(t *testing.T) {
	rt := runtime(t)
	pr, pw := io.Pipe()
	defer pw.Close()
	out := syncBuffer{changed: make(chan struct{}, 1)}
	c := &terminal.Chat{In: pr, Out: &out, User: "ana"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, rt) }()
	io.WriteString(pw, "quien\n")
	waitFor(t, &out, "No sé quién eres.\n")
	if _, err := rt.Trigger(context.Background(), "ana", "shipped", map[string]any{"order": "A1002"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, &out, "Tu pedido A1002 salió.\n")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after ctx ended")
	}
}

// waitFor waits until the chat has written s (the timer only guards
// against a hang).
func waitFor(t *testing.T, out *syncBuffer, s string) {
	t.Helper()
	hang := time.After(10 * time.Second)
	for !strings.Contains(out.String(), s) {
		select {
		case <-out.changed:
		case <-hang:
			t.Fatalf("no %q in:\n%s", s, out.String())
		}
	}
}

// A button is answered by its number, by its text (in any case) and by
// its value; a number out of range is a message like any other.
func TestChatButtons(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2", "Elegiste blue."},
		{" 2 ", "Elegiste blue."},
		{"Azul", "Elegiste blue."},
		{"azul", "Elegiste blue."},
		{"blue", "Elegiste blue."},
		{"1", "Elegiste red."},
		{"3", "Elige una de las opciones"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			out, errOut := chat(t, runtime(t), "idioma\n"+tc.in+"\n", nil)
			if !strings.HasPrefix(out, "¿Qué color?\n  1. Rojo\n  2. Azul\n") || !strings.Contains(out, tc.want) || errOut != "" {
				t.Errorf("stdout:\n%s\nstderr: %s", out, errOut)
			}
		})
	}
}

// /lang switches the conversation's language, before its first message or
// in the middle of a question, whose buttons still answer by number and by
// either language's text.
func TestChatLang(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"first", "/lang en\nidioma\nBlue\n", "(language: en)\nWhich colour?\n  1. Red\n  2. Blue\nYou chose blue.\n"},
		{"case and region", "/lang EN-us\nidioma\n1\n", "(language: en)\nWhich colour?\n  1. Red\n  2. Blue\nYou chose red.\n"},
		{"mid-question by number", "idioma\n/lang en\n2\n", "¿Qué color?\n  1. Rojo\n  2. Azul\n(language: en)\nYou chose blue.\n"},
		{"mid-question by the new text", "idioma\n/lang en\nRed\n", "¿Qué color?\n  1. Rojo\n  2. Azul\n(language: en)\nYou chose red.\n"},
		{"and back", "/lang en\nidioma\n/lang es\n2\n", "(language: en)\nWhich colour?\n  1. Red\n  2. Blue\n(language: es)\nElegiste blue.\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut := chat(t, runtime(t), tc.in, nil)
			if out != tc.want || errOut != "" {
				t.Errorf("got:\n%s\nwant:\n%s\nstderr: %s", out, tc.want, errOut)
			}
		})
	}
	out, errOut := chat(t, runtime(t), "/lang fr\n/lang\nidioma\n", nil)
	if out != "¿Qué color?\n  1. Rojo\n  2. Azul\n" ||
		errOut != "chat: the bot does not speak \"fr\" (it speaks es, en)\nchat: usage: /lang LANG (es, en)\n" {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
}

// /state shows who has the conversation, its slots, and each flow in
// progress with what it waits for, where, and its own slots.
func TestChatState(t *testing.T) {
	rt := runtime(t)
	out, _ := chat(t, rt, "/state\npedido\nRunner\ncolor\n/state\n", nil)
	want := `(no conversation yet: the first message starts it)
¿Qué modelo?
¿Qué talla?
¿Qué color?
  1. Rojo
  2. Azul
conversation cli: an anonymous user, language es
status: bot, the bot answers
slots:
  cliente = "Ana"
flows in progress, the last on top:
  pedido: asking talla, at step ask_talla (DIR/flows/f.yaml:42:5)
    modelo = "Runner"
  color (digression: the flow below goes on after it): asking c, at step #0 (DIR/flows/f.yaml:13:5)
3 turns, program version ` + rt.Program().Version + "\n"
	if out = regexp.MustCompile(`\(/\S+/flows/`).ReplaceAllString(out, "(DIR/flows/"); out != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
	out, _ = chat(t, rt, "2\n/state\n/state json\n/state xml\n", nil)
	for _, s := range []string{"slots:\n  cliente = \"Ana\"\n", "  pedido: asking talla, at step ask_talla", "    modelo = \"Runner\"\n",
		`"status": "bot"`, `"flow": "pedido"`, `"mode": "asking"`} {
		if !strings.Contains(out, s) {
			t.Errorf("no %q in:\n%s", s, out)
		}
	}
	out, _ = chat(t, rt, "/reset\npersona\n/state\n", nil)
	if !strings.Contains(out, "status: queued, waiting for a person in queue ventas since ") ||
		!strings.Contains(out, "slots:\n  cliente = \"Ana\"\n") && !strings.Contains(out, "slots: none\n") ||
		!strings.Contains(out, "  persona: handed off, until a person releases it") {
		t.Errorf("queued:\n%s", out)
	}
}

// A chat that goes on with a saved conversation says so on Err (stdout is
// the conversation's); on a terminal, it shows the pending question again,
// and piped its buttons still answer by number.
func TestChatResume(t *testing.T) {
	store := memory.New()
	rt := runtimeOn(t, store, nil)
	saved := func(c *terminal.Chat) { c.Saved = "./data" }
	out, errOut := chat(t, rt, "idioma\n", saved)
	if out != "¿Qué color?\n  1. Rojo\n  2. Azul\n" || errOut != "" {
		t.Fatalf("a new conversation: stdout:\n%s\nstderr: %q", out, errOut)
	}
	note := regexp.MustCompile(`^chat: resuming the conversation saved in \./data \(1 turn, the last on \d{4}-\d\d-\d\d \d\d:\d\d, in idioma; /reset to start over\)\n$`)
	out, errOut = chat(t, rt, "2\n", saved)
	if out != "Elegiste blue.\n" || !note.MatchString(errOut) {
		t.Errorf("piped: stdout:\n%s\nstderr: %q", out, errOut)
	}

	chat(t, rt, "idioma\n", saved)
	var o, e bytes.Buffer
	c := &terminal.Chat{In: strings.NewReader("1\n"), Out: &o, Err: &e, TTY: true, Saved: "./data"}
	if err := c.Run(context.Background(), rt); err != nil {
		t.Fatal(err)
	}
	if s := o.String(); !strings.Contains(s, "\033[36m¿Qué color?\033[0m\n  1. Rojo\n  2. Azul\n") || !strings.Contains(s, "Elegiste red.") {
		t.Errorf("terminal: the question is not shown again:\n%q", s)
	}
	if !strings.Contains(e.String(), "chat: resuming the conversation saved in ./data (3 turns") {
		t.Errorf("terminal: stderr %q", e.String())
	}

	// Without Saved, the note names the conversation.
	if _, errOut := chat(t, rt, "", nil); !strings.HasPrefix(errOut, "chat: resuming the conversation cli (4 turns, the last on ") {
		t.Errorf("stderr %q", errOut)
	}
	// A closed conversation starts afresh.
	if err := rt.Close(context.Background(), "cli", "test"); err != nil {
		t.Fatal(err)
	}
	if _, errOut := chat(t, rt, "", saved); errOut != "chat: the conversation saved in ./data was closed: the next message starts it afresh\n" {
		t.Errorf("closed: stderr %q", errOut)
	}
	// So does one idle for longer than the bot's session_ttl (24h).
	other := func(c *terminal.Chat) { c.Conversation, c.Saved = "old", "./data" }
	chat(t, runtimeOn(t, store, func() time.Time { return time.Now().Add(-48 * time.Hour) }), "idioma\n", other)
	if _, errOut := chat(t, rt, "", other); errOut != "chat: the conversation saved in ./data has been idle longer than the bot's session_ttl (24h): the next message starts it afresh\n" {
		t.Errorf("expired: stderr %q", errOut)
	}
}

// /event NAME [JSON] delivers an event as POST /api/v1/events does: the
// flow it triggers, or the wait step waiting for it, with its data; a
// conversation_start, or any event before the conversation exists, opens
// the conversation within the chat.
func TestChatEvent(t *testing.T) {
	for _, tc := range []struct {
		name, in, out, err string
	}{
		{"opens the conversation", "/event conversation_start\n", "¡Bienvenido!\n", ""},
		{"before the first message", `/event shipped {"order": "A1002"}` + "\n", "Tu pedido A1002 salió.\n", ""},
		{"proactive", "quien\n" + `/event shipped {"order": "A1002"}` + "\n", "No sé quién eres.\nTu pedido A1002 salió.\n", ""},
		{"proactive, of a user", "quien\n" + `/event shipped {"order": "A1002"}` + "\n", "Eres ana, verificado.\nTu pedido A1002 salió.\n", "user"},
		{"without data", "/event shipped\n", "Tu pedido  salió.\n", ""},
		{"at a question, a digression", "idioma\n/event shipped {\"order\": \"A1\"}\n2\n",
			"¿Qué color?\n  1. Rojo\n  2. Azul\nTu pedido A1 salió.\n", ""},
		{"a wait step's", "pagar\n" + `/event paid {"id": "P7"}` + "\n", "Esperando el pago.\nPago P7 recibido.\n", ""},
		{"a wait step's, nobody waiting", "quien\n/event paid\n", "No sé quién eres.\n(event paid: no flow is triggered by it, and none waits for it now: nothing was run)\n", ""},
		{"opted out", "sin avisos\n/event shipped {\"order\": \"A1\"}\n",
			"Sin avisos.\n(event shipped: the user asked for no notifications: nothing was run or sent)\n", "user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut := chat(t, runtime(t), tc.in, func(c *terminal.Chat) {
				if tc.err == "user" {
					c.User, c.Verified = "ana", true
				}
			})
			if !strings.HasPrefix(out, tc.out) || errOut != "" {
				t.Errorf("got:\n%s\nwant:\n%s\nstderr: %s", out, tc.out, errOut)
			}
		})
	}
	// Mistakes are said on Err, and nothing is sent.
	out, errOut := chat(t, runtime(t), "/event\n/event nope\n/event shipped {\"order\": \n/event shipped [1]\n/event {}\n", nil)
	want := `chat: usage: /event NAME [JSON], as in /event order_shipped {"order": "A1002"} (this bot's events: conversation_start, paid, shipped)
chat: no flow is triggered by the event nope: nothing was run (this bot's events: conversation_start, paid, shipped)
chat: /event shipped: the data must be a JSON object, as in {"order": "A1002"} (unexpected end of JSON input)
chat: /event shipped: the data must be a JSON object, as in {"order": "A1002"} (not an object)
chat: usage: /event NAME [JSON], as in /event order_shipped {"order": "A1002"} (this bot's events: conversation_start, paid, shipped)
`
	if out != "" || errOut != want {
		t.Errorf("stdout:\n%s\nstderr:\n%s\nwant:\n%s", out, errOut, want)
	}
}

// A hand-off with nobody to answer says so on Err, once, and briefly at
// every message the bot is then silent at; /reset brings the bot back.
func TestChatHandoff(t *testing.T) {
	noAgents := func(c *terminal.Chat) { c.NoAgents, c.AgentsHint = true, "Run the server to answer." }
	out, errOut := chat(t, runtime(t), "persona\nhola\n¿hay alguien?\n/reset\nquien\n", noAgents)
	if out != "Te paso con alguien.\n(conversation reset)\nNo sé quién eres.\n" {
		t.Errorf("stdout:\n%s", out)
	}
	want := "chat: the conversation is now queued for a person (queue ventas), and no agent can answer in this terminal: " +
		"the bot stays silent from now on. Type /reset to start over with the bot, or «cancelar» to leave the queue. Run the server to answer.\n" +
		strings.Repeat("chat: (still queued for a person, and no agent can answer here: type /reset to start over with the bot, or «cancelar» to leave the queue)\n", 2)
	if errOut != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, want)
	}

	// The cancel flow's words leave the queue.
	if out, _ := chat(t, runtime(t), "persona\ncancelar\nquien\n", noAgents); !strings.HasSuffix(out, "No sé quién eres.\n") {
		t.Errorf("cancelar:\n%s", out)
	}

	// Resumed while queued: said at the start.
	rt := runtime(t)
	chat(t, rt, "persona\n", noAgents)
	if _, errOut := chat(t, rt, "", noAgents); !strings.Contains(errOut, "; /reset to start over)\nchat: the conversation is queued for a person (queue ventas), and no agent can answer") {
		t.Errorf("resumed: stderr:\n%s", errOut)
	}

	// Where people can answer (an embedding program serving the agent
	// console), the note does not say that nobody can.
	_, errOut = chat(t, runtime(t), "persona\nhola\n", nil)
	want = "chat: the conversation is now queued for a person (queue ventas): the bot stays silent until a person answers or releases it. " +
		"Type /reset to start over with the bot, or «cancelar» to leave the queue.\n" +
		"chat: (queued for a person: the bot stays silent, your message waits for them)\n"
	if errOut != want {
		t.Errorf("with agents: stderr:\n%s\nwant:\n%s", errOut, want)
	}
}

// /help lists the commands; a /word that is not one goes to the bot, and
// //word sends /word.
func TestChatHelp(t *testing.T) {
	out, errOut := chat(t, runtime(t), "/help\n", nil)
	for _, s := range []string{"  /reset ", "  /state ", "  /lang LANG ", "  /event NAME [JSON] ", "/event conversation_start", "  /quit ",
		"The bot speaks es, en; its events: conversation_start, paid, shipped.", "//help sends /help"} {
		if !strings.Contains(out, s) {
			t.Errorf("no %q in:\n%s", s, out)
		}
	}
	if errOut != "" {
		t.Errorf("stderr %q", errOut)
	}
	if !strings.Contains(terminal.Help, "/event NAME [JSON]") || !strings.Contains(terminal.Help, "/help") {
		t.Errorf("Help = %q", terminal.Help)
	}
	// /start is the bot's (here its fallback answers), //help is the
	// bot's help flow, and commands are case-insensitive.
	out, _ = chat(t, runtime(t), "/start\n//help\n/STATE\n", nil)
	lines := strings.SplitN(out, "\n", 4)
	if len(lines) < 4 || !strings.Contains(lines[0], "no te entendí") || !strings.Contains(lines[1], "«cancelar»") ||
		!strings.HasPrefix(lines[2], "conversation cli: ") || strings.Contains(out, "commands:") {
		t.Errorf("stdout:\n%s", out)
	}
}
