package engine

import (
	"context"
	"time"
)

// AgentSpec is a person who answers conversations in the agent console,
// as bot.yaml declares them under agents:. Secrets are never here: a
// password is a bcrypt hash, and a token is read from the environment
// variable TokenEnv.
type AgentSpec struct {
	ID       string   // the login name
	Name     string   // the name shown to colleagues and shoppers ("" : ID)
	Skills   []string // what the agent handles; queues ask for skills
	MaxChats int      // conversations at once (0: 3)
	Lang     string   // the console's language ("" : the browser's)
	Password string   // a bcrypt hash ($2a$, $2b$ or $2y$)
	TokenEnv string   // the environment variable holding the agent's API token
	Pos      Pos
}

// DisplayName is the name shown for the agent.
func (a *AgentSpec) DisplayName() string {
	if a.Name != "" {
		return a.Name
	}
	return a.ID
}

// Serves reports whether the agent may take conversations of queue q: the
// queue names the agent, or asks for a skill the agent has, or names
// neither agents nor skills (open to every agent).
func (a *AgentSpec) Serves(q *Queue) bool {
	if q == nil {
		return false
	}
	if len(q.Agents) == 0 && len(q.Skills) == 0 {
		return true
	}
	for _, id := range q.Agents {
		if id == a.ID {
			return true
		}
	}
	for _, s := range q.Skills {
		for _, have := range a.Skills {
			if s == have {
				return true
			}
		}
	}
	return false
}

// HandoffSettings govern the people's side of a bot: how long things may
// wait, what a shopper may type while queued, the agents' canned replies
// and the outbound webhook. Zero fields take the defaults documented on
// each field (see [HandoffSettings.WithDefaults]).
type HandoffSettings struct {
	// AgentReminder is how long an agent may leave a shopper's message
	// unanswered before the console reminds them (3m).
	AgentReminder time.Duration
	// Grace is how long an agent may be disconnected before their
	// conversations go back to the head of their queues (2m).
	Grace time.Duration
	// UpdateEvery is the least time between two messages telling a
	// shopper their place in the queue (1m).
	UpdateEvery time.Duration
	// Leave are the commands (whole messages) with which a shopper leaves
	// the queue; empty: the cancel flow's keywords.
	Leave []string
	// CSAT is the flow started when an agent closes a conversation ("" :
	// the flow named csat, when the bot has one).
	CSAT string
	// Canned are the agents' prepared replies.
	Canned []CannedReply
	// Texts override what the hand-off says to shoppers, by name (queued,
	// position, next, no_agents, assigned, after_hours, leave_message,
	// message_taken, transferred, timeout).
	Texts map[string]Text
	// Webhook sends hand-off events to an external help desk.
	Webhook *WebhookSpec
}

// WithDefaults returns s with every zero field set to its default.
func (s HandoffSettings) WithDefaults() HandoffSettings {
	if s.AgentReminder == 0 {
		s.AgentReminder = 3 * time.Minute
	}
	if s.Grace == 0 {
		s.Grace = 2 * time.Minute
	}
	if s.UpdateEvery == 0 {
		s.UpdateEvery = time.Minute
	}
	return s
}

// CannedReply is a prepared reply an agent inserts with a click.
type CannedReply struct {
	Name string
	Text Text // may use {{ agent }} and the conversation's slots
	Pos  Pos
}

// WebhookSpec is an external help desk: hand-off events are POSTed to URL,
// signed with HMAC-SHA256 under the secret held by the environment
// variable SecretEnv; the help desk answers through the inbound endpoint,
// signed the same way.
type WebhookSpec struct {
	URL       string
	SecretEnv string
	Events    []string // the events sent (empty: all)
	Pos       Pos
}

// Agent returns the agent with the given id, or nil.
func (p *Program) Agent(id string) *AgentSpec {
	for _, a := range p.Agents {
		if a.ID == id {
			return a
		}
	}
	return nil
}

// checkHandoff verifies the agents and the hand-off settings.
func (p *Program) checkHandoff(errs *checkErrors) {
	seen := map[string]bool{}
	for _, a := range p.Agents {
		if a.ID == "" {
			errs.add(a.Pos, "an agent has no id")
		}
		if seen[a.ID] {
			errs.add(a.Pos, "agent %q declared twice", a.ID)
		}
		seen[a.ID] = true
		if a.MaxChats < 0 {
			errs.add(a.Pos, "agent %q: max_chats must not be negative", a.ID)
		}
	}
	if len(p.Agents) > 0 {
		for _, q := range p.Queues {
			for _, id := range q.Agents {
				if !seen[id] {
					errs.add(q.Pos, "queue %q names unknown agent %q", q.Name, id)
				}
			}
		}
	}
	if f := p.Handoff.CSAT; f != "" && p.flows[f] == nil {
		errs.add(Pos{}, "handoff: csat names unknown flow %q", f)
	}
}

