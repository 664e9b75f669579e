package handoff

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/charlabot/charla/engine"
)

// lookupLocked returns the ticket of conv as agent may see it: ENotFound
// when there is none or it is not for the agent's eyes (an agent sees only
// the conversations of their queues, and their own).
func (d *Desk) lookupLocked(p *engine.Program, conv, agent string) (*Ticket, *engine.AgentSpec, error) {
	d.init()
	a := d.agentSpec(p, agent)
	if a == nil {
		return nil, nil, engine.Errorf(engine.EUnauthorized, "unknown agent %q", agent)
	}
	t := d.tickets[conv]
	if t == nil || !visible(p, a, t) {
		return nil, nil, engine.Errorf(engine.ENotFound, "no conversation %q waiting for you", conv)
	}
	return t, a, nil
}

// mineLocked checks that agent has the conversation.
func (d *Desk) mineLocked(p *engine.Program, t *Ticket, agent string) error {
	if t.State == StateAssigned && t.Agent == agent {
		return nil
	}
	if t.State == StateAssigned {
		return engine.Errorf(engine.EConflict, "%s has this conversation", d.agentName(p, t.Agent))
	}
	return engine.Errorf(engine.EConflict, "take the conversation first")
}

func (d *Desk) agentName(p *engine.Program, id string) string {
	if a := d.agentSpec(p, id); a != nil {
		return a.DisplayName()
	}
	return id
}

// Claim gives a waiting conversation, or a message left for later, to the
// agent who asks for it. Of agents claiming one conversation at the same
// moment exactly one wins; the others get EConflict. Claiming one's own
// conversation again does nothing.
func (d *Desk) Claim(ctx context.Context, conv, agent string) error {
	p := d.program()
	now := d.now()
	d.mu.Lock()
	t, a, err := d.lookupLocked(p, conv, agent)
	if err != nil {
		d.mu.Unlock()
		return err
	}
	if t.State == StateAssigned {
		err := d.mineLocked(p, t, agent)
		d.mu.Unlock()
		return err
	}
	f := d.assignTo(t, a, now, "claimed", agent)
	d.mu.Unlock()
	err = d.persist(ctx)
	if err != nil {
		return err
	}
	f(ctx)
	d.mu.Lock()
	gone := d.tickets[conv] == nil
	d.mu.Unlock()
	if gone {
		return engine.Errorf(engine.ENotFound, "the conversation is no longer waiting")
	}
	return nil
}

// Send sends an agent's reply on the shopper's channel (through the
// runtime, so it is in the transcript). The agent must have the
// conversation; an external help desk takes it by answering.
func (d *Desk) Send(ctx context.Context, conv, agent, text string) error {
	text = strings.TrimSpace(text)
	if text == "" {
		return engine.Errorf(engine.EInvalid, "empty message")
	}
	if len(text) > 4096 {
		return engine.Errorf(engine.EInvalid, "message longer than 4096 bytes")
	}
	p := d.program()
	d.mu.Lock()
	t, _, err := d.lookupLocked(p, conv, agent)
	if err == nil && t.State != StateAssigned && external(agent) {
		d.mu.Unlock()
		if err := d.Claim(ctx, conv, agent); err != nil {
			return err
		}
		d.mu.Lock()
		t, _, err = d.lookupLocked(p, conv, agent)
	}
	if err == nil {
		err = d.mineLocked(p, t, agent)
	}
	d.mu.Unlock()
	if err != nil {
		return err
	}
	if err := d.Runtime.AgentSend(ctx, conv, agent, engine.Outbound{Text: text, From: engine.FromAgent}); err != nil {
		return err
	}
	now := d.now()
	d.mu.Lock()
	if t = d.tickets[conv]; t != nil {
		t.LastAgent, t.Unread, t.Reminded = now, 0, false
		d.touchSoft(t)
		d.publish(Event{Kind: EvMessage, Ticket: t.Clone(), Agent: agent, Queue: t.Queue,
			Entry: &engine.Entry{From: engine.FromAgent, Agent: agent, Text: text, At: now, Channel: t.Channel}})
	}
	d.mu.Unlock()
	return d.persist(ctx)
}

