package engine

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// turn is the work of one turn on a private copy of a session.
type turn struct {
	rt   *Runtime
	ctx  context.Context
	p    *loaded
	prev *Session // as loaded (nil: a new conversation)
	s    *Session // the working copy, committed at the end
	in   Inbound
	now  time.Time

	u          *Understanding
	understood bool // Understand was called
	intent     string
	confidence float64
	norm       string // the normalised text, when computed
	normDone   bool
	matched    *match

	profile      *Profile
	profileDirty bool

	entries []Entry // new transcript entries
	replies int     // index in entries of the first bot entry of this turn
	events  []Event
	outbox  []OutboxItem
	unsched []Timer

	env         map[string]any
	spareEnv    map[string]any // an empty map for env, from a previous turn
	userVar     map[string]any
	steps       int
	guarded     bool // the loop guard has stopped this turn once
	failing     bool // the error flow is running
	stopped     bool
	calls       int      // action calls so far (part of the idempotency key)
	rejected    *Slot    // the pending slot's answer failed validation
	used        uint64   // bit i: entity i of the understanding filled a slot (see entityFills)
	answered    bool     // the message was taken as the answer to a question
	expect      []string // the entities the understanding was asked to expect
	handoffNote string   // why a person is asked for, when no step says
	handoffReq  *HandoffRequest
	forward     *Entry
	userTurn    bool // a message from the user (not an event, timer or agent)
	proactive   bool // replies are sent through the channel, not returned
	agentTurn   bool // a person's action (assign, send, release, close)
	deadline    context.Context
	cancel      context.CancelFunc
	admitted    bool          // the turn holds a place in the runtime's gate
	running     time.Time     // when it was admitted (wall clock): its deadline counts from here
	waited      time.Duration // time spent waiting for a place

	// Room for a typical turn's records, saving allocations.
	entryBuf   [2]Entry
	eventBuf   [3]Event
	unschedBuf [1]Timer
	c          Commit
}

// turns recycles turn structs: they are big, and full of pointers the
// allocator would have to describe to the collector on every turn.
var turns = sync.Pool{New: func() any { return new(turn) }}

func (rt *Runtime) newTurn(ctx context.Context, prev *Session, in Inbound) *turn {
	now := in.At
	if now.IsZero() {
		now = rt.now()
	}
	t := turns.Get().(*turn) // zeroed by free, but for its spare map
	t.rt, t.ctx, t.prev, t.in, t.now = rt, ctx, prev, in, now
	t.entries, t.events, t.unsched = t.entryBuf[:0], t.eventBuf[:0], t.unschedBuf[:0]
	return t
}

// free returns a turn to the pool once nothing refers to it: after its
// commit and its result were made (they copy what they keep). The
// expression environment's map is kept, emptied, for the next turn: no
// value in it is the map itself ($env is not allowed).
func (t *turn) free() {
	t.leaveGate()
	m := t.env
	if m == nil {
		m = t.spareEnv
	}
	clear(m)
	*t = turn{}
	t.spareEnv = m
	turns.Put(t)
}

// admit waits for the turn's place among those computing at once (see
// gate); the turn's deadline counts from then.
func (t *turn) admit() error {
	t0 := time.Now()
	if err := t.rt.gate.enter(t.ctx, false); err != nil {
		return &Error{Code: EUnavailable, Message: "too busy to run the turn", Err: err}
	}
	t.admitted = true
	t.running = time.Now()
	t.waited = t.running.Sub(t0)
	return nil
}

// leaveGate gives the turn's place back, before it waits (for an action,
// for its commit).
func (t *turn) leaveGate() {
	if t.admitted {
		t.admitted = false
		t.rt.gate.leave()
	}
}

// reenterGate takes a place again after a wait, before the turns that have
// not started. A turn whose context ended goes on without one: it will not
// commit.
func (t *turn) reenterGate() {
	if t.admitted || t.rt.gate == nil {
		return
	}
	t0 := time.Now()
	if t.rt.gate.enter(t.ctx, true) == nil {
		t.admitted = true
		t.waited += time.Since(t0)
	}
}

// commitResult commits the finished turn and returns its result. The
// turn gives its place in the gate back before it waits for the disk: a
// StagedStore's commit is staged first (its CPU work done within the
// place), another store's commit is made after.
func (t *turn) commitResult() (*turnResult, error) {
	c := t.commit()
	r := t.result()
	var err error
	if st, ok := t.rt.store.(StagedStore); ok {
		var wait func() error
		wait, err = st.StageCommit(t.ctx, c)
		t.leaveGate()
		if err == nil && wait != nil {
			err = wait()
		}
	} else {
		t.leaveGate()
		err = t.rt.store.Commit(t.ctx, c)
	}
	if err != nil {
		t.rt.log.Error("commit failed", "conversation", t.s.ID, "err", err)
		return nil, storeError(err)
	}
	return r, nil
}

// begin prepares the working session: a fresh one, or a copy of prev moved
// to the current program at a safe point, expired or reopened as needed,
// with the user's profile when the program needs it.
func (t *turn) begin() error {
	set := t.rt.programs.Load()
	if t.prev == nil {
		t.p = set.current
		t.s = &Session{ID: t.in.Conversation, User: t.in.User, Channel: t.in.Channel, Status: StatusBot,
			Version: t.p.version, Started: t.now, LastActive: t.now, Verified: t.in.Verified}
	} else {
		t.s = t.prev.Clone()
		t.p = set.byVersion[t.s.Version]
		if t.p == nil || (len(t.s.Stack) == 0 && set.current != t.p) {
			old := t.p
			t.p = set.current
			t.s.Version = t.p.version
			if old == nil {
				t.migrate()
			}
		}
		if t.in.User != "" && t.in.User != t.s.User {
			t.s.User, t.s.Verified = t.in.User, false
		}
		if t.in.Channel != "" {
			t.s.Channel = t.in.Channel
		}
		if t.in.Verified {
			t.s.Verified = true
		}
	}
	if t.s.Lang == "" {
		t.s.Lang = t.p.pickLang(t.in.Lang)
	}
	t.userTurn = t.in.Event == "" && !t.agentTurn && !t.proactive
	if t.prev != nil && t.userTurn {
		ttl := t.p.settings.SessionTTL
		switch {
		case t.s.Status == StatusClosed:
			t.restart("")
		case ttl > 0 && t.now.Sub(t.s.LastActive) > ttl:
			t.restart("expired")
		}
	}
	if t.s.User != "" && (t.prev == nil || t.p.userSlots || t.prev.User != t.s.User) {
		if err := t.loadProfile(); err != nil {
			return err
		}
		t.noteIdentity()
	}
	return nil
}

// restart makes a closed or expired conversation start afresh.
func (t *turn) restart(why string) {
	if why != "" {
		t.abandonAll(why)
	}
	t.s.Stack = nil
	t.s.Vars = nil
	t.s.Status = StatusBot
	t.s.Handoff = nil
	t.s.Fallbacks = 0
	t.s.Started = t.now
	t.dropEnv()
}

