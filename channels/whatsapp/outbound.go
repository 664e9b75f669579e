package whatsapp

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/charlabot/charla/channels"
	"github.com/charlabot/charla/channels/meta"
	"github.com/charlabot/charla/engine"
)

// The request bodies of POST /{phone-number-id}/messages.
type outMessage struct {
	MessagingProduct string           `json:"messaging_product"`
	RecipientType    string           `json:"recipient_type,omitempty"`
	To               string           `json:"to,omitempty"`
	Type             string           `json:"type,omitempty"`
	Text             *outText         `json:"text,omitempty"`
	Interactive      *interactive     `json:"interactive,omitempty"`
	Image            *outImage        `json:"image,omitempty"`
	Template         *outTemplate     `json:"template,omitempty"`
	Status           string           `json:"status,omitempty"` // "read"
	MessageID        string           `json:"message_id,omitempty"`
	TypingIndicator  *typingIndicator `json:"typing_indicator,omitempty"`
}

type outText struct {
	Body       string `json:"body"`
	PreviewURL bool   `json:"preview_url,omitempty"`
}

type outImage struct {
	Link    string `json:"link"`
	Caption string `json:"caption,omitempty"`
}

type interactive struct {
	Type string `json:"type"` // button or list
	Body struct {
		Text string `json:"text"`
	} `json:"body"`
	Action struct {
		Buttons  []button  `json:"buttons,omitempty"`
		Button   string    `json:"button,omitempty"` // the list's menu button
		Sections []section `json:"sections,omitempty"`
	} `json:"action"`
}

type button struct {
	Type  string `json:"type"` // reply
	Reply reply  `json:"reply"`
}

type section struct {
	Title string `json:"title,omitempty"`
	Rows  []row  `json:"rows"`
}

type row struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

type outTemplate struct {
	Name     string `json:"name"`
	Language struct {
		Code string `json:"code"`
	} `json:"language"`
	Components []component `json:"components,omitempty"`
}

type component struct {
	Type       string      `json:"type"` // body
	Parameters []parameter `json:"parameters"`
}

type parameter struct {
	Type string `json:"type"` // text
	Text string `json:"text"`
}

type typingIndicator struct {
	Type string `json:"type"` // text
}

type sendResult struct {
	Messages []struct {
		ID string `json:"id"`
	} `json:"messages"`
}

// fallback is a free-form message sent while the window was unknown,
// with the template to send if WhatsApp answers that the window is closed.
type fallback struct {
	out  engine.Outbound
	tmpl *engine.OutTemplate
}

// Send delivers out to its conversation's WhatsApp user. Within the
// 24-hour window it sends free-form messages: texts of at most 4,096
// characters, 1 to 3 choices as reply buttons, up to 10 as a list, more as
// a numbered text, an image with its caption. Outside the window it sends
// out.Template, or returns channels.ErrTemplateRequired when there is none.
// Errors are *engine.Error: EInvalid for a conversation or number WhatsApp
// cannot reach, EConflict for the window, EUnavailable when rate limits
// outlasted the retries, EInternal for the rest (logged). The form each message took (text,
// buttons, list, image, template) is recorded as an accepted receipt.
//
// Called by the runtime while it handles a turn of the same conversation
// (a hand-off's notice), the message is held and sent after the turn's
// replies: Send then returns nil and a failure is logged.
func (c *Connector) Send(ctx context.Context, out engine.Outbound) error {
	c.init()
	if c.inbox.Defer(ctx, out.Conversation, func(ctx context.Context) {
		if err := c.send(ctx, out, true); err != nil {
			c.logger().Warn("whatsapp: a message held during a turn was not sent", "conversation", out.Conversation, "err", err)
		}
	}) {
		return nil
	}
	return c.send(ctx, out, true)
}

// reply sends a turn's reply: the shopper has just written, so the window
// is open and only a template (after a refusal) is worth a receipt.
func (c *Connector) reply(ctx context.Context, out engine.Outbound) error {
	return c.send(ctx, out, false)
}

