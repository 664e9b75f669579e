package engine

import (
	"time"
)

// Session is the stored state of one conversation: who it is with, the
// stack of flows in progress and their variables, the pending timers and the
// window of message ids already answered. A Store keeps sessions; the
// runtime loads one at the start of a turn, works on a copy and commits the
// copy. A session handed to or returned by a Store is never modified
// afterwards (copy-on-write), so an in-memory store may keep the pointer.
type Session struct {
	ID       string // the conversation's id
	User     string // the user's id; "" for an anonymous user
	Channel  string // the channel of the last message
	Lang     string // the conversation's language ("" until known)
	Verified bool   // the channel vouches for User
	Status   Status
	Version  string // the program version the conversation runs

	Stack []Frame // flows in progress; the last one is on top
	Vars  Vars    // conversation-scoped slots (and user-scoped ones of an anonymous user)

	Seq       int64 // the seq of the last transcript entry
	Turns     int   // the turns run so far
	Fallbacks int   // consecutive turns not understood

	Started    time.Time // when the conversation (re)started
	LastActive time.Time // the last message from the user

	Timers  []Timer       // pending timers, at most one of each kind
	Recent  []Delivery    // the de-duplication window: the last message ids answered
	Handoff *HandoffState // set while queued or with an agent
}

// Frame is a flow in progress on the stack.
type Frame struct {
	Flow     string
	Step     int    // the index of the current step
	Slot     string // while asking: the slot asked for (to place the question in another program version)
	Vars     Vars
	Kind     FrameKind
	Mode     FrameMode
	Tries    int  // invalid answers at the current question
	Reprompt bool // the next question is asked again (after a digression or an invalid answer)
}

// FrameKind says how a flow came onto the stack, and so what happens when it ends.
type FrameKind uint8

const (
	FrameStarted    FrameKind = iota // started by a trigger, a button or a start step
	FrameCalled                      // called as a sub-flow: its caller goes on
	FrameDigression                  // pushed over a flow waiting for input: the resume flow runs after it
	FrameResume                      // the resume system flow: the interrupted question is asked again
	FrameQuiet                       // a reminder over a waiting flow: the flow keeps waiting silently
)

// FrameMode is what a frame is doing.
type FrameMode uint8

const (
	ModeRunning FrameMode = iota // executing steps
	ModeAsking                   // waiting for the answer to its Ask step
	ModeWaiting                  // parked at a Wait step, for an event or its timer
	ModeHandoff                  // suspended at a Handoff step until a person releases it
)

// Top returns the flow on top of the stack, or nil.
func (s *Session) Top() *Frame {
	if len(s.Stack) == 0 {
		return nil
	}
	return &s.Stack[len(s.Stack)-1]
}

// Clone returns a deep copy of the mutable parts of s (values are shared:
// they are never modified in place).
func (s *Session) Clone() *Session {
	c := *s
	if s.Stack != nil {
		c.Stack = make([]Frame, len(s.Stack))
		for i, f := range s.Stack {
			f.Vars = f.Vars.Clone()
			c.Stack[i] = f
		}
	}
	c.Vars = s.Vars.Clone()
	if s.Timers != nil {
		c.Timers = append([]Timer(nil), s.Timers...)
	}
	if s.Recent != nil {
		// Room for this turn's message id: the window grows by one a turn.
		c.Recent = append(make([]Delivery, 0, len(s.Recent)+1), s.Recent...)
	}
	if s.Handoff != nil {
		h := *s.Handoff
		c.Handoff = &h
	}
	return &c
}

// Delivered returns the de-duplication record of message id, if it is in the window.
func (s *Session) Delivered(id string) (Delivery, bool) {
	if id == "" {
		return Delivery{}, false
	}
	for _, d := range s.Recent {
		if d.ID == id {
			return d, true
		}
	}
	return Delivery{}, false
}

// Timer returns the pending timer of the given kind, if any.
func (s *Session) Timer(kind TimerKind) (Timer, bool) {
	for _, t := range s.Timers {
		if t.Kind == kind {
			return t, true
		}
	}
	return Timer{}, false
}

// Delivery records a message that was answered: its id and the transcript
// seqs of the replies (First > Last when there were none), so a redelivery
// gets the same replies and runs nothing.
type Delivery struct {
	ID          string
	First, Last int64
}

// Timer is a pending timer of a conversation. The Store indexes timers by
// Due so the runtime finds them after a restart.
type Timer struct {
	Conversation string
	Kind         TimerKind
	Due          time.Time
}

// TimerKind names what a timer does when it fires.
type TimerKind string

