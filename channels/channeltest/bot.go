// Package channeltest is the conformance kit of charla's channels: a
// scripted in-memory bot that stands for the runtime ([Bot]), a suite that
// every connector passes ([Run]), and fakes of the platforms' servers
// ([TelegramAPI]).
package channeltest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/charlabot/charla/channels"
	"github.com/charlabot/charla/engine"
)

// The script of [Bot]; the suite relies on these texts.
const (
	Greeting  = "¡Hola! ¿Qué talla buscas?"
	OptOutAck = "Listo, no te enviaremos más avisos."
	ImageAck  = "Recibí tu imagen."
	Polite    = "Lo siento, tuve un problema. ¿Lo intentamos de nuevo?"
)

// Sizes are the choices that come with [Greeting].
var Sizes = []engine.OutChoice{{Label: "Talla 40", Value: "40"}, {Label: "Talla 42", Value: "42"}}

// LongText is the reply to "largo": longer than any channel's limit.
var LongText = strings.TrimSpace(strings.Repeat("Este es un texto largo para probar la división de mensajes. ", 90))

// Bot is an in-memory stand-in for the runtime that implements
// [channels.Backend] with a fixed script:
//
//	"hola", "hello", "/start"  → Greeting with the Sizes buttons (flow "tallas")
//	choice V                   → "Talla V anotada."
//	"largo"                    → LongText
//	"error"                    → an internal error
//	"no quiero más avisos"     → opts the user out of notifications
//	an image                   → ImageAck
//	anything else              → "Dijiste: TEXT"
//
// It de-duplicates message ids, keeps transcripts, and delivers events
// through the Senders registered with [Bot.Register] on the user's last
// channel, or to an outbox when the Sender returns [channels.ErrOffline].
// The zero value is ready to use.
type Bot struct {
	mu       sync.Mutex
	convs    map[string]*botConv
	lastConv map[string]string // user → last conversation
	optOut   map[string]bool
	senders  map[string]engine.Sender
	seen     map[string]*engine.Turn // conversation + "\x00" + message id
	Turns    int                     // turns handled (not counting duplicates)
}

type botConv struct {
	c       engine.Conversation
	entries []channels.Entry
	outbox  []channels.Entry
}

var _ channels.Backend = (*Bot)(nil)

// Register makes s the Sender of channel's proactive messages.
func (b *Bot) Register(channel string, s engine.Sender) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.senders == nil {
		b.senders = map[string]engine.Sender{}
	}
	b.senders[channel] = s
}

func (b *Bot) conv(in engine.Inbound) *botConv {
	if b.convs == nil {
		b.convs = map[string]*botConv{}
		b.lastConv = map[string]string{}
		b.optOut = map[string]bool{}
		b.seen = map[string]*engine.Turn{}
	}
	c := b.convs[in.Conversation]
	if c == nil {
		c = &botConv{c: engine.Conversation{ID: in.Conversation, Status: engine.StatusBot, Slots: map[string]any{}}}
		b.convs[in.Conversation] = c
	}
	c.c.User, c.c.Channel = in.User, in.Channel
	if in.Lang != "" {
		c.c.Lang = in.Lang
	}
	if in.Verified {
		c.c.Verified = true
	}
	user := in.User
	if user == "" {
		user = in.Conversation
	}
	b.lastConv[user] = in.Conversation
	return c
}

func (c *botConv) add(from string, out engine.Outbound, at time.Time) int64 {
	e := channels.Entry{Seq: int64(len(c.entries) + 1), From: from, Text: out.Text, Choices: out.Choices, Flow: out.Flow, Image: out.Image, At: at}
	c.entries = append(c.entries, e)
	return e.Seq
}

