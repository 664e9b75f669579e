// Package handoff is the engine's hand-off adapter: the queues of
// conversations waiting for a person, the agents who take them, and the
// rules between the two. [Desk] implements engine.Agents.
//
// A hand-off (a handoff step, the human system flow, too many fallbacks)
// becomes a [Ticket] in a named queue of bot.yaml, carrying what the agent
// needs so that nobody is asked to repeat themselves: the slots, the
// shopper's profile, the flow and step, the reason, the channel. The
// shopper is told their place and an estimated wait; outside the queue's
// business hours, the after-hours message and the choice to leave a
// message. Conversations go to the least-loaded available agent with the
// queue's skill, or are claimed by hand; an agent transfers them, gives
// them back to the bot, or closes them. An agent who signs out, or stays
// disconnected longer than the grace period, puts their conversations back
// at the head of their queues. Timeouts (a queue's max_wait, an agent's
// silence) are handled by [Desk.Tick], with the injected clock.
//
// The desk keeps its tickets in a [Store] — [Bolt] in the runtime's own
// bbolt file, [Memory] for tests — so queues and assignments survive a
// restart; the transcript is the runtime's. Front ends (the agent console,
// a help-desk webhook) call the desk's methods and follow its events
// ([Desk.Subscribe], [Desk.OnEvent]).
package handoff

import (
	"cmp"
	"context"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/charlabot/charla/engine"
)

// Runtime is what the desk needs of the engine; *engine.Runtime is one.
type Runtime interface {
	Program() *engine.Program
	Session(ctx context.Context, id string) (*engine.Session, error)
	Conversation(ctx context.Context, id string) (*engine.Conversation, error)
	Transcript(ctx context.Context, id string, after int64, limit int) ([]engine.Entry, error)
	Assign(ctx context.Context, conv, agent string) error
	Requeue(ctx context.Context, conv, queue string) error
	AgentSend(ctx context.Context, conv, agent string, out engine.Outbound) error
	Notify(ctx context.Context, conv string, out engine.Outbound) error
	Release(ctx context.Context, conv, flow string) (*engine.Turn, error)
	Close(ctx context.Context, conv, by string) error
}

var (
	_ Runtime             = (*engine.Runtime)(nil)
	_ engine.Agents       = (*Desk)(nil)
	_ engine.HandoffEnder = (*Desk)(nil)
)

// ExternalPrefix marks the agents of an external help desk (the inbound
// webhook): "helpdesk:<name>". They are trusted by signature, see every
// queue and count for no load.
const ExternalPrefix = "helpdesk:"

// Availability is whether an agent takes new conversations automatically.
type Availability string

const (
	Available Availability = "available" // takes conversations automatically
	Away      Availability = "away"      // keeps theirs, takes none automatically; may still claim
	Offline   Availability = "offline"   // not connected
)

// Desk is the hand-off desk. Set Store and Runtime, then call Start before
// the runtime handles messages (the runtime takes the desk as its Agents,
// so create the desk first and set Runtime once the runtime exists). Every
// method is safe for concurrent use.
type Desk struct {
	Store   Store
	Runtime Runtime
	Now     func() time.Time // the clock (time.Now)
	Logger  *slog.Logger
	// OnEvent, when set, sees every event in order, with the desk locked:
	// it must be quick (a counter, a non-blocking send) and must not call
	// the desk.
	OnEvent func(Event)

	mu        sync.Mutex
	wmu       sync.Mutex // one writer of the store at a time (persist)
	started   bool
	tickets   map[string]*Ticket
	agents    map[string]*presence
	subs      map[*Subscription]struct{}
	dirty     map[string]bool // tickets changed in memory, to save before acknowledging
	soft      map[string]bool // tickets whose bookkeeping changed, to save soon
	lastOrder int64
	headOrder int64
	seq       int64                    // of the last event
	handle    map[string]time.Duration // queue → average handling time
	wake      chan struct{}
}

// presence is an agent's connection state.
type presence struct {
	conns    int
	status   Availability // chosen while connected
	deadline time.Time    // when a disconnected agent's conversations go back (zero: none)
	lastGot  time.Time    // the last conversation they got
	out      bool         // signed out: their connections are closing
}

