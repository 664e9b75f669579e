package engine

import (
	"context"
	"time"
)

// Store keeps everything the runtime must not forget: sessions, transcripts,
// the de-duplication window (inside sessions), timers, user profiles, the
// event log and the outbox of proactive messages. The adapters are in
// sub-packages: engine/memory and engine/bolt; engine/storetest is the
// conformance suite they pass.
//
// Every method is safe for concurrent use. The runtime serialises the turns
// of one conversation, so a Store never sees two commits for the same
// conversation at once; it must not serialise different conversations more
// than its medium requires.
type Store interface {
	// Load returns the session of a conversation, or nil (and no error)
	// when there is none. The caller must not modify it.
	Load(ctx context.Context, conversation string) (*Session, error)
	// Commit applies one turn's changes atomically and, for a durable
	// store, durably (synced to disk) before it returns. The store takes
	// ownership of c.Session and c.Profile (the caller never modifies them
	// again); c itself and its slices are the caller's, valid only during
	// the call: a store copies what it keeps of them.
	Commit(ctx context.Context, c *Commit) error

	// Profile returns a user's profile, or nil when there is none.
	Profile(ctx context.Context, user string) (*Profile, error)
	// Transcript returns up to limit entries of a conversation with a seq
	// greater than after, in order (limit <= 0: all).
	Transcript(ctx context.Context, conversation string, after int64, limit int) ([]Entry, error)
	// DueTimers returns up to limit timers due at or before t, earliest first.
	DueTimers(ctx context.Context, t time.Time, limit int) ([]Timer, error)
	// Events returns up to limit event-log entries with a seq greater than
	// after, in order.
	Events(ctx context.Context, after int64, limit int) ([]Event, error)
	// Outbox returns a user's undelivered proactive messages, oldest first.
	Outbox(ctx context.Context, user string) ([]OutboxItem, error)
	// Ack removes delivered messages from the outbox.
	Ack(ctx context.Context, items []OutboxItem) error
	// Conversations returns the ids of a user's conversations.
	Conversations(ctx context.Context, user string) ([]string, error)
	// EraseUser deletes everything stored about a user: profile, their
	// conversations' sessions, transcripts, timers and outbox, and their
	// event-log entries.
	EraseUser(ctx context.Context, user string) error
	// Prune deletes what is older than the retention allows.
	Prune(ctx context.Context, p Prune) error
	// Close releases the store.
	Close() error
}

// A StagedStore is a Store that can commit in two parts: StageCommit does
// the work of a commit that needs the CPU (checking, encoding, applying it
// in memory, queueing it) and returns wait, which returns once the commit
// is durable (nil: it already is). The runtime stages a turn's commit while
// the turn holds its place among the turns computing at once, and waits
// after giving the place back, so that a turn waiting for the disk does not
// hold up turns that could compute. Ownership is as for Commit; c and its
// slices stay valid until wait returns. A Store without it is committed
// with Commit, after the turn gave its place back.
type StagedStore interface {
	Store
	StageCommit(ctx context.Context, c *Commit) (wait func() error, err error)
}

// Prune says what to delete: transcript entries and sessions idle since
// before Transcripts, profiles not updated since before Profiles, event-log
// entries from before Events. A zero time keeps everything of that kind.
type Prune struct {
	Transcripts time.Time
	Profiles    time.Time
	Events      time.Time
}

// UserData is everything stored about a user, as exported on request
// (GDPR and Latin American data-protection laws give users that right).
type UserData struct {
	User          string             `json:"user"`
	Profile       *ProfileExport     `json:"profile,omitempty"`
	Conversations []ConversationData `json:"conversations"`
	Events        []Event            `json:"events"`
	Outbox        []OutboxItem       `json:"outbox,omitempty"`
}

// ProfileExport is a profile in its exported form.
type ProfileExport struct {
	Slots      map[string]any `json:"slots"`
	Identities []Identity     `json:"identities"`
	Verified   bool           `json:"verified"`
	OptOut     bool           `json:"opt_out"`
	Created    time.Time      `json:"created"`
	Updated    time.Time      `json:"updated"`
}

// ConversationData is one conversation of an export.
type ConversationData struct {
	Conversation Conversation `json:"conversation"`
	Transcript   []Entry      `json:"transcript"`
}
