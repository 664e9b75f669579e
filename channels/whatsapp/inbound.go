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

// deliver reads a signed webhook body and dispatches its work: the turns
// of new messages and the receipts of status callbacks (meta.ErrBusy when
// the queue has no room).
func (c *Connector) deliver(body []byte) error {
	var p payload
	if err := json.Unmarshal(body, &p); err != nil || p.Object != "whatsapp_business_account" {
		return meta.ErrPayload
	}
	var work []meta.Work
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
				if m.ID == "" || m.From == "" || c.inbox.Known(m.ID) {
					continue
				}
				at := unixTime(m.Timestamp, now)
				conv := ConversationID(m.From)
				c.windows.Touch(conv, at)
				in, kind := c.inbound(m, at)
				switch kind {
				case kindIgnore:
				case kindUnsupported:
					id := m.ID
					work = append(work, meta.Work{Conversation: conv, ID: id, Run: func(ctx context.Context) { c.unsupported(ctx, conv, id) }})
				default:
					work = append(work, meta.Work{Conversation: conv, ID: m.ID, In: &in, Text: kind == kindText})
				}
			}
			for _, s := range v.Statuses {
				if s.ID == "" || s.RecipientID == "" {
					continue
				}
				work = append(work, meta.Work{Conversation: ConversationID(s.RecipientID), Run: func(ctx context.Context) { c.status(ctx, s, now) }})
			}
		}
	}
	return c.inbox.Dispatch(work)
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

// beforeTurn marks the shopper's last message read and shows "typing…".
func (c *Connector) beforeTurn(ctx context.Context, in engine.Inbound) {
	if in.ID != "" {
		c.noteLast(in.Conversation, meta.LastID(in))
	}
	if !c.Config.NoReadMarks {
		c.Typing(ctx, in.Conversation)
	}
}

// unsupported answers a message type charla does not read.
func (c *Connector) unsupported(ctx context.Context, conv, id string) {
	c.noteLast(conv, id)
	if c.Config.Unsupported == "-" {
		return
	}
	if err := c.reply(ctx, engine.Outbound{Conversation: conv, Text: c.Config.Unsupported}); err != nil {
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
	c.receipts.Record(ctx, r)
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