// migrate moves the flows of a conversation whose program version is gone
// (a restart after a reload) onto the current program: a question is asked
// again where the new flow asks it; what cannot be placed is abandoned.
func (t *turn) migrate() {
	var keep []Frame
	for _, fr := range t.s.Stack {
		f := t.p.Flow(fr.Flow)
		ok := f != nil && fr.Step <= len(f.Steps)
		if ok && fr.Mode == ModeAsking {
			if i := f.AskIndex(fr.Slot); i >= 0 {
				fr.Step = i // the same question, where the new flow asks it
			} else {
				ok = false
			}
		}
		if !ok {
			t.event(EvFlowAbandoned, fr.Flow, "version")
			continue
		}
		keep = append(keep, fr)
	}
	t.s.Stack = keep
}

func (p *loaded) pickLang(hint string) string {
	if hint != "" {
		for _, l := range p.Languages {
			if strings.EqualFold(l, hint) || (len(hint) > len(l) && strings.EqualFold(hint[:len(l)], l) && (hint[len(l)] == '-' || hint[len(l)] == '_')) {
				return l
			}
		}
	}
	return ""
}

func (t *turn) loadProfile() error {
	prof, err := t.rt.store.Profile(t.ctx, t.s.User)
	if err != nil {
		return storeError(err)
	}
	if prof == nil {
		prof = &Profile{ID: t.s.User, Created: t.now, Updated: t.now}
		t.profileDirty = true
	} else {
		prof = prof.Clone()
	}
	t.profile = prof
	return nil
}

// noteIdentity records the channel and conversation the user is on, so
// proactive messages find them.
func (t *turn) noteIdentity() {
	if t.profile == nil || t.in.Channel == "" {
		return
	}
	if t.s.Verified && !t.profile.Verified {
		t.profile.Verified = true
		t.profileDirty = true
	}
	latest, _ := t.profile.Latest()
	for i := range t.profile.Identities {
		id := &t.profile.Identities[i]
		if id.Channel == t.in.Channel && id.Conversation == t.s.ID {
			if latest.Conversation != id.Conversation || latest.Channel != id.Channel || t.now.Sub(id.Seen) > time.Hour {
				id.Seen = t.now
				t.profileDirty = true
			}
			return
		}
	}
	t.profile.Identities = append(t.profile.Identities, Identity{Channel: t.in.Channel, Conversation: t.s.ID, Seen: t.now})
	if len(t.profile.Identities) > 16 { // keep the most recent
		t.profile.Identities = t.profile.Identities[len(t.profile.Identities)-16:]
	}
	t.profileDirty = true
}

// dispatch handles the inbound message: by the conversation's status, then
// as an event, a pressed button or a text.
func (t *turn) dispatch() {
	in := &t.in
	if t.userTurn {
		e := Entry{From: FromUser, Text: in.Text, Choice: in.Choice, ID: in.ID, Channel: in.Channel,
			At: t.now, Attachments: in.Attachments, Location: in.Location}
		if e.Text == "" && e.Choice != "" {
			e.Text = t.choiceLabel(e.Choice)
		}
		t.emit(e)
		t.replies = len(t.entries)
	}
	if t.s.Status == StatusQueued || t.s.Status == StatusAgent {
		if t.userTurn {
			if t.leaveQueue() {
				t.run()
				return
			}
			e := t.entries[len(t.entries)-1]
			t.forward = &e
			return
		}
		if in.Event == EventConversationStart {
			return // a /start or a page opened again: the person has the conversation
		}
	}
	switch {
	case in.Event != "":
		t.onEvent(in.Event, in.Data)
	case in.Choice != "":
		t.onChoice(in.Choice)
	default:
		t.onText()
	}
	t.run()
}

// choiceLabel returns the label of the pending question's choice with the
// given value, or the value.
func (t *turn) choiceLabel(value string) string {
	if fr, f, ask := t.pending(); fr != nil {
		if sl := t.p.slot(f, ask.Slot); sl != nil {
			for _, c := range sl.Choices {
				if c.Value == value {
					if l, _ := c.Label.Render(t.s.Lang, t.p.DefaultLang(), nil); l != "" {
						return l
					}
				}
			}
		}
	}
	return value
}

// pending returns the frame on top when it waits for the answer to a
// question, with its flow and Ask step.
func (t *turn) pending() (*Frame, *Flow, *Ask) {
	fr := t.s.Top()
	if f, ask := t.askOf(fr); ask != nil {
		return fr, f, ask
	}
	return nil, nil, nil
}

// askOf returns, for a frame waiting for the answer to a question, its
// flow and Ask step.
func (t *turn) askOf(fr *Frame) (*Flow, *Ask) {
	if fr == nil || fr.Mode != ModeAsking {
		return nil, nil
	}
	f := t.p.Flow(fr.Flow)
	if f == nil || fr.Step >= len(f.Steps) {
		return nil, nil
	}
	ask, ok := f.Steps[fr.Step].(*Ask)
	if !ok {
		return nil, nil
	}
	return f, ask
}

func (t *turn) onText() {
	text := strings.TrimSpace(t.in.Text)
	if text == "" && len(t.in.Attachments) == 0 && t.in.Location == nil {
		// Nothing to read: ask the pending question again, or stay quiet.
		if fr, _, _ := t.pending(); fr != nil {
			fr.Mode, fr.Reprompt = ModeRunning, true
		}
		return
	}
	t.understand(text)
	if fr, f, ask := t.pending(); fr != nil {
		if t.answer(fr, f, ask) {
			return
		}
		if t.answerInterrupted() {
			return
		}
		if t.whichOne(fr, f, ask) || t.noneOfThem(fr, f, ask) {
			return
		}
		if t.route(true) {
			return
		}
		t.invalidAnswer(fr, f, ask)
		return
	}
	if t.route(false) {
		return
	}
	t.fallback()
}

// answerInterrupted takes the message as the answer to a question that a
// digression interrupted, when the question on top could not use it:
// "entonces la 43" at the order status's "¿Quieres que te avise?", pushed
// over a size exchange asking "¿Qué talla necesitas?". The flows above that
// question are left (flow_abandoned, detail left), the resume flow says
// where the conversation is back, and the flow goes on with the answer.
//
// The frames below the top are tried nearest first; a frame is a candidate
// when it waits for an answer and a digression was pushed right over it.
// Only an exact reading counts — an entity, a number, a choice, a pattern, a
// date, an email — never free text or a yes/no word, which any question
// would take. Nothing is tried when the message triggers another flow
// (than the candidate's), or when a flow to leave is not interruptible, is a
// system flow, or waits for an event or a person. The message is read again
// expecting what the candidate's question takes (a bare "43" is a size only
// to a question about sizes).
func (t *turn) answerInterrupted() bool {
	m := t.match()
	if m.flow != nil && t.p.roleOf[m.flow.Name] != "" {
		return false
	}
	for i := len(t.s.Stack) - 2; i >= 0; i-- {
		above := &t.s.Stack[i+1]
		af := t.p.Flow(above.Flow)
		if af == nil || !af.Interruptible || t.p.roleOf[af.Name] != "" || above.Mode == ModeHandoff || above.Mode == ModeWaiting {
			return false
		}
		fr := &t.s.Stack[i]
		if above.Kind != FrameDigression {
			continue
		}
		f, ask := t.askOf(fr)
		if ask == nil || (m.flow != nil && !m.flow.Aside && m.flow != f) {
			continue
		}
		sl := t.p.slot(f, ask.Slot)
		if sl == nil {
			continue
		}
		// Read it as that question would, with the stack cut there.
		stack, u, used, expect := t.s.Stack, t.u, t.used, t.expect
		t.s.Stack = stack[:i+1]
		t.dropEnv()
		t.understandFor(sl)
		r := t.read(fr, f, ask, readExact)
		ok := t.takes(fr, &r)
		t.s.Stack = stack
		t.dropEnv()
		if !ok {
			t.u, t.used, t.expect = u, used, expect
			continue
		}
		for len(t.s.Stack) > i+1 {
			left := t.popFrame()
			if left.Kind != FrameResume {
				ev := t.newEvent(EvFlowAbandoned, left.Flow, "left")
				ev.Outcome = OutcomeAbandoned
				t.events = append(t.events, ev)
			}
		}
		t.apply(fr, f, &r)
		t.preface(fr)
		return true
	}
	return false
}