// effect is work done after the desk is unlocked: calls into the runtime.
type effect func(ctx context.Context)

// Start loads the tickets and reconciles them with the conversations:
// tickets of conversations no longer handed off are dropped, and the agents
// who had conversations get the grace period to reconnect.
func (d *Desk) Start(ctx context.Context) error {
	if d.Store == nil || d.Runtime == nil {
		return engine.Errorf(engine.EInvalid, "handoff: the desk needs a Store and a Runtime")
	}
	ts, err := d.Store.Tickets(ctx)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.init()
	d.started = true
	d.mu.Unlock()
	now := d.now()
	grace := d.settings().Grace
	for _, t := range ts {
		s, err := d.Runtime.Session(ctx, t.Conversation)
		if err != nil {
			return err
		}
		if (s == nil || !engine.InHandoff(s.Status)) && t.State != StateMessage {
			if err := d.Store.SaveTickets(ctx, nil, []string{t.Conversation}); err != nil {
				return err
			}
			continue
		}
		d.mu.Lock()
		d.tickets[t.Conversation] = t
		d.lastOrder = max(d.lastOrder, t.Order)
		d.headOrder = min(d.headOrder, t.Order)
		if t.State == StateAssigned && !external(t.Agent) {
			p := d.presence(t.Agent)
			if p.conns == 0 && p.deadline.IsZero() {
				p.deadline = now.Add(grace)
			}
		}
		d.mu.Unlock()
	}
	return nil
}

func (d *Desk) init() {
	if d.tickets != nil {
		return
	}
	d.tickets = map[string]*Ticket{}
	d.agents = map[string]*presence{}
	d.subs = map[*Subscription]struct{}{}
	d.dirty = map[string]bool{}
	d.soft = map[string]bool{}
	d.handle = map[string]time.Duration{}
	d.wake = make(chan struct{}, 1)
}

// Run calls Tick every second (and sooner when something may be due) until
// ctx ends; it returns ctx's error.
func (d *Desk) Run(ctx context.Context) error {
	d.mu.Lock()
	d.init()
	wake := d.wake
	d.mu.Unlock()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := d.Flush(context.WithoutCancel(ctx)); err != nil {
				d.log().Error("handoff: saving at the end", "err", err)
			}
			return ctx.Err()
		case <-tick.C:
		case <-wake:
		}
		d.Tick(ctx)
	}
}

func (d *Desk) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Desk) log() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (d *Desk) program() *engine.Program { return d.Runtime.Program() }

func (d *Desk) settings() engine.HandoffSettings {
	return d.program().Handoff.WithDefaults()
}

func external(agent string) bool { return strings.HasPrefix(agent, ExternalPrefix) }

func (d *Desk) presence(agent string) *presence {
	p := d.agents[agent]
	if p == nil {
		p = &presence{status: Available}
		d.agents[agent] = p
	}
	return p
}

// run performs effects in order, after the desk is unlocked.
func (d *Desk) run(ctx context.Context, fx []effect) {
	for _, f := range fx {
		f(ctx)
	}
}

// touch marks a ticket to be saved before the change is acknowledged: its
// state, queue or agent changed.
func (d *Desk) touch(t *Ticket) { d.dirty[t.Conversation] = true }

// touchSoft marks a ticket whose bookkeeping changed (the last messages'
// times, unread counts, reminders): it is saved within a second (by Tick),
// or with the next change that must be saved at once, or at Run's end.
// Messages do not wait for an fsync of their own.
func (d *Desk) touchSoft(t *Ticket) { d.soft[t.Conversation] = true }

// persist saves the tickets changed in memory, after the desk is
// unlocked: events go out without waiting for the disk. Writers take turns
// (wmu) and each saves everything changed so far in one durable write, so
// concurrent changes share an fsync and a ticket is never overwritten by an
// older copy of itself.
func (d *Desk) persist(ctx context.Context) error { return d.save(ctx, false) }

// Flush saves every change, the bookkeeping's too.
func (d *Desk) Flush(ctx context.Context) error { return d.save(ctx, true) }

