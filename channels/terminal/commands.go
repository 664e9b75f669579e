package terminal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/charlabot/charla/engine"
)

// commands are the chat's own commands, for /help.
var commands = []struct{ usage, what string }{
	{"/help", "these commands"},
	{"/reset", "start over: forget this conversation's flows and slots (its transcript is kept)"},
	{"/state", "who has the conversation, its slots and the flows in progress (/state json: as the HTTP API shows it)"},
	{"/lang LANG", "speak LANG from the next reply on"},
	{"/event NAME [JSON]", "deliver an event, as POST /api/v1/events does: /event order_shipped {\"order\": \"A1002\"};\n" +
		"/event conversation_start opens the conversation as a web chat or Telegram's /start does"},
	{"/quit", "leave (Ctrl-D too); the conversation is kept for next time"},
}

// line handles one line typed; it reports whether to stop.
func (c *Chat) line(ctx context.Context, line string) bool {
	text := line
	if cmd, arg, ok := command(line); ok {
		switch cmd {
		case "/quit", "/exit":
			return true
		case "/help":
			c.help()
			return false
		case "/reset":
			c.reset(ctx)
			return false
		case "/state":
			c.state(ctx, arg)
			return false
		case "/lang":
			c.lang(ctx, arg)
			return false
		case "/event":
			c.event(ctx, arg)
			return false
		}
		// Any other /word is the bot's: a bot may have commands of its
		// own, such as Telegram's /start.
	} else if strings.HasPrefix(strings.TrimSpace(line), "//") {
		text = strings.TrimSpace(line)[1:] // //help sends /help
	}
	in := c.inbound()
	in.Text = text
	c.mu.Lock()
	if k, err := strconv.Atoi(strings.TrimSpace(text)); err == nil && k >= 1 && k <= len(c.choices) {
		in.Choice, in.Text = c.choices[k-1].Value, c.choices[k-1].Label
	}
	c.mu.Unlock()
	tr, err := c.rt.Handle(ctx, in)
	if err != nil {
		c.errorf("%s", engine.ErrMessage(err))
		return false
	}
	c.show(tr.Messages)
	c.turned(ctx, tr.Conversation.Status, len(tr.Messages) == 0)
	return false
}

// command splits a line into a command ("/state") and the rest, trimmed.
// A line is a command when it starts with a slash followed by a letter.
func command(line string) (cmd, arg string, ok bool) {
	line = strings.TrimSpace(line)
	if len(line) < 2 || line[0] != '/' || line[1] == '/' || line[1] == ' ' {
		return "", "", false
	}
	cmd, arg, _ = strings.Cut(line, " ")
	return strings.ToLower(cmd), strings.TrimSpace(arg), true
}

// inbound returns a message from the person at the keyboard, to fill in.
func (c *Chat) inbound() engine.Inbound {
	return engine.Inbound{Conversation: c.Conversation, User: c.User, Verified: c.Verified && c.User != "",
		Channel: Channel, Lang: c.Lang}
}

// Commands describes the chat's commands, one a line, for /help and a
// usage text.
func Commands() string {
	var b strings.Builder
	b.WriteString("commands:\n")
	for _, cm := range commands {
		what := strings.ReplaceAll(cm.what, "\n", "\n"+strings.Repeat(" ", 23))
		fmt.Fprintf(&b, "  %-20s %s\n", cm.usage, what)
	}
	b.WriteString("A number answers with that button, and so does its text. Any other line is a message\n" +
		"to the bot, a /word of the bot's own (such as /start) too; //help sends /help.")
	return b.String()
}

func (c *Chat) help() {
	p := c.rt.Program()
	about := "The bot speaks " + strings.Join(p.Languages, ", ")
	if evs := events(p); len(evs) > 0 {
		about += "; its events: " + strings.Join(evs, ", ")
	}
	c.reply(Commands() + "\n" + about + ".")
}

func (c *Chat) reset(ctx context.Context) {
	if err := c.rt.Reset(ctx, c.Conversation); err != nil {
		c.errorf("%s", engine.ErrMessage(err))
		return
	}
	c.mu.Lock()
	c.choices = nil
	c.mu.Unlock()
	c.status = engine.StatusBot
	c.note("(conversation reset)")
}

func (c *Chat) lang(ctx context.Context, arg string) {
	p := c.rt.Program()
	if arg == "" || strings.ContainsAny(arg, " \t") {
		c.errorf("usage: /lang LANG (%s)", strings.Join(p.Languages, ", "))
		return
	}
	if err := c.rt.SetLang(ctx, c.Conversation, arg); err != nil {
		c.errorf("%s", engine.ErrMessage(err))
		return
	}
	c.Lang = botLang(p, arg)
	c.note("(language: " + c.Lang + ")")
}