// HandoffEnder is an [Agents] that is told when a conversation stops
// waiting for or talking with a person by a turn of its own: the shopper
// left the queue, the conversation was closed by inactivity or expired, or
// it was released or closed through the Runtime. The runtime calls it after
// the commit, outside the conversation's lock; it may be called for a
// hand-off the Agents ended itself, and must then do nothing.
type HandoffEnder interface {
	HandoffEnded(ctx context.Context, conversation, why string) error
}

// InHandoff reports whether a conversation with status s is waiting for or
// talking with a person.
func InHandoff(s Status) bool { return s == StatusQueued || s == StatusAgent }

// Notify records a message from the bot that no flow says — a shopper's
// place in a queue, a hand-off notice — and sends it on the conversation's
// channel (or keeps it in the user's outbox). It runs no flow.
func (rt *Runtime) Notify(ctx context.Context, conv string, out Outbound) error {
	if out.Text == "" {
		return Errorf(EInvalid, "empty message")
	}
	return rt.withConversation(ctx, conv, func(prev *Session) (*turnResult, error) {
		if prev == nil {
			return nil, Errorf(ENotFound, "no conversation %q", conv)
		}
		t := rt.newTurn(ctx, prev, Inbound{Conversation: conv, User: prev.User, Channel: prev.Channel, Verified: prev.Verified})
		defer t.free()
		t.proactive = true
		t.agentTurn = true
		if err := t.admit(); err != nil {
			return nil, err
		}
		if err := t.begin(); err != nil {
			return nil, err
		}
		t.emit(Entry{From: FromBot, Text: cleanText(out.Text, rt.maxText), Choices: out.Choices,
			Link: out.Link, At: t.now, Channel: t.s.Channel})
		t.finish()
		return t.commitResult()
	})
}

// leaveQueue handles a shopper's message while queued: a leave command
// (see HandoffSettings.Leave) takes the conversation out of the queue and
// runs the cancel flow. It reports whether it did.
func (t *turn) leaveQueue() bool {
	if t.s.Status != StatusQueued || t.in.Text == "" {
		return false
	}
	text := t.normText()
	if text == "" {
		return false
	}
	hit := false
	if cmds := t.p.Handoff.Leave; len(cmds) > 0 {
		for _, c := range cmds {
			if Normalize(c) == text {
				hit = true
				break
			}
		}
	} else if f := t.p.SystemFlow(SysCancel); f != nil {
		for _, k := range f.Triggers.Keywords {
			if Normalize(k) == text {
				hit = true
				break
			}
		}
	}
	if !hit {
		return false
	}
	t.abandonAll("cancel")
	t.s.Status = StatusBot
	t.s.Handoff = nil
	t.event(EvReleased, "", "cancel")
	if f := t.p.SystemFlow(SysCancel); f != nil {
		t.push(f, FrameStarted, "cancel")
	} else {
		t.sayBuiltin(SysCancel)
	}
	t.gotIt()
	return true
}

// handoffEnded tells the Agents when the turn took the conversation out of
// a hand-off.
func (t *turn) handoffEnded(r *turnResult) {
	if t.prev == nil || !InHandoff(t.prev.Status) || InHandoff(t.s.Status) {
		return
	}
	e, ok := t.rt.agents.(HandoffEnder)
	if !ok {
		return
	}
	why := string(t.s.Status)
	for i := len(t.events) - 1; i >= 0; i-- {
		ev := t.events[i]
		if ev.Kind == EvClosed {
			why = "closed:" + ev.Detail
			break
		}
		if ev.Kind == EvReleased {
			why = "released"
			if ev.Detail == "cancel" {
				why = "cancel"
			}
			break
		}
		if ev.Kind == EvFlowAbandoned && ev.Detail == "expired" {
			why = "expired"
			break
		}
	}
	id, log := t.s.ID, t.rt.log
	r.after = append(r.after, func(ctx context.Context) {
		if err := e.HandoffEnded(ctx, id, why); err != nil {
			log.Error("hand-off end failed", "conversation", id, "err", err)
		}
	})
}

// Requeue puts a conversation that an agent had back in a queue (an agent
// who left, a transfer to another queue): its status is queued again.
func (rt *Runtime) Requeue(ctx context.Context, conv, queue string) error {
	return rt.withConversation(ctx, conv, func(prev *Session) (*turnResult, error) {
		if prev == nil {
			return nil, Errorf(ENotFound, "no conversation %q", conv)
		}
		if !InHandoff(prev.Status) {
			return nil, Errorf(EConflict, "the conversation is not with a person")
		}
		s := prev.Clone()
		s.Status = StatusQueued
		if s.Handoff == nil {
			s.Handoff = &HandoffState{Since: rt.now()}
		}
		s.Handoff.Agent = ""
		if queue != "" {
			s.Handoff.Queue = queue
		}
		if err := rt.store.Commit(ctx, &Commit{Session: s}); err != nil {
			return nil, storeError(err)
		}
		return nil, nil
	})
}

// started reports whether a user's turn (re)started its conversation: the
// first turn, or the first after it closed or expired.
func (t *turn) started() bool {
	return t.userTurn && (t.prev == nil || t.prev.Status == StatusClosed || !t.prev.Started.Equal(t.s.Started))
}