func (d *Desk) save(ctx context.Context, all bool) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	d.mu.Lock()
	d.init()
	if len(d.dirty) > 0 || all { // a write anyway: take the bookkeeping along
		for id := range d.soft {
			d.dirty[id] = true
		}
		clear(d.soft)
	}
	var put []*Ticket
	var del []string
	for id := range d.dirty {
		if t := d.tickets[id]; t != nil {
			put = append(put, t.Clone())
		} else {
			del = append(del, id)
		}
	}
	clear(d.dirty)
	d.mu.Unlock()
	if len(put)+len(del) == 0 {
		return nil
	}
	err := d.Store.SaveTickets(ctx, put, del)
	if err != nil {
		d.log().Error("handoff: saving tickets", "tickets", len(put)+len(del), "err", err)
		d.mu.Lock()
		for _, t := range put {
			d.dirty[t.Conversation] = true
		}
		for _, id := range del {
			d.dirty[id] = true
		}
		d.mu.Unlock()
	}
	return err
}

// publish sends an event to OnEvent and to every subscriber; a subscriber
// whose buffer is full is dropped (it resynchronises).
func (d *Desk) publish(ev Event) {
	if ev.At.IsZero() {
		ev.At = d.now()
	}
	d.seq++
	ev.Seq = d.seq
	if d.OnEvent != nil {
		d.OnEvent(ev)
	}
	for s := range d.subs {
		select {
		case s.c <- ev:
		default:
			s.lagged.Store(true)
			delete(d.subs, s)
			close(s.c)
		}
	}
}

// Request puts a conversation in its queue (engine.Agents).
func (d *Desk) Request(ctx context.Context, r engine.HandoffRequest) error {
	p := d.program()
	now := d.now()
	c := r.Conversation
	slots := r.Slots
	if slots == nil {
		slots = maps.Clone(c.Slots)
	}
	t := &Ticket{Conversation: c.ID, User: c.User, Channel: c.Channel, Lang: c.Lang,
		Queue: r.Queue, Priority: r.Priority, Reason: r.Reason, Flow: r.Flow, Step: r.Step,
		Stack: slices.Clone(r.Stack), Slots: slots, Profile: profileOf(r.Profile),
		Requested: r.At, Enqueued: now, State: StateWaiting}
	if t.Requested.IsZero() {
		t.Requested = now
	}
	if t.Slots == nil {
		t.Slots = map[string]any{}
	}
	q := p.Queue(t.Queue)
	if q != nil {
		t.Priority += q.Priority
	}
	open := q == nil || q.Hours.Open(now)
	if !open {
		t.State = StateAfterHours
	}
	d.mu.Lock()
	d.init()
	if old := d.tickets[c.ID]; old != nil { // asked again while handed off: keep its place
		t.Order, t.Moves = old.Order, old.Moves
		if old.State == StateAssigned {
			t.State, t.Agent, t.Assigned = old.State, old.Agent, old.Assigned
		}
	} else {
		d.lastOrder++
		t.Order = d.lastOrder
	}
	d.tickets[c.ID] = t
	d.touch(t)
	d.publish(Event{Kind: EvQueued, Ticket: t.Clone(), Queue: t.Queue})
	fx := d.assignLocked(now)
	switch {
	case t.State == StateAfterHours:
		fx = append(fx, d.offerMessage(t, q))
	case t.State == StateWaiting:
		fx = append(fx, d.tellPlaceLocked(t, now, "queued"))
	}
	d.mu.Unlock()
	err := d.persist(ctx)
	d.run(ctx, fx)
	return err
}

func profileOf(p *engine.Profile) *Profile {
	if p == nil {
		return nil
	}
	return &Profile{Slots: p.Vars.Map(), Identities: slices.Clone(p.Identities), Verified: p.Verified, Since: p.Created}
}

