package messenger

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/charlabot/charla/channels"
	"github.com/charlabot/charla/channels/meta"
	"github.com/charlabot/charla/engine"
)

// The request bodies of POST /{page-id}/messages.
type outRequest struct {
	Recipient     recipient   `json:"recipient"`
	MessagingType string      `json:"messaging_type,omitempty"`
	Tag           string      `json:"tag,omitempty"`
	Message       *outMessage `json:"message,omitempty"`
	SenderAction  string      `json:"sender_action,omitempty"`
}

type recipient struct {
	ID string `json:"id"`
}

type outMessage struct {
	Text         string       `json:"text,omitempty"`
	QuickReplies []quickReply `json:"quick_replies,omitempty"`
	Attachment   *attachment  `json:"attachment,omitempty"`
}

type quickReply struct {
	ContentType string `json:"content_type"` // text
	Title       string `json:"title"`
	Payload     string `json:"payload"`
}

type attachment struct {
	Type    string            `json:"type"` // image or template
	Payload attachmentPayload `json:"payload"`
}

type attachmentPayload struct {
	URL          string   `json:"url,omitempty"`
	IsReusable   bool     `json:"is_reusable,omitempty"`
	TemplateType string   `json:"template_type,omitempty"` // button
	Text         string   `json:"text,omitempty"`
	Buttons      []button `json:"buttons,omitempty"`
}

type button struct {
	Type    string `json:"type"` // postback or web_url
	Title   string `json:"title"`
	Payload string `json:"payload,omitempty"`
	URL     string `json:"url,omitempty"`
}

// Send delivers a message outside a turn's reply (a proactive message, an
// agent's): an UPDATE within the 24-hour window; outside it, the message
// goes with Config.Tag when its flow named a template, and is refused with
// channels.ErrTemplateRequired otherwise.
//
// Called by the runtime while it handles a turn of the same conversation
// (a hand-off's notice), the message is held and sent after the turn's
// replies: Send then returns nil and a failure is logged.
func (c *Connector) Send(ctx context.Context, out engine.Outbound) error {
	c.init()
	if c.inbox.Defer(ctx, out.Conversation, func(ctx context.Context) {
		if err := c.send(ctx, out, "UPDATE"); err != nil {
			c.Logger.Warn("messenger: a message held during a turn was not sent", "conversation", out.Conversation, "err", err)
		}
	}) {
		return nil
	}
	return c.send(ctx, out, "UPDATE")
}

// reply sends a turn's reply (RESPONSE).
func (c *Connector) reply(ctx context.Context, out engine.Outbound) error {
	return c.send(ctx, out, "RESPONSE")
}

func (c *Connector) send(ctx context.Context, out engine.Outbound, kind string) error {
	to, ok := psid(out.Conversation)
	if !ok {
		return engine.Errorf(engine.EInvalid, "not a Messenger conversation: %q", out.Conversation)
	}
	open, known := c.windows.Open(out.Conversation, c.Clock.Now())
	tag := ""
	if known && !open {
		if out.Template == nil || c.Config.Tag == "" {
			return c.receipts.Refuse(ctx, out.Conversation)
		}
		kind, tag = "MESSAGE_TAG", c.Config.Tag
	}
	err := c.sendAll(ctx, to, out, kind, tag)
	if meta.KindOf(err) == meta.TemplateRequired && tag == "" {
		c.windows.Close(out.Conversation)
		if out.Template == nil || c.Config.Tag == "" {
			return c.receipts.Refuse(ctx, out.Conversation)
		}
		err = c.sendAll(ctx, to, out, "MESSAGE_TAG", c.Config.Tag)
	}
	return err
}

// sendAll sends out as Send API requests, degraded to what Messenger shows.
func (c *Connector) sendAll(ctx context.Context, to string, out engine.Outbound, kind, tag string) error {
	if len(out.Choices) > 0 {
		c.choices.Remember(out.Conversation, out.Choices)
	} else if out.Text != "" {
		c.choices.Remember(out.Conversation, nil)
	}
	for i, m := range channels.Degrade(out, channels.CapabilitiesOf(c)) {
		for _, msg := range c.messages(m, out.Link != nil && i == 0) {
			req := outRequest{Recipient: recipient{to}, MessagingType: kind, Tag: tag, Message: msg}
			if err := c.post(ctx, out.Conversation, req, tag); err != nil {
				return err
			}
		}
	}
	return nil
}

