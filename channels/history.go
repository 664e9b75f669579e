package channels

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"

	"github.com/charlabot/charla/engine"
)

// Entry is one line of a conversation's transcript, as the REST transcript
// endpoint serves it and the web chat replays it.
type Entry = engine.Entry

// Backend is what the channels need of the runtime beyond
// [engine.Handler]. The server package adapts the engine's Runtime to it;
// tests use [channeltest.Backend]. Every method may return an
// *engine.Error with code ENotFound.
type Backend interface {
	engine.Handler
	// Conversation returns the visible state of a conversation.
	Conversation(ctx context.Context, id string) (engine.Conversation, error)
	// Transcript returns the entries of a conversation with Seq > after,
	// oldest first, at most limit of them (limit <= 0: all).
	Transcript(ctx context.Context, id string, after int64, limit int) ([]Entry, error)
	// Trigger runs the flow that event starts for user and delivers its
	// messages on the user's last channel.
	Trigger(ctx context.Context, user, event string, data map[string]any) (Delivery, error)
	// EraseUser deletes everything stored about a user.
	EraseUser(ctx context.Context, user string) error
	// ExportUser returns everything stored about a user, as JSON-ready data.
	ExportUser(ctx context.Context, user string) (any, error)
	// TakeOutbox returns the proactive messages kept for user (the
	// conversation's id for an anonymous one) because they could not be
	// delivered live, oldest first, and forgets them. Those of conversation
	// carry their transcript Seq; those of the user's other conversations
	// have Seq 0.
	TakeOutbox(ctx context.Context, conversation, user string) ([]Entry, error)
}

// Delivery is the outcome of a proactive message.
type Delivery struct {
	Status       DeliveryStatus    `json:"status"`
	Conversation string            `json:"conversation,omitempty"`
	Channel      string            `json:"channel,omitempty"`
	Messages     []engine.Outbound `json:"messages"`
	Reason       string            `json:"reason,omitempty"`
}

// DeliveryStatus says what became of a proactive message.
type DeliveryStatus string

const (
	Delivered DeliveryStatus = "delivered" // sent on a live channel
	Queued    DeliveryStatus = "queued"    // kept in the user's outbox until they reconnect
	OptedOut  DeliveryStatus = "opted_out" // the user asked for no notifications: nothing sent
	NoFlow    DeliveryStatus = "no_flow"   // no flow is triggered by the event
	Silent    DeliveryStatus = "silent"    // the event's flow ran and had nothing to say
)

// SignUser returns the hex HMAC-SHA256 of a shop's customer id made with
// the server's identity secret. The shop's backend computes it and gives it
// to the page that embeds the web chat, so that the chat can prove who the
// shopper is (the identity-verification pattern of help-desk widgets).
func SignUser(secret []byte, user string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(user))
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyUser reports whether mac is SignUser(secret, user), in constant
// time. An empty secret verifies nobody.
func VerifyUser(secret []byte, user, mac string) bool {
	if len(secret) == 0 || user == "" || mac == "" {
		return false
	}
	want, err := hex.DecodeString(mac)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(user))
	return hmac.Equal(m.Sum(nil), want)
}

// ValidID reports whether s can be a conversation, user or message id:
// 1 to 128 bytes of printable ASCII without spaces, slashes or quotes.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '/' || c == '"' || c == '\\' || c == '?' || c == '#' {
			return false
		}
	}
	return true
}

// ErrOffline is returned by a Sender whose user is not connected now (a
// web chat with no open tab). The message should wait in the user's outbox.
var ErrOffline = &engine.Error{Code: engine.EUnavailable, Message: "the user is not connected"}
