package channeltest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/charlabot/charla/channels"
)

// Platform plays a connector's platform for the conformance suite: it
// starts the connector against a backend and acts as its users.
type Platform interface {
	// Start runs the connector against b until the test ends, registering
	// its Sender with b when it has one.
	Start(t *testing.T, b *Bot)
	// NewUser returns a new user of the platform with the given id.
	NewUser(t *testing.T, id string) User
	// MaxText is the platform's message length limit (0: none).
	MaxText() int
	// Proactive reports whether the platform receives messages outside a
	// reply (REST does not).
	Proactive() bool
}

// User is a person on a platform.
type User interface {
	ID() string
	// Say sends a text as the user.
	Say(ctx context.Context, text string) error
	// Press presses the i-th choice of m as the platform shows it (a
	// button, or the number of a numbered list).
	Press(ctx context.Context, m Received, i int) error
	// Next waits for the next message the user receives.
	Next(ctx context.Context) (Received, error)
}

// Received is a message as a user sees it.
type Received struct {
	Text    string
	Buttons []string // the labels of the buttons shown
	Error   bool     // an error notice (the platform's error frame or status)
}

// Run runs the conformance suite against p.
func Run(t *testing.T, p Platform) {
	b := &Bot{}
	p.Start(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)

	t.Run("greeting with choices", func(t *testing.T) {
		u := p.NewUser(t, "ana")
		m := greet(ctx, t, u)
		if err := u.Press(ctx, m, 1); err != nil {
			t.Fatal(err)
		}
		expect(ctx, t, u, "Talla 42 anotada.")
	})

	t.Run("numbered list answered by text", func(t *testing.T) {
		u := p.NewUser(t, "bea")
		m := greet(ctx, t, u)
		if len(m.Buttons) > 0 {
			t.Skip("the platform shows buttons")
		}
		if err := u.Say(ctx, "talla 40"); err != nil {
			t.Fatal(err)
		}
		expect(ctx, t, u, "Talla 40 anotada.")
	})

	t.Run("long text", func(t *testing.T) {
		u := p.NewUser(t, "carla")
		if err := u.Say(ctx, "largo"); err != nil {
			t.Fatal(err)
		}
		var got strings.Builder
		for squash(got.String()) != squash(LongText) {
			m, err := u.Next(ctx)
			if err != nil {
				t.Fatalf("after %d characters of the long text: %v", utf8.RuneCountInString(got.String()), err)
			}
			if max := p.MaxText(); max > 0 && utf8.RuneCountInString(m.Text) > max {
				t.Fatalf("a part of %d characters exceeds the limit %d", utf8.RuneCountInString(m.Text), max)
			}
			got.WriteString(m.Text)
			if len(squash(got.String())) > len(squash(LongText)) {
				t.Fatalf("received more than the long text: %q", got.String())
			}
		}
	})

	t.Run("failing turn", func(t *testing.T) {
		u := p.NewUser(t, "dora")
		if err := u.Say(ctx, "error"); err != nil {
			t.Fatal(err)
		}
		m, err := u.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Error && m.Text == "" {
			t.Fatalf("a failing turn gave %+v, want an error notice", m)
		}
		if strings.Contains(m.Text, "scripted failure") {
			t.Fatalf("the internal cause leaked to the user: %q", m.Text)
		}
		greet(ctx, t, u) // the user can go on
	})

	if p.Proactive() {
		t.Run("proactive message", func(t *testing.T) {
			u := p.NewUser(t, "eva")
			greet(ctx, t, u)
			d, err := b.Trigger(ctx, u.ID(), "order_shipped", map[string]any{"order": "A1234"})
			if err != nil {
				t.Fatal(err)
			}
			if d.Status != channels.Delivered {
				t.Fatalf("delivery %+v, want delivered", d)
			}
			expect(ctx, t, u, "Tu pedido A1234 va en camino.")
		})
	}

	t.Run("concurrent users", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := range 20 {
			u := p.NewUser(t, fmt.Sprintf("user%d", i))
			wg.Go(func() {
				if err := u.Say(ctx, fmt.Sprintf("mensaje %d", i)); err != nil {
					errs <- err
					return
				}
				m, err := u.Next(ctx)
				if err == nil && m.Text != fmt.Sprintf("Dijiste: mensaje %d", i) {
					err = fmt.Errorf("user%d got %q", i, m.Text)
				}
				if err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

func greet(ctx context.Context, t *testing.T, u User) Received {
	t.Helper()
	if err := u.Say(ctx, "hola"); err != nil {
		t.Fatal(err)
	}
	m, err := u.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Text, Greeting) {
		t.Fatalf("greeting: got %q, want %q", m.Text, Greeting)
	}
	switch {
	case len(m.Buttons) == 2:
		if m.Buttons[0] != Sizes[0].Label || m.Buttons[1] != Sizes[1].Label {
			t.Fatalf("buttons %q, want the labels of %v", m.Buttons, Sizes)
		}
	case len(m.Buttons) == 0:
		if !strings.Contains(m.Text, "1. Talla 40\n2. Talla 42") {
			t.Fatalf("no buttons and no numbered list in %q", m.Text)
		}
	default:
		t.Fatalf("buttons %q, want %v", m.Buttons, Sizes)
	}
	return m
}

func expect(ctx context.Context, t *testing.T, u User, text string) {
	t.Helper()
	m, err := u.Next(ctx)
	if err != nil {
		t.Fatalf("waiting for %q: %v", text, err)
	}
	if m.Text != text {
		t.Fatalf("got %q, want %q", m.Text, text)
	}
}

func squash(s string) string { return strings.Join(strings.Fields(s), "") }