// Release gives the conversation back to the bot: with flow "" the
// interrupted flow goes on, otherwise the flow named starts (e.g. csat).
// It returns the bot's messages, which were also sent to the shopper.
func (d *Desk) Release(ctx context.Context, conv, agent, flow string) (*engine.Turn, error) {
	p := d.program()
	if flow != "" && p.Flow(flow) == nil {
		return nil, engine.Errorf(engine.ENotFound, "no flow %q", flow)
	}
	if err := d.checkActor(p, conv, agent); err != nil {
		return nil, err
	}
	var turn *engine.Turn
	s, err := d.Runtime.Session(ctx, conv)
	if err != nil {
		return nil, err
	}
	if s != nil && engine.InHandoff(s.Status) {
		if turn, err = d.Runtime.Release(ctx, conv, flow); err != nil {
			return nil, err
		}
	}
	// The runtime has told the desk (HandoffEnded); a message whose
	// conversation had moved on is dropped here.
	return turn, d.HandoffEnded(ctx, conv, "released")
}

// checkActor checks that agent may act on conv: they have it, or it waits
// in one of their queues.
func (d *Desk) checkActor(p *engine.Program, conv, agent string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, _, err := d.lookupLocked(p, conv, agent)
	if err != nil {
		return err
	}
	if t.State == StateAssigned {
		return d.mineLocked(p, t, agent)
	}
	return nil
}

// CSATFlow returns the flow started when an agent closes a conversation:
// the bot's handoff.csat setting, else its flow named csat, else "".
func CSATFlow(p *engine.Program) string {
	if f := p.Handoff.CSAT; f != "" {
		return f
	}
	if p.Flow("csat") != nil {
		return "csat"
	}
	return ""
}

// Close closes the conversation; when the bot has a csat flow, it starts
// it so the shopper can rate the service.
func (d *Desk) Close(ctx context.Context, conv, agent string) error {
	p := d.program()
	if err := d.checkActor(p, conv, agent); err != nil {
		return err
	}
	s, err := d.Runtime.Session(ctx, conv)
	if err != nil {
		return err
	}
	if s != nil && engine.InHandoff(s.Status) {
		if err := d.Runtime.Close(ctx, conv, agent); err != nil {
			return err
		}
		if f := CSATFlow(p); f != "" {
			if _, err := d.Runtime.Release(ctx, conv, f); err != nil {
				d.log().Warn("handoff: starting the satisfaction survey", "conversation", conv, "err", err)
			}
		}
	}
	return d.HandoffEnded(ctx, conv, "closed:"+agent)
}

// Target is where a transfer sends a conversation: a queue or an agent.
type Target struct {
	Queue string `json:"queue,omitempty"`
	Agent string `json:"agent,omitempty"`
}

// Transfer sends a conversation to another queue (where it keeps its
// place by the time it was asked for) or straight to another agent who is
// connected, with a note for whoever takes it. The shopper is told, and
// is not asked anything again.
func (d *Desk) Transfer(ctx context.Context, conv, agent string, to Target, note string) error {
	p := d.program()
	now := d.now()
	note = strings.TrimSpace(note)
	if len(note) > 2000 {
		return engine.Errorf(engine.EInvalid, "note longer than 2000 bytes")
	}
	if (to.Queue == "") == (to.Agent == "") {
		return engine.Errorf(engine.EInvalid, "transfer to a queue or to an agent")
	}
	d.mu.Lock()
	t, _, err := d.lookupLocked(p, conv, agent)
	if err == nil && t.State == StateAssigned {
		err = d.mineLocked(p, t, agent)
	}
	if err != nil {
		d.mu.Unlock()
		return err
	}
	var fx []effect
	if to.Agent != "" {
		b := p.Agent(to.Agent)
		if b == nil {
			d.mu.Unlock()
			return engine.Errorf(engine.ENotFound, "no agent %q", to.Agent)
		}
		if b.ID == t.Agent {
			d.mu.Unlock()
			return engine.Errorf(engine.EInvalid, "the conversation is already with %s", b.DisplayName())
		}
		if pr := d.agents[b.ID]; pr == nil || pr.conns == 0 {
			d.mu.Unlock()
			return engine.Errorf(engine.EConflict, "%s is not connected", b.DisplayName())
		}
		t.Note = note
		fx = append(fx, d.assignTo(t, b, now, "transferred", agent))
		t.Moves[len(t.Moves)-1].Note = note
	} else {
		q := p.Queue(to.Queue)
		if q == nil {
			d.mu.Unlock()
			return engine.Errorf(engine.ENotFound, "no queue %q", to.Queue)
		}
		if old := p.Queue(t.Queue); old != nil {
			t.Priority -= old.Priority
		}
		t.Priority += q.Priority
		t.Queue, t.State, t.Agent, t.Enqueued, t.Assigned, t.Note = q.Name, StateWaiting, "", now, time.Time{}, note
		t.move(Move{At: now, Kind: "transferred", By: agent, Queue: q.Name, Note: note})
		d.touch(t)
		d.publish(Event{Kind: EvUpdated, Ticket: t.Clone(), Queue: t.Queue, Agent: agent})
		fx = append(fx, d.requeue(t.Conversation, q.Name))
		if q.Hours.Open(now) {
			fx = append(fx, d.say(t, "transferred", nil))
			fx = append(fx, d.assignLocked(now)...)
			if t.State == StateWaiting {
				fx = append(fx, d.tellPlaceLocked(t, now, "queued"))
			}
		} else {
			t.State = StateAfterHours
			fx = append(fx, d.offerMessage(t, q))
		}
	}
	d.mu.Unlock()
	err = d.persist(ctx)
	d.run(ctx, fx)
	return err
}

