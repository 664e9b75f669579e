package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// chat runs `ecommerce --chat ARGS` on the lines of stdin and returns what
// it printed.
func chat(t *testing.T, stdin string, args ...string) (out, errOut string) {
	t.Helper()
	var o, e bytes.Buffer
	m := NewMain()
	m.Getenv = func(string) string { return "" }
	if err := m.ParseFlags(append([]string{"--chat"}, args...), &e); err != nil {
		t.Fatal(err, e.String())
	}
	m.Logger = slog.New(slog.NewTextHandler(&e, &slog.HandlerOptions{Level: slog.LevelWarn}))
	m.In, m.Out, m.Err = strings.NewReader(stdin), &o, &e
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err, e.String())
	}
	return o.String(), e.String()
}

func contains(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("missing %q in:\n%s", w, out)
		}
	}
}

// The terminal chat talks to the real shop: ana's order status and a size
// exchange with the stock the shop has, kept in the bbolt files of the data
// directory for the next chat.
func TestChatWithTheShop(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the NLU")
	}
	data := t.TempDir()
	out, errOut := chat(t, "hola\n¿dónde está mi pedido A1002?\nno, gracias\n"+
		"quiero cambiar la talla\nA1001\n44\n43\nsí\n5\n", "--user", "ana", "--data", data)
	contains(t, out,
		"¡Hola, Ana! Soy el asistente de Tienda Charla.",
		"Tu pedido A1002 va en camino 🚚\n✔ ",
		": salió de la bodega\n✔ ",
		": llegó al aeropuerto\nSiguiente paso: llegada al centro de distribución. Entrega estimada: ",
		"¿De cuál de tus pedidos quieres cambiar la talla?\n  1. A1002 · Chaqueta Andes (en camino)\n  2. A1001 · Runner Pro (entregado)\n",
		"Tu pedido A1001 es Runner Pro en talla 42. ¿Qué talla necesitas?\n",
		"No nos queda Runner Pro en talla 44 😕. Las tallas más cercanas que tenemos son: 43, 45. ¿Te sirve alguna?\n  1. 43\n  2. 45\n",
		"Cambio tu Runner Pro talla 42 por la talla 43. ¿Lo confirmo?\n",
		"¡Listo! Tu cambio quedó registrado con el número CX-0001. Te enviamos por correo la guía de Servientrega",
		"¡Gracias por calificarnos!",
	)
	if strings.Contains(out, "no logro consultar") || errOut != "" {
		t.Errorf("an action failed: stderr %q\n%s", errOut, out)
	}

	// The shop kept the exchange; the conversation goes on where it was.
	out, _ = chat(t, "quiero cambiar la talla del pedido A1001\n", "--user", "ana", "--data", data)
	contains(t, out, "El pedido A1001 ya tiene el cambio CX-0001 en curso.")

	// Anonymous, in English: the status is public, a change needs the email.
	out, _ = chat(t, "where is order A1002?\nI want to exchange the size of A1001\nana@example.com\n", "--lang", "en", "--data", data)
	contains(t, out,
		"Your order A1002 is on its way 🚚",
		"To protect your data, I need to confirm that order A1001 is yours. Which email did you order with?",
		"Thanks! Email confirmed.",
		"Order A1001 already has exchange CX-0001 in progress.",
	)
}

