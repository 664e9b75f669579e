package handoff

import (
	"maps"
	"slices"
	"time"

	"github.com/charlabot/charla/engine"
)

// State is where a ticket stands.
type State string

const (
	// StateWaiting: in its queue, waiting for an agent.
	StateWaiting State = "waiting"
	// StateAssigned: an agent has the conversation.
	StateAssigned State = "assigned"
	// StateAfterHours: the queue was closed; the shopper was offered to
	// leave a message and has not answered yet.
	StateAfterHours State = "after_hours"
	// StateMessage: a message left for later (after hours, or nobody
	// answered within the queue's max_wait); an agent claims it when they can.
	StateMessage State = "message"
)

// Ticket is a conversation handed to people: what the agent needs to know
// so that nobody is asked to repeat themselves, and where it stands. The
// transcript itself is read from the runtime.
type Ticket struct {
	Conversation string         `json:"conversation"`
	User         string         `json:"user,omitempty"`
	Channel      string         `json:"channel,omitempty"`
	Lang         string         `json:"lang,omitempty"`
	Queue        string         `json:"queue"`
	Priority     int            `json:"priority"`
	State        State          `json:"state"`
	Agent        string         `json:"agent,omitempty"` // who has it (StateAssigned)
	Reason       string         `json:"reason"`          // the designer's note, "asked for a person", "fallback ×3"
	Flow         string         `json:"flow,omitempty"`  // where the hand-off happened
	Step         string         `json:"step,omitempty"`
	Stack        []string       `json:"stack,omitempty"` // the flows in progress, the oldest first
	Slots        map[string]any `json:"slots"`           // every value the conversation held
	Profile      *Profile       `json:"profile,omitempty"`
	Note         string         `json:"note,omitempty"` // the last transfer's note
	Moves        []Move         `json:"moves,omitempty"`

	Requested    time.Time `json:"requested"`         // when the hand-off was asked for
	Enqueued     time.Time `json:"enqueued"`          // when it entered its current queue or state
	Assigned     time.Time `json:"assigned,omitzero"` // when its agent took it
	LastCustomer time.Time `json:"last_customer,omitzero"`
	LastAgent    time.Time `json:"last_agent,omitzero"`
	Reminded     bool      `json:"reminded,omitempty"` // the agent was reminded of the unanswered message
	Unread       int       `json:"unread"`             // shopper messages since the agent's last reply

	// Order places the ticket among those of equal priority: lower first.
	// New tickets take increasing values; a ticket put back at the head
	// of its queue takes a value below every other.
	Order int64 `json:"order"`
	// Told is the place in the queue the shopper was last told, and
	// ToldAt when.
	Told   int       `json:"told,omitempty"`
	ToldAt time.Time `json:"told_at,omitzero"`
}

// Profile is what is known of the shopper across conversations.
type Profile struct {
	Slots      map[string]any    `json:"slots,omitempty"` // user-scoped values
	Identities []engine.Identity `json:"identities,omitempty"`
	Verified   bool              `json:"verified,omitempty"`
	Since      time.Time         `json:"since,omitzero"`
}

// Move is a step of a ticket's history: assigned, transferred, requeued.
type Move struct {
	At    time.Time `json:"at"`
	Kind  string    `json:"kind"` // "assigned", "claimed", "transferred", "requeued", "timeout", "message"
	By    string    `json:"by,omitempty"`
	Queue string    `json:"queue,omitempty"`
	Agent string    `json:"agent,omitempty"`
	Note  string    `json:"note,omitempty"`
}

// Clone returns a deep copy of the ticket's mutable parts (slot values are
// shared: they are never modified in place).
func (t *Ticket) Clone() *Ticket {
	c := *t
	c.Stack = slices.Clone(t.Stack)
	c.Slots = maps.Clone(t.Slots)
	c.Moves = slices.Clone(t.Moves)
	if t.Profile != nil {
		p := *t.Profile
		p.Slots = maps.Clone(t.Profile.Slots)
		p.Identities = slices.Clone(t.Profile.Identities)
		c.Profile = &p
	}
	return &c
}

// Unanswered reports whether the shopper's last message has no reply from
// the agent yet.
func (t *Ticket) Unanswered() bool {
	return !t.LastCustomer.IsZero() && t.LastCustomer.After(t.LastAgent)
}

func (t *Ticket) move(m Move) {
	t.Moves = append(t.Moves, m)
	if len(t.Moves) > 50 {
		t.Moves = slices.Delete(t.Moves, 0, len(t.Moves)-50)
	}
}

// EventKind is the kind of a desk event.
type EventKind string

const (
	EvQueued   EventKind = "ticket.queued"   // a new ticket (Ticket)
	EvUpdated  EventKind = "ticket.updated"  // a ticket changed: assigned, transferred, requeued (Ticket)
	EvRemoved  EventKind = "ticket.removed"  // a hand-off ended (Ticket as it was; Why)
	EvMessage  EventKind = "message"         // a message of a handed-off conversation (Ticket, Entry)
	EvReminder EventKind = "agent.reminder"  // an agent left a shopper unanswered (Ticket, Agent)
	EvAgent    EventKind = "agent.status"    // an agent connected, disconnected or changed status (Agent)
	EvPosition EventKind = "queue.positions" // places in a queue changed (Queue)
)

// Event is something that happened at the desk, as subscribers see it.
// Ticket is a copy: subscribers may keep it.
type Event struct {
	Seq    int64         `json:"seq"` // increasing, from 1 at each start of the desk
	Kind   EventKind     `json:"kind"`
	At     time.Time     `json:"at"`
	Ticket *Ticket       `json:"ticket,omitempty"`
	Entry  *engine.Entry `json:"entry,omitempty"`
	Agent  string        `json:"agent,omitempty"`
	Queue  string        `json:"queue,omitempty"`
	// Why a ticket was removed: "released", "closed", "cancel" (the
	// shopper left), "closed:inactivity", "expired".
	Why string `json:"why,omitempty"`
	// Waited is how long the ticket waited before an agent took it (set on
	// the update that assigns it); Handled how long an agent had it (set on
	// removal).
	Waited  time.Duration `json:"-"`
	Handled time.Duration `json:"-"`
}