// TicketView is a ticket as an agent sees it in a list.
type TicketView struct {
	*Ticket
	Position int `json:"position,omitempty"` // its place in the queue, when waiting
}

// Tickets returns the tickets agent may see: theirs first, then those
// waiting (in the order they are served), then messages left for later,
// then those other agents have.
func (d *Desk) Tickets(agent string) []TicketView {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ticketsLocked(agent)
}

func (d *Desk) ticketsLocked(agent string) []TicketView {
	p := d.program()
	d.init()
	a := d.agentSpec(p, agent)
	places := d.placesLocked()
	var out []TicketView
	for _, t := range d.tickets {
		if visible(p, a, t) {
			out = append(out, TicketView{Ticket: t.Clone(), Position: places[t.Conversation]})
		}
	}
	rank := func(v TicketView) int {
		switch {
		case v.State == StateAssigned && v.Agent == agent:
			return 0
		case v.State == StateWaiting:
			return 1
		case v.State == StateMessage || v.State == StateAfterHours:
			return 2
		}
		return 3
	}
	slices.SortFunc(out, func(x, y TicketView) int {
		if c := cmp.Compare(rank(x), rank(y)); c != 0 {
			return c
		}
		return served(x.Ticket, y.Ticket)
	})
	return out
}

// Snapshot returns the tickets agent may see, as Tickets does, and the
// seq of the last event they include: a subscriber that took the snapshot
// skips the events up to that seq.
func (d *Desk) Snapshot(agent string) ([]TicketView, int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ticketsLocked(agent), d.seq
}

// Sees reports whether agent may see ticket t: it is theirs, or in one of
// their queues.
func (d *Desk) Sees(agent string, t *Ticket) bool {
	p := d.program()
	return visible(p, d.agentSpec(p, agent), t)
}

// placesLocked returns every waiting ticket's place in its queue.
func (d *Desk) placesLocked() map[string]int {
	out := map[string]int{}
	n := map[string]int{}
	for _, t := range d.waitingLocked("", true) {
		n[t.Queue]++
		out[t.Conversation] = n[t.Queue]
	}
	return out
}

// Ticket returns the ticket of conv as agent may see it (ENotFound
// otherwise).
func (d *Desk) Ticket(agent, conv string) (TicketView, error) {
	p := d.program()
	d.mu.Lock()
	defer d.mu.Unlock()
	t, _, err := d.lookupLocked(p, conv, agent)
	if err != nil {
		return TicketView{}, err
	}
	return TicketView{Ticket: t.Clone(), Position: d.placesLocked()[conv]}, nil
}

// Place returns a waiting conversation's place in its queue and the
// estimated wait (ok false: nobody who serves the queue is available).
func (d *Desk) Place(conv string) (pos int, wait time.Duration, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.init()
	if t := d.tickets[conv]; t != nil && t.State == StateWaiting {
		return d.placeLocked(t)
	}
	return 0, 0, false
}

// QueueView is a queue as an agent sees it.
type QueueView struct {
	Name     string    `json:"name"`
	Title    string    `json:"title"`
	Waiting  int       `json:"waiting"`
	Messages int       `json:"messages"` // messages left for later
	Assigned int       `json:"assigned"`
	Oldest   time.Time `json:"oldest,omitzero"` // when the longest-waiting ticket joined
	Agents   int       `json:"agents"`          // agents online who serve it
	Open     bool      `json:"open"`            // within business hours
	Manual   bool      `json:"manual,omitempty"`
}