// Forward passes on a shopper's message while handed off (engine.Agents).
func (d *Desk) Forward(ctx context.Context, conv string, e engine.Entry) error {
	d.mu.Lock()
	d.init()
	t := d.tickets[conv]
	d.mu.Unlock()
	if t == nil {
		// A hand-off the desk does not know (its request was lost in a
		// crash): rebuild the ticket from the conversation.
		if err := d.recover(ctx, conv); err != nil {
			return err
		}
	}
	now := d.now()
	d.mu.Lock()
	t = d.tickets[conv]
	if t == nil {
		d.mu.Unlock()
		return nil
	}
	at := e.At
	if at.IsZero() {
		at = now
	}
	t.LastCustomer = at
	t.Unread++
	t.Reminded = false
	d.touchSoft(t)
	var fx []effect
	switch t.State {
	case StateAfterHours:
		switch e.Choice {
		case ChoiceBackToBot:
			fx = append(fx, func(ctx context.Context) {
				if _, err := d.Runtime.Release(ctx, conv, ""); err != nil {
					d.log().Error("handoff: back to the bot", "conversation", conv, "err", err)
				}
			})
		case ChoiceLeaveMessage:
			d.toMessage(t, now, "message", "")
			fx = append(fx, d.say(t, "leave_message", nil))
		default:
			d.toMessage(t, now, "message", "")
			t.Told = -1 // the message was taken
			fx = append(fx, d.say(t, "message_taken", nil))
		}
		d.touch(t)
	case StateMessage:
		if t.Told != -1 && e.Choice != ChoiceLeaveMessage {
			t.Told = -1
			d.touch(t)
			fx = append(fx, d.say(t, "message_taken", nil))
		}
	}
	ec := e
	d.publish(Event{Kind: EvMessage, Ticket: t.Clone(), Entry: &ec, Agent: t.Agent, Queue: t.Queue})
	d.mu.Unlock()
	err := d.persist(ctx)
	d.run(ctx, fx)
	return err
}

// toMessage makes a ticket a message left for later.
func (d *Desk) toMessage(t *Ticket, now time.Time, kind, by string) {
	t.State, t.Agent, t.Enqueued = StateMessage, "", now
	t.move(Move{At: now, Kind: kind, By: by, Queue: t.Queue})
}

