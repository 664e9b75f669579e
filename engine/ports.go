package engine

import (
	"context"
	"time"
)

// Handler handles inbound messages: the runtime is one, and channel adapters
// feed one. Tests of adapters may use a fake.
type Handler interface {
	// Handle runs one turn: de-duplicates the message, runs the conversation
	// until the bot waits for input, commits the session and transcript, and
	// only then returns the bot's replies.
	Handle(ctx context.Context, in Inbound) (*Turn, error)
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(ctx context.Context, in Inbound) (*Turn, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, in Inbound) (*Turn, error) { return f(ctx, in) }

// Turn is the outcome of one inbound message.
type Turn struct {
	Messages      []Outbound     // the replies of this turn, in order
	Understanding *Understanding // what was understood; nil when nothing was read (a button, an event)
	Conversation  Conversation   // the state after the turn
	Duplicate     bool           // a redelivered message: Messages are the replies already given
	Started       bool           // the turn (re)started the conversation: its first, or the first after it closed or expired
	// Waited is how long the turn waited for its place among the turns
	// computing at once (see Options.ActiveTurns), before it ran and when
	// it came back from its actions: the queueing part of its time.
	Waited time.Duration
}

// Status is who has a conversation.
type Status string

const (
	StatusBot    Status = "bot"    // the bot answers
	StatusQueued Status = "queued" // waiting for a person
	StatusAgent  Status = "agent"  // a person answers
	StatusClosed Status = "closed" // closed by a person or by inactivity
)

// Conversation is the visible state of a conversation.
type Conversation struct {
	ID       string         `json:"id"`
	User     string         `json:"user,omitempty"`
	Channel  string         `json:"channel,omitempty"`
	Lang     string         `json:"lang,omitempty"`
	Status   Status         `json:"status"`
	Flow     string         `json:"flow"`  // the flow waiting for input, or ""
	Slots    map[string]any `json:"slots"` // conversation- and user-scoped values, and the waiting flow's
	Verified bool           `json:"verified,omitempty"`
}

// Sender delivers messages on a channel outside a turn's reply: proactive
// messages, agents' replies, reminders. Channel adapters implement it and
// declare optional capabilities with further small interfaces.
type Sender interface {
	Send(ctx context.Context, out Outbound) error
}

// SenderFunc adapts a function to a Sender.
type SenderFunc func(ctx context.Context, out Outbound) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, out Outbound) error { return f(ctx, out) }
