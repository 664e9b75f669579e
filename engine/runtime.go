package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Runtime runs a Program for many conversations at once. It is a [Handler]:
// channel adapters feed it inbound messages and get each turn's replies.
// Turns of one conversation run one at a time in arrival order; turns of
// different conversations run in parallel, with no process-wide lock.
//
// Create it with [NewRuntime]; every method is safe for concurrent use.
type Runtime struct {
	store   Store
	nlu     Understander
	agents  Agents
	now     func() time.Time
	log     *slog.Logger
	client  *http.Client
	getenv  func(string) string
	maxText int
	window  int

	locks    *convLocks
	gate     *gate // bounds the turns computing at once
	programs atomic.Pointer[programSet]
	reloadMu sync.Mutex
	actions  atomic.Pointer[map[string]ActionFunc]
	senders  atomic.Pointer[map[string]Sender]
	regMu    sync.Mutex
	wake     chan struct{} // nudges Run when a timer may be due sooner
	builds   atomic.Int64
}

var _ Handler = (*Runtime)(nil)

// programSet is the program conversations start with and every version
// still known, so a conversation keeps its version until a safe point.
type programSet struct {
	current   *loaded
	byVersion map[string]*loaded
}

// Options configure a Runtime. Only Store is required.
type Options struct {
	Store        Store        // where conversations live (engine/memory, engine/bolt)
	Understander Understander // reads texts; nil: only buttons, keywords and patterns are understood
	Agents       Agents       // the hand-off hook (people); nil: [NoAgents]
	Now          func() time.Time
	Logger       *slog.Logger
	HTTPClient   *http.Client        // for HTTP actions (nil: a client without a global timeout)
	Getenv       func(string) string // resolves ${NAME} in HTTP action headers (nil: os.Getenv)
	Actions      map[string]ActionFunc
	Senders      map[string]Sender // channel name → sender of proactive messages
	// MaxTextBytes cuts longer inbound texts (default 8 KiB).
	MaxTextBytes int
	// DedupeWindow is how many message ids per conversation are remembered
	// to answer redeliveries (default 32).
	DedupeWindow int
	// ActiveTurns is how many turns may compute at once (default 4 per
	// CPU, runtime.GOMAXPROCS; negative: no bound). The others wait in
	// arrival order, without a deadline of theirs running; a turn does not
	// count while it waits for an action or for its commit. An
	// Understander is taken to compute (not to wait on a network).
	ActiveTurns int
}

// NewRuntime returns a runtime for p, which must have passed [Program.Check].
func NewRuntime(p *Program, o Options) (*Runtime, error) {
	if p == nil {
		return nil, Errorf(EInvalid, "no program")
	}
	if o.Store == nil {
		return nil, Errorf(EInvalid, "no store")
	}
	rt := &Runtime{
		store:   o.Store,
		nlu:     o.Understander,
		agents:  o.Agents,
		now:     o.Now,
		log:     o.Logger,
		client:  o.HTTPClient,
		getenv:  o.Getenv,
		maxText: o.MaxTextBytes,
		window:  o.DedupeWindow,
		locks:   newConvLocks(),
		wake:    make(chan struct{}, 1),
	}
	switch {
	case o.ActiveTurns == 0:
		rt.gate = newGate(4 * runtime.GOMAXPROCS(0))
	case o.ActiveTurns > 0:
		rt.gate = newGate(o.ActiveTurns)
	}
	if rt.agents == nil {
		rt.agents = NoAgents{}
	}
	if rt.now == nil {
		rt.now = time.Now
	}
	if rt.log == nil {
		rt.log = slog.New(slog.DiscardHandler)
	}
	if rt.client == nil {
		rt.client = &http.Client{}
	}
	if rt.getenv == nil {
		rt.getenv = os.Getenv
	}
	if rt.maxText <= 0 {
		rt.maxText = 8 << 10
	}
	if rt.window <= 0 {
		rt.window = 32
	}
	acts := make(map[string]ActionFunc, len(o.Actions))
	for k, v := range o.Actions {
		acts[k] = v
	}
	rt.actions.Store(&acts)
	snd := make(map[string]Sender, len(o.Senders))
	for k, v := range o.Senders {
		snd[k] = v
	}
	rt.senders.Store(&snd)
	if err := rt.Reload(p); err != nil {
		return nil, err
	}
	return rt, nil
}