// recover rebuilds the ticket of a handed-off conversation from its session.
func (d *Desk) recover(ctx context.Context, conv string) error {
	s, err := d.Runtime.Session(ctx, conv)
	if err != nil || s == nil || !engine.InHandoff(s.Status) {
		return err
	}
	c, err := d.Runtime.Conversation(ctx, conv)
	if err != nil {
		return err
	}
	now := d.now()
	t := &Ticket{Conversation: conv, User: s.User, Channel: s.Channel, Lang: s.Lang,
		State: StateWaiting, Slots: c.Slots, Requested: now, Enqueued: now}
	if h := s.Handoff; h != nil {
		t.Queue, t.Reason = h.Queue, h.Reason
		if !h.Since.IsZero() {
			t.Requested = h.Since
		}
		if h.Agent != "" && s.Status == engine.StatusAgent {
			t.State, t.Agent, t.Assigned = StateAssigned, h.Agent, now
		}
	}
	for _, fr := range s.Stack {
		t.Stack = append(t.Stack, fr.Flow)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tickets[conv] != nil {
		return nil
	}
	d.lastOrder++
	t.Order = d.lastOrder
	d.tickets[conv] = t
	d.touch(t)
	d.publish(Event{Kind: EvQueued, Ticket: t.Clone(), Queue: t.Queue})
	return nil
}

// HandoffEnded drops the ticket of a conversation that left the hand-off
// (engine.HandoffEnder). A message left for later stays when the
// conversation was only closed by inactivity or expired.
func (d *Desk) HandoffEnded(ctx context.Context, conv, why string) error {
	now := d.now()
	d.mu.Lock()
	d.init()
	t := d.tickets[conv]
	if t == nil || (t.State == StateMessage && (why == "closed:inactivity" || why == "expired")) {
		d.mu.Unlock()
		return nil
	}
	d.removeLocked(t, now, why)
	fx := d.assignLocked(now)
	d.mu.Unlock()
	err := d.persist(ctx)
	d.run(ctx, fx)
	return err
}

// removeLocked drops a ticket and says why.
func (d *Desk) removeLocked(t *Ticket, now time.Time, why string) {
	delete(d.tickets, t.Conversation)
	d.dirty[t.Conversation] = true
	ev := Event{Kind: EvRemoved, Ticket: t, Why: why, Agent: t.Agent, Queue: t.Queue}
	if t.State == StateAssigned && !t.Assigned.IsZero() {
		ev.Handled = now.Sub(t.Assigned)
		d.learn(t.Queue, ev.Handled)
	}
	d.publish(ev)
}

// learn updates a queue's average handling time.
func (d *Desk) learn(queue string, took time.Duration) {
	if took <= 0 {
		return
	}
	avg, ok := d.handle[queue]
	if !ok {
		d.handle[queue] = took
		return
	}
	d.handle[queue] = time.Duration(0.8*float64(avg) + 0.2*float64(took))
}

// agentSpec returns the roster entry of an agent, or nil (an external
// help desk's agents have none).
func (d *Desk) agentSpec(p *engine.Program, id string) *engine.AgentSpec {
	if external(id) {
		return &engine.AgentSpec{ID: id, Name: strings.TrimPrefix(id, ExternalPrefix)}
	}
	return p.Agent(id)
}

// serves reports whether an agent may see and take a queue's conversations.
func serves(p *engine.Program, a *engine.AgentSpec, queue string) bool {
	if a == nil {
		return false
	}
	if external(a.ID) {
		return true
	}
	q := p.Queue(queue)
	if q == nil { // a bot without queues, or a queue gone in a reload
		return true
	}
	return a.Serves(q)
}

// visible reports whether agent may see ticket t.
func visible(p *engine.Program, a *engine.AgentSpec, t *Ticket) bool {
	return a != nil && (t.Agent == a.ID || serves(p, a, t.Queue))
}

func maxChats(a *engine.AgentSpec) int {
	if a.MaxChats > 0 {
		return a.MaxChats
	}
	return 3
}

// loadLocked counts the conversations each agent has.
func (d *Desk) loadLocked() map[string]int {
	n := map[string]int{}
	for _, t := range d.tickets {
		if t.State == StateAssigned {
			n[t.Agent]++
		}
	}
	return n
}

// waitingLocked returns the waiting tickets in the order they are served:
// the queue's priority (folded into the ticket's), then the ticket's
// order.
func (d *Desk) waitingLocked(queue string, all bool) []*Ticket {
	var out []*Ticket
	for _, t := range d.tickets {
		if t.State == StateWaiting && (all || t.Queue == queue) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, served)
	return out
}

// served orders tickets as they are served: higher priority first, then
// by order.
func served(a, b *Ticket) int {
	if c := cmp.Compare(b.Priority, a.Priority); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Order, b.Order); c != 0 {
		return c
	}
	return strings.Compare(a.Conversation, b.Conversation)
}

// assignLocked gives waiting conversations to the least-loaded available
// agents who serve their queues, and returns the runtime calls to make.
func (d *Desk) assignLocked(now time.Time) []effect {
	p := d.program()
	var free []*engine.AgentSpec
	load := d.loadLocked()
	for id, pr := range d.agents {
		if pr.conns == 0 || pr.status != Available || external(id) {
			continue
		}
		if a := p.Agent(id); a != nil && load[id] < maxChats(a) {
			free = append(free, a)
		}
	}
	if len(free) == 0 {
		return nil
	}
	var fx []effect
	for _, t := range d.waitingLocked("", true) {
		if q := p.Queue(t.Queue); q != nil && q.Manual {
			continue
		}
		var best *engine.AgentSpec
		for _, a := range free {
			if load[a.ID] >= maxChats(a) || !serves(p, a, t.Queue) {
				continue
			}
			if best == nil || less(load, d.agents, a, best) {
				best = a
			}
		}
		if best == nil {
			continue
		}
		load[best.ID]++
		fx = append(fx, d.assignTo(t, best, now, "assigned", ""))
	}
	return fx
}

// less orders agents for automatic assignment: fewer conversations, then
// the longest since their last one, then by id.
func less(load map[string]int, pr map[string]*presence, a, b *engine.AgentSpec) bool {
	la, lb := float64(load[a.ID])/float64(maxChats(a)), float64(load[b.ID])/float64(maxChats(b))
	if la != lb {
		return la < lb
	}
	if load[a.ID] != load[b.ID] {
		return load[a.ID] < load[b.ID]
	}
	ta, tb := pr[a.ID].lastGot, pr[b.ID].lastGot
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return a.ID < b.ID
}

