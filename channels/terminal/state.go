package terminal

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/charlabot/charla/engine"
)

// state prints /state: who has the conversation, its slots and the flows
// in progress; /state json prints the HTTP API's conversation object with
// the stack.
func (c *Chat) state(ctx context.Context, arg string) {
	if arg != "" && arg != "json" {
		c.errorf("usage: /state, or /state json")
		return
	}
	s, err := c.rt.Session(ctx, c.Conversation)
	if err == nil && s == nil {
		c.note("(no conversation yet: the first message starts it)")
		return
	}
	var conv *engine.Conversation
	if err == nil {
		conv, err = c.rt.Conversation(ctx, c.Conversation)
	}
	if err != nil {
		c.errorf("%s", engine.ErrMessage(err))
		return
	}
	if arg == "json" {
		c.reply(stateJSON(conv, s))
		return
	}
	c.reply(stateText(c.rt.Program(), conv, s))
}

func stateJSON(conv *engine.Conversation, s *engine.Session) string {
	type frame struct {
		Flow string         `json:"flow"`
		Step int            `json:"step"`
		Mode string         `json:"mode"`
		Vars map[string]any `json:"vars,omitempty"`
	}
	out := struct {
		*engine.Conversation
		Stack   []frame `json:"stack"`
		Version string  `json:"version"`
		Turns   int     `json:"turns"`
	}{Conversation: conv, Stack: []frame{}, Version: s.Version, Turns: s.Turns}
	for _, f := range s.Stack {
		out.Stack = append(out.Stack, frame{f.Flow, f.Step, modeName(f.Mode), f.Vars.Map()})
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	return string(b)
}

func modeName(m engine.FrameMode) string {
	return [...]string{"running", "asking", "waiting", "handoff"}[m%4]
}

// stateText is /state for people:
//
//	conversation cli-ana: user ana (verified), language es
//	status: bot, the bot answers
//	slots:
//	  name = "Ana"
//	flows in progress, the last on top:
//	  size_exchange: asking size, at step ask_size (flows/size_exchange.yaml:14)
//	    order = "A1001"
//	4 turns, program version e6824aa595f3
func stateText(p *engine.Program, conv *engine.Conversation, s *engine.Session) string {
	var b strings.Builder
	who := "an anonymous user"
	if conv.User != "" {
		who = "user " + conv.User
		if conv.Verified {
			who += " (verified)"
		}
	}
	fmt.Fprintf(&b, "conversation %s: %s, language %s\n", conv.ID, who, conv.Lang)
	b.WriteString("status: " + string(conv.Status) + ", " + statusText(p, s) + "\n")

	// The slots of the conversation and the user; each flow's own are
	// shown with the flow.
	own := map[string]bool{}
	if top := s.Top(); top != nil {
		for _, v := range top.Vars {
			own[v.Name] = true
		}
	}
	var names []string
	for name := range conv.Slots {
		if !own[name] {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	b.WriteString("slots:")
	if len(names) == 0 {
		b.WriteString(" none")
	}
	b.WriteString("\n")
	for _, name := range names {
		fmt.Fprintf(&b, "  %s = %s\n", name, value(conv.Slots[name]))
	}

	same := s.Version == p.Version
	if len(s.Stack) == 0 {
		b.WriteString("flows in progress: none (the next message starts one)\n")
	} else {
		b.WriteString("flows in progress, the last on top:\n")
	}
	for _, fr := range s.Stack {
		var f *engine.Flow
		if same {
			f = p.Flow(fr.Flow)
		}
		b.WriteString("  " + frameText(f, fr) + "\n")
		for _, v := range fr.Vars {
			if v.Name == engine.VarSuggestions || v.Name == engine.VarResumed || v.Name == engine.VarExpected {
				continue
			}
			fmt.Fprintf(&b, "    %s = %s\n", v.Name, value(v.Value))
		}
	}
	turns := strconv.Itoa(s.Turns) + " turns"
	if s.Turns == 1 {
		turns = "1 turn"
	}
	fmt.Fprintf(&b, "%s, program version %s", turns, s.Version)
	if !same {
		b.WriteString(" (the bot has changed since: steps are of that version)")
	}
	return b.String()
}

func statusText(p *engine.Program, s *engine.Session) string {
	h := s.Handoff
	switch s.Status {
	case engine.StatusQueued:
		t := "waiting for a person"
		queue := p.Settings.DefaultQueue
		if h != nil && h.Queue != "" {
			queue = h.Queue
		}
		if queue != "" {
			t += " in queue " + queue
		}
		if h != nil && !h.Since.IsZero() {
			t += " since " + h.Since.Local().Format("2006-01-02 15:04")
		}
		return t + " (the bot is silent)"
	case engine.StatusAgent:
		t := "a person answers"
		if h != nil && h.Agent != "" {
			t = h.Agent + " answers"
		}
		return t + " (the bot is silent)"
	case engine.StatusClosed:
		return "the next message starts it afresh"
	}
	return "the bot answers"
}

// frameText describes a flow in progress: "size_exchange (digression):
// asking size, at step ask_size (flows/size_exchange.yaml:14)". f is the
// frame's flow in the program the conversation runs, or nil when unknown.
func frameText(f *engine.Flow, fr engine.Frame) string {
	t := fr.Flow
	switch fr.Kind {
	case engine.FrameCalled:
		t += " (called)"
	case engine.FrameDigression:
		t += " (digression: the flow below goes on after it)"
	case engine.FrameResume:
		t += " (coming back to the flow below)"
	case engine.FrameQuiet:
		t += " (reminder)"
	}
	var st engine.Step
	if f != nil && fr.Step >= 0 && fr.Step < len(f.Steps) {
		st = f.Steps[fr.Step]
	}
	switch fr.Mode {
	case engine.ModeAsking:
		t += ": asking " + fr.Slot
	case engine.ModeWaiting:
		if w, ok := st.(*engine.Wait); ok && len(w.Events) > 0 {
			t += ": waiting for the event " + strings.Join(w.Events, " or ")
		} else {
			t += ": waiting"
		}
	case engine.ModeHandoff:
		t += ": handed off, until a person releases it"
	default:
		t += ": running"
	}
	step := "#" + strconv.Itoa(fr.Step)
	if st != nil && st.Meta().ID != "" {
		step = st.Meta().ID
	}
	t += ", at step " + step
	if st != nil && st.Meta().Pos.IsValid() {
		t += " (" + st.Meta().Pos.String() + ")"
	}
	return t
}

// value formats a slot's value on one line, strings quoted.
func value(v any) string {
	b, err := json.Marshal(v)
	s := string(b)
	if err != nil {
		s = fmt.Sprint(v)
	}
	if r := []rune(s); len(r) > 120 {
		s = string(r[:119]) + "…"
	}
	return s
}