// botLang returns the bot's language that lang names ("EN", "en-US": en),
// or lang.
func botLang(p *engine.Program, lang string) string {
	base, _, _ := strings.Cut(strings.ReplaceAll(lang, "_", "-"), "-")
	for _, want := range []string{lang, base} {
		for _, l := range p.Languages {
			if strings.EqualFold(l, want) {
				return l
			}
		}
	}
	return lang
}

// event delivers /event NAME [JSON]: as the REST events endpoint does
// (Runtime.Trigger: the user's latest conversation, no flow run for a user
// who opted out), except conversation_start, which a channel sends within
// its conversation when it opens, and an event for a conversation that
// does not exist yet, which opens it.
func (c *Chat) event(ctx context.Context, arg string) {
	p := c.rt.Program()
	name, raw, _ := strings.Cut(arg, " ")
	if name == "" || strings.HasPrefix(name, "{") {
		msg := "usage: /event NAME [JSON], as in /event order_shipped {\"order\": \"A1002\"}"
		if evs := events(p); len(evs) > 0 {
			msg += " (this bot's events: " + strings.Join(evs, ", ") + ")"
		} else {
			msg += " (no flow of this bot is triggered by an event)"
		}
		c.errorf("%s", msg)
		return
	}
	var data map[string]any
	if raw = strings.TrimSpace(raw); raw != "" {
		if err := json.Unmarshal([]byte(raw), &data); err != nil || data == nil {
			why := "not an object"
			var syn *json.SyntaxError
			if errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF) {
				why = err.Error()
			}
			c.errorf("/event %s: the data must be a JSON object, as in {\"order\": \"A1002\"} (%s)", name, why)
			return
		}
	}
	if !slices.Contains(events(p), name) {
		msg := "no flow is triggered by the event " + name + ": nothing was run"
		if evs := events(p); len(evs) > 0 {
			msg += " (this bot's events: " + strings.Join(evs, ", ") + ")"
		}
		c.errorf("%s", msg)
		return
	}
	if name != engine.EventConversationStart {
		user := c.User
		if user == "" {
			user = c.Conversation // an anonymous conversation stands for its user
		}
		res, err := c.rt.Trigger(ctx, user, name, data)
		switch {
		case err == nil:
			c.triggered(ctx, name, res)
			return
		case engine.ErrCode(err) != engine.ENotFound:
			c.errorf("%s", engine.ErrMessage(err))
			return
		}
		// No conversation yet: the event opens this one.
	}
	in := c.inbound()
	in.Event, in.Data = name, data
	tr, err := c.rt.Handle(ctx, in)
	if err != nil {
		c.errorf("%s", engine.ErrMessage(err))
		return
	}
	c.show(tr.Messages)
	if len(tr.Messages) == 0 {
		c.note("(event " + name + ": nothing was said)")
	}
	c.turned(ctx, tr.Conversation.Status, false)
}

// triggered reports what Runtime.Trigger did with an event. The messages
// sent to this conversation were printed already, by Send.
func (c *Chat) triggered(ctx context.Context, name string, res *engine.Triggered) {
	switch {
	case res.OptedOut:
		c.note("(event " + name + ": the user asked for no notifications: nothing was run or sent)")
		return
	case res.NoFlow:
		c.note("(event " + name + ": no flow is triggered by it, and none waits for it now: nothing was run)")
		return
	case len(res.Messages) == 0:
		c.note("(event " + name + ": the flow ran and said nothing)")
	case res.Conversation != c.Conversation:
		how := "delivered there"
		if !res.Delivered {
			how = "kept in the user's outbox"
		}
		c.note(fmt.Sprintf("(event %s went to the user's latest conversation, %s on %s: %s)", name, res.Conversation, res.Channel, how))
		c.show(res.Messages)
		return
	case !res.Delivered:
		c.show(res.Messages)
	}
	if conv, err := c.rt.Conversation(ctx, c.Conversation); err == nil {
		c.turned(ctx, conv.Status, false)
	}
}

// events returns the events the bot's flows are triggered by or wait for, sorted.
func events(p *engine.Program) []string {
	var out []string
	for _, f := range p.Flows {
		out = append(out, f.Triggers.Events...)
		for _, st := range f.Steps {
			if w, ok := st.(*engine.Wait); ok {
				out = append(out, w.Events...)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// reply prints the answer to a command on Out.
func (c *Chat) reply(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintln(c.Out, s)
}
