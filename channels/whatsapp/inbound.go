package whatsapp

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/charlabot/charla/channels/meta"
	"github.com/charlabot/charla/engine"
)

// The webhook payload of the Cloud API's "messages" field, as documented
// (only what charla reads).
type payload struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      string `json:"id"`
		Changes []struct {
			Field string `json:"field"`
			Value value  `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

type value struct {
	MessagingProduct string `json:"messaging_product"`
	Metadata         struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	} `json:"metadata"`
	Messages []message         `json:"messages"`
	Statuses []status          `json:"statuses"`
	Errors   []meta.GraphError `json:"errors"`
}

type message struct {
	From        string                 `json:"from"`
	ID          string                 `json:"id"`
	Timestamp   string                 `json:"timestamp"`
	Type        string                 `json:"type"`
	Text        *struct{ Body string } `json:"text"`
	Interactive *struct {
		Type        string `json:"type"`
		ButtonReply *reply `json:"button_reply"`
		ListReply   *reply `json:"list_reply"`
	} `json:"interactive"`
	Button *struct {
		Text    string `json:"text"`
		Payload string `json:"payload"`
	} `json:"button"`
	Location *struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
		Name      string  `json:"name"`
		Address   string  `json:"address"`
	} `json:"location"`
	Image    *media            `json:"image"`
	Document *media            `json:"document"`
	Errors   []meta.GraphError `json:"errors"`
}

type reply struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type media struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
}

type status struct {
	ID          string            `json:"id"`
	Status      string            `json:"status"`
	Timestamp   string            `json:"timestamp"`
	RecipientID string            `json:"recipient_id"`
	Errors      []meta.GraphError `json:"errors"`
}

// job is one unit of work of a conversation's queue.
type job struct {
	conv string
	run  func(ctx context.Context)
}

// fragment is an inbound text waiting in the debounce.
type fragment struct {
	in engine.Inbound
}

// deliver reads a signed webhook body and queues its work: the turns of
// new messages and the receipts of status callbacks. It fails with
// meta.ErrBusy (and forgets the message ids) when the queue has no room.
func (c *Connector) deliver(body []byte) error {
	var p payload
	if err := json.Unmarshal(body, &p); err != nil || p.Object != "whatsapp_business_account" {
		return meta.ErrPayload
	}
	var ids []string // new message ids, forgotten again if the delivery is refused
	type item struct {
		conv  string
		in    *engine.Inbound // a message for a turn
		text  bool            // a plain text, which the debounce may join
		other func(ctx context.Context)
	}
	var items []item
	now := c.Clock.Now()
	for _, e := range p.Entry {
		for _, ch := range e.Changes {
			v := ch.Value
			if ch.Field != "messages" {
				continue
			}
			if v.Metadata.PhoneNumberID != "" && v.Metadata.PhoneNumberID != c.Config.PhoneNumberID {
				c.logger().Warn("whatsapp: a delivery for another phone number id; is the app subscribed twice?", "phone_number_id", v.Metadata.PhoneNumberID)
				continue
			}
			for _, ge := range v.Errors {
				c.logger().Error("whatsapp: error notification", "err", &ge)
			}
			for _, m := range v.Messages {
				if m.ID == "" || m.From == "" {
					continue
				}
				if !c.seen.Add(m.ID) {
					continue // Meta redelivered it
				}
				ids = append(ids, m.ID)
				at := unixTime(m.Timestamp, now)
				conv := ConversationID(m.From)
				c.windows.Touch(conv, at)
				in, kind := c.inbound(m, at)
				switch kind {
				case kindIgnore:
				case kindUnsupported:
					id := m.ID
					items = append(items, item{conv: conv, other: func(ctx context.Context) { c.unsupported(ctx, conv, id) }})
				default:
					items = append(items, item{conv: conv, in: &in, text: kind == kindText})
				}
			}
			for _, s := range v.Statuses {
				if s.ID == "" || s.RecipientID == "" {
					continue
				}
				s := s
				items = append(items, item{conv: ConversationID(s.RecipientID), other: func(ctx context.Context) { c.status(ctx, s, now) }})
			}
		}
	}
	if len(items) == 0 {
		return nil
	}
	if !c.Queue.Reserve(len(items)) {
		for _, id := range ids {
			c.seen.Forget(id)
		}
		return meta.ErrBusy
	}
	for _, it := range items {
		switch {
		case it.in != nil && it.text && c.debounce != nil:
			c.debounce.Add(it.conv, fragment{in: *it.in})
		case it.in != nil:
			in := *it.in
			c.push(it.conv, func(ctx context.Context) { c.turn(ctx, in) })
		default:
			c.push(it.conv, it.other)
		}
	}
	return nil
}

// push queues work after the conversation's burst, if one is gathering.
func (c *Connector) push(conv string, run func(ctx context.Context)) {
	do := func() {
		c.Queue.Push(conv, func() {
			ctx, cancel := context.WithTimeout(context.Background(), c.TurnTimeout)
			defer cancel()
			run(ctx)
		})
	}
	if c.debounce != nil {
		c.debounce.FlushKey(conv, do)
		return
	}
	do()
}

// flushBurst makes one turn of a burst of texts: their texts joined by
// line breaks, the first id as the message's and the others as its
// fragments. Each fragment held a queue slot; the turn keeps one.
func (c *Connector) flushBurst(conv string, frags []fragment) {
	in := frags[0].in
	if len(frags) > 1 {
		texts := make([]string, len(frags))
		for i, f := range frags {
			texts[i] = f.in.Text
			if i > 0 {
				in.Fragments = append(in.Fragments, f.in.ID)
			}
		}
		in.Text = strings.Join(texts, "\n")
		in.At = frags[len(frags)-1].in.At
		c.Queue.Release(len(frags) - 1)
	}
	c.Queue.Push(conv, func() {
		ctx, cancel := context.WithTimeout(context.Background(), c.TurnTimeout)
		defer cancel()
		c.turn(ctx, in)
	})
}

type inKind int

const (
	kindText inKind = iota
	kindOther
	kindIgnore
	kindUnsupported
)

// inbound turns a webhook message into a message for the runtime.
func (c *Connector) inbound(m message, at time.Time) (engine.Inbound, inKind) {
	conv := ConversationID(m.From)
	in := engine.Inbound{Conversation: conv, User: UserID(m.From), Channel: Channel, ID: m.ID, Verified: true, At: at}
	switch m.Type {
	case "text":
		if m.Text == nil || strings.TrimSpace(m.Text.Body) == "" {
			return in, kindIgnore
		}
		in.Text = m.Text.Body
		if c.choices.Resolve(&in) {
			return in, kindOther // "2" answering a numbered list is a pressed button
		}
		return in, kindText
	case "interactive":
		var r *reply
		if m.Interactive != nil {
			r = m.Interactive.ButtonReply
			if r == nil {
				r = m.Interactive.ListReply
			}
		}
		if r == nil {
			return in, kindUnsupported // flows, product answers, ...
		}
		in.Choice = c.choiceValue(conv, r.ID)
		if in.Choice == "" {
			in.Text = r.Title
		}
		c.choices.Remember(conv, nil)
		return in, kindOther
	case "button": // a quick-reply button of a template
		if m.Button == nil {
			return in, kindIgnore
		}
		if m.Button.Payload != "" {
			in.Choice = m.Button.Payload
		} else {
			in.Text = m.Button.Text
		}
		return in, kindOther
	case "location":
		if m.Location == nil {
			return in, kindIgnore
		}
		l := m.Location
		in.Location = &engine.Location{Lat: l.Latitude, Lon: l.Longitude, Name: l.Name, Address: l.Address}
		return in, kindOther
	case "image", "document":
		md, kind := m.Image, "image"
		if m.Type == "document" {
			md, kind = m.Document, "file"
			if md != nil && strings.HasPrefix(md.MimeType, "image/") {
				kind = "image"
			}
		}
		if md == nil || md.ID == "" {
			return in, kindIgnore
		}
		in.Text = md.Caption
		in.Attachments = []engine.Attachment{{ID: md.ID, Kind: kind, URL: MediaURL(md.ID), Name: md.Filename, MIME: md.MimeType, Caption: md.Caption}}
		return in, kindOther
	case "reaction", "system", "ephemeral", "request_welcome":
		// a reaction needs no answer; system notices (a changed number)
		// are not the shopper's words
		return in, kindIgnore
	}
	return in, kindUnsupported // audio, video, sticker, contacts, order, unknown, ...
}

// MediaURL is the URL charla gives a WhatsApp media id in an Attachment;
// [Connector.Media] fetches it.
func MediaURL(id string) string { return "whatsapp-media:" + id }

func unixTime(s string, fallback time.Time) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return fallback
	}
	t := time.Unix(n, 0)
	if t.After(fallback) {
		return fallback // a clock ahead of ours: the window starts now
	}
	return t
}

func (c *Connector) noteLast(conv, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.lastIn) >= 100_000 {
		clear(c.lastIn)
	}
	c.lastIn[conv] = id
}

// turn runs one turn and sends its replies. A store that is down is
// retried a few times (Meta has had its 200 already).
func (c *Connector) turn(ctx context.Context, in engine.Inbound) {
	if in.ID != "" {
		c.noteLast(in.Conversation, lastID(in))
	}
	if !c.Config.NoReadMarks {
		c.Typing(ctx, in.Conversation)
	}
	var (
		t   *engine.Turn
		err error
	)
	for attempt := 0; ; attempt++ {
		t, err = c.Handler.Handle(ctx, in)
		if err == nil || engine.ErrCode(err) != engine.EUnavailable || attempt == 2 || ctx.Err() != nil {
			break
		}
		if c.sleep(ctx, time.Duration(attempt+1)*time.Second) != nil {
			break
		}
	}
	if err != nil {
		code := engine.ErrCode(err)
		if code == engine.EInternal || code == engine.EUnavailable {
			c.logger().Error("whatsapp: turn failed", "conversation", in.Conversation, "err", err)
		}
		text := engine.ErrMessage(err)
		if code == engine.EInternal || code == engine.EUnavailable {
			text = polite(in.Lang)
		}
		if err := c.Send(ctx, engine.Outbound{Conversation: in.Conversation, Text: text}); err != nil {
			c.logger().Error("whatsapp: sending the error notice failed", "conversation", in.Conversation, "err", err)
		}
		return
	}
	if t.Duplicate {
		return // answered the first time
	}
	for _, m := range t.Messages {
		m.Conversation = in.Conversation
		if err := c.Send(ctx, m); err != nil {
			c.logger().Error("whatsapp: sending a reply failed", "conversation", in.Conversation, "err", err)
			return
		}
	}
}

func lastID(in engine.Inbound) string {
	if n := len(in.Fragments); n > 0 {
		return in.Fragments[n-1]
	}
	return in.ID
}

func (c *Connector) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	return meta.Sleep(ctx, d)
}

func polite(lang string) string {
	if lang == "en" {
		return "Sorry, something went wrong. Shall we try again?"
	}
	return "Lo siento, tuve un problema. ¿Lo intentamos de nuevo?"
}

// unsupported answers a message type charla does not read.
func (c *Connector) unsupported(ctx context.Context, conv, id string) {
	c.noteLast(conv, id)
	if c.Config.Unsupported == "-" {
		return
	}
	if err := c.Send(ctx, engine.Outbound{Conversation: conv, Text: c.Config.Unsupported}); err != nil {
		c.logger().Error("whatsapp: answering an unsupported message failed", "conversation", conv, "err", err)
	}
}

// status records a status callback; a message refused for the closed
// window is sent again as its template when it has one.
func (c *Connector) status(ctx context.Context, s status, now time.Time) {
	conv := ConversationID(s.RecipientID)
	r := engine.Receipt{Conversation: conv, Ref: s.ID, Status: engine.ReceiptStatus(s.Status), At: unixTime(s.Timestamp, now)}
	if len(s.Errors) > 0 {
		ge := s.Errors[0]
		r.Error = (&ge).Error()
		if ge.Kind() == meta.TemplateRequired {
			c.windows.Close(conv)
		}
	}
	c.record(ctx, r)
	if r.Status != engine.ReceiptFailed || len(s.Errors) == 0 || s.Errors[0].Kind() != meta.TemplateRequired {
		c.dropFallback(s.ID)
		return
	}
	fb, ok := c.takeFallback(s.ID)
	if !ok {
		return
	}
	if _, err := c.sendTemplate(ctx, s.RecipientID, fb.out, fb.tmpl); err != nil {
		c.logger().Error("whatsapp: sending the template after a re-engagement failure", "conversation", conv, "err", err)
	}
}
