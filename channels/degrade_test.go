package channels

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/charlabot/charla/engine"
)

var sizes = []engine.OutChoice{{Label: "Talla 40", Value: "40"}, {Label: "Talla 42", Value: "42"}, {Label: "Envío rápido", Value: "express"}}

func TestDegrade(t *testing.T) {
	tests := []struct {
		name string
		out  engine.Outbound
		caps Capabilities
		want []engine.Outbound
	}{
		{"buttons kept", engine.Outbound{Text: "¿Talla?", Choices: sizes}, Capabilities{Buttons: 3},
			[]engine.Outbound{{Text: "¿Talla?", Choices: sizes}}},
		{"no buttons: numbered list", engine.Outbound{Text: "¿Talla?", Choices: sizes}, Capabilities{},
			[]engine.Outbound{{Text: "¿Talla?\n1. Talla 40\n2. Talla 42\n3. Envío rápido"}}},
		{"too many buttons", engine.Outbound{Text: "¿Talla?", Choices: sizes}, Capabilities{Buttons: 2},
			[]engine.Outbound{{Text: "¿Talla?\n1. Talla 40\n2. Talla 42\n3. Envío rápido"}}},
		{"image as link", engine.Outbound{Text: "Mira", Image: "https://x/a.png"}, Capabilities{},
			[]engine.Outbound{{Text: "Mira\nhttps://x/a.png"}}},
		{"image kept", engine.Outbound{Text: "Mira", Image: "https://x/a.png"}, Capabilities{Images: true},
			[]engine.Outbound{{Text: "Mira", Image: "https://x/a.png"}}},
		{"split keeps buttons on last part", engine.Outbound{Text: "Hola amiga. Tu pedido llegó.", Choices: sizes[:1], Flow: "f"}, Capabilities{Buttons: 1, MaxText: 12},
			[]engine.Outbound{{Text: "Hola amiga.", Flow: "f"}, {Text: "Tu pedido", Flow: "f"}, {Text: "llegó.", Choices: sizes[:1], Flow: "f"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Degrade(tt.out, tt.caps)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Degrade =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

func TestSplitText(t *testing.T) {
	tests := []struct {
		text string
		max  int
		want []string
	}{
		{"corto", 10, []string{"corto"}},
		{"uno\n\ndos tres", 9, []string{"uno", "dos tres"}},
		{"línea uno\nlínea dos", 12, []string{"línea uno", "línea dos"}},
		{"abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"ñññññ", 2, []string{"ññ", "ññ", "ñ"}},
		{"sin límite", 0, []string{"sin límite"}},
	}
	for _, tt := range tests {
		if got := SplitText(tt.text, tt.max); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitText(%q, %d) = %q, want %q", tt.text, tt.max, got, tt.want)
		}
	}
}

func FuzzSplitText(f *testing.F) {
	f.Add("Hola. ¿Cómo estás?\n\nBien", 5)
	f.Add("ññ  ñ", 1)
	f.Fuzz(func(t *testing.T, text string, max int) {
		if max <= 0 || max > 1000 || !utf8.ValidString(text) {
			return
		}
		parts := SplitText(text, max)
		for _, p := range parts {
			if utf8.RuneCountInString(p) > max {
				t.Fatalf("part %q longer than %d", p, max)
			}
		}
		// no non-space character is lost
		squash := func(s string) string { return strings.Join(strings.Fields(s), "") }
		if squash(strings.Join(parts, "")) != squash(text) {
			t.Fatalf("SplitText(%q, %d) = %q loses text", text, max, parts)
		}
	})
}

func TestChoicesResolve(t *testing.T) {
	var c Choices
	c.Remember("c1", sizes)
	tests := []struct {
		text, want string
		ok         bool
	}{
		{"2", "42", true},
		{" 3. ", "express", true},
		{"ENVIO RAPIDO", "express", true},
		{"talla 40", "40", true},
		{"42", "42", true}, // a value
		{"7", "", false},
		{"quiero otra cosa", "", false},
	}
	for _, tt := range tests {
		in := engine.Inbound{Conversation: "c1", Text: tt.text}
		ok := func() bool {
			c2 := Choices{}
			c2.Remember("c1", sizes)
			return c2.Resolve(&in)
		}()
		if ok != tt.ok || in.Choice != tt.want {
			t.Errorf("Resolve(%q) = %v %q, want %v %q", tt.text, ok, in.Choice, tt.ok, tt.want)
		}
		if ok && in.Text != "" {
			t.Errorf("Resolve(%q) kept text %q", tt.text, in.Text)
		}
	}
	in := engine.Inbound{Conversation: "other", Text: "1"}
	if c.Resolve(&in) {
		t.Error("resolved a conversation with no list")
	}
	in = engine.Inbound{Conversation: "c1", Text: "1"}
	if !c.Resolve(&in) || c.Resolve(&engine.Inbound{Conversation: "c1", Text: "1"}) {
		t.Error("a list is answered once")
	}
}

func TestChoicesBounded(t *testing.T) {
	c := Choices{Max: 10}
	for i := range 100 {
		c.Remember(strings.Repeat("x", i+1), sizes)
	}
	if n := len(c.last); n > 10 {
		t.Fatalf("remembers %d conversations, max 10", n)
	}
}

type plainSender struct{ got []engine.Outbound }

func (p *plainSender) Send(_ context.Context, out engine.Outbound) error {
	p.got = append(p.got, out)
	return nil
}
func (p *plainSender) MaxText() int { return 20 }

func TestDegradedSender(t *testing.T) {
	var mem Choices
	p := &plainSender{}
	s := Degraded(p, &mem)
	if err := s.Send(context.Background(), engine.Outbound{Conversation: "c", Text: "Elige una talla:", Choices: sizes[:2]}); err != nil {
		t.Fatal(err)
	}
	want := []string{"Elige una talla:", "1. Talla 40", "2. Talla 42"}
	var got []string
	for _, o := range p.got {
		got = append(got, o.Text)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("sent %q, want %q", got, want)
	}
	in := engine.Inbound{Conversation: "c", Text: "2"}
	if !mem.Resolve(&in) || in.Choice != "42" {
		t.Fatalf("answer 2 resolved to %q", in.Choice)
	}
}

func TestCapabilitiesOf(t *testing.T) {
	if got := CapabilitiesOf(&plainSender{}); got != (Capabilities{MaxText: 20}) {
		t.Errorf("CapabilitiesOf = %+v", got)
	}
}
