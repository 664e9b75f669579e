// Package terminal is the terminal channel: one conversation with a bot,
// typed at a prompt or piped through stdin, with the bot's replies on
// stdout. It is what `charla chat DIR` runs, and what a program that embeds
// charla with its own actions runs to offer the same (the reference shop
// bot's `go run ./examples/ecommerce --chat`).
//
// Buttons are shown as a numbered list: typing a number presses that
// button, and typing its text answers too. Lines starting with a slash are
// commands: /help, /reset, /state, /lang LANG, /event NAME [JSON], /quit
// (any other /word, such as a bot's own /start, goes to the bot; //help
// sends /help). Messages sent outside a turn (reminders, events, a person's
// replies) are printed when they arrive.
//
// The chat says on Err what the person at the keyboard would otherwise
// have to guess, keeping Out for the conversation: that a saved
// conversation is resumed, and that the conversation was handed off to a
// person (and, when nobody can answer here, how to go on).
package terminal

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/charlabot/charla/engine"
)

// Channel is the channel name of terminal conversations.
const Channel = "cli"

// Help lists the commands, for a banner or a usage text.
const Help = "/help, /reset, /state, /lang LANG, /event NAME [JSON], /quit; a number presses that button"

// Chat is a terminal conversation. Set its fields, then call [Chat.Run].
type Chat struct {
	In  io.Reader // the shopper's lines
	Out io.Writer // the bot's replies
	Err io.Writer // errors; nil: Out
	// TTY turns on the prompt and colours (see [IsTerminal]).
	TTY bool
	// Name prefixes error lines ("charla chat").
	Name string

	User     string // the user's id ("": anonymous)
	Verified bool   // the terminal vouches for User, as a signed-in channel would
	Lang     string // the conversation's language ("": detected)
	// Conversation is the conversation's id; "" means "cli", or "cli-USER"
	// with a User.
	Conversation string

	// Saved says where the conversation is kept ("./charla-data"), for the
	// note on Err when Run resumes a conversation saved there.
	Saved string
	// NoAgents says that no person can answer a conversation handed off
	// here: nothing serves an agent console (charla chat). When the
	// conversation is queued for a person, the chat says so on Err, and
	// how to go on: /reset, leaving the queue, or AgentsHint.
	NoAgents bool
	// AgentsHint ends the hand-off note: how a person can answer
	// ("run `charla serve DIR` and ...", or the agent console's address).
	AgentsHint string

	rt      *engine.Runtime
	mu      sync.Mutex
	choices []engine.OutChoice // the buttons of the last reply
	status  engine.Status      // the conversation's status after the last turn
	errTTY  bool               // Err is a terminal: notes are dimmed
}

// IsTerminal reports whether r is an interactive terminal.
func IsTerminal(r io.Reader) bool { return isTerminal(r) }

// isTerminal reports whether v (a reader or a writer) is an interactive terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Run registers the chat as rt's sender for [Channel] and talks until the
// input ends, /quit, or ctx is done. It does not run the runtime's timers:
// the caller runs [engine.Runtime.Run] (a server's Start does) for
// reminders and waits to fire while chatting.
func (c *Chat) Run(ctx context.Context, rt *engine.Runtime) error {
	c.rt = rt
	if c.Err == nil {
		c.Err = c.Out
	}
	if c.Conversation == "" {
		c.Conversation = "cli"
		if c.User != "" {
			c.Conversation = "cli-" + c.User
		}
	}
	c.errTTY = c.TTY && isTerminal(c.Err)
	rt.RegisterSender(Channel, engine.SenderFunc(c.Send))
	defer rt.RegisterSender(Channel, nil)
	c.resume(ctx)

	// A read blocked on the terminal must not keep Run from returning when
	// ctx ends (Ctrl-C).
	lines, done, stop := make(chan string), make(chan error, 1), make(chan struct{})
	defer close(stop)
	go func() {
		sc := bufio.NewScanner(c.In)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			select {
			case lines <- strings.TrimRight(sc.Text(), "\r"):
			case <-stop:
				return
			}
		}
		done <- sc.Err()
	}()
	c.prompt()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-done:
			if c.TTY {
				fmt.Fprintln(c.Out)
			}
			return err
		case line := <-lines:
			if quit := c.line(ctx, line); quit {
				return nil
			}
			c.prompt()
		}
	}
}

func (c *Chat) prompt() {
	if c.TTY {
		c.mu.Lock()
		fmt.Fprint(c.Out, "\033[1m> \033[0m")
		c.mu.Unlock()
	}
}

// show prints the bot's messages, buttons as a numbered list.
func (c *Chat) show(ms []engine.Outbound) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range ms {
		text := m.Text
		if m.From == engine.FromAgent {
			text = "[agent] " + text
		}
		if c.TTY {
			fmt.Fprintf(c.Out, "\033[36m%s\033[0m\n", text)
		} else {
			fmt.Fprintln(c.Out, text)
		}
		if m.Image != "" {
			fmt.Fprintf(c.Out, "  (image: %s)\n", m.Image)
		}
		if m.Link != nil {
			fmt.Fprintf(c.Out, "  %s <%s>\n", m.Link.Label, m.Link.URL)
		}
		for i, ch := range m.Choices {
			fmt.Fprintf(c.Out, "  %d. %s\n", i+1, ch.Label)
		}
		if len(m.Choices) > 0 {
			c.choices = m.Choices
		}
	}
	if len(ms) > 0 && len(ms[len(ms)-1].Choices) == 0 {
		c.choices = nil
	}
}

// Send prints a message sent outside a turn (a reminder, an event's
// message, a person's reply): the chat's [engine.Sender].
func (c *Chat) Send(_ context.Context, o engine.Outbound) error {
	c.show([]engine.Outbound{o})
	return nil
}

// Note prints a line of the terminal's own (dimmed on a terminal), such as
// what an embedding program wants the person at the keyboard to know.
func (c *Chat) Note(s string) { c.note(s) }

func (c *Chat) note(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.TTY {
		fmt.Fprintf(c.Out, "\033[2m%s\033[0m\n", s)
	} else {
		fmt.Fprintln(c.Out, s)
	}
}

func (c *Chat) errorf(format string, args ...any) {
	name := c.Name
	if name == "" {
		name = "chat"
	}
	fmt.Fprintf(c.Err, name+": "+format+"\n", args...)
}