// assignTo gives t to agent a and returns the runtime's side of it.
func (d *Desk) assignTo(t *Ticket, a *engine.AgentSpec, now time.Time, kind, by string) effect {
	waited := now.Sub(t.Enqueued)
	wasMessage := t.State == StateMessage || t.State == StateAfterHours
	t.State, t.Agent, t.Assigned, t.Reminded = StateAssigned, a.ID, now, false
	t.move(Move{At: now, Kind: kind, By: by, Agent: a.ID, Queue: t.Queue})
	if !external(a.ID) {
		d.presence(a.ID).lastGot = now
	}
	d.touch(t)
	d.publish(Event{Kind: EvUpdated, Ticket: t.Clone(), Agent: a.ID, Queue: t.Queue, Waited: waited})
	conv, name, lang := t.Conversation, a.DisplayName(), t.Lang
	p := d.program()
	return func(ctx context.Context) {
		if err := d.Runtime.Assign(ctx, conv, a.ID); err != nil {
			code := engine.ErrCode(err)
			if wasMessage && code == engine.EConflict {
				return // a message left for later: the conversation moved on, the agent answers it anyway
			}
			d.log().Warn("handoff: assignment refused by the runtime", "conversation", conv, "err", err)
			if code == engine.ENotFound || code == engine.EConflict {
				d.HandoffEnded(ctx, conv, "gone")
			}
			return
		}
		d.notify(ctx, conv, d.text(p, "assigned", lang, map[string]any{"agent": name}), nil)
	}
}

// notify sends a message of the desk to a shopper, logging failures.
func (d *Desk) notify(ctx context.Context, conv, text string, choices []engine.OutChoice) {
	if text == "" {
		return
	}
	if err := d.Runtime.Notify(ctx, conv, engine.Outbound{Text: text, Choices: choices}); err != nil {
		d.log().Warn("handoff: message to the shopper not sent", "conversation", conv, "err", err)
	}
}

// say returns the effect of telling the shopper a text of the desk.
func (d *Desk) say(t *Ticket, name string, vars map[string]any) effect {
	p := d.program()
	if vars == nil {
		vars = map[string]any{}
	}
	if _, ok := vars["queue"]; !ok {
		vars["queue"] = queueTitle(p, t.Queue, t.Lang)
	}
	text, conv := d.text(p, name, t.Lang, vars), t.Conversation
	return func(ctx context.Context) { d.notify(ctx, conv, text, nil) }
}

// queueTitle is how a queue is named to shoppers.
func queueTitle(p *engine.Program, name, lang string) string {
	if q := p.Queue(name); q != nil {
		if s, err := q.Title.Render(lang, p.DefaultLang(), nil); err == nil && s != "" {
			return s
		}
	}
	if name == "" {
		if lang == "en" {
			return "support"
		}
		return "atención"
	}
	return strings.ReplaceAll(name, "_", " ")
}

// offerMessage tells a shopper the queue is closed and offers to leave a
// message.
func (d *Desk) offerMessage(t *Ticket, q *engine.Queue) effect {
	p := d.program()
	vars := map[string]any{"queue": queueTitle(p, t.Queue, t.Lang)}
	closed := ""
	if q != nil && len(q.AfterHours) > 0 {
		closed, _ = q.AfterHours.Render(t.Lang, p.DefaultLang(), nil)
	}
	if closed == "" {
		closed = d.text(p, "after_hours", t.Lang, vars)
	}
	offer := d.text(p, "offer_message", t.Lang, vars)
	choices := []engine.OutChoice{
		{Label: d.text(p, "button_message", t.Lang, nil), Value: ChoiceLeaveMessage},
		{Label: d.text(p, "button_bot", t.Lang, nil), Value: ChoiceBackToBot},
	}
	conv := t.Conversation
	return func(ctx context.Context) {
		d.notify(ctx, conv, closed, nil)
		d.notify(ctx, conv, offer, choices)
	}
}