// An anonymous shopper without the order number: the shop emails the
// numbers (the terminal shows the email), the shopper comes back with one,
// and the same email proves the order for the exchange.
func TestChatWithoutTheOrderNumber(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the NLU")
	}
	out, errOut := chat(t, "quiero cambiar la talla\nno me acuerdo el número\nana@example.com\nA1001\n43\nsí\n", "--data", t.TempDir())
	contains(t, out,
		"¿Cuál es el número de tu pedido? Por ejemplo A1234.\n  1. No tengo el número\n",
		"No te preocupes 🙂 El número está en el correo de confirmación de tu compra",
		"(email to ana@example.com: Los números de tus pedidos en Tienda Charla\n  Hola, Ana. Estos son los pedidos que hiciste con este correo:\n  A1002 · Chaqueta Andes (en camino)\n  A1001 · Runner Pro (entregado)\n",
		"Listo 📧 Si ana@example.com tiene pedidos con nosotros, te acabo de enviar ahí sus números",
		"Volviendo a tu cambio de talla…\n¿Me das el número del pedido que quieres cambiar?",
		"El pedido A1001 es del correo que me diste, así que podemos seguir.\nTu pedido A1001 es Runner Pro en talla 42. ¿Qué talla necesitas?\n",
		"¡Listo! Tu cambio quedó registrado con el número CX-0001.",
	)
	if errOut != "" {
		t.Errorf("stderr: %s", errOut)
	}
	// An email with no orders gets the same answer, and no email.
	out, _ = chat(t, "where is my order?\nI don't remember the order number\nnobody@example.com\n", "--memory", "--lang", "en")
	contains(t, out, "Done 📧 If nobody@example.com has orders with us, I've just sent their numbers there")
	if strings.Contains(out, "(email to") {
		t.Errorf("an email was sent:\n%s", out)
	}
}

// syncBuffer is a bytes.Buffer safe to read while the program writes; a
// write signals changed.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{changed: make(chan struct{}, 1)} }

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

// waitFor waits until b holds a match of re and returns it (the timer only
// guards against a hang).
func (s *syncBuffer) waitFor(t *testing.T, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	hang := time.After(60 * time.Second)
	for {
		if m := rx.FindStringSubmatch(s.String()); m != nil {
			return m
		}
		select {
		case <-s.changed:
		case <-hang:
			t.Fatalf("no %s in:\n%s", re, s.String())
		}
	}
}

// With --addr the chat serves too: the shop's events reach the terminal.
func TestChatServing(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the NLU and serves HTTP")
	}
	in, typing := io.Pipe()
	out, errOut := newSyncBuffer(), newSyncBuffer()
	m := NewMain()
	m.Getenv = func(string) string { return "" }
	if err := m.ParseFlags([]string{"--chat", "--user", "ana", "--memory", "--addr", "127.0.0.1:0"}, errOut); err != nil {
		t.Fatal(err)
	}
	m.Logger = slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	m.In, m.Out, m.Err = in, out, errOut
	done := make(chan error, 1)
	go func() { done <- m.Run(context.Background()) }()
	url := errOut.waitFor(t, `\(serving (http://[^ ]+) too`)[1]
	io.WriteString(typing, "¿dónde está mi pedido A1002?\nsí, avísame\n")
	out.waitFor(t, `Te escribo por aquí en cuanto tu pedido A1002 avance\.`)
	resp, err := http.Post(url+"/shop/api/orders/A1002/advance", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("advance: %s", resp.Status)
	}
	out.waitFor(t, `Tu pedido A1002 llegó al centro de distribución\.`)
	typing.Close() // the input ends: the chat and the server stop
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestChatFlags(t *testing.T) {
	var errs bytes.Buffer
	if code := run(context.Background(), []string{"--user", "ana"}, &errs); code != 2 || !strings.Contains(errs.String(), "--user and --lang are for --chat") {
		t.Errorf("--user without --chat: exit %d: %s", code, errs.String())
	}
	errs.Reset()
	if code := run(context.Background(), []string{"--chat", "--bot", ".", "--watch"}, &errs); code != 2 || !strings.Contains(errs.String(), "needs --addr") {
		t.Errorf("--chat --watch without --addr: exit %d: %s", code, errs.String())
	}
	for _, tc := range []struct {
		args  []string
		serve bool
	}{
		{[]string{"--chat"}, false},
		{[]string{"--chat", "--addr", "127.0.0.1:0"}, true},
	} {
		m := NewMain()
		if err := m.ParseFlags(tc.args, io.Discard); err != nil || !m.Chat || m.Serve != tc.serve {
			t.Errorf("%v: err %v, chat %v, serve %v", tc.args, err, m.Chat, m.Serve)
		}
	}
}