// whichOne answers a bare yes ("dale", "sí", "ok") at a question with
// options that is not a yes/no question ("¿Te sirve alguna? [43] [45]"):
// with one option the yes takes it; with several the shopper is asked which
// one, the options listed and as buttons ("¿Cuál prefieres: 43 o 45?"),
// which counts as a try of the question. It reports whether it handled the
// message.
func (t *turn) whichOne(fr *Frame, f *Flow, ask *Ask) bool {
	sl := t.p.slot(f, ask.Slot)
	if sl == nil || sl.Type == SlotBoolean || !BareYes(t.in.Text) {
		return false
	}
	opts := t.answerOptions(fr, sl, ask)
	switch {
	case len(opts) == 0:
		return false
	case len(opts) == 1:
		v, ok := t.readChoice(sl, opts[0].Value)
		if !ok || !t.valid(fr, sl, v) {
			return false
		}
		t.setSlot(fr, sl, v)
		fr.Mode, fr.Tries, fr.Reprompt = ModeRunning, 0, false
		t.answered = true
		t.gotIt()
		return true
	case fr.Tries+1 >= t.retries(sl):
		return false // the last try: the question's way out (invalidAnswer)
	}
	fr.Tries++
	t.gotIt()
	es, en := "¿Cuál prefieres? Elige una de las opciones.", "Which one would you like? Pick one of the options."
	if list := t.listOptions(opts); list != "" {
		es, en = "¿Cuál prefieres: "+list+"?", "Which one would you like: "+list+"?"
	}
	t.emit(Entry{From: FromBot, Text: t.ownText(es, en), Choices: opts, At: t.now, Channel: t.s.Channel, Flow: f.Name})
	return true
}

// noneOfThem answers a refusal of the options ("no", "ninguna", "no me
// sirve ninguna", "none of them": see NoneOfThem) at a question with
// options that is not a yes/no question: the flow goes to the ask step's
// on_none steps when it has them; else the options are shown again,
// listed and as buttons, with the way out ("Estas son las opciones que
// tengo: 43 o 45. Elige una, o escribe «cancelar» si prefieres dejarlo."),
// which counts as a try of the question. At its last try the question's
// exhausted steps run when it has them; else the flow is abandoned
// (detail none:<slot>) and the cancel flow runs. It reports whether it
// handled the message.
func (t *turn) noneOfThem(fr *Frame, f *Flow, ask *Ask) bool {
	sl := t.p.slot(f, ask.Slot)
	if sl == nil || sl.Type == SlotBoolean || !NoneOfThem(t.in.Text) {
		return false
	}
	opts := t.answerOptions(fr, sl, ask)
	switch {
	case len(opts) == 0:
		return false
	case ask.OnNone > 0:
		fr.Step, fr.Mode, fr.Tries, fr.Reprompt = ask.OnNone, ModeRunning, 0, false
		t.answered = true
		t.gotIt()
		return true
	case fr.Tries+1 >= t.retries(sl):
		if ask.Exhausted >= 0 {
			return false // the last try: the question's way out (invalidAnswer)
		}
		// Refused to the last try, with no way out declared: the flow is
		// left, as the shopper was told they could (not the fallback of
		// a message not understood).
		t.gotIt()
		left := t.popFrame()
		ev := t.newEvent(EvFlowAbandoned, left.Flow, "none:"+ask.Slot)
		ev.Outcome = OutcomeAbandoned
		t.events = append(t.events, ev)
		if cf := t.p.SystemFlow(SysCancel); cf != nil {
			t.push(cf, t.overKind(), "none")
		} else {
			t.sayBuiltin(SysCancel)
			t.afterPop(left)
		}
		return true
	}
	fr.Tries++
	t.gotIt()
	es, en := "Elige una de las opciones", "Please pick one of the options"
	if list := t.listOptions(opts); len(opts) == 1 {
		es, en = "La opción que tengo es "+list+". Elígela", "The option I have is "+list+". Pick it"
	} else if list != "" {
		es, en = "Estas son las opciones que tengo: "+list+". Elige una", "These are the options I have: "+list+". Pick one"
	}
	if t.p.SystemFlow(SysCancel) != nil {
		es, en = es+", o escribe «cancelar» si prefieres dejarlo.", en+", or type \"cancel\" if you'd rather leave it."
	} else {
		es, en = es+".", en+"."
	}
	t.emit(Entry{From: FromBot, Text: t.ownText(es, en), Choices: opts, At: t.now, Channel: t.s.Channel, Flow: f.Name})
	return true
}

// askOptions returns the options a question offers: its buttons (those of
// its prompt, else of its reprompt), or its choice slot's choices.
func (t *turn) askOptions(sl *Slot, ask *Ask) []OutChoice {
	text := func(tx Text) (string, error) {
		tm := tx.Pick(t.s.Lang, t.p.DefaultLang())
		if tm == nil {
			return "", nil
		}
		var env map[string]any
		if !tm.Static() {
			env = t.vars()
		}
		return tm.Render(env)
	}
	for _, m := range []*Message{ask.Prompt, ask.Reprompt} {
		if m == nil {
			continue
		}
		if opts, err := t.buttons(m, sl.Choices, text); err == nil && len(opts) > 0 {
			return opts
		}
	}
	if len(sl.Choices) > 0 {
		opts, _ := t.buttons(&Message{}, sl.Choices, text)
		return opts
	}
	return nil
}

// understandFor reads the message again when a question about slot sl
// expects other entities than the first reading did. An entity that
// overlaps one a slot already took is taken too.
func (t *turn) understandFor(sl *Slot) {
	t.understandExpecting(expectedEntities(sl))
}

// understandExpecting reads the message again expecting the entities
// want, unless the first reading already did. An entity that overlaps
// one a slot already took is taken too.
func (t *turn) understandExpecting(want []string) {
	if t.rt.nlu == nil || !t.understood || slices.Equal(want, t.expect) {
		return
	}
	u, err := t.rt.nlu.Understand(t.ctx, Query{Text: strings.TrimSpace(t.in.Text), Lang: t.s.Lang, Now: t.now, Expect: want})
	if err != nil || u == nil {
		return
	}
	var used uint64
	if t.u != nil && t.used != 0 {
		for i, e := range u.Entities {
			for j, o := range t.u.Entities {
				if t.isUsed(j) && overlaps(e, o) && i < 64 {
					used |= 1 << uint(i)
				}
			}
		}
	}
	t.u, t.used, t.expect = u, used, want
}

