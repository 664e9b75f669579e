package engine

import "time"

// Event is an entry of the event log: an append-only record of what happened
// in conversations, for analytics. Its JSON form is a stable, documented
// schema (docs/runtime.md): fields are only ever added.
type Event struct {
	Seq          int64     `json:"seq"` // assigned by the store, increasing
	At           time.Time `json:"at"`
	Kind         EventKind `json:"kind"`
	Conversation string    `json:"conversation"`
	User         string    `json:"user,omitempty"`
	Channel      string    `json:"channel,omitempty"`
	Flow         string    `json:"flow,omitempty"`       // the flow concerned
	Intent       string    `json:"intent,omitempty"`     // turn: the top intent
	Confidence   float64   `json:"confidence,omitempty"` // turn: its confidence
	Outcome      Outcome   `json:"outcome,omitempty"`    // flow_completed, flow_abandoned
	Detail       string    `json:"detail,omitempty"`     // a reason, an action name, an article id, a queue
	Value        any       `json:"value,omitempty"`      // csat: the score; slot values are not logged
}

// EventKind is the kind of an event-log entry.
type EventKind string

const (
	EvTurn          EventKind = "turn"           // a message handled: Intent, Confidence, Flow (waiting after it)
	EvFlowStarted   EventKind = "flow_started"   // Flow started; Detail: how (trigger, call, start, digression, system role)
	EvFlowCompleted EventKind = "flow_completed" // Flow ended by itself; Outcome
	EvFlowAbandoned EventKind = "flow_abandoned" // Flow left unfinished; Detail: why (cancel, expired, closed, error, exhausted:SLOT, none:SLOT, replaced)
	EvFallback      EventKind = "fallback"       // not understood; Value: consecutive count
	EvKB            EventKind = "kb"             // answered from the knowledge base; Detail: the article id
	EvHandoff       EventKind = "handoff"        // handed to a person; Detail: queue; Value: reason
	EvReleased      EventKind = "released"       // given back to the bot; Detail: the flow started, if any
	EvActionError   EventKind = "action_error"   // an action failed; Detail: "name: error"
	EvError         EventKind = "error"          // an expression failed, or the loop guard stopped a turn; Detail
	EvCSAT          EventKind = "csat"           // a satisfaction score; Value: the score
	EvClosed        EventKind = "closed"         // the conversation was closed; Detail: by whom (inactivity, agent)
	EvProactive     EventKind = "proactive"      // an event started a flow for a user; Detail: the event
)