// messages renders one degraded message.
func (c *Connector) messages(m engine.Outbound, withLink bool) []*outMessage {
	var msgs []*outMessage
	if m.Image != "" {
		msgs = append(msgs, &outMessage{Attachment: &attachment{Type: "image", Payload: attachmentPayload{URL: m.Image, IsReusable: true}}})
	}
	link := m.Link
	if !withLink {
		link = nil
	}
	text := m.Text
	switch {
	case len(m.Choices) > 0 && c.asTemplate(m):
		if text == "" {
			text = "👇"
		}
		p := attachmentPayload{TemplateType: "button", Text: text}
		for _, ch := range m.Choices {
			p.Buttons = append(p.Buttons, button{Type: "postback", Title: ch.Label, Payload: ch.Value})
		}
		msgs = append(msgs, &outMessage{Attachment: &attachment{Type: "template", Payload: p}})
	case len(m.Choices) > 0:
		if text == "" {
			text = "👇"
		}
		msg := &outMessage{Text: text}
		for i, ch := range m.Choices {
			payload := ch.Value
			if payload == "" || len(payload) > maxPayload {
				payload = "#" + strconv.Itoa(i) // read back through the remembered choices
			}
			msg.QuickReplies = append(msg.QuickReplies, quickReply{ContentType: "text", Title: meta.Truncate(ch.Label, maxTitle), Payload: payload})
		}
		msgs = append(msgs, msg)
	case link != nil && text != "" && utf8.RuneCountInString(text) <= maxTemplateText:
		label := link.Label
		if label == "" {
			label = "Abrir"
		}
		p := attachmentPayload{TemplateType: "button", Text: text,
			Buttons: []button{{Type: "web_url", Title: meta.Truncate(label, maxTitle), URL: link.URL}}}
		msgs = append(msgs, &outMessage{Attachment: &attachment{Type: "template", Payload: p}})
	default:
		if link != nil {
			text = strings.TrimSpace(text + "\n" + link.URL)
		}
		for _, part := range channels.SplitText(text, MaxText) {
			if part != "" {
				msgs = append(msgs, &outMessage{Text: part})
			}
		}
	}
	return msgs
}

// asTemplate reports whether choices fit a button template: 1 to 3 of
// them with titles of at most 20 characters, a text of at most 640.
func (c *Connector) asTemplate(m engine.Outbound) bool {
	if len(m.Choices) > maxTemplateBtns || utf8.RuneCountInString(m.Text) > maxTemplateText {
		return false
	}
	for _, ch := range m.Choices {
		if utf8.RuneCountInString(ch.Label) > maxTitle || ch.Value == "" || len(ch.Value) > maxPayload {
			return false
		}
	}
	return true
}

func (c *Connector) path() string {
	if c.Config.PageID == "" {
		return "me/messages"
	}
	return c.Config.PageID + "/messages"
}

type sendResult struct {
	RecipientID string `json:"recipient_id"`
	MessageID   string `json:"message_id"`
}

// post sends one request, records the form it took and maps errors.
func (c *Connector) post(ctx context.Context, conv string, req outRequest, tag string) error {
	var res sendResult
	if err := c.graph.Post(ctx, c.path(), req, &res); err != nil {
		return c.receipts.SendError(ctx, conv, err, "MESSENGER_PAGE_TOKEN and its permissions")
	}
	r := engine.Receipt{Conversation: conv, Ref: res.MessageID, Status: engine.ReceiptAccepted, Form: "text"}
	switch m := req.Message; {
	case m.Attachment != nil && m.Attachment.Type == "template":
		r.Form = "buttons"
	case m.Attachment != nil:
		r.Form = m.Attachment.Type
	case len(m.QuickReplies) > 0:
		r.Form = "quick_replies"
	}
	switch {
	case tag != "":
		r.Form, r.Template = "tagged", tag
	case req.MessagingType == "RESPONSE":
		return nil // a turn's reply: only the platform's statuses are recorded
	}
	c.receipts.Record(ctx, r)
	return nil
}

// action sends a sender action (typing_on, typing_off, mark_seen).
func (c *Connector) action(ctx context.Context, conv, action string) error {
	to, ok := psid(conv)
	if !ok {
		return nil
	}
	err := c.actions.Post(ctx, c.path(), outRequest{Recipient: recipient{to}, SenderAction: action}, nil)
	if err != nil {
		c.Logger.Debug("messenger: sender action failed", "action", action, "err", err)
	}
	return err
}

// Typing shows "typing…" in the conversation.
func (c *Connector) Typing(ctx context.Context, conversation string) error {
	c.init()
	return c.action(ctx, conversation, "typing_on")
}
