package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const shopBot = "../../examples/ecommerce"

// A bot whose actions are Go functions of its program: charla chat says so
// once, at the start, and points to the program and to --mocks.
func TestChatNotesGoActions(t *testing.T) {
	code, out, errOut := charla(t, "hola\nquiero cambiar la talla\nA1001\n", "chat", shopBot, "--memory", "--understander", "keyword")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, s := range []string{" actions (get_customer, get_order,", "are Go functions that the program embedding the bot provides",
		"go run ./examples/ecommerce --chat", "--mocks TEST"} {
		if !strings.Contains(errOut, s) {
			t.Errorf("stderr lacks %q:\n%s", s, errOut)
		}
	}
	if n := strings.Count(errOut, "note:"); n != 1 {
		t.Errorf("%d notes, want 1:\n%s", n, errOut)
	}
	if !strings.Contains(out, "no logro consultar el sistema de la tienda") {
		t.Errorf("the shop's error path:\n%s", out)
	}
	// A bot without Go actions gets no note.
	if _, _, errOut := charla(t, "hola\n", "chat", benchBot, "--memory"); errOut != "" {
		t.Errorf("bench bot: stderr %q", errOut)
	}
}

// --mocks TEST answers the actions with a conversation test's mocks, so
// the reference shop bot's exchange runs through in the terminal.
func TestChatMocks(t *testing.T) {
	in := "hola\nquiero cambiar la talla\n1\n43\nsí\n"
	code, out, errOut := charla(t, in, "chat", shopBot, "--memory", "--user", "ana", "--verified", "--mocks", "bench_size_exchange")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, s := range []string{
		"¡Hola, Ana! Soy el asistente de Tienda Charla.",
		"¿De cuál de tus pedidos quieres cambiar la talla?\n  1. A1001 · Runner Pro (entregado)\n",
		"Tu pedido A1001 es Runner Pro en talla 42. ¿Qué talla necesitas?\n",
		"Cambio tu Runner Pro talla 42 por la talla 43. ¿Lo confirmo?\n",
		"¡Listo! Tu cambio quedó registrado con el número CX-1001.",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("missing %q in:\n%s", s, out)
		}
	}
	// The actions the test does not mock are named, once.
	if !strings.Contains(errOut, "test bench_size_exchange has no mocks for verify_email, ") || strings.Count(errOut, "note:") != 1 {
		t.Errorf("stderr: %s", errOut)
	}
	if code, _, errOut := charla(t, "", "chat", shopBot, "--memory", "--mocks", "nope"); code != 2 || !strings.Contains(errOut, `no conversation test named "nope"`) {
		t.Errorf("unknown test: exit %d: %s", code, errOut)
	}
}

// A second chat goes on with the conversation saved in ./charla-data and
// says so on stderr; stdout stays the conversation's.
func TestChatResumeNote(t *testing.T) {
	bot, err := filepath.Abs(benchBot)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	if code, _, errOut := charla(t, "hola\nquiero cambiar la talla\n", "chat", bot); code != 0 || errOut != "" {
		t.Fatalf("first chat: exit %d, stderr %q", code, errOut)
	}
	code, out, errOut := charla(t, "A1234\n", "chat", bot)
	if code != 0 || out != "Which new size would you like? (35-46)\n" {
		t.Errorf("exit %d, stdout:\n%s", code, out)
	}
	if !regexp.MustCompile(`^charla chat: resuming the conversation saved in \./charla-data \(2 turns, the last on [-0-9 :]+, in size_exchange; /reset to start over\)\n$`).MatchString(errOut) {
		t.Errorf("stderr %q", errOut)
	}
	// --data names the directory; --memory resumes nothing.
	data := filepath.Join(t.TempDir(), "d")
	charla(t, "hola\n", "chat", bot, "--data", data)
	if _, _, errOut := charla(t, "", "chat", bot, "--data", data); !strings.HasPrefix(errOut, "charla chat: resuming the conversation saved in "+data+" (1 turn") {
		t.Errorf("--data: stderr %q", errOut)
	}
	if _, _, errOut := charla(t, "hola\n", "chat", bot, "--memory"); errOut != "" {
		t.Errorf("--memory: stderr %q", errOut)
	}
}

// A hand-off in charla chat has nobody to answer: chat says so on stderr,
// and how to go on.
func TestChatHandoffNote(t *testing.T) {
	code, out, errOut := charla(t, "quiero hablar con una persona\nhola\n/reset\nhola\n", "chat", shopBot, "--memory", "--understander", "keyword")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, s := range []string{
		"charla chat: the conversation is now queued for a person (queue ", ", and no agent can answer in this terminal: the bot stays silent from now on.",
		"Type /reset to start over with the bot, or «cancelar» to leave the queue.",
		"run `charla serve " + shopBot + "` and ask for one in its web chat",
		"charla chat: (still queued for a person",
	} {
		if !strings.Contains(errOut, s) {
			t.Errorf("stderr lacks %q:\n%s", s, errOut)
		}
	}
	if strings.Contains(out, "charla chat") || strings.Count(out, "¡Hola! Soy el asistente de Tienda Charla.") != 1 || !strings.Contains(out, "(conversation reset)") {
		t.Errorf("stdout:\n%s", out)
	}
}

// /event delivers an event with its data, as POST /api/v1/events does.
func TestChatEventCommand(t *testing.T) {
	in := "/event conversation_start\n" + `/event order_update {"order": "A1002", "milestone": "airport"}` + "\n/event order_shipped\n"
	code, out, errOut := charla(t, in, "chat", shopBot, "--memory")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, "¡Hola! Soy el asistente de Tienda Charla.") || !strings.Contains(out, "✈️ Tu pedido A1002 llegó al aeropuerto.\n") {
		t.Errorf("stdout:\n%s", out)
	}
	if !strings.Contains(errOut, "charla chat: no flow is triggered by the event order_shipped: nothing was run (this bot's events: conversation_start, order_update)") {
		t.Errorf("stderr:\n%s", errOut)
	}
}