// understandForLater reads the message again, when it leaves an entity
// no slot took, expecting besides what the pending question takes (slot
// sl) the entities of the flow's slots still to fill: "la 43" at the
// order question is no order, but it is the size the flow asks for later
// — a bare number is read as a size only when a size is expected. A yes
// or no is never expected for a later question: it answers only the
// question it is said to.
func (t *turn) understandForLater(fr *Frame, f *Flow, sl *Slot) {
	if t.u == nil || t.rt.nlu == nil || !t.understood {
		return
	}
	loose := false
	for i := range t.u.Entities {
		if !t.isUsed(i) {
			loose = true
			break
		}
	}
	if !loose {
		return
	}
	later := func(s *Slot) bool {
		if s == sl || s.Entity == "" || s.Entity == EntityBoolean || slices.Contains(t.expect, s.Entity) {
			return false
		}
		_, filled := t.slotValue(fr, s)
		return !filled
	}
	var want []string
	for _, s := range f.Slots {
		if later(s) && !slices.Contains(want, s.Entity) {
			if want == nil {
				want = append(want, t.expect...)
			}
			want = append(want, s.Entity)
		}
	}
	if want != nil {
		t.understandExpecting(want)
	}
}

// overlaps reports whether two entities were read from the same words.
func overlaps(a, b Entity) bool {
	if a.Start == a.End || b.Start == b.End {
		return a.Text == b.Text
	}
	return a.Start < b.End && b.Start < a.End
}

// carryOver takes, for the question a digression interrupted, what the
// message that answered the digression also says for it: "no, mejor la 45"
// answers the order status's "¿Quieres que te avise?" with its "no", and
// the size exchange it goes back to with the 45 — which fills the pending
// size, or corrects a size already given (the flow goes back to just after
// that question: the stock is checked again). Only entities no slot took
// count; the resume flow runs before the flow goes on. It reports whether
// the message was taken.
func (t *turn) carryOver(fr *Frame) bool {
	if !t.userTurn || !t.answered || t.u == nil || len(t.u.Entities) == 0 {
		return false
	}
	f, ask := t.askOf(fr)
	if ask == nil {
		return false
	}
	sl := t.p.slot(f, ask.Slot)
	if sl == nil {
		return false
	}
	t.understandFor(sl)
	r := t.read(fr, f, ask, readEntities)
	if !t.takes(fr, &r) {
		return false
	}
	t.apply(fr, f, &r)
	t.preface(fr)
	return true
}

func (t *turn) onChoice(value string) {
	if fr, f, ask := t.pending(); fr != nil {
		sl := t.p.slot(f, ask.Slot)
		if v, ok := t.readChoice(sl, value); ok {
			if t.valid(fr, sl, v) {
				t.setSlot(fr, sl, v)
				fr.Mode, fr.Tries, fr.Reprompt = ModeRunning, 0, false
				t.answered = true
				t.gotIt()
				return
			}
			t.rejected = sl
		}
	}
	if a := t.p.articleFor(value); a != nil {
		if t.canDigress() {
			t.kbAnswer(a)
			return
		}
	} else if f := t.flowForButton(value); f != nil {
		if t.startTriggered(f) {
			return
		}
	}
	// An unknown value: read it as if typed.
	if t.in.Text == "" {
		t.in.Text = value
	}
	t.onText()
}

// flowForButton returns the flow a pressed button asks for: one its value
// triggers as an intent, or the flow it names.
func (t *turn) flowForButton(value string) *Flow {
	for _, f := range t.p.intentFlows[value] {
		if t.guard(f) {
			return f
		}
	}
	if f := t.p.Flow(value); f != nil && t.guard(f) {
		return f
	}
	return nil
}

// handlesEvent reports whether an event would do something: resume a
// waiting flow or start one.
func (t *turn) handlesEvent(name string) bool {
	if w, _ := t.waitingFor(name); w != nil {
		return true
	}
	return len(t.p.eventFlows[name]) > 0
}

// waitingFor returns the frame on top when it waits at a Wait step for the event.
func (t *turn) waitingFor(name string) (*Frame, *Wait) {
	fr := t.s.Top()
	if fr == nil || fr.Mode != ModeWaiting {
		return nil, nil
	}
	f := t.p.Flow(fr.Flow)
	if f == nil || fr.Step >= len(f.Steps) {
		return nil, nil
	}
	w, ok := f.Steps[fr.Step].(*Wait)
	if !ok {
		return nil, nil
	}
	for _, e := range w.Events {
		if e == name {
			return fr, w
		}
	}
	return nil, nil
}

func (t *turn) onEvent(name string, data map[string]any) {
	ev := NormalizeValue(data)
	if ev == nil {
		ev = map[string]any{}
	}
	if fr, w := t.waitingFor(name); fr != nil {
		if w.Into != "" {
			t.setVar(fr, t.p.Flow(fr.Flow), w.Into, ev)
		}
		t.setFrameVar(fr, VarEvent, ev)
		fr.Mode = ModeRunning
		fr.Step++
		t.unschedule(TimerWait)
		t.dropEnv()
		return
	}
	for _, f := range t.p.eventFlows[name] {
		if !t.guard(f) {
			continue
		}
		kind := FrameStarted
		if top := t.s.Top(); top != nil && top.Mode != ModeRunning {
			kind = FrameDigression
		}
		fr := t.push(f, kind, "event "+name)
		if fr != nil {
			t.setFrameVar(fr, VarEvent, ev)
		}
		return
	}
}

// understand runs the Understander on a text.
func (t *turn) understand(text string) {
	if t.understood || t.rt.nlu == nil || text == "" {
		return
	}
	t.understood = true
	q := Query{Text: text, Lang: t.s.Lang, Now: t.now}
	if fr, f, ask := t.pending(); fr != nil {
		if sl := t.p.slot(f, ask.Slot); sl != nil {
			q.Expect = expectedEntities(sl)
		}
	}
	t.expect = q.Expect
	u, err := t.rt.nlu.Understand(t.ctx, q)
	if err != nil {
		t.rt.log.Warn("understander failed", "conversation", t.s.ID, "err", err)
		return
	}
	t.u = u
	t.intent, t.confidence = u.Top()
	if t.s.Lang == "" && u != nil {
		t.s.Lang = t.p.pickLang(u.Lang)
	}
}

func expectedEntities(sl *Slot) []string {
	if sl.Entity != "" {
		return []string{sl.Entity}
	}
	switch sl.Type {
	case SlotNumber, SlotInteger:
		return expectNumber
	case SlotBoolean:
		return expectBoolean
	case SlotEmail:
		return expectEmail
	case SlotPhone:
		return expectPhone
	case SlotDate:
		return expectDate
	}
	return []string{sl.Name}
}

// The entities a question of a built-in type expects (shared: read only).
var (
	expectNumber  = []string{EntityNumber}
	expectBoolean = []string{EntityBoolean}
	expectEmail   = []string{EntityEmail}
	expectPhone   = []string{EntityPhone}
	expectDate    = []string{EntityDate}
)

// normText returns the normalised text of the message.
func (t *turn) normText() string {
	if !t.normDone {
		t.norm, t.normDone = Normalize(t.in.Text), true
	}
	return t.norm
}

// match is what a message asks for, besides answering a question.
type match struct {
	flow    *Flow
	article *Article
}

