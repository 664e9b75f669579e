package engine

import (
	"context"
	"time"
)

// Inbound is what a channel delivers to the runtime: a text, a pressed
// button, an attachment, a location, or an event.
type Inbound struct {
	Conversation string // the conversation's id, unique across channels
	User         string // the user's id ("" : anonymous, the conversation stands for them)
	Channel      string // the channel's name: "webchat", "telegram", "rest", ...
	ID           string // the message id; a redelivery with the same id is answered once
	// Fragments are the ids of further messages joined into this one (a
	// shopper's burst of short messages made one turn by a channel's
	// debounce); a redelivery of any of them is answered once, like ID.
	Fragments []string

	Text        string
	Choice      string // the value of a pressed button, instead of Text
	Attachments []Attachment
	Location    *Location
	Event       string         // a named event (e.g. order_shipped), instead of a message
	Data        map[string]any // the event's data

	Lang     string    // a language hint from the channel ("" : unknown)
	Verified bool      // the channel or the embedding site vouches for User
	At       time.Time // when it was received (zero: now)
}

// Attachment is an image or a file sent by a shopper. Media are referenced,
// not downloaded.
type Attachment struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"` // "image" or "file"
	URL     string `json:"url,omitempty"`
	Name    string `json:"name,omitempty"`
	MIME    string `json:"mime,omitempty"`
	Caption string `json:"caption,omitempty"`
	Size    int    `json:"size,omitempty"`
}

// Location is a place shared by a shopper.
type Location struct {
	Lat     float64 `json:"lat"`
	Lon     float64 `json:"lon"`
	Name    string  `json:"name,omitempty"`
	Address string  `json:"address,omitempty"`
}

// Outbound is one message from the bot (or from an agent) to a shopper.
type Outbound struct {
	Conversation string         `json:"-"`
	User         string         `json:"-"`
	Channel      string         `json:"-"`
	Text         string         `json:"text"`
	Choices      []OutChoice    `json:"choices,omitempty"`
	Image        string         `json:"image,omitempty"`
	Link         *OutLink       `json:"link,omitempty"`
	Flow         string         `json:"flow,omitempty"` // the flow that said it
	From         string         `json:"from,omitempty"` // "bot" (default) or "agent"
	Meta         map[string]any `json:"meta,omitempty"` // channel-specific extras (a template name, ...)
	// Template is the approved template a channel with a customer-service
	// window (WhatsApp) sends instead of Text when the window is closed.
	Template *OutTemplate `json:"template,omitempty"`
}

// OutTemplate is a message template approved by the platform (WhatsApp's
// message templates), named with its language and the values of its
// placeholders, in order ({{1}}, {{2}}, ...).
type OutTemplate struct {
	Name   string   `json:"name"`
	Lang   string   `json:"lang,omitempty"`
	Params []string `json:"params,omitempty"`
}

// OutChoice is a button as sent: what it says and the value it answers with.
type OutChoice struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// OutLink is a link as sent.
type OutLink struct {
	URL   string `json:"url"`
	Label string `json:"label,omitempty"`
}

// Understander reads a message: which intents it expresses and which
// entities it mentions. The nlu package provides the real one; the engine
// has a keyword understander for tests and tiny bots.
type Understander interface {
	Understand(ctx context.Context, q Query) (*Understanding, error)
}

// Query is a message to understand.
type Query struct {
	Text string
	Lang string    // the conversation's language; "" asks the understander to detect it
	Now  time.Time // for relative dates ("mañana")
	// Expect names the entities the pending question can take (e.g. "size"),
	// so an ambiguous "43" can be read as what the bot just asked for. It
	// is shared: an Understander reads it and never changes it.
	Expect []string
}

// Understanding is what an Understander made of a message.
type Understanding struct {
	Lang     string        `json:"lang,omitempty"` // the language of the text (given or detected)
	Intents  []IntentScore `json:"intents"`        // ranked, most likely first; several when the message holds several
	Entities []Entity      `json:"entities"`
}

// Top returns the most likely intent and its confidence ("", 0 when none).
func (u *Understanding) Top() (string, float64) {
	if u == nil || len(u.Intents) == 0 {
		return "", 0
	}
	return u.Intents[0].Intent, u.Intents[0].Confidence
}

// Entity returns the first entity with the given name.
func (u *Understanding) Entity(name string) (Entity, bool) {
	if u != nil {
		for _, e := range u.Entities {
			if e.Entity == name {
				return e, true
			}
		}
	}
	return Entity{}, false
}

// IntentScore is an intent with its calibrated confidence in [0, 1].
type IntentScore struct {
	Intent     string  `json:"intent"`
	Confidence float64 `json:"confidence"`
}

// Entity is a value found in a message. Value is canonical: a string, a
// float64 for numbers and sizes, a time.Time for dates, a map for money
// ({"amount": 12.5, "currency": "COP"}). Start and End are offsets in
// characters (Unicode code points) of the text it was read from.
type Entity struct {
	Entity string `json:"entity"`
	Value  any    `json:"value"`
	Text   string `json:"text"`
	Start  int    `json:"start"`
	End    int    `json:"end"`
}

// Standard entity names produced by the built-in extractors.
const (
	EntityNumber  = "number"
	EntityMoney   = "money"
	EntityEmail   = "email"
	EntityPhone   = "phone"
	EntityDate    = "date"
	EntityOrderID = "order_id"
	EntitySize    = "size"
	EntityBoolean = "boolean" // yes/no: true or false
)