// Reload makes p the program new conversations start with. A conversation
// in progress keeps the version it runs until a safe point: when no flow is
// in progress at the start of one of its turns. p must have passed Check.
func (rt *Runtime) Reload(p *Program) error {
	if p == nil {
		return Errorf(EInvalid, "no program")
	}
	if p.flows == nil {
		if err := p.Check(); err != nil {
			return err
		}
	}
	rt.reloadMu.Lock()
	defer rt.reloadMu.Unlock()
	v := p.Version
	if v == "" {
		v = "go-" + strconv.FormatInt(rt.builds.Add(1), 10)
	}
	l := load(p, v)
	old := rt.programs.Load()
	set := &programSet{current: l, byVersion: map[string]*loaded{v: l}}
	if old != nil {
		for k, o := range old.byVersion {
			if k != v {
				set.byVersion[k] = o
			}
		}
	}
	rt.programs.Store(set)
	return nil
}

// ActiveTurns returns how many turns may compute at once (0: no bound).
func (rt *Runtime) ActiveTurns() int {
	if rt.gate == nil {
		return 0
	}
	return rt.gate.size
}

// Program returns the program new conversations start with.
func (rt *Runtime) Program() *Program { return rt.programs.Load().current.Program }

// RegisterAction provides the Go function behind an action the program
// declares (or replaces it). It is usually called before serving.
func (rt *Runtime) RegisterAction(name string, fn ActionFunc) {
	rt.regMu.Lock()
	defer rt.regMu.Unlock()
	old := *rt.actions.Load()
	m := make(map[string]ActionFunc, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[name] = fn
	rt.actions.Store(&m)
}

// RegisterSender sets the sender of proactive messages (events, reminders,
// agents' replies) for a channel. Without one, such messages wait in the
// user's outbox (see [Runtime.Outbox]) and in the transcript.
func (rt *Runtime) RegisterSender(channel string, s Sender) {
	rt.regMu.Lock()
	defer rt.regMu.Unlock()
	old := *rt.senders.Load()
	m := make(map[string]Sender, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	if s == nil {
		delete(m, channel)
	} else {
		m[channel] = s
	}
	rt.senders.Store(&m)
}

func (rt *Runtime) action(name string) ActionFunc { return (*rt.actions.Load())[name] }

func (rt *Runtime) sender(channel string) Sender { return (*rt.senders.Load())[channel] }

// Store returns the runtime's store.
func (rt *Runtime) Store() Store { return rt.store }

// Handle runs one turn of a conversation (see [Handler]). Errors are *Error:
// EInvalid for a message without a conversation id, EUnavailable when the
// store failed (nothing of the turn was kept: the channel may retry with the
// same message id) or ctx ended first.
func (rt *Runtime) Handle(ctx context.Context, in Inbound) (*Turn, error) {
	if in.Conversation == "" {
		return nil, Errorf(EInvalid, "the message has no conversation id")
	}
	if len(in.Conversation) > 256 || len(in.User) > 256 || len(in.ID) > 256 {
		return nil, Errorf(EInvalid, "conversation, user or message id too long (256 bytes at most)")
	}
	in.Text = cleanText(in.Text, rt.maxText)
	in.Choice = cleanText(in.Choice, 1024)
	in.Event = cleanText(in.Event, 256)
	if in.Lang != "" {
		in.Lang = cleanText(in.Lang, 35)
	}
	if in.Event != "" {
		in.Text, in.Choice = "", ""
	}
	var r *turnResult
	err := rt.withConversation(ctx, in.Conversation, func(prev *Session) (*turnResult, error) {
		var err error
		r, err = rt.turn(ctx, prev, in, nil)
		return r, err
	})
	if err != nil {
		return nil, err
	}
	return r.turn, nil
}

// turnResult is a committed turn and what must happen after its commit.
type turnResult struct {
	turn    *Turn
	session *Session
	after   []func(context.Context) // hand-off requests, forwards, proactive sends

	delivered atomic.Bool // the proactive messages were sent live
}

// withConversation locks a conversation, loads its session, runs fn, and
// after unlocking runs what fn left to do once committed.
func (rt *Runtime) withConversation(ctx context.Context, id string, fn func(prev *Session) (*turnResult, error)) error {
	if err := rt.locks.lock(ctx, id); err != nil {
		return &Error{Code: EUnavailable, Message: "the conversation is busy", Err: err}
	}
	r, err := func() (*turnResult, error) {
		defer rt.locks.unlock(id)
		prev, err := rt.store.Load(ctx, id)
		if err != nil {
			return nil, storeError(err)
		}
		return fn(prev)
	}()
	if err != nil {
		return err
	}
	if r != nil {
		for _, f := range r.after {
			f(context.WithoutCancel(ctx))
		}
	}
	return nil
}

func storeError(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Code: EUnavailable, Message: "the store is unavailable", Err: err}
}

// turn runs one turn on prev (nil: a new conversation) and commits it.
// timer, when set, is the timer that fired instead of an inbound message.
func (rt *Runtime) turn(ctx context.Context, prev *Session, in Inbound, timer *Timer) (*turnResult, error) {
	if prev != nil && in.ID != "" {
		if d, ok := prev.Delivered(in.ID); ok && allDelivered(prev, in.Fragments) {
			return rt.duplicate(ctx, prev, d)
		}
	}
	t := rt.newTurn(ctx, prev, in)
	defer t.free()
	if err := t.admit(); err != nil {
		return nil, err
	}
	if err := t.begin(); err != nil {
		return nil, err
	}
	if timer != nil {
		t.fire(*timer)
	} else {
		t.dispatch()
	}
	t.finish()
	return t.commitResult()
}

// allDelivered reports whether every fragment id was answered already; a
// turn joined from fragments runs when any of them is new.
func allDelivered(s *Session, ids []string) bool {
	for _, id := range ids {
		if _, ok := s.Delivered(id); !ok {
			return false
		}
	}
	return true
}

// duplicate answers a redelivered message with the replies it got the first time.
func (rt *Runtime) duplicate(ctx context.Context, s *Session, d Delivery) (*turnResult, error) {
	tr := &Turn{Duplicate: true, Messages: []Outbound{}}
	if d.Last >= d.First {
		es, err := rt.store.Transcript(ctx, s.ID, d.First-1, int(d.Last-d.First+1))
		if err != nil {
			return nil, storeError(err)
		}
		for i := range es {
			if es[i].From != FromUser {
				tr.Messages = append(tr.Messages, es[i].Outbound(s.ID, s.User))
			}
		}
	}
	p := rt.programFor(s)
	prof, err := rt.profileFor(ctx, p, s)
	if err != nil {
		return nil, err
	}
	tr.Conversation = view(p, s, prof)
	return &turnResult{turn: tr, session: s}, nil
}

// programFor returns the program a session runs: its own version if known,
// else the current one.
func (rt *Runtime) programFor(s *Session) *loaded {
	set := rt.programs.Load()
	if s != nil {
		if l, ok := set.byVersion[s.Version]; ok {
			return l
		}
	}
	return set.current
}

func (rt *Runtime) profileFor(ctx context.Context, p *loaded, s *Session) (*Profile, error) {
	if s.User == "" || !p.userSlots {
		return nil, nil
	}
	prof, err := rt.store.Profile(ctx, s.User)
	if err != nil {
		return nil, storeError(err)
	}
	return prof, nil
}

// Conversation returns the visible state of a conversation (ENotFound when
// there is none).
func (rt *Runtime) Conversation(ctx context.Context, id string) (*Conversation, error) {
	s, err := rt.store.Load(ctx, id)
	if err != nil {
		return nil, storeError(err)
	}
	if s == nil {
		return nil, Errorf(ENotFound, "no conversation %q", id)
	}
	p := rt.programFor(s)
	prof, err := rt.profileFor(ctx, p, s)
	if err != nil {
		return nil, err
	}
	c := view(p, s, prof)
	return &c, nil
}

// Session returns the stored session of a conversation, or nil. It must not
// be modified. It is meant for inspection (the chat's /state, tests).
func (rt *Runtime) Session(ctx context.Context, id string) (*Session, error) {
	s, err := rt.store.Load(ctx, id)
	if err != nil {
		return nil, storeError(err)
	}
	return s, nil
}

// Transcript returns up to limit entries of a conversation after seq
// (limit <= 0: all), including proactive and agents' messages.
func (rt *Runtime) Transcript(ctx context.Context, id string, after int64, limit int) ([]Entry, error) {
	es, err := rt.store.Transcript(ctx, id, after, limit)
	if err != nil {
		return nil, storeError(err)
	}
	if es == nil {
		es = []Entry{}
	}
	return es, nil
}

// Events returns up to limit entries of the event log after seq.
func (rt *Runtime) Events(ctx context.Context, after int64, limit int) ([]Event, error) {
	evs, err := rt.store.Events(ctx, after, limit)
	if err != nil {
		return nil, storeError(err)
	}
	return evs, nil
}

// Outbox returns the proactive messages a user has not received yet; a
// channel delivers them when the user reconnects and then calls Ack.
func (rt *Runtime) Outbox(ctx context.Context, user string) ([]OutboxItem, error) {
	items, err := rt.store.Outbox(ctx, user)
	if err != nil {
		return nil, storeError(err)
	}
	return items, nil
}

// TakeOutbox returns the undelivered proactive messages of one
// conversation and removes them from the outbox: for a channel that
// delivers them as soon as it has them (a web chat that reconnects).
func (rt *Runtime) TakeOutbox(ctx context.Context, conv string) ([]OutboxItem, error) {
	s, err := rt.store.Load(ctx, conv)
	if err != nil {
		return nil, storeError(err)
	}
	if s == nil {
		return nil, nil
	}
	user := s.User
	if user == "" {
		user = s.ID
	}
	items, err := rt.Outbox(ctx, user)
	if err != nil {
		return nil, err
	}
	mine := items[:0]
	for _, it := range items {
		if it.Conversation == conv {
			mine = append(mine, it)
		}
	}
	if err := rt.Ack(ctx, mine); err != nil {
		return nil, err
	}
	return mine, nil
}

// Ack removes delivered messages from the outbox.
func (rt *Runtime) Ack(ctx context.Context, items []OutboxItem) error {
	if len(items) == 0 {
		return nil
	}
	if err := rt.store.Ack(ctx, items); err != nil {
		return storeError(err)
	}
	return nil
}

// EraseUser deletes everything stored about a user (see [Store.EraseUser]).
// An anonymous conversation is its own user: erase it by its id.
func (rt *Runtime) EraseUser(ctx context.Context, user string) error {
	if user == "" {
		return Errorf(EInvalid, "no user")
	}
	ids, err := rt.store.Conversations(ctx, user)
	if err != nil {
		return storeError(err)
	}
	// Hold each conversation's lock so no turn commits half of it back.
	for _, id := range ids {
		if err := rt.locks.lock(ctx, id); err != nil {
			return &Error{Code: EUnavailable, Message: "the conversation is busy", Err: err}
		}
		defer rt.locks.unlock(id)
	}
	if err := rt.store.EraseUser(ctx, user); err != nil {
		return storeError(err)
	}
	return nil
}

// ExportUser returns everything stored about a user.
func (rt *Runtime) ExportUser(ctx context.Context, user string) (*UserData, error) {
	if user == "" {
		return nil, Errorf(EInvalid, "no user")
	}
	d := &UserData{User: user, Conversations: []ConversationData{}, Events: []Event{}}
	prof, err := rt.store.Profile(ctx, user)
	if err != nil {
		return nil, storeError(err)
	}
	if prof != nil {
		d.Profile = &ProfileExport{Slots: prof.Vars.Map(), Identities: prof.Identities,
			Verified: prof.Verified, OptOut: prof.OptOut, Created: prof.Created, Updated: prof.Updated}
	}
	ids, err := rt.store.Conversations(ctx, user)
	if err != nil {
		return nil, storeError(err)
	}
	for _, id := range ids {
		s, err := rt.store.Load(ctx, id)
		if err != nil {
			return nil, storeError(err)
		}
		if s == nil {
			continue
		}
		es, err := rt.Transcript(ctx, id, 0, 0)
		if err != nil {
			return nil, err
		}
		d.Conversations = append(d.Conversations, ConversationData{Conversation: view(rt.programFor(s), s, prof), Transcript: es})
	}
	for after := int64(0); ; {
		evs, err := rt.store.Events(ctx, after, 1000)
		if err != nil {
			return nil, storeError(err)
		}
		for _, ev := range evs {
			if ev.User == user || (ev.User == "" && contains(ids, ev.Conversation)) {
				d.Events = append(d.Events, ev)
			}
		}
		if len(evs) < 1000 {
			break
		}
		after = evs[len(evs)-1].Seq
	}
	if d.Outbox, err = rt.store.Outbox(ctx, user); err != nil {
		return nil, storeError(err)
	}
	return d, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// Reset forgets a conversation's flows and variables (the chat's /reset):
// the next message starts afresh. Its transcript is kept.
func (rt *Runtime) Reset(ctx context.Context, id string) error {
	return rt.withConversation(ctx, id, func(prev *Session) (*turnResult, error) {
		if prev == nil {
			return nil, nil
		}
		_, err := rt.sideTurn(ctx, prev, asBefore(prev), sideSystem, func(t *turn) error {
			t.abandonAll("reset")
			t.s.Vars = nil
			t.s.Status = StatusBot
			t.s.Handoff = nil
			t.s.Fallbacks = 0
			return nil
		})
		return nil, err
	})
}

// SetLang switches a conversation to another of the bot's languages.
func (rt *Runtime) SetLang(ctx context.Context, id, lang string) error {
	return rt.withConversation(ctx, id, func(prev *Session) (*turnResult, error) {
		p := rt.programFor(prev)
		l := p.pickLang(lang)
		if l == "" {
			return nil, Errorf(EInvalid, "the bot does not speak %q (it speaks %s)", lang, strings.Join(p.Languages, ", "))
		}
		if prev == nil || prev.Lang == l {
			return nil, nil // the first message will carry the hint
		}
		s := prev.Clone()
		s.Lang = l
		if err := rt.store.Commit(ctx, &Commit{Session: s}); err != nil {
			return nil, storeError(err)
		}
		return nil, nil
	})
}

// Seed is a state to put a conversation in: for tests that start in the
// middle of a flow, and for embedders that open a conversation on a given
// flow (a deep link).
type Seed struct {
	User     string
	Verified bool
	Channel  string
	Lang     string
	Flow     string         // the flow to start ("" : none)
	Step     string         // the step id to start at ("" : the first)
	Slots    map[string]any // slot values, any scope
	Profile  map[string]any // user-scoped values already in the profile
}

// Seed sets up a conversation in the given state and runs it until the bot
// waits (saying, for instance, the question of Step). It returns that turn.
func (rt *Runtime) Seed(ctx context.Context, id string, sd Seed) (*Turn, error) {
	var r *turnResult
	err := rt.withConversation(ctx, id, func(prev *Session) (*turnResult, error) {
		in := Inbound{Conversation: id, User: sd.User, Channel: sd.Channel, Lang: sd.Lang, Verified: sd.Verified}
		var err error
		r, err = rt.sideTurn(ctx, prev, in, sideSystem, func(t *turn) error {
			if err := t.seed(sd); err != nil {
				return err
			}
			t.run()
			return nil
		})
		return r, err
	})
	if err != nil {
		return nil, err
	}
	return r.turn, nil
}

// Triggered is the outcome of [Runtime.Trigger].
type Triggered struct {
	Conversation string     `json:"conversation"`
	Channel      string     `json:"channel"`
	Messages     []Outbound `json:"messages"`
	Delivered    bool       `json:"delivered"` // sent live; otherwise kept in the outbox
	OptedOut     bool       `json:"opted_out"` // the user asked for no proactive messages: nothing was run
	NoFlow       bool       `json:"no_flow"`   // no flow handles the event: nothing was run
}

// Trigger delivers an event to a user: it starts the flow the event
// triggers in the user's latest conversation (or the one that resumes a
// flow waiting for that event), records its messages in the transcript and
// sends them on the user's channel — live through the channel's Sender, or
// else through the user's outbox. A user who opted out gets nothing.
// ENotFound: the user is unknown.
func (rt *Runtime) Trigger(ctx context.Context, user, event string, data map[string]any) (*Triggered, error) {
	if user == "" || event == "" {
		return nil, Errorf(EInvalid, "an event needs a user and a name")
	}
	prof, err := rt.store.Profile(ctx, user)
	if err != nil {
		return nil, storeError(err)
	}
	conv, channel := "", ""
	if prof != nil {
		if prof.OptOut {
			return &Triggered{OptedOut: true, Messages: []Outbound{}}, nil
		}
		if id, ok := prof.Latest(); ok {
			conv, channel = id.Conversation, id.Channel
		}
	}
	if conv == "" { // an anonymous conversation stands for its user
		s, err := rt.store.Load(ctx, user)
		if err != nil {
			return nil, storeError(err)
		}
		if s == nil {
			return nil, Errorf(ENotFound, "unknown user %q", user)
		}
		conv, channel = s.ID, s.Channel
	}
	res := &Triggered{Conversation: conv, Channel: channel, Messages: []Outbound{}}
	var r *turnResult
	err = rt.withConversation(ctx, conv, func(prev *Session) (*turnResult, error) {
		u := user
		if prev != nil && prev.User == "" {
			u = ""
		}
		in := Inbound{Conversation: conv, User: u, Channel: channel, Event: event, Data: data}
		if prev != nil {
			in.Verified = prev.Verified
		}
		var err error
		r, err = rt.sideTurn(ctx, prev, in, sideProactive, func(t *turn) error {
			if !t.handlesEvent(event) {
				res.NoFlow = true
				return errSkip
			}
			t.event(EvProactive, "", event)
			t.dispatch()
			return nil
		})
		return r, err
	})
	if err != nil {
		return nil, err
	}
	if r != nil {
		res.Messages = r.turn.Messages
		res.Delivered = r.delivered.Load()
	}
	return res, nil
}

// Assign records that an agent has taken a queued conversation.
func (rt *Runtime) Assign(ctx context.Context, conv, agent string) error {
	return rt.withConversation(ctx, conv, func(prev *Session) (*turnResult, error) {
		if prev == nil {
			return nil, Errorf(ENotFound, "no conversation %q", conv)
		}
		if prev.Status != StatusQueued && prev.Status != StatusAgent {
			return nil, Errorf(EConflict, "the conversation is not waiting for a person")
		}
		s := prev.Clone()
		s.Status = StatusAgent
		if s.Handoff == nil {
			s.Handoff = &HandoffState{Since: rt.now()}
		}
		s.Handoff.Agent = agent
		c := &Commit{Session: s}
		if err := rt.store.Commit(ctx, c); err != nil {
			return nil, storeError(err)
		}
		return nil, nil
	})
}

// AgentSend records a message from an agent in the transcript and sends it
// on the conversation's channel (or keeps it in the user's outbox).
func (rt *Runtime) AgentSend(ctx context.Context, conv, agent string, out Outbound) error {
	if out.Text == "" && out.Image == "" {
		return Errorf(EInvalid, "empty message")
	}
	return rt.withConversation(ctx, conv, func(prev *Session) (*turnResult, error) {
		if prev == nil {
			return nil, Errorf(ENotFound, "no conversation %q", conv)
		}
		return rt.sideTurn(ctx, prev, asBefore(prev), sideAgent, func(t *turn) error {
			t.emit(Entry{From: FromAgent, Agent: agent, Text: cleanText(out.Text, rt.maxText), Choices: out.Choices,
				Image: out.Image, Link: out.Link, At: t.now, Channel: t.s.Channel})
			return nil
		})
	})
}

// Release gives a conversation back to the bot. With flow "" the flow that
// handed it off goes on with its next step (and the flows it interrupted
// after it); otherwise the flow named (e.g. csat) starts on top of them.
// It returns the bot's messages, which were also sent on the channel.
func (rt *Runtime) Release(ctx context.Context, conv, flow string) (*Turn, error) {
	var r *turnResult
	err := rt.withConversation(ctx, conv, func(prev *Session) (*turnResult, error) {
		if prev == nil {
			return nil, Errorf(ENotFound, "no conversation %q", conv)
		}
		var err error
		r, err = rt.sideTurn(ctx, prev, asBefore(prev), sideAgent, func(t *turn) error {
			if flow != "" && t.p.Flow(flow) == nil {
				return Errorf(ENotFound, "no flow %q", flow)
			}
			t.release(flow)
			t.run()
			return nil
		})
		return r, err
	})
	if err != nil {
		return nil, err
	}
	return r.turn, nil
}

// Close closes a conversation (by an agent, or by whom the string says):
// flows in progress are abandoned; the next message starts afresh.
func (rt *Runtime) Close(ctx context.Context, conv, by string) error {
	return rt.withConversation(ctx, conv, func(prev *Session) (*turnResult, error) {
		if prev == nil {
			return nil, Errorf(ENotFound, "no conversation %q", conv)
		}
		_, err := rt.sideTurn(ctx, prev, asBefore(prev), sideAgent, func(t *turn) error {
			t.close(by)
			return nil
		})
		return nil, err
	})
}

// sideKind says where a turn that is not a shopper's message comes from.
type sideKind uint8

const (
	sideSystem    sideKind = iota // a reset, a seed: the replies are returned
	sideProactive                 // an event, a timer: the replies go out through the channel
	sideAgent                     // a person's action: also through the channel
)

// errSkip makes sideTurn stop without committing anything.
var errSkip = errors.New("nothing to do")

// sideTurn runs a turn that is not a shopper's message on prev (nil: a new
// conversation): do changes the working session, and may run steps; the
// turn is then finished and committed.
func (rt *Runtime) sideTurn(ctx context.Context, prev *Session, in Inbound, kind sideKind, do func(t *turn) error) (*turnResult, error) {
	t := rt.newTurn(ctx, prev, in)
	defer t.free()
	t.proactive = kind != sideSystem
	t.agentTurn = kind == sideAgent
	if err := t.admit(); err != nil {
		return nil, err
	}
	if err := t.begin(); err != nil {
		return nil, err
	}
	if err := do(t); err != nil {
		if err == errSkip {
			return nil, nil
		}
		return nil, err
	}
	t.finish()
	return t.commitResult()
}

// asBefore is a message from a conversation's own user and channel.
func asBefore(s *Session) Inbound {
	return Inbound{Conversation: s.ID, User: s.User, Channel: s.Channel, Verified: s.Verified}
}

func (rt *Runtime) String() string {
	return fmt.Sprintf("engine.Runtime(%s %s)", rt.Program().Name, rt.programs.Load().current.version)
}
