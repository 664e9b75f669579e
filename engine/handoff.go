package engine

import (
	"context"
	"time"
)

// Agents is the hand-off hook: how conversations reach people (the step
// that asks for one is [Handoff]). The runtime
// calls it after committing the turn that asked for a person (a handoff step,
// the human system flow, too many fallbacks), and for every shopper message
// while the conversation is queued or with an agent (the bot stays silent).
// The agent side answers through the Runtime: [Runtime.Assign],
// [Runtime.AgentSend], [Runtime.Release] and [Runtime.Close].
//
// Calls are made outside the conversation's lock and may block; an error is
// logged and recorded, the conversation stays queued.
type Agents interface {
	// Request puts a conversation in a queue.
	Request(ctx context.Context, r HandoffRequest) error
	// Forward passes on a message the shopper sent while queued or with an agent.
	Forward(ctx context.Context, conversation string, e Entry) error
}

// HandoffRequest is a conversation asking for a person, with what the agent
// needs to know so that nobody is asked to repeat themselves. The full
// transcript is read with [Runtime.Transcript].
type HandoffRequest struct {
	Conversation Conversation   // the state: status queued, the visible slots
	Slots        map[string]any // every value the conversation holds, of every flow in progress
	Stack        []string       // the flows in progress, the oldest first
	Queue        string         // the queue asked for ("" : the bot's default)
	Priority     int
	Reason       string // the designer's note, "asked for a person", "fallback ×3"
	Flow         string // where it happened
	Step         string // the step's id, or its index as "#3"
	Profile      *Profile
	At           time.Time
}

// NoAgents is the Agents of a bot without people: the conversation stays
// queued (the bot silent, every message kept in the transcript) until it is
// released, closed by inactivity, or the session expires. It is the
// runtime's default.
type NoAgents struct{}

// Request accepts the conversation and does nothing else.
func (NoAgents) Request(context.Context, HandoffRequest) error { return nil }

// Forward drops the message: it is already in the transcript.
func (NoAgents) Forward(context.Context, string, Entry) error { return nil }
