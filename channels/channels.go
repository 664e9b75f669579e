// Package channels is the connector contract: how a messaging channel (web
// chat, Telegram, REST, a WhatsApp-style webhook) feeds the engine and
// delivers its replies.
//
// A connector turns the platform's updates into [engine.Inbound] messages
// for an [engine.Handler] (the runtime) and implements [engine.Sender] to
// deliver [engine.Outbound] messages. What a platform can show beyond plain
// text is declared with small optional interfaces found by type assertion:
// [Buttoner], [Typer], [Imager], [Editor] and [Limiter]. When a channel
// lacks one, [Degrade] adapts the message: buttons become a numbered list
// that the shopper may answer by number or by the button's text (see
// [Choices]), long texts are split at the channel's limit, images become
// links.
//
// Sub-packages hold the connectors (webchat, rest, telegram), the
// conformance kit every connector passes (channeltest), and the server that
// hosts them (server).
package channels

import (
	"context"

	"github.com/charlabot/charla/engine"
)

// Connector is a channel: a name that tags its conversations, and a Sender
// that delivers messages outside a turn's reply (proactive messages,
// agents' replies). Connectors that receive by themselves (long polling)
// also implement [Runner].
type Connector interface {
	engine.Sender
	Name() string // "webchat", "telegram", "rest", ...
}

// Runner is a connector that runs a receive loop until ctx is done.
type Runner interface {
	Run(ctx context.Context) error
}

// Buttoner is a channel that shows buttons (quick replies, inline keyboards).
type Buttoner interface {
	// MaxButtons is how many buttons one message may carry; more than that
	// are degraded to a numbered list.
	MaxButtons() int
}

// Typer is a channel that can show a typing indicator while a turn runs.
type Typer interface {
	Typing(ctx context.Context, conversation string) error
}

// Imager is a channel that shows images inline.
type Imager interface {
	Images() bool
}

// Editor is a channel that can replace a message it sent earlier, such as
// a keyboard whose button was pressed.
type Editor interface {
	Edit(ctx context.Context, conversation, messageRef string, out engine.Outbound) error
}

// Limiter is a channel with a maximum text length, in characters (Unicode
// code points).
type Limiter interface {
	MaxText() int
}

// Capabilities is what a channel shows, read from the optional interfaces
// it implements.
type Capabilities struct {
	Buttons int  // buttons per message (0: none)
	Typing  bool // a typing indicator
	Images  bool // inline images
	Edit    bool // editing sent messages
	MaxText int  // characters per message (0: unlimited)
}

// CapabilitiesOf reads the capabilities of s.
func CapabilitiesOf(s engine.Sender) Capabilities {
	var c Capabilities
	if b, ok := s.(Buttoner); ok {
		c.Buttons = b.MaxButtons()
	}
	_, c.Typing = s.(Typer)
	if i, ok := s.(Imager); ok {
		c.Images = i.Images()
	}
	_, c.Edit = s.(Editor)
	if l, ok := s.(Limiter); ok {
		c.MaxText = l.MaxText()
	}
	return c
}

// ErrTemplateRequired is returned by a Sender that refuses a free-form
// message because the platform allows one only within a customer-service
// window (WhatsApp and Messenger: 24 hours after the shopper's last
// message), and the message names no approved template to send instead
// (engine.Outbound.Template, from the flow's say step). The message is not
// sent; the runtime keeps it in the user's outbox.
var ErrTemplateRequired = &engine.Error{Code: engine.EConflict,
	Message: "outside the 24-hour customer-service window a message must use an approved template, and this one names none"}