// match finds what the message triggers: a flow (by intent above the
// threshold, in rank order, then keywords, then patterns, each only when its
// guard holds) or a knowledge-base article ("kb:<id>" intents that no flow
// claims).
func (t *turn) match() *match {
	if t.matched != nil {
		return t.matched
	}
	m := &match{}
	t.matched = m
	th := t.p.settings.Threshold
	if t.u != nil {
		for _, is := range t.u.Intents {
			if is.Confidence < th {
				break
			}
			for _, f := range t.p.intentFlows[is.Intent] {
				if t.guard(f) {
					m.flow = f
					return m
				}
			}
			if a := t.p.articleFor(is.Intent); a != nil {
				m.article = a
				return m
			}
		}
	}
	if t.in.Text == "" {
		return m
	}
	if len(t.p.keywords) > 0 {
		n := t.normText()
		for _, k := range t.p.keywords {
			if containsPhrase(n, k.phrase) && t.guard(k.flow) {
				m.flow = k.flow
				return m
			}
		}
	}
	for _, f := range t.p.patterned {
		for _, re := range f.Triggers.Patterns {
			if re.MatchString(t.in.Text) && t.guard(f) {
				m.flow = f
				return m
			}
		}
	}
	return m
}

// guard reports whether a flow's trigger guard holds (a failing guard does not).
func (t *turn) guard(f *Flow) bool {
	if f.Triggers.Guard == nil {
		return true
	}
	vars := t.vars()
	vars[VarWaiting] = t.waitingFlow() // the frame's mode may have changed since the environment was built
	ok, err := f.Triggers.Guard.EvalBool(vars)
	if err != nil {
		t.event(EvError, f.Name, "guard: "+err.Error())
		return false
	}
	return ok
}

// systemRole returns the role of the flow the message triggers, if any.
func (t *turn) systemRole() SystemRole {
	if m := t.match(); m.flow != nil {
		return t.p.roleOf[m.flow.Name]
	}
	return ""
}

// route starts what the message triggers. asking says a question is
// pending: then only an interruptible flow may be left for a digression.
func (t *turn) route(asking bool) bool {
	m := t.match()
	switch {
	case m.flow != nil:
		return t.startTriggered(m.flow)
	case m.article != nil:
		if asking && !t.canDigress() {
			return false
		}
		t.kbAnswer(m.article)
		return true
	}
	return false
}

// canDigress reports whether the flow on top may be interrupted now.
func (t *turn) canDigress() bool {
	top := t.s.Top()
	if top == nil || top.Mode == ModeRunning {
		return true
	}
	f := t.p.Flow(top.Flow)
	return f != nil && f.Interruptible && len(t.s.Stack) < t.p.settings.MaxDepth
}

// startTriggered starts a flow the message asks for: cancel and the human
// request at any point, another flow over an interruptible one as a
// digression, the flow in progress by filling what the message says.
func (t *turn) startTriggered(f *Flow) bool {
	top := t.s.Top()
	switch t.p.roleOf[f.Name] {
	case SysCancel:
		t.abandonAll("cancel")
		t.push(f, FrameStarted, "cancel")
		t.gotIt()
		return true
	case SysHuman:
		t.handoffNote = "asked for a person"
		t.leaveTop()
		t.push(f, t.overKind(), "human")
		t.gotIt()
		return true
	}
	if f.Aside && top != nil && top.Flow != f.Name && (top.Mode == ModeAsking || top.Mode == ModeWaiting) {
		// A short reply that fits anywhere: the flow waiting stays, a
		// question is asked again after it (no try counted, no resume
		// flow), a wait goes on waiting.
		if top.Mode == ModeAsking {
			top.Mode, top.Reprompt = ModeRunning, true
		}
		t.push(f, FrameCalled, "aside")
		t.gotIt()
		return true
	}
	if top != nil && top.Flow == f.Name && top.Mode == ModeAsking {
		// Asked again for the flow in progress: take what the message says.
		t.fillFrom(top, f, t.entityFills(f), nil)
		top.Mode, top.Reprompt = ModeRunning, true
		t.gotIt()
		return true
	}
	if top != nil && top.Mode != ModeRunning && !t.canDigress() {
		return false
	}
	t.leaveTop()
	fr := t.push(f, t.overKind(), "trigger")
	if fr == nil {
		return false
	}
	t.fillFrom(fr, f, t.entityFills(f), nil)
	t.gotIt()
	return true
}

// overKind is the kind of a flow pushed now: a digression over a flow that
// waits, else a flow of its own.
func (t *turn) overKind() FrameKind {
	if top := t.s.Top(); top != nil && top.Mode != ModeRunning {
		return FrameDigression
	}
	return FrameStarted
}

// gotIt notes that the message was understood.
func (t *turn) gotIt() { t.s.Fallbacks = 0 }

// kbAnswer answers from the knowledge base, then goes back to the question
// pending, if any.
func (t *turn) kbAnswer(a *Article) {
	t.event(EvKB, "", a.ID)
	if a.Answer != nil {
		t.say(a.Answer, nil, nil)
	}
	t.gotIt()
	if t.leaveTop() {
		return
	}
	if fr, _, _ := t.pending(); fr != nil {
		t.resume(fr)
	}
}

// leaveTop ends the flow waiting on top when it is one that a digression
// leaves rather than comes back to (Flow.Leave: a survey, an "anything
// else?"); it reports whether it did.
func (t *turn) leaveTop() bool {
	top := t.s.Top()
	if top == nil || top.Mode == ModeRunning {
		return false
	}
	f := t.p.Flow(top.Flow)
	if f == nil || !f.Leave {
		return false
	}
	fr := t.popFrame()
	ev := t.newEvent(EvFlowAbandoned, fr.Flow, "left")
	ev.Outcome = OutcomeAbandoned
	t.events = append(t.events, ev)
	return true
}

// fallback answers a message that was not understood, with the likeliest
// intents as buttons; after Settings.FallbackLimit in a row, a person.
func (t *turn) fallback() {
	t.s.Fallbacks++
	ev := t.newEvent(EvFallback, "", "")
	ev.Value = t.s.Fallbacks
	t.events = append(t.events, ev)
	if t.s.Fallbacks >= t.p.settings.FallbackLimit {
		n := t.s.Fallbacks
		t.s.Fallbacks = 0
		t.human("fallback ×" + itoa(n))
		return
	}
	f := t.p.SystemFlow(SysFallback)
	if f == nil {
		t.sayBuiltin(SysFallback)
		return
	}
	kind := FrameStarted
	if top := t.s.Top(); top != nil && top.Mode != ModeRunning {
		kind = FrameQuiet
	}
	if fr := t.push(f, kind, "fallback"); fr != nil {
		t.setFrameVar(fr, VarSuggestions, t.suggestions())
	}
}

// suggestions are the likeliest intents below the threshold that lead
// somewhere, as buttons whose value is the intent.
func (t *turn) suggestions() []any {
	out := []any{}
	if t.u == nil {
		return out
	}
	seen := map[string]bool{}
	for _, is := range t.u.Intents {
		if len(out) == 3 {
			break
		}
		if is.Confidence <= 0 {
			continue
		}
		label := ""
		if a := t.p.articleFor(is.Intent); a != nil {
			label, _ = a.Title.Render(t.s.Lang, t.p.DefaultLang(), nil)
		} else {
			for _, f := range t.p.intentFlows[is.Intent] {
				if t.p.roleOf[f.Name] != "" || seen[f.Name] {
					continue
				}
				seen[f.Name] = true
				label = t.flowTitle(f)
				break
			}
		}
		if label != "" {
			out = append(out, map[string]any{"label": label, "value": is.Intent})
		}
	}
	return out
}