// placeLocked returns a waiting ticket's place in its queue (1 = next)
// and the estimated wait (ok false: nobody who serves the queue is online).
func (d *Desk) placeLocked(t *Ticket) (pos int, wait time.Duration, ok bool) {
	for i, w := range d.waitingLocked(t.Queue, false) {
		if w == t {
			pos = i + 1
			break
		}
	}
	p := d.program()
	capacity := 0
	for id, pr := range d.agents {
		if pr.conns == 0 || pr.status != Available {
			continue
		}
		if a := p.Agent(id); a != nil && serves(p, a, t.Queue) {
			capacity += maxChats(a)
		}
	}
	if capacity == 0 || pos == 0 {
		return pos, 0, false
	}
	avg, known := d.handle[t.Queue]
	if !known {
		avg = 4 * time.Minute
	}
	rounds := math.Ceil(float64(pos) / float64(capacity))
	return pos, time.Duration(rounds * float64(avg)), true
}

// tellPlaceLocked tells a waiting shopper their place and estimated wait,
// with the text named name ("queued" or "position").
func (d *Desk) tellPlaceLocked(t *Ticket, now time.Time, name string) effect {
	pos, wait, ok := d.placeLocked(t)
	if pos == 0 {
		return func(context.Context) {}
	}
	t.Told, t.ToldAt = pos, now
	d.touch(t)
	vars := map[string]any{"position": pos}
	switch {
	case !ok:
		name = "no_agents"
	case pos == 1 && name == "position":
		name = "next"
	}
	vars["wait"] = waitWords(wait, t.Lang)
	return d.say(t, name, vars)
}

// Tick handles what came due by now: agents whose grace ran out, queues'
// max_wait, reminders to silent agents, places in the queues; then assigns
// what it can. Run calls it every second; tests call it after moving the
// clock.
func (d *Desk) Tick(ctx context.Context) {
	p := d.program()
	st := p.Handoff.WithDefaults()
	now := d.now()
	d.mu.Lock()
	d.init()
	var fx []effect
	// Agents gone for longer than the grace period.
	for id, pr := range d.agents {
		if pr.conns == 0 && !pr.deadline.IsZero() && !now.Before(pr.deadline) {
			pr.deadline = time.Time{}
			fx = append(fx, d.requeueAgentLocked(id, now, "disconnected")...)
			d.publish(Event{Kind: EvAgent, Agent: id})
		}
	}
	// Nobody took it within the queue's max_wait.
	for _, t := range d.tickets {
		if t.State != StateWaiting {
			continue
		}
		q := p.Queue(t.Queue)
		if q == nil || q.MaxWait <= 0 || now.Sub(t.Enqueued) < q.MaxWait {
			continue
		}
		fx = append(fx, d.timeoutLocked(t, q, now)...)
	}
	// Agents who left a shopper unanswered.
	for _, t := range d.tickets {
		if t.State == StateAssigned && !t.Reminded && t.Unanswered() && now.Sub(t.LastCustomer) >= st.AgentReminder {
			t.Reminded = true
			d.touchSoft(t)
			d.publish(Event{Kind: EvReminder, Ticket: t.Clone(), Agent: t.Agent, Queue: t.Queue})
		}
	}
	fx = append(fx, d.assignLocked(now)...)
	// Places that improved.
	for _, t := range d.waitingLocked("", true) {
		pos, _, _ := d.placeLocked(t)
		if pos > 0 && t.Told > 0 && pos < t.Told && (pos == 1 || now.Sub(t.ToldAt) >= st.UpdateEvery) {
			fx = append(fx, d.tellPlaceLocked(t, now, "position"))
		}
	}
	d.mu.Unlock()
	d.Flush(ctx)
	d.run(ctx, fx)
}

// timeoutLocked applies a queue's fallback to a ticket nobody took.
func (d *Desk) timeoutLocked(t *Ticket, q *engine.Queue, now time.Time) []effect {
	p := d.program()
	if fb := p.Queue(q.Fallback); fb != nil && fb.Name != t.Queue {
		t.Queue, t.Enqueued, t.Note = fb.Name, now, ""
		t.move(Move{At: now, Kind: "timeout", Queue: fb.Name})
		d.touch(t)
		d.publish(Event{Kind: EvUpdated, Ticket: t.Clone(), Queue: t.Queue})
		fx := []effect{d.requeue(t.Conversation, fb.Name)}
		if !fb.Hours.Open(now) {
			t.State = StateAfterHours
			return append(fx, d.offerMessage(t, fb))
		}
		return append(fx, d.say(t, "transferred", nil))
	}
	d.toMessage(t, now, "timeout", "")
	d.touch(t)
	d.publish(Event{Kind: EvUpdated, Ticket: t.Clone(), Queue: t.Queue})
	return []effect{d.say(t, "timeout", nil)}
}

