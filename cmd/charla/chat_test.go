package main

import (
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