// flowTitle is how the bot names a flow to the shopper.
func (t *turn) flowTitle(f *Flow) string {
	if s, err := f.Title.Render(t.s.Lang, t.p.DefaultLang(), t.vars()); err == nil && s != "" {
		return s
	}
	if f.Description != "" {
		return f.Description
	}
	return strings.ReplaceAll(f.Name, "_", " ")
}

// human hands the conversation to a person through the human system flow,
// or directly when the bot has none.
func (t *turn) human(reason string) {
	t.handoffNote = reason
	if f := t.p.SystemFlow(SysHuman); f != nil {
		t.push(f, t.overKind(), "human")
		return
	}
	t.sayBuiltin(SysHuman)
	flow, step := "", ""
	if top := t.s.Top(); top != nil {
		flow = top.Flow
		step = "#" + itoa(top.Step)
	}
	t.requestHandoff(t.p.settings.DefaultQueue, 0, reason, flow, step)
}

// requestHandoff queues the conversation for a person; the Handoff hook is
// called once the turn is committed.
func (t *turn) requestHandoff(queue string, priority int, reason, flow, step string) {
	if t.s.Status == StatusQueued || t.s.Status == StatusAgent {
		return
	}
	if queue == "" {
		queue = t.p.settings.DefaultQueue
	}
	t.s.Status = StatusQueued
	t.s.Handoff = &HandoffState{Queue: queue, Reason: reason, Since: t.now}
	ev := t.newEvent(EvHandoff, flow, queue)
	ev.Value = reason
	t.events = append(t.events, ev)
	t.handoffReq = &HandoffRequest{Queue: queue, Priority: priority, Reason: reason, Flow: flow, Step: step, At: t.now}
	t.unschedule(TimerReminder)
}

// release gives the conversation back to the bot (see Runtime.Release).
func (t *turn) release(flow string) {
	t.s.Status = StatusBot
	t.s.Handoff = nil
	t.event(EvReleased, "", flow)
	for i := len(t.s.Stack) - 1; i >= 0; i-- {
		if t.s.Stack[i].Mode == ModeHandoff {
			t.s.Stack[i].Mode = ModeRunning
			break
		}
	}
	if top := t.s.Top(); top != nil && top.Mode == ModeAsking {
		top.Mode, top.Reprompt = ModeRunning, true
	}
	if flow != "" {
		t.push(t.p.Flow(flow), FrameStarted, "release")
	}
}

// close closes the conversation.
func (t *turn) close(by string) {
	t.abandonAll("closed")
	t.s.Status = StatusClosed
	t.s.Handoff = nil
	t.event(EvClosed, "", by)
}

// invalidAnswer handles a message that neither answers the pending
// question nor leads elsewhere: a retry, and after the slot's retries, its
// Exhausted target.
func (t *turn) invalidAnswer(fr *Frame, f *Flow, ask *Ask) {
	sl := t.p.slot(f, ask.Slot)
	t.understandForLater(fr, f, sl)
	t.fillFrom(fr, f, t.entityFills(f), sl)
	fr.Tries++
	if fr.Tries >= t.retries(sl) {
		fr.Tries = 0
		t.event(EvFlowAbandoned, f.Name, "exhausted:"+ask.Slot)
		if ask.Exhausted >= 0 {
			t.events = t.events[:len(t.events)-1] // not abandoned: it goes on elsewhere
			fr.Step, fr.Mode, fr.Reprompt = ask.Exhausted, ModeRunning, false
			return
		}
		t.popFrame()
		t.fallback()
		return
	}
	if t.rejected == sl && sl != nil && len(sl.Invalid) > 0 {
		t.sayText(sl.Invalid, f)
		return
	}
	fr.Mode, fr.Reprompt = ModeRunning, true
	if sl != nil && t.rejected != sl {
		t.sayExpected(fr, f, sl, ask)
	}
}

// retries is how many invalid answers a slot's question takes.
func (t *turn) retries(sl *Slot) int {
	if sl != nil && sl.Retries > 0 {
		return sl.Retries
	}
	return t.p.settings.Retries
}

// sayExpected tells the shopper what the pending question expects, when
// the answer could not be read as its slot's type: the slot's invalid text,
// else — unless the question has a reprompt, its own words for asking
// again — the invalid system flow (or the runtime's own words). The
// question is asked again after it.
func (t *turn) sayExpected(fr *Frame, f *Flow, sl *Slot, ask *Ask) {
	if len(sl.Invalid) > 0 {
		t.sayText(sl.Invalid, f)
		return
	}
	if ask.Reprompt != nil {
		return
	}
	want, list := expectedOf(sl), ""
	if opts := t.answerOptions(fr, sl, ask); len(opts) > 0 {
		// A question with options expects one of them, whatever the
		// slot's type ("A1002" or "A1001" at a pattern question).
		want, list = "choice", t.listOptions(opts)
	}
	if sf := t.p.SystemFlow(SysInvalid); sf != nil {
		// Pushed as a resume frame: no flow events, and when it ends the
		// question below (left running, to be asked again) goes on.
		if fr := t.push(sf, FrameResume, "invalid"); fr != nil {
			t.setFrameVar(fr, VarExpected, want)
			t.setFrameVar(fr, VarOptions, list)
		}
		return
	}
	if want == "choice" && list != "" {
		t.sayOwn("Elige una de las opciones: "+list+".", "Please pick one of these: "+list+".", f.Name)
		return
	}
	if es, en := builtinExpected(want); es != "" {
		t.sayOwn(es, en, f.Name)
	}
}

// answerOptions returns the options a question offers (see askOptions)
// that answer it: a button whose value is not a valid value of the slot
// ("No tengo el número" at a question for an order number) leads
// elsewhere. A yes/no question has none.
func (t *turn) answerOptions(fr *Frame, sl *Slot, ask *Ask) []OutChoice {
	if sl == nil || sl.Type == SlotBoolean {
		return nil
	}
	opts := t.askOptions(sl, ask)
	out := opts[:0]
	for _, o := range opts {
		if v, ok := t.readChoice(sl, o.Value); ok && t.valid(fr, sl, v) {
			out = append(out, o)
		}
	}
	return out
}

// maxListed is how many options a message lists in words; past it the
// buttons alone show them.
const maxListed = 5

// listOptions lists the options' labels in the conversation's language,
// "43, 44 o 45" / "43, 44 or 45"; "" when there are more than maxListed.
func (t *turn) listOptions(opts []OutChoice) string {
	if len(opts) == 0 || len(opts) > maxListed {
		return ""
	}
	var b strings.Builder
	for i, o := range opts {
		switch {
		case i == 0:
		case i == len(opts)-1:
			b.WriteString(t.ownText(" o ", " or "))
		default:
			b.WriteString(", ")
		}
		b.WriteString(o.Label)
	}
	return b.String()
}

// expectedOf is what a slot's question expects (see VarExpected).
func expectedOf(sl *Slot) string {
	if sl.Type == SlotAttachment && len(sl.Accept) == 1 {
		return sl.Accept[0]
	}
	return sl.Type.String()
}