func (c *Connector) send(ctx context.Context, out engine.Outbound, record bool) error {
	to, ok := waID(out.Conversation)
	if !ok {
		return engine.Errorf(engine.EInvalid, "not a WhatsApp conversation: %q", out.Conversation)
	}
	tmpl := out.Template
	open, known := c.windows.Open(out.Conversation, c.Clock.Now())
	if known && !open {
		if tmpl == nil {
			return c.receipts.Refuse(ctx, out.Conversation)
		}
		_, err := c.sendTemplate(ctx, to, out, tmpl)
		return err
	}
	err := c.sendFree(ctx, to, out, !known, record)
	if meta.KindOf(err) == meta.TemplateRequired {
		c.windows.Close(out.Conversation)
		if tmpl == nil {
			return c.receipts.Refuse(ctx, out.Conversation)
		}
		_, err = c.sendTemplate(ctx, to, out, tmpl)
	}
	return err
}

// sendFree sends out as free-form messages. When the window is unknown
// (after a restart) and out has a template, the first message is
// remembered so that a failed status for the window sends the template.
func (c *Connector) sendFree(ctx context.Context, to string, out engine.Outbound, unknown, record bool) error {
	conv := out.Conversation
	if out.Link != nil {
		link := out.Link.URL
		if out.Link.Label != "" && !strings.Contains(out.Text, out.Link.URL) {
			link = out.Link.Label + ": " + link
		}
		out.Text = strings.TrimSpace(out.Text + "\n" + link)
	}
	if len(out.Choices) > 0 {
		c.choices.Remember(conv, out.Choices) // "2" or "talla 42" typed instead of tapped
	} else if out.Text != "" {
		c.choices.Remember(conv, nil) // the question has moved on
	}
	first := true
	for _, m := range channels.Degrade(out, channels.CapabilitiesOf(c)) {
		for _, req := range c.requests(to, m, out.Link != nil) {
			id, err := c.post(ctx, conv, req, record)
			if err != nil {
				return err
			}
			if first && unknown && out.Template != nil {
				c.keepFallback(id, fallback{out: out, tmpl: out.Template})
			}
			first = false
		}
	}
	return nil
}

// requests renders one degraded message as Cloud API requests.
func (c *Connector) requests(to string, m engine.Outbound, preview bool) []outMessage {
	var reqs []outMessage
	base := outMessage{MessagingProduct: "whatsapp", RecipientType: "individual", To: to}
	text := func(s string) outMessage {
		r := base
		r.Type, r.Text = "text", &outText{Body: s, PreviewURL: preview && strings.Contains(s, "http")}
		return r
	}
	if m.Image != "" {
		r := base
		r.Type, r.Image = "image", &outImage{Link: m.Image}
		if len(m.Choices) == 0 && utf8.RuneCountInString(m.Text) <= maxCaption {
			r.Image.Caption = m.Text
			return append(reqs, r)
		}
		reqs = append(reqs, r)
	}
	if len(m.Choices) == 0 {
		if m.Text != "" {
			reqs = append(reqs, text(m.Text))
		}
		return reqs
	}
	ix := c.choiceIDs(m.Conversation, m.Choices)
	asButtons := len(m.Choices) <= MaxButtons
	for _, ch := range m.Choices {
		if utf8.RuneCountInString(ch.Label) > maxButtonTitle {
			asButtons = false
		}
	}
	body := m.Text
	if body == "" {
		body = c.Config.ChoosePrompt
	}
	limit := MaxText
	if asButtons {
		limit = maxButtonBody
	}
	parts := channels.SplitText(body, limit)
	for _, p := range parts[:len(parts)-1] {
		reqs = append(reqs, text(p))
	}
	in := &interactive{}
	in.Body.Text = parts[len(parts)-1]
	if asButtons {
		in.Type = "button"
		for i, ch := range m.Choices {
			in.Action.Buttons = append(in.Action.Buttons, button{Type: "reply", Reply: reply{ID: ix[i], Title: ch.Label}})
		}
	} else {
		in.Type = "list"
		in.Action.Button = meta.Truncate(c.Config.ListButton, maxListButton)
		var rows []row
		for i, ch := range m.Choices {
			r := row{ID: ix[i], Title: ch.Label}
			if utf8.RuneCountInString(ch.Label) > maxRowTitle {
				r.Title = meta.Truncate(ch.Label, maxRowTitle)
				r.Description = meta.Truncate(ch.Label, maxRowDesc)
			}
			rows = append(rows, r)
		}
		in.Action.Sections = []section{{Rows: rows}}
	}
	r := base
	r.Type, r.Interactive = "interactive", in
	return append(reqs, r)
}

