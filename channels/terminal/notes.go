package terminal

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charlabot/charla/engine"
)

// resume says on Err that a saved conversation goes on, and where it
// stands: closed or expired (the next message starts afresh), queued for a
// person, or waiting for an answer — whose question is shown again on a
// terminal, so that its buttons can be pressed by number.
func (c *Chat) resume(ctx context.Context) {
	c.status = engine.StatusBot
	s, err := c.rt.Session(ctx, c.Conversation)
	if err != nil || s == nil || s.Turns == 0 && s.Seq == 0 {
		return // a new conversation (an error shows at the first message)
	}
	if s.Status != "" {
		c.status = s.Status
	}
	what := "the conversation " + c.Conversation
	if c.Saved != "" {
		what = "the conversation saved in " + c.Saved
	}
	ttl := c.rt.Program().Settings.WithDefaults().SessionTTL
	switch {
	case s.Status == engine.StatusClosed:
		c.notice(what + " was closed: the next message starts it afresh")
		return
	case ttl > 0 && !s.LastActive.IsZero() && time.Since(s.LastActive) > ttl:
		c.notice(fmt.Sprintf("%s has been idle longer than the bot's session_ttl (%s): the next message starts it afresh", what, duration(ttl)))
		return
	}
	about := fmt.Sprintf("%d turns", s.Turns)
	if s.Turns == 1 {
		about = "1 turn"
	}
	if !s.LastActive.IsZero() {
		about += ", the last on " + s.LastActive.Local().Format("2006-01-02 15:04")
	}
	top := s.Top()
	waiting := s.Status == engine.StatusBot && top != nil && (top.Mode == engine.ModeAsking || top.Mode == engine.ModeWaiting)
	if waiting {
		about += ", in " + top.Flow
	}
	c.notice("resuming " + what + " (" + about + "; /reset to start over)")
	if engine.InHandoff(s.Status) {
		c.handoffNote(s, false)
		return
	}
	if waiting {
		c.lastWords(ctx, s)
	}
}

// lastWords shows the bot's messages since the shopper's last one again
// (on a terminal; piped, only their buttons are remembered).
func (c *Chat) lastWords(ctx context.Context, s *engine.Session) {
	es, err := c.rt.Transcript(ctx, c.Conversation, max(0, s.Seq-30), 0)
	if err != nil {
		return
	}
	var ms []engine.Outbound
	for _, e := range es {
		switch e.From {
		case engine.FromUser:
			ms = ms[:0]
		case engine.FromBot, engine.FromAgent:
			ms = append(ms, engine.Outbound{Text: e.Text, Choices: e.Choices, Image: e.Image, Link: e.Link, Flow: e.Flow, From: e.From})
		}
	}
	if len(ms) == 0 {
		return
	}
	if c.TTY {
		c.show(ms)
		return
	}
	c.mu.Lock()
	c.choices = ms[len(ms)-1].Choices
	c.mu.Unlock()
}

// turned follows the conversation's status after a turn: the first turn
// that leaves it queued for a person says so; a turn the bot stays silent
// at, because the conversation is still queued, says so briefly.
func (c *Chat) turned(ctx context.Context, status engine.Status, silent bool) {
	prev := c.status
	c.status = status
	if status != engine.StatusQueued {
		return
	}
	if prev != engine.StatusQueued {
		s, err := c.rt.Session(ctx, c.Conversation)
		if err != nil || s == nil {
			s = &engine.Session{Status: status}
		}
		c.handoffNote(s, true)
		return
	}
	if !silent {
		return
	}
	if c.NoAgents {
		c.notice("(still queued for a person, and no agent can answer here: type /reset to start over with the bot" + c.leaveHint() + ")")
	} else {
		c.notice("(queued for a person: the bot stays silent, your message waits for them)")
	}
}

// handoffNote says that the conversation is with people now, what that
// means here, and how to go on.
func (c *Chat) handoffNote(s *engine.Session, now bool) {
	var b strings.Builder
	if s.Status == engine.StatusAgent {
		b.WriteString("the conversation is with a person")
		if s.Handoff != nil && s.Handoff.Agent != "" {
			b.WriteString(" (" + s.Handoff.Agent + ")")
		}
		b.WriteString(": the bot stays silent until they release it")
	} else {
		b.WriteString("the conversation is ")
		if now {
			b.WriteString("now ")
		}
		b.WriteString("queued for a person")
		queue := c.rt.Program().Settings.DefaultQueue
		if s.Handoff != nil && s.Handoff.Queue != "" {
			queue = s.Handoff.Queue
		}
		if queue != "" {
			b.WriteString(" (queue " + queue + ")")
		}
		if c.NoAgents {
			b.WriteString(", and no agent can answer in this terminal: the bot stays silent from now on")
		} else {
			b.WriteString(": the bot stays silent until a person answers or releases it")
		}
	}
	b.WriteString(". Type /reset to start over with the bot")
	if s.Status == engine.StatusQueued {
		b.WriteString(c.leaveHint())
	}
	b.WriteString(".")
	if c.AgentsHint != "" {
		b.WriteString(" " + c.AgentsHint)
	}
	c.notice(b.String())
}

// leaveHint names the words that leave a hand-off queue, if the bot has
// them: ", or «cancelar» to leave the queue".
func (c *Chat) leaveHint() string {
	p := c.rt.Program()
	words := p.Handoff.Leave
	if len(words) == 0 {
		if f := p.SystemFlow(engine.SysCancel); f != nil {
			words = f.Triggers.Keywords
		}
	}
	if len(words) == 0 {
		return ""
	}
	return ", or «" + words[0] + "» to leave the queue"
}

// notice prints a line of the chat's own on Err, so that piped output
// stays the conversation's.
func (c *Chat) notice(s string) {
	name := c.Name
	if name == "" {
		name = "chat"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.errTTY {
		fmt.Fprintf(c.Err, "\033[2m%s: %s\033[0m\n", name, s)
	} else {
		fmt.Fprintf(c.Err, "%s: %s\n", name, s)
	}
}

// duration formats d as bot.yaml would write it: 24h, 90m, 45s.
func duration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}