// builtinExpected is the runtime's own hint for a program without an
// invalid flow (the flows compiler gives every bot one: flows/system).
func builtinExpected(want string) (es, en string) {
	switch want {
	case "number":
		return "Necesito un número, por ejemplo 42.", "I need a number, for example 42."
	case "integer":
		return "Necesito un número entero, por ejemplo 3.", "I need a whole number, for example 3."
	case "boolean":
		return "Respóndeme sí o no, por favor.", "Please answer yes or no."
	case "choice":
		return "Elige una de las opciones, por favor.", "Please pick one of the options."
	case "email":
		return "Necesito un correo electrónico, por ejemplo ana@ejemplo.com.", "I need an email address, for example ana@example.com."
	case "phone":
		return "Necesito un número de teléfono, por ejemplo 300 123 4567.", "I need a phone number, for example 300 123 4567."
	case "date":
		return "Necesito una fecha, por ejemplo «mañana» o «25 de noviembre».", "I need a date, for example \"tomorrow\" or \"November 25\"."
	case "pattern":
		return "Esa respuesta no tiene el formato que necesito.", "That answer is not in the format I need."
	case "location":
		return "Necesito una ubicación: compártela desde el botón de adjuntar.", "I need a location: share it with the attach button."
	case "image":
		return "Necesito una foto: envíala como imagen.", "I need a photo: send it as an image."
	case "file", "attachment":
		return "Necesito que me envíes un archivo.", "I need you to send a file."
	}
	return "", ""
}

// runtimeVar reports whether a frame variable is one the runtime sets for
// a system flow (not a slot to show).
func runtimeVar(name string) bool {
	return name == VarSuggestions || name == VarResumed || name == VarExpected || name == VarOptions
}

// sayBuiltin says the runtime's own words for a system role whose flow the
// program lacks.
func (t *turn) sayBuiltin(role SystemRole) {
	es, en := "", ""
	switch role {
	case SysFallback:
		es, en = "Perdón, no te entendí.", "Sorry, I did not understand."
	case SysCancel:
		es, en = "De acuerdo, lo dejamos aquí.", "OK, let's leave it there."
	case SysHuman:
		es, en = "Te comunico con una persona.", "I'm passing you to a person."
	case SysInactivity:
		es, en = "¿Sigues ahí?", "Are you still there?"
	case SysError:
		es, en = "Perdón, algo falló. Intenta de nuevo en un momento.", "Sorry, something went wrong. Please try again in a moment."
	default:
		return
	}
	t.sayOwn(es, en, "")
}

// sayOwn says one of the runtime's own texts: English to a conversation in
// English, Spanish to the others.
func (t *turn) sayOwn(es, en, flow string) {
	t.emit(Entry{From: FromBot, Text: t.ownText(es, en), At: t.now, Channel: t.s.Channel, Flow: flow})
}

// ownText picks one of the runtime's own texts: English to a conversation
// in English, Spanish to the others.
func (t *turn) ownText(es, en string) string {
	if t.s.Lang == "en" || (t.s.Lang == "" && t.p.DefaultLang() == "en") {
		return en
	}
	return es
}

// emit appends a transcript entry, numbering it.
func (t *turn) emit(e Entry) {
	t.s.Seq++
	e.Seq = t.s.Seq
	if e.From != FromUser && t.proactive {
		e.Proactive = true
		t.outbox = append(t.outbox, OutboxItem{User: t.userKey(), Conversation: t.s.ID, Seq: e.Seq,
			Message: e.Outbound(t.s.ID, t.s.User), At: t.now})
	}
	t.entries = append(t.entries, e)
}

// userKey is the user a conversation belongs to: its user, or itself when anonymous.
func (t *turn) userKey() string {
	if t.s.User != "" {
		return t.s.User
	}
	return t.s.ID
}

func (t *turn) newEvent(kind EventKind, flow, detail string) Event {
	return Event{At: t.now, Kind: kind, Conversation: t.s.ID, User: t.s.User, Channel: t.s.Channel, Flow: flow, Detail: detail}
}

func (t *turn) event(kind EventKind, flow, detail string) {
	t.events = append(t.events, t.newEvent(kind, flow, detail))
}

// finish settles the session after the turn: timers, the de-duplication
// window, the turn's event.
func (t *turn) finish() {
	s := t.s
	if s.Lang == "" {
		s.Lang = t.p.DefaultLang()
	}
	if t.cancel != nil {
		t.cancel()
	}
	if t.userTurn {
		s.LastActive = t.now
		s.Turns++
		ev := t.newEvent(EvTurn, t.waitingFlow(), "")
		ev.Intent, ev.Confidence = t.intent, t.confidence
		t.events = append(t.events, ev)
	}
	t.scheduleTimers()
	if t.in.ID != "" {
		d := Delivery{ID: t.in.ID, First: t.s.Seq + 1, Last: t.s.Seq}
		if t.replies < len(t.entries) {
			d.First, d.Last = t.entries[t.replies].Seq, t.entries[len(t.entries)-1].Seq
		}
		if len(s.Recent) >= t.rt.window {
			s.Recent = append(s.Recent[:0], s.Recent[len(s.Recent)-t.rt.window+1:]...)
		}
		s.Recent = append(s.Recent, d)
		for _, id := range t.in.Fragments { // a turn joined from several messages answers each once
			if id == "" || id == t.in.ID {
				continue
			}
			if len(s.Recent) >= t.rt.window {
				s.Recent = append(s.Recent[:0], s.Recent[len(s.Recent)-t.rt.window+1:]...)
			}
			d.ID = id
			s.Recent = append(s.Recent, d)
		}
	}
}

// waitingFlow is the flow waiting for input, or "".
func (t *turn) waitingFlow() string {
	if top := t.s.Top(); top != nil && (top.Mode == ModeAsking || top.Mode == ModeWaiting) {
		return top.Flow
	}
	return ""
}

// scheduleTimers sets the conversation's timers for the state it is left in.
// The inactivity timers (reminder, close, expiry) are not moved later on
// every message, which would cost a write to the timer index per turn:
// one that comes due too early finds the conversation active again and
// moves itself to the right time (see fire).
//
// The reminder is for a question left unanswered; a flow parked at a wait
// step is waiting for the world (an event, or its own timeout), not for the
// shopper, so it gets none, and its silence (close, expiry) counts from the
// end of the wait (see silenceFrom).
func (t *turn) scheduleTimers() {
	s, st := t.s, t.p.settings
	asking := s.Status == StatusBot && t.asking()
	from, silent := t.silenceFrom()
	if t.userTurn {
		if asking && st.ReminderAfter > 0 {
			t.scheduleBy(TimerReminder, s.LastActive.Add(st.ReminderAfter))
		} else {
			t.unschedule(TimerReminder)
		}
		if silent && st.CloseAfter > 0 && s.Status != StatusAgent && s.Status != StatusClosed && (len(s.Stack) > 0 || s.Status == StatusQueued) {
			t.scheduleBy(TimerClose, from.Add(st.CloseAfter))
		} else {
			t.unschedule(TimerClose)
		}
	}
	if !asking {
		t.unschedule(TimerReminder)
	}
	if !silent || s.Status == StatusClosed || s.Status == StatusAgent {
		t.unschedule(TimerClose)
	}
	if silent && len(s.Stack) > 0 && st.SessionTTL > 0 && s.Status != StatusAgent {
		t.scheduleBy(TimerExpire, from.Add(st.SessionTTL))
	} else {
		t.unschedule(TimerExpire)
	}
}