// Handle runs one turn of the script.
func (b *Bot) Handle(ctx context.Context, in engine.Inbound) (*engine.Turn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if in.Conversation == "" {
		return nil, engine.Errorf(engine.EInvalid, "no conversation")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.conv(in)
	key := in.Conversation + "\x00" + in.ID
	if in.ID != "" {
		if t, ok := b.seen[key]; ok {
			d := *t
			d.Duplicate = true
			return &d, nil
		}
	}
	if in.Text == "error" {
		return nil, &engine.Error{Code: engine.EInternal, Err: errors.New("scripted failure")}
	}
	b.Turns++
	at := in.At
	if at.IsZero() {
		at = time.Now()
	}
	userText := in.Text
	if in.Choice != "" {
		userText = in.Choice
		for _, s := range Sizes {
			if s.Value == in.Choice {
				userText = s.Label
			}
		}
	}
	c.add("user", engine.Outbound{Text: userText}, at)
	var out engine.Outbound
	var u *engine.Understanding
	switch t := channels.Fold(in.Text); {
	case in.Choice != "":
		out = engine.Outbound{Text: "Talla " + in.Choice + " anotada.", Flow: "tallas"}
		c.c.Flow = ""
		c.c.Slots["talla"] = in.Choice
	case len(in.Attachments) > 0:
		out = engine.Outbound{Text: ImageAck}
	case t == "hola" || t == "hello" || strings.HasPrefix(in.Text, "/start"):
		out = engine.Outbound{Text: Greeting, Choices: Sizes, Flow: "tallas"}
		c.c.Flow = "tallas"
		u = &engine.Understanding{Intents: []engine.IntentScore{{Intent: "saludo", Confidence: 0.97}}}
	case t == "largo":
		out = engine.Outbound{Text: LongText}
	case t == "no quiero mas avisos":
		out = engine.Outbound{Text: OptOutAck}
		user := in.User
		if user == "" {
			user = in.Conversation
		}
		b.optOut[user] = true
	default:
		out = engine.Outbound{Text: "Dijiste: " + in.Text}
		u = &engine.Understanding{Intents: []engine.IntentScore{}}
	}
	out.Conversation, out.User, out.Channel = in.Conversation, in.User, in.Channel
	c.add("bot", out, at)
	turn := &engine.Turn{Messages: []engine.Outbound{out}, Understanding: u, Conversation: c.c}
	turn.Conversation.Slots = copyMap(c.c.Slots)
	if in.ID != "" {
		b.seen[key] = turn
	}
	return turn, nil
}

func copyMap(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// Conversation returns a conversation's state.
func (b *Bot) Conversation(_ context.Context, id string) (engine.Conversation, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.convs[id]
	if c == nil {
		return engine.Conversation{}, engine.Errorf(engine.ENotFound, "no conversation %q", id)
	}
	cv := c.c
	cv.Slots = copyMap(c.c.Slots)
	return cv, nil
}

// Transcript returns a conversation's entries after a sequence number.
func (b *Bot) Transcript(_ context.Context, id string, after int64, limit int) ([]channels.Entry, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.convs[id]
	if c == nil {
		return nil, engine.Errorf(engine.ENotFound, "no conversation %q", id)
	}
	var out []channels.Entry
	for _, e := range c.entries {
		if e.Seq > after {
			out = append(out, e)
			if limit > 0 && len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

// Trigger sends "Tu pedido ORDER va en camino." for event order_shipped.
func (b *Bot) Trigger(ctx context.Context, user, event string, data map[string]any) (channels.Delivery, error) {
	if event != "order_shipped" {
		return channels.Delivery{Status: channels.NoFlow, Reason: "no flow is triggered by " + event}, nil
	}
	b.mu.Lock()
	id, ok := b.lastConv[user]
	if !ok {
		b.mu.Unlock()
		return channels.Delivery{}, engine.Errorf(engine.ENotFound, "no user %q", user)
	}
	if b.optOut[user] {
		b.mu.Unlock()
		return channels.Delivery{Status: channels.OptedOut, Conversation: id, Reason: "the user opted out of notifications"}, nil
	}
	c := b.convs[id]
	out := engine.Outbound{Conversation: id, User: c.c.User, Channel: c.c.Channel, Text: fmt.Sprintf("Tu pedido %v va en camino.", data["order"]), Flow: "envio"}
	seq := c.add("bot", out, time.Now())
	sender := b.senders[c.c.Channel]
	b.mu.Unlock()

	d := channels.Delivery{Status: channels.Delivered, Conversation: id, Channel: out.Channel, Messages: []engine.Outbound{out}}
	var err error
	if sender == nil {
		err = channels.ErrOffline
	} else {
		err = sender.Send(ctx, out)
	}
	if errors.Is(err, channels.ErrOffline) {
		b.mu.Lock()
		c.outbox = append(c.outbox, c.entries[seq-1])
		b.mu.Unlock()
		d.Status = channels.Queued
		return d, nil
	}
	return d, err
}

// TakeOutbox returns and forgets a user's undelivered messages.
func (b *Bot) TakeOutbox(_ context.Context, conversation, user string) ([]channels.Entry, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []channels.Entry
	for id, c := range b.convs {
		if id != conversation && c.c.User != user {
			continue
		}
		for _, e := range c.outbox {
			if id != conversation {
				e.Seq = 0
			}
			out = append(out, e)
		}
		c.outbox = nil
	}
	return out, nil
}

// EraseUser forgets a user's conversations.
func (b *Bot) EraseUser(_ context.Context, user string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.lastConv[user]; !ok {
		return engine.Errorf(engine.ENotFound, "no user %q", user)
	}
	for id, c := range b.convs {
		if c.c.User == user || id == user {
			delete(b.convs, id)
		}
	}
	delete(b.lastConv, user)
	delete(b.optOut, user)
	return nil
}

// ExportUser returns a user's conversations and transcripts.
func (b *Bot) ExportUser(_ context.Context, user string) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.lastConv[user]; !ok {
		return nil, engine.Errorf(engine.ENotFound, "no user %q", user)
	}
	type conv struct {
		Conversation engine.Conversation `json:"conversation"`
		Transcript   []channels.Entry    `json:"transcript"`
	}
	var convs []conv
	for id, c := range b.convs {
		if c.c.User == user || id == user {
			convs = append(convs, conv{c.c, c.entries})
		}
	}
	return map[string]any{"user": user, "opted_out": b.optOut[user], "conversations": convs}, nil
}
