package terminal_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
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
`

func runtime(t *testing.T) *engine.Runtime {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bot.yaml"), []byte(bot), 0o644)
	os.MkdirAll(filepath.Join(dir, "flows"), 0o755)
	os.WriteFile(filepath.Join(dir, "flows", "f.yaml"), []byte(flowsYAML), 0o644)
	b, err := flows.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := engine.NewRuntime(b.Program, engine.Options{Store: memory.New(), Understander: keyword.New(b.Program)})
	if err != nil {
		t.Fatal(err)
	}
	return rt
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