// asking reports whether the flow on top waits for the answer to a question.
func (t *turn) asking() bool {
	top := t.s.Top()
	return top != nil && top.Mode == ModeAsking
}

// silenceFrom returns the time from which the conversation's silence
// counts for closing and expiry: its last activity, or, while the flow on
// top is parked at a wait step, the end of that wait if it is later. A
// wait without a timeout waits for its event however long it takes: no
// silence counts then (false).
func (t *turn) silenceFrom() (time.Time, bool) {
	from := t.s.LastActive
	if top := t.s.Top(); top != nil && top.Mode == ModeWaiting {
		w, ok := t.s.Timer(TimerWait)
		if !ok {
			return time.Time{}, false
		}
		if w.Due.After(from) {
			from = w.Due
		}
	}
	return from, true
}

// scheduleBy makes sure a timer of the kind fires no later than due: an
// earlier one is kept (it will check and move itself when it fires).
func (t *turn) scheduleBy(kind TimerKind, due time.Time) {
	if cur, ok := t.s.Timer(kind); ok && !cur.Due.After(due) {
		return
	}
	t.schedule(kind, due)
}

// inactiveDue returns when an inactivity timer of the kind is really due
// for the session as it is now; false when it does not apply any more.
func (t *turn) inactiveDue(kind TimerKind) (time.Time, bool) {
	st := t.p.settings
	switch kind {
	case TimerReminder:
		return t.s.LastActive.Add(st.ReminderAfter), st.ReminderAfter > 0 && t.asking()
	case TimerClose:
		from, ok := t.silenceFrom()
		return from.Add(st.CloseAfter), ok && st.CloseAfter > 0
	case TimerExpire:
		from, ok := t.silenceFrom()
		return from.Add(st.SessionTTL), ok && st.SessionTTL > 0
	}
	return time.Time{}, false
}

func (t *turn) schedule(kind TimerKind, due time.Time) {
	for i := range t.s.Timers {
		if t.s.Timers[i].Kind == kind {
			if !t.s.Timers[i].Due.Equal(due) {
				t.unsched = append(t.unsched, t.s.Timers[i])
				t.s.Timers[i].Due = due
			}
			return
		}
	}
	t.s.Timers = append(t.s.Timers, Timer{Conversation: t.s.ID, Kind: kind, Due: due})
}

func (t *turn) unschedule(kind TimerKind) {
	for i := range t.s.Timers {
		if t.s.Timers[i].Kind == kind {
			t.unsched = append(t.unsched, t.s.Timers[i])
			t.s.Timers = append(t.s.Timers[:i], t.s.Timers[i+1:]...)
			if len(t.s.Timers) == 0 {
				t.s.Timers = nil
			}
			return
		}
	}
}

// commit gathers the turn's changes.
func (t *turn) commit() *Commit {
	c := &t.c
	*c = Commit{Session: t.s, Entries: t.entries, Events: t.events, Unschedule: t.unsched, Outbox: t.outbox}
	if t.profileDirty && t.profile != nil {
		t.profile.Updated = t.now
		c.Profile = t.profile
	}
	return c
}

// result is the committed turn as returned, and what to do next.
func (t *turn) result() *turnResult {
	r := &turnResult{session: t.s}
	tr := &Turn{Messages: make([]Outbound, 0, len(t.entries)-t.replies), Conversation: view(t.p, t.s, t.profile),
		Started: t.started(), Waited: t.waited}
	if t.understood {
		tr.Understanding = t.u
		if tr.Understanding == nil {
			tr.Understanding = &Understanding{Intents: []IntentScore{}, Entities: []Entity{}}
		}
	}
	for i := t.replies; i < len(t.entries); i++ {
		if t.entries[i].From != FromUser {
			tr.Messages = append(tr.Messages, t.entries[i].Outbound(t.s.ID, t.s.User))
		}
	}
	r.turn = tr
	rt := t.rt
	if t.handoffReq != nil {
		req := *t.handoffReq
		req.Conversation = tr.Conversation
		req.Profile = t.profile
		req.Slots = make(map[string]any)
		if t.profile != nil {
			for _, v := range t.profile.Vars {
				req.Slots[v.Name] = v.Value
			}
		}
		for _, v := range t.s.Vars {
			req.Slots[v.Name] = v.Value
		}
		for _, fr := range t.s.Stack {
			req.Stack = append(req.Stack, fr.Flow)
			for _, v := range fr.Vars {
				if !runtimeVar(v.Name) {
					req.Slots[v.Name] = v.Value
				}
			}
		}
		r.after = append(r.after, func(ctx context.Context) {
			if err := rt.agents.Request(ctx, req); err != nil {
				rt.log.Error("hand-off request failed", "conversation", req.Conversation.ID, "err", err)
			}
		})
	}
	if t.forward != nil {
		e, id := *t.forward, t.s.ID
		r.after = append(r.after, func(ctx context.Context) {
			if err := rt.agents.Forward(ctx, id, e); err != nil {
				rt.log.Error("hand-off forward failed", "conversation", id, "err", err)
			}
		})
	}
	if len(t.outbox) > 0 {
		items, channel := t.outbox, t.s.Channel
		r.after = append(r.after, func(ctx context.Context) {
			r.delivered.Store(rt.deliver(ctx, channel, items))
		})
	}
	t.handoffEnded(r)
	return r
}

// deliver sends proactive messages live through the channel's Sender and
// removes them from the outbox; it reports whether all were sent.
func (rt *Runtime) deliver(ctx context.Context, channel string, items []OutboxItem) bool {
	snd := rt.sender(channel)
	if snd == nil {
		return false
	}
	sent := items[:0:0]
	for _, it := range items {
		if err := snd.Send(ctx, it.Message); err != nil {
			rt.log.Info("proactive message kept in the outbox", "conversation", it.Conversation, "err", err)
			break
		}
		sent = append(sent, it)
	}
	if len(sent) > 0 {
		if err := rt.store.Ack(ctx, sent); err != nil {
			rt.log.Error("outbox ack failed", "err", err)
		}
	}
	return len(sent) == len(items)
}

// view is the visible state of a session.
func view(p *loaded, s *Session, prof *Profile) Conversation {
	c := Conversation{ID: s.ID, User: s.User, Channel: s.Channel, Lang: s.Lang, Status: s.Status, Verified: s.Verified}
	n := len(s.Vars)
	top := s.Top()
	if top != nil {
		n += len(top.Vars)
	}
	if prof != nil {
		n += len(prof.Vars)
	}
	c.Slots = make(map[string]any, n)
	if prof != nil {
		for _, v := range prof.Vars {
			c.Slots[v.Name] = v.Value
		}
	}
	for _, v := range s.Vars {
		c.Slots[v.Name] = v.Value
	}
	if top != nil {
		if top.Mode == ModeAsking || top.Mode == ModeWaiting {
			c.Flow = top.Flow
		}
		for _, v := range top.Vars {
			if runtimeVar(v.Name) {
				continue
			}
			c.Slots[v.Name] = v.Value
		}
	}
	if c.Status == "" {
		c.Status = StatusBot
	}
	return c
}

func itoa(n int) string {
	if n >= 0 && n < 10 {
		return string(rune('0' + n))
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