// Queues returns the queues agent serves ("" : every queue), with their
// counts, in the bot's order (tickets of queues the bot no longer declares
// come last).
func (d *Desk) Queues(agent, lang string) []QueueView {
	p := d.program()
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.init()
	var a *engine.AgentSpec
	if agent != "" {
		a = d.agentSpec(p, agent)
	}
	idx := map[string]int{}
	var out []QueueView
	add := func(name string) {
		if _, ok := idx[name]; ok {
			return
		}
		if agent != "" && !serves(p, a, name) {
			return
		}
		v := QueueView{Name: name, Title: queueTitle(p, name, lang), Open: true}
		if q := p.Queue(name); q != nil {
			v.Open, v.Manual = q.Hours.Open(now), q.Manual
		}
		for id, pr := range d.agents {
			if pr.conns > 0 && serves(p, d.agentSpec(p, id), name) {
				v.Agents++
			}
		}
		idx[name] = len(out)
		out = append(out, v)
	}
	for _, q := range p.Queues {
		add(q.Name)
	}
	for _, t := range d.tickets {
		add(t.Queue)
		i, ok := idx[t.Queue]
		if !ok {
			continue
		}
		v := &out[i]
		switch t.State {
		case StateWaiting:
			v.Waiting++
			if v.Oldest.IsZero() || t.Enqueued.Before(v.Oldest) {
				v.Oldest = t.Enqueued
			}
		case StateAssigned:
			v.Assigned++
		default:
			v.Messages++
		}
	}
	return out
}

// Lengths returns how many tickets wait in each queue, by state: for
// metrics.
func (d *Desk) Lengths() map[string]map[State]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.init()
	out := map[string]map[State]int{}
	for _, q := range d.program().Queues {
		out[q.Name] = map[State]int{StateWaiting: 0, StateAssigned: 0, StateMessage: 0}
	}
	for _, t := range d.tickets {
		m := out[t.Queue]
		if m == nil {
			m = map[State]int{StateWaiting: 0, StateAssigned: 0, StateMessage: 0}
			out[t.Queue] = m
		}
		s := t.State
		if s == StateAfterHours {
			s = StateMessage
		}
		m[s]++
	}
	return out
}

// AgentView is an agent as colleagues see them.
type AgentView struct {
	ID       string       `json:"id"`
	Name     string       `json:"name"`
	Status   Availability `json:"status"`
	Chats    int          `json:"chats"`
	MaxChats int          `json:"max_chats"`
	Skills   []string     `json:"skills,omitempty"`
}

// Agents returns the bot's agents with their status and load.
func (d *Desk) Agents() []AgentView {
	p := d.program()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.init()
	load := d.loadLocked()
	out := make([]AgentView, 0, len(p.Agents))
	for _, a := range p.Agents {
		out = append(out, AgentView{ID: a.ID, Name: a.DisplayName(), Status: d.statusLocked(a.ID),
			Chats: load[a.ID], MaxChats: maxChats(a), Skills: a.Skills})
	}
	return out
}

// Status returns an agent's availability.
func (d *Desk) Status(agent string) Availability {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.init()
	return d.statusLocked(agent)
}

func (d *Desk) statusLocked(agent string) Availability {
	pr := d.agents[agent]
	if pr == nil || pr.conns == 0 {
		return Offline
	}
	return pr.status
}

// Subscription receives the desk's events in order. When its buffer
// fills up (a slow reader) it is dropped: C is closed and Lagged reports
// true; the reader reloads the state and subscribes again.
type Subscription struct {
	C      <-chan Event
	c      chan Event
	d      *Desk
	lagged atomic.Bool
}

// Subscribe returns a subscription with room for buffer events.
func (d *Desk) Subscribe(buffer int) *Subscription {
	if buffer <= 0 {
		buffer = 256
	}
	s := &Subscription{c: make(chan Event, buffer), d: d}
	s.C = s.c
	d.mu.Lock()
	d.init()
	d.subs[s] = struct{}{}
	d.mu.Unlock()
	return s
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	if _, ok := s.d.subs[s]; ok {
		delete(s.d.subs, s)
		close(s.c)
	}
}

// Lagged reports whether the subscription was dropped for falling behind.
func (s *Subscription) Lagged() bool { return s.lagged.Load() }