// requeue returns the effect of putting a conversation back in a queue
// in the runtime (status queued, no agent).
func (d *Desk) requeue(conv, queue string) effect {
	return func(ctx context.Context) {
		if err := d.Runtime.Requeue(ctx, conv, queue); err != nil {
			d.log().Warn("handoff: requeue", "conversation", conv, "err", err)
		}
	}
}

// requeueAgentLocked puts an agent's conversations back at the head of
// their queues.
func (d *Desk) requeueAgentLocked(agent string, now time.Time, why string) []effect {
	var mine []*Ticket
	for _, t := range d.tickets {
		if t.State == StateAssigned && t.Agent == agent {
			mine = append(mine, t)
		}
	}
	// Keep their relative order: the one taken first goes first.
	slices.SortFunc(mine, func(a, b *Ticket) int { return cmp.Compare(b.Order, a.Order) })
	var fx []effect
	for _, t := range mine {
		d.headOrder--
		t.Order = d.headOrder
		t.State, t.Agent, t.Enqueued, t.Assigned = StateWaiting, "", now, time.Time{}
		t.move(Move{At: now, Kind: "requeued", By: agent, Note: why})
		d.touch(t)
		d.publish(Event{Kind: EvUpdated, Ticket: t.Clone(), Queue: t.Queue, Agent: agent})
		fx = append(fx, d.requeue(t.Conversation, t.Queue))
		fx = append(fx, d.tellPlaceLocked(t, now, "queued"))
	}
	return fx
}

// Connect records that an agent opened the console (a WebSocket); the
// returned function records that it closed. While an agent has a
// connection, they take conversations (unless Away); when the last one
// closes, the grace period starts.
func (d *Desk) Connect(agent string) (disconnect func()) {
	now := d.now()
	d.mu.Lock()
	d.init()
	pr := d.presence(agent)
	if pr.out || (pr.conns == 0 && pr.deadline.IsZero()) {
		pr.status, pr.out = Available, false // a new sign-in; a reconnection keeps the status chosen
	}
	pr.conns++
	pr.deadline = time.Time{}
	d.publish(Event{Kind: EvAgent, Agent: agent})
	fx := d.assignLocked(now)
	d.mu.Unlock()
	d.persist(context.Background())
	d.run(context.Background(), fx)
	var once sync.Once
	return func() {
		once.Do(func() {
			d.mu.Lock()
			defer d.mu.Unlock()
			pr.conns--
			if pr.conns == 0 && !pr.out {
				pr.deadline = d.now().Add(d.settings().Grace)
			}
			d.publish(Event{Kind: EvAgent, Agent: agent})
		})
	}
}

// SetStatus makes an agent available for automatic assignment or away.
func (d *Desk) SetStatus(ctx context.Context, agent string, s Availability) error {
	if s != Available && s != Away {
		return engine.Errorf(engine.EInvalid, "status must be available or away")
	}
	now := d.now()
	d.mu.Lock()
	d.init()
	d.presence(agent).status = s
	d.publish(Event{Kind: EvAgent, Agent: agent})
	fx := d.assignLocked(now)
	d.mu.Unlock()
	err := d.persist(ctx)
	d.run(ctx, fx)
	return err
}

// SignOut puts an agent's conversations back at the head of their queues
// at once (the agent left).
func (d *Desk) SignOut(ctx context.Context, agent string) error {
	now := d.now()
	d.mu.Lock()
	d.init()
	fx := d.requeueAgentLocked(agent, now, "signed out")
	pr := d.presence(agent)
	pr.deadline, pr.status, pr.out = time.Time{}, Away, true // until the console connects anew
	d.publish(Event{Kind: EvAgent, Agent: agent})
	fx = append(fx, d.assignLocked(now)...)
	d.mu.Unlock()
	err := d.persist(ctx)
	d.run(ctx, fx)
	return err
}