// choiceIDs returns the reply ids of choices: their values, or "#i" for
// all of them when a value is too long, repeated or starts with "#" (the
// choices are then remembered to read the answer).
func (c *Connector) choiceIDs(conv string, choices []engine.OutChoice) []string {
	ids := make([]string, len(choices))
	byIndex := false
	seen := map[string]bool{}
	for i, ch := range choices {
		ids[i] = ch.Value
		if ch.Value == "" || len(ch.Value) > maxRowID || strings.HasPrefix(ch.Value, "#") || seen[ch.Value] {
			byIndex = true
		}
		seen[ch.Value] = true
	}
	if !byIndex {
		return ids
	}
	for i := range ids {
		ids[i] = "#" + strconv.Itoa(i)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.keys) >= 100_000 {
		clear(c.keys)
	}
	c.keys[conv] = append([]engine.OutChoice(nil), choices...)
	return ids
}

// choiceValue reads a reply id: the choice's value, or "#i" for the i-th
// choice last sent by index ("" when unknown).
func (c *Connector) choiceValue(conv, id string) string {
	if !strings.HasPrefix(id, "#") {
		return id
	}
	n, err := strconv.Atoi(id[1:])
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := c.keys[conv]
	if err != nil || n < 0 || n >= len(keys) {
		return ""
	}
	return keys[n].Value
}

// sendTemplate sends out as its approved template.
func (c *Connector) sendTemplate(ctx context.Context, to string, out engine.Outbound, tmpl *engine.OutTemplate) (string, error) {
	t := &outTemplate{Name: tmpl.Name}
	t.Language.Code = tmpl.Lang
	if t.Language.Code == "" {
		t.Language.Code = c.Config.TemplateLang
	}
	if len(tmpl.Params) > 0 {
		comp := component{Type: "body"}
		for _, p := range tmpl.Params {
			comp.Parameters = append(comp.Parameters, parameter{Type: "text", Text: p})
		}
		t.Components = []component{comp}
	}
	req := outMessage{MessagingProduct: "whatsapp", RecipientType: "individual", To: to, Type: "template", Template: t}
	return c.post(ctx, out.Conversation, req, true)
}

// post sends one message, records the form it took when record is set,
// and maps errors.
func (c *Connector) post(ctx context.Context, conv string, req outMessage, record bool) (string, error) {
	var res sendResult
	err := c.graph.Post(ctx, c.Config.PhoneNumberID+"/messages", req, &res)
	if err != nil {
		return "", c.receipts.SendError(ctx, conv, err, "WHATSAPP_ACCESS_TOKEN and its permissions")
	}
	id := ""
	if len(res.Messages) > 0 {
		id = res.Messages[0].ID
	}
	if !record {
		return id, nil
	}
	r := engine.Receipt{Conversation: conv, Ref: id, Status: engine.ReceiptAccepted, Form: req.Type}
	switch {
	case req.Interactive != nil && req.Interactive.Type == "button":
		r.Form = "buttons"
	case req.Interactive != nil:
		r.Form = "list"
	case req.Template != nil:
		r.Template = req.Template.Name
	}
	c.receipts.Record(ctx, r)
	return id, nil
}

func (c *Connector) keepFallback(id string, fb fallback) {
	if id == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.fbOrder) >= 10_000 {
		delete(c.fallbacks, c.fbOrder[0])
		c.fbOrder = c.fbOrder[1:]
	}
	c.fallbacks[id] = fb
	c.fbOrder = append(c.fbOrder, id)
}

func (c *Connector) takeFallback(id string) (fallback, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fb, ok := c.fallbacks[id]
	delete(c.fallbacks, id)
	return fb, ok
}

func (c *Connector) dropFallback(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.fallbacks, id)
}

// Typing marks the shopper's last message read and shows "typing…" until
// the next message (or 25 seconds), as the Cloud API does both at once.
func (c *Connector) Typing(ctx context.Context, conversation string) error {
	c.init()
	c.mu.Lock()
	id := c.lastIn[conversation]
	c.mu.Unlock()
	if id == "" {
		return nil
	}
	req := outMessage{MessagingProduct: "whatsapp", Status: "read", MessageID: id, TypingIndicator: &typingIndicator{Type: "text"}}
	err := c.marks.Post(ctx, c.Config.PhoneNumberID+"/messages", req, nil)
	if err != nil {
		c.logger().Debug("whatsapp: marking read failed", "conversation", conversation, "err", err)
	}
	return err
}