const (
	TimerWait     TimerKind = "wait"     // the timeout of a Wait step
	TimerReminder TimerKind = "reminder" // the inactivity reminder ("¿Sigues ahí?")
	TimerClose    TimerKind = "close"    // close the conversation after a silence
	TimerExpire   TimerKind = "expire"   // the session expires: flows in progress are abandoned
)

// HandoffState is where a conversation handed to a person stands.
type HandoffState struct {
	Queue  string
	Reason string
	Agent  string // the agent who has it ("" while queued)
	Since  time.Time
}

// Profile is what is kept about a user across conversations.
type Profile struct {
	ID         string
	Vars       Vars       // user-scoped slots
	Identities []Identity // the conversations and channels the user was seen on
	Verified   bool       // some channel vouched for the user
	OptOut     bool       // the user asked for no proactive messages
	Created    time.Time
	Updated    time.Time
}

// Identity is a channel on which a user was seen, and the conversation there.
type Identity struct {
	Channel      string    `json:"channel"`
	Conversation string    `json:"conversation"`
	Seen         time.Time `json:"seen"`
}

// Clone returns a copy of p that can be changed without changing p.
func (p *Profile) Clone() *Profile {
	c := *p
	c.Vars = p.Vars.Clone()
	c.Identities = append([]Identity(nil), p.Identities...)
	return &c
}

// Latest returns the identity the user was seen on last.
func (p *Profile) Latest() (Identity, bool) {
	var best Identity
	for _, id := range p.Identities {
		if best.Conversation == "" || id.Seen.After(best.Seen) {
			best = id
		}
	}
	return best, best.Conversation != ""
}

// Entry is one message of a transcript: from the user, the bot or an agent.
// Its JSON form is what the transcript endpoint serves.
type Entry struct {
	Seq     int64       `json:"seq"`
	From    string      `json:"from"` // FromUser, FromBot or FromAgent
	Text    string      `json:"text"`
	Choices []OutChoice `json:"choices,omitempty"`
	Flow    string      `json:"flow,omitempty"`
	At      time.Time   `json:"at"`

	ID          string         `json:"id,omitempty"`      // the message id of a user message
	Choice      string         `json:"choice,omitempty"`  // the value of a pressed button
	Event       string         `json:"event,omitempty"`   // an event delivered to the conversation
	Data        map[string]any `json:"data,omitempty"`    // the event's data
	Channel     string         `json:"channel,omitempty"` // the channel it came or went through
	Agent       string         `json:"agent,omitempty"`   // the agent who wrote it
	Image       string         `json:"image,omitempty"`
	Link        *OutLink       `json:"link,omitempty"`
	Attachments []Attachment   `json:"attachments,omitempty"`
	Location    *Location      `json:"location,omitempty"`
	Proactive   bool           `json:"proactive,omitempty"` // sent outside a turn's reply (events, reminders, agents)
	Template    *OutTemplate   `json:"template,omitempty"`  // the template to send instead outside a customer-service window
	Receipt     *Receipt       `json:"receipt,omitempty"`   // FromStatus: what the channel reported of a sent message
}

// Who wrote a transcript entry.
const (
	FromUser  = "user"
	FromBot   = "bot"
	FromAgent = "agent"
	// FromStatus marks a receipt: the form a message took or its delivery
	// status, reported by the channel (WhatsApp, Messenger); no text.
	FromStatus = "status"
)

// Outbound returns the entry as a message to send to conversation conv.
func (e *Entry) Outbound(conv, user string) Outbound {
	from := e.From
	if from == FromBot {
		from = ""
	}
	return Outbound{Conversation: conv, User: user, Channel: e.Channel, Text: e.Text,
		Choices: e.Choices, Image: e.Image, Link: e.Link, Flow: e.Flow, From: from, Template: e.Template}
}

// OutboxItem is a proactive message waiting to be delivered to a user who
// was not reachable when it was sent. It is also in the transcript.
type OutboxItem struct {
	User         string    `json:"user"`
	Conversation string    `json:"conversation"`
	Seq          int64     `json:"seq"` // the seq of the transcript entry
	Message      Outbound  `json:"message"`
	At           time.Time `json:"at"`
}

// Commit is everything one turn changes, applied by a Store atomically and
// durably: when Commit returns nil, all of it has reached the disk (for a
// durable store); when it fails, none of it has.
type Commit struct {
	Session    *Session     // the conversation's state after the turn
	Entries    []Entry      // new transcript entries, in ascending Seq
	Events     []Event      // new event-log entries
	Profile    *Profile     // the user's profile, when the turn changed it
	Unschedule []Timer      // timers of the previous state that are no longer pending
	Outbox     []OutboxItem // proactive messages to keep until delivered
}
