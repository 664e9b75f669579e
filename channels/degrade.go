package channels

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/charlabot/charla/engine"
)

// Degrade adapts out to a channel with the given capabilities and returns
// the messages to send, in order:
//   - more choices than the channel has buttons for become a numbered list
//     after the text ("1. Talla 42"), answered by number or by text through
//     [Choices.Resolve];
//   - an image on a channel without images becomes its URL on its own line;
//   - a text longer than MaxText is split at paragraph, line, sentence or
//     word boundaries (in that order of preference); buttons stay with the
//     last part.
//
// The result has at least one message; the input is not modified.
func Degrade(out engine.Outbound, caps Capabilities) []engine.Outbound {
	text := out.Text
	if len(out.Choices) > 0 && len(out.Choices) > caps.Buttons {
		text = appendLine(text, NumberedList(out.Choices))
		out.Choices = nil
	}
	if out.Image != "" && !caps.Images {
		text = appendLine(text, out.Image)
		out.Image = ""
	}
	out.Text = text
	parts := SplitText(text, caps.MaxText)
	if len(parts) <= 1 {
		return []engine.Outbound{out}
	}
	msgs := make([]engine.Outbound, len(parts))
	for i, p := range parts {
		m := out
		m.Text = p
		if i < len(parts)-1 {
			m.Choices, m.Image, m.Link = nil, "", nil
		}
		msgs[i] = m
	}
	return msgs
}

func appendLine(text, line string) string {
	if text == "" {
		return line
	}
	return text + "\n" + line
}

// NumberedList renders choices as "1. label" lines.
func NumberedList(choices []engine.OutChoice) string {
	var b strings.Builder
	for i, c := range choices {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strconv.Itoa(i + 1))
		b.WriteString(". ")
		b.WriteString(c.Label)
	}
	return b.String()
}

// SplitText splits text into parts of at most max characters (Unicode code
// points), cutting at the last paragraph break, line break, sentence end or
// space that fits, and mid-word only when a single word is longer than max.
// max <= 0 means no limit.
func SplitText(text string, max int) []string {
	if max <= 0 || utf8.RuneCountInString(text) <= max {
		return []string{text}
	}
	var parts []string
	for utf8.RuneCountInString(text) > max {
		// byte offset of the max-th rune
		cut := len(text)
		n := 0
		for i := range text {
			if n == max {
				cut = i
				break
			}
			n++
		}
		head := text[:cut]
		at := -1
		for _, sep := range []string{"\n\n", "\n", ". ", " "} {
			if i := strings.LastIndex(head, sep); i > 0 {
				at = i + len(sep)
				break
			}
		}
		if at <= 0 {
			at = cut
		}
		part := strings.TrimRightFunc(text[:at], unicode.IsSpace)
		if part != "" {
			parts = append(parts, part)
		}
		text = strings.TrimLeftFunc(text[at:], unicode.IsSpace)
	}
	if text != "" {
		parts = append(parts, text)
	}
	return parts
}

// Choices remembers the choices last shown as a numbered list in each
// conversation, so that the shopper's answer ("2", or the option's text)
// can be read as the button it stands for. It is safe for concurrent use
// and bounded: past Max conversations (default 100,000) it forgets
// arbitrary ones. The zero value is ready to use.
type Choices struct {
	Max int

	mu   sync.Mutex
	last map[string][]engine.OutChoice
}

// Remember records the choices shown to conversation; nil forgets them.
func (c *Choices) Remember(conversation string, choices []engine.OutChoice) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(choices) == 0 {
		delete(c.last, conversation)
		return
	}
	if c.last == nil {
		c.last = make(map[string][]engine.OutChoice)
	}
	max := c.Max
	if max <= 0 {
		max = 100_000
	}
	if _, ok := c.last[conversation]; !ok && len(c.last) >= max {
		for k := range c.last {
			delete(c.last, k)
			break
		}
	}
	c.last[conversation] = append([]engine.OutChoice(nil), choices...)
}

// Resolve reads in's text as one of the choices last shown to its
// conversation: a number of the list or, ignoring case and accents, a
// label or value. On a match it sets in.Choice, clears in.Text, forgets
// the list and reports true.
func (c *Choices) Resolve(in *engine.Inbound) bool {
	if in.Choice != "" || in.Text == "" {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	choices := c.last[in.Conversation]
	if len(choices) == 0 {
		return false
	}
	v, ok := MatchChoice(in.Text, choices)
	if !ok {
		return false
	}
	in.Choice, in.Text = v, ""
	delete(c.last, in.Conversation)
	return true
}

// MatchChoice reads text as one of choices: its number in the list
// (1-based), or its label or value ignoring case, accents and surrounding
// punctuation. It returns the choice's value.
func MatchChoice(text string, choices []engine.OutChoice) (string, bool) {
	t := Fold(text)
	if n, err := strconv.Atoi(strings.TrimSuffix(t, ".")); err == nil {
		if n >= 1 && n <= len(choices) {
			return choices[n-1].Value, true
		}
		// a number that is not an index may still be a label ("42")
	}
	for _, ch := range choices {
		if t == Fold(ch.Label) || t == Fold(ch.Value) {
			return ch.Value, true
		}
	}
	return "", false
}

// Fold lowercases s, removes Spanish accents and trims spaces and
// punctuation around it, for forgiving comparisons.
func Fold(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) })
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToLower(s) {
		switch r {
		case 'á', 'à', 'ä', 'â':
			r = 'a'
		case 'é', 'è', 'ë', 'ê':
			r = 'e'
		case 'í', 'ì', 'ï', 'î':
			r = 'i'
		case 'ó', 'ò', 'ö', 'ô':
			r = 'o'
		case 'ú', 'ù', 'ü', 'û':
			r = 'u'
		case 'ñ':
			r = 'n'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Degraded wraps a Sender with [Degrade] for its own capabilities: the
// wrapped Sender receives only what it can show. Numbered lists are
// remembered in mem (which may be nil) so that the inbound side can
// [Choices.Resolve] the answer.
func Degraded(s engine.Sender, mem *Choices) engine.Sender {
	return &degraded{s: s, caps: CapabilitiesOf(s), mem: mem}
}

type degraded struct {
	s    engine.Sender
	caps Capabilities
	mem  *Choices
}

func (d *degraded) Send(ctx context.Context, out engine.Outbound) error {
	if d.mem != nil && len(out.Choices) > d.caps.Buttons {
		d.mem.Remember(out.Conversation, out.Choices)
	}
	for _, m := range Degrade(out, d.caps) {
		if err := d.s.Send(ctx, m); err != nil {
			return err
		}
	}
	return nil
}
