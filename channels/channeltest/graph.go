package channeltest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// GraphAPI is a fake of Meta's Graph API on loopback, for the WhatsApp
// Cloud API and Messenger connectors: it takes POST /{version}/{id}/messages
// with a bearer token, checks each request against the platform's
// documented limits (a breach is refused with Graph error 100 as Meta
// would), records it, and answers like Meta (a wamid, or a Messenger mid).
// Tests make it refuse what Meta refuses: a rate limit (Fail), a closed
// customer-service window (CloseWindow), an unreachable number
// (Unreachable). GET /{version}/{media-id} and the media's URL serve media
// added with AddMedia.
type GraphAPI struct {
	Token string
	srv   *httptest.Server

	mu          sync.Mutex
	cond        *sync.Cond
	sent        []GraphMessage
	fail        []graphFailure
	closed      map[string]bool // recipients whose window is closed
	unreachable map[string]bool
	media       map[string]graphMedia
	next        int
	requests    int
}

// GraphMessage is a request made to the fake Graph API, read into the
// parts tests look at.
type GraphMessage struct {
	Platform string // "whatsapp" or "messenger"
	Path     string
	To       string // WhatsApp's "to", Messenger's recipient.id
	// Kind is what was sent. WhatsApp: text, buttons, list, image,
	// template, read (a read mark, with ReadID and Typing). Messenger:
	// text, quick_replies, buttons (a button template), image, action (a
	// sender_action in Action).
	Kind       string
	Text       string        // the text, body or caption
	Buttons    []GraphButton // reply buttons, list rows, quick replies, postback buttons
	ListButton string        // the label of a list's menu button
	Image      string
	Template   *GraphTemplate
	ReadID     string // WhatsApp: the message marked read
	Typing     bool   // WhatsApp: with a typing indicator
	Action     string // Messenger: typing_on, typing_off, mark_seen
	// Messenger: RESPONSE, UPDATE or MESSAGE_TAG, and the tag.
	MessagingType, Tag string
	ID                 string // the id answered (wamid or mid); "" for marks
	Body               json.RawMessage
	At                 time.Time // when the request arrived
}

// GraphButton is a button, list row or quick reply as sent.
type GraphButton struct{ ID, Title, Description string }

// GraphTemplate is a WhatsApp template message as sent.
type GraphTemplate struct {
	Name, Lang string
	Params     []string
}

type graphFailure struct {
	status int
	body   string
}

type graphMedia struct {
	mime string
	data []byte
}

// NewGraphAPI starts a fake Graph API that accepts token.
func NewGraphAPI(t testing.TB, token string) *GraphAPI {
	f := &GraphAPI{Token: token, closed: map[string]bool{}, unreachable: map[string]bool{}, media: map[string]graphMedia{}}
	f.cond = sync.NewCond(&f.mu)
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.mu.Lock()
		f.cond.Broadcast()
		f.mu.Unlock()
		f.srv.CloseClientConnections()
		f.srv.Close()
	})
	return f
}

// URL is the base URL to configure as the Graph API's (GraphURL).
func (f *GraphAPI) URL() string { return f.srv.URL }

// Fail makes the next n message requests fail with a Graph error of the
// given HTTP status and code (e.g. 429 and 130429 for a rate limit).
func (f *GraphAPI) Fail(n, status, code int, message string) {
	body := fmt.Sprintf(`{"error":{"message":%q,"type":"OAuthException","code":%d,"error_data":{"messaging_product":"whatsapp","details":%q},"fbtrace_id":"AbCdEf123"}}`,
		fmt.Sprintf("(#%d) %s", code, message), code, message)
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.fail = append(f.fail, graphFailure{status, body})
	}
}

// CloseWindow makes free-form messages to recipient fail as outside the
// 24-hour window (WhatsApp 131047, Messenger 10/2018278); templates and
// tagged messages still pass. open reopens it.
func (f *GraphAPI) CloseWindow(recipient string, closed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed[recipient] = closed
}

// Unreachable makes every message to recipient fail as undeliverable
// (WhatsApp 131026, Messenger 551).
func (f *GraphAPI) Unreachable(recipient string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unreachable[recipient] = true
}

// AddMedia serves a media file under id.
func (f *GraphAPI) AddMedia(id, mime string, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.media[id] = graphMedia{mime, data}
}

// Requests counts the requests answered, refusals included.
func (f *GraphAPI) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// Len is how many message requests were accepted so far, marks included
// (the index the next one will have).
func (f *GraphAPI) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

// Sent returns every message request accepted so far, marks included.
func (f *GraphAPI) Sent() []GraphMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]GraphMessage(nil), f.sent...)
}

// Next waits for the next message (not a read mark or sender action) sent
// to recipient at or after index skip, and returns it with its index
// (pass index+1 to read on).
func (f *GraphAPI) Next(ctx context.Context, recipient string, skip int) (GraphMessage, int, error) {
	stop := context.AfterFunc(ctx, func() {
		f.mu.Lock()
		f.cond.Broadcast()
		f.mu.Unlock()
	})
	defer stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		for i := skip; i < len(f.sent); i++ {
			if m := f.sent[i]; m.To == recipient && m.Kind != "read" && m.Kind != "action" {
				return m, i, nil
			}
		}
		if ctx.Err() != nil {
			return GraphMessage{}, 0, fmt.Errorf("no message to %s: %w", recipient, ctx.Err())
		}
		f.cond.Wait()
	}
}

func graphError(w http.ResponseWriter, status, code, sub int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"message":%q,"type":"OAuthException","code":%d,"error_subcode":%d,"fbtrace_id":"AbCdEf123"}}`, msg, code, sub)
}

func (f *GraphAPI) serve(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	f.mu.Lock()
	f.requests++
	f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+f.Token {
		graphError(w, http.StatusUnauthorized, 190, 0, "Error validating access token: Session has expired")
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && len(parts) == 3 && parts[1] == "media-file":
		f.serveMediaFile(w, parts[2])
		return
	case r.Method == http.MethodGet && len(parts) == 2:
		f.serveMediaInfo(w, r, parts[1])
		return
	case r.Method != http.MethodPost || len(parts) != 3 || parts[2] != "messages":
		graphError(w, http.StatusBadRequest, 100, 33, "Unsupported request - method type: "+strings.ToLower(r.Method))
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var probe struct {
		MessagingProduct string `json:"messaging_product"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		graphError(w, http.StatusBadRequest, 100, 0, "(#100) Invalid JSON")
		return
	}
	m := GraphMessage{Path: r.URL.Path, Body: body, At: arrived}
	var err string
	if probe.MessagingProduct == "whatsapp" {
		m.Platform = "whatsapp"
		err = readWhatsApp(body, &m)
	} else {
		m.Platform = "messenger"
		err = readMessenger(body, &m)
	}
	if err != "" {
		graphError(w, http.StatusBadRequest, 100, 2494010, "(#100) Invalid parameter: "+err)
		return
	}
	f.mu.Lock()
	mark := m.Kind == "read" || m.Kind == "action"
	if !mark && len(f.fail) > 0 {
		fl := f.fail[0]
		f.fail = f.fail[1:]
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(fl.status)
		io.WriteString(w, fl.body)
		return
	}
	if !mark && f.unreachable[m.To] {
		f.mu.Unlock()
		if m.Platform == "whatsapp" {
			graphError(w, http.StatusBadRequest, 131026, 0, "(#131026) Message undeliverable")
		} else {
			graphError(w, http.StatusBadRequest, 551, 1545041, "(#551) This person isn't available right now.")
		}
		return
	}
	free := m.Kind != "template" && m.MessagingType != "MESSAGE_TAG"
	if !mark && free && f.closed[m.To] {
		f.mu.Unlock()
		if m.Platform == "whatsapp" {
			graphError(w, http.StatusBadRequest, 131047, 0, "(#131047) Re-engagement message: more than 24 hours have passed since the recipient last replied")
		} else {
			graphError(w, http.StatusBadRequest, 10, 2018278, "(#10) This message is sent outside of allowed window.")
		}
		return
	}
	if !mark {
		f.next++
		if m.Platform == "whatsapp" {
			m.ID = fmt.Sprintf("wamid.FAKE%06d", f.next)
		} else {
			m.ID = fmt.Sprintf("m_FAKE%06d", f.next)
		}
	}
	f.sent = append(f.sent, m)
	f.cond.Broadcast()
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case m.Platform == "whatsapp" && mark:
		io.WriteString(w, `{"success":true}`)
	case m.Platform == "whatsapp":
		fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":%q,"wa_id":%q}],"messages":[{"id":%q}]}`, m.To, m.To, m.ID)
	case mark:
		fmt.Fprintf(w, `{"recipient_id":%q}`, m.To)
	default:
		fmt.Fprintf(w, `{"recipient_id":%q,"message_id":%q}`, m.To, m.ID)
	}
}

func (f *GraphAPI) serveMediaInfo(w http.ResponseWriter, r *http.Request, id string) {
	f.mu.Lock()
	md, ok := f.media[id]
	f.mu.Unlock()
	if !ok {
		graphError(w, http.StatusNotFound, 100, 33, "Unsupported get request. Object with ID '"+id+"' does not exist")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"messaging_product":"whatsapp","url":%q,"mime_type":%q,"sha256":"","file_size":%d,"id":%q}`,
		f.srv.URL+"/v0/media-file/"+id, md.mime, len(md.data), id)
}

func (f *GraphAPI) serveMediaFile(w http.ResponseWriter, id string) {
	f.mu.Lock()
	md, ok := f.media[id]
	f.mu.Unlock()
	if !ok {
		http.NotFound(w, nil)
		return
	}
	w.Header().Set("Content-Type", md.mime)
	w.Write(md.data)
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// readWhatsApp reads a Cloud API message request, checking the documented
// limits; it returns what is wrong, or "".
func readWhatsApp(body []byte, m *GraphMessage) string {
	var req struct {
		To   string `json:"to"`
		Type string `json:"type"`
		Text *struct {
			Body string `json:"body"`
		} `json:"text"`
		Image *struct {
			Link    string `json:"link"`
			ID      string `json:"id"`
			Caption string `json:"caption"`
		} `json:"image"`
		Interactive *struct {
			Type string `json:"type"`
			Body struct {
				Text string `json:"text"`
			} `json:"body"`
			Action struct {
				Buttons []struct {
					Type  string `json:"type"`
					Reply struct{ ID, Title string }
				} `json:"buttons"`
				Button   string `json:"button"`
				Sections []struct {
					Title string `json:"title"`
					Rows  []struct{ ID, Title, Description string }
				} `json:"sections"`
			} `json:"action"`
		} `json:"interactive"`
		Template *struct {
			Name     string `json:"name"`
			Language struct {
				Code string `json:"code"`
			} `json:"language"`
			Components []struct {
				Type       string `json:"type"`
				Parameters []struct{ Type, Text string }
			} `json:"components"`
		} `json:"template"`
		Status          string `json:"status"`
		MessageID       string `json:"message_id"`
		TypingIndicator *struct {
			Type string `json:"type"`
		} `json:"typing_indicator"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return err.Error()
	}
	if req.Status == "read" {
		if !strings.HasPrefix(req.MessageID, "wamid.") {
			return "message_id"
		}
		m.Kind, m.ReadID, m.Typing = "read", req.MessageID, req.TypingIndicator != nil
		return ""
	}
	if req.To == "" {
		return "to"
	}
	m.To = req.To
	switch req.Type {
	case "text":
		if req.Text == nil || req.Text.Body == "" || runes(req.Text.Body) > 4096 {
			return "text.body (1 to 4096 characters)"
		}
		m.Kind, m.Text = "text", req.Text.Body
	case "image":
		if req.Image == nil || (req.Image.Link == "") == (req.Image.ID == "") || runes(req.Image.Caption) > 1024 {
			return "image (a link or an id, a caption of at most 1024 characters)"
		}
		m.Kind, m.Image, m.Text = "image", req.Image.Link, req.Image.Caption
	case "interactive":
		in := req.Interactive
		if in == nil || in.Body.Text == "" {
			return "interactive.body.text"
		}
		m.Text = in.Body.Text
		switch in.Type {
		case "button":
			if n := len(in.Action.Buttons); n < 1 || n > 3 || runes(in.Body.Text) > 1024 {
				return "interactive button: 1 to 3 buttons, a body of at most 1024 characters"
			}
			ids := map[string]bool{}
			for _, b := range in.Action.Buttons {
				if b.Type != "reply" || b.Reply.ID == "" || len(b.Reply.ID) > 256 || ids[b.Reply.ID] || b.Reply.Title == "" || runes(b.Reply.Title) > 20 {
					return "interactive button: reply ids unique and at most 256 characters, titles of 1 to 20 characters"
				}
				ids[b.Reply.ID] = true
				m.Buttons = append(m.Buttons, GraphButton{ID: b.Reply.ID, Title: b.Reply.Title})
			}
			m.Kind = "buttons"
		case "list":
			if runes(in.Body.Text) > 4096 || in.Action.Button == "" || runes(in.Action.Button) > 20 || len(in.Action.Sections) == 0 || len(in.Action.Sections) > 10 {
				return "interactive list: a body of at most 4096 characters, a button of 1 to 20, 1 to 10 sections"
			}
			ids := map[string]bool{}
			for _, s := range in.Action.Sections {
				if len(in.Action.Sections) > 1 && s.Title == "" {
					return "interactive list: sections need titles when there are several"
				}
				for _, r := range s.Rows {
					if r.ID == "" || len(r.ID) > 200 || ids[r.ID] || r.Title == "" || runes(r.Title) > 24 || runes(r.Description) > 72 {
						return "interactive list: row ids unique and at most 200 characters, titles of 1 to 24, descriptions of at most 72"
					}
					ids[r.ID] = true
					m.Buttons = append(m.Buttons, GraphButton{ID: r.ID, Title: r.Title, Description: r.Description})
				}
			}
			if len(m.Buttons) == 0 || len(m.Buttons) > 10 {
				return "interactive list: 1 to 10 rows"
			}
			m.Kind, m.ListButton = "list", in.Action.Button
		default:
			return "interactive.type"
		}
	case "template":
		t := req.Template
		if t == nil || t.Name == "" || t.Language.Code == "" {
			return "template: a name and a language code"
		}
		m.Kind = "template"
		m.Template = &GraphTemplate{Name: t.Name, Lang: t.Language.Code}
		for _, c := range t.Components {
			for _, p := range c.Parameters {
				m.Template.Params = append(m.Template.Params, p.Text)
			}
		}
	default:
		return "type " + req.Type
	}
	return ""
}

// readMessenger reads a Send API request, checking the documented limits.
func readMessenger(body []byte, m *GraphMessage) string {
	var req struct {
		Recipient struct {
			ID string `json:"id"`
		} `json:"recipient"`
		MessagingType string `json:"messaging_type"`
		Tag           string `json:"tag"`
		SenderAction  string `json:"sender_action"`
		Message       *struct {
			Text         string `json:"text"`
			QuickReplies []struct {
				ContentType string `json:"content_type"`
				Title       string `json:"title"`
				Payload     string `json:"payload"`
			} `json:"quick_replies"`
			Attachment *struct {
				Type    string `json:"type"`
				Payload struct {
					URL          string `json:"url"`
					TemplateType string `json:"template_type"`
					Text         string `json:"text"`
					Buttons      []struct {
						Type    string `json:"type"`
						Title   string `json:"title"`
						Payload string `json:"payload"`
						URL     string `json:"url"`
					} `json:"buttons"`
				} `json:"payload"`
			} `json:"attachment"`
		} `json:"message"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return err.Error()
	}
	if req.Recipient.ID == "" {
		return "recipient.id"
	}
	m.To = req.Recipient.ID
	if req.SenderAction != "" {
		switch req.SenderAction {
		case "typing_on", "typing_off", "mark_seen":
			m.Kind, m.Action = "action", req.SenderAction
			return ""
		}
		return "sender_action"
	}
	m.MessagingType, m.Tag = req.MessagingType, req.Tag
	switch req.MessagingType {
	case "RESPONSE", "UPDATE":
	case "MESSAGE_TAG":
		if req.Tag == "" {
			return "tag (required with MESSAGE_TAG)"
		}
	default:
		return "messaging_type"
	}
	msg := req.Message
	if msg == nil {
		return "message"
	}
	switch {
	case msg.Attachment != nil && msg.Attachment.Type == "image":
		if msg.Attachment.Payload.URL == "" {
			return "attachment.payload.url"
		}
		m.Kind, m.Image = "image", msg.Attachment.Payload.URL
	case msg.Attachment != nil && msg.Attachment.Type == "template":
		p := msg.Attachment.Payload
		if p.TemplateType != "button" || p.Text == "" || runes(p.Text) > 640 || len(p.Buttons) < 1 || len(p.Buttons) > 3 {
			return "button template: a text of 1 to 640 characters, 1 to 3 buttons"
		}
		for _, b := range p.Buttons {
			if b.Title == "" || runes(b.Title) > 20 || (b.Type == "postback" && (b.Payload == "" || len(b.Payload) > 1000)) || (b.Type == "web_url" && b.URL == "") {
				return "button template: titles of 1 to 20 characters, postback payloads of at most 1000"
			}
			m.Buttons = append(m.Buttons, GraphButton{ID: b.Payload + b.URL, Title: b.Title})
		}
		m.Kind, m.Text = "buttons", p.Text
	case msg.Attachment != nil:
		return "attachment.type"
	default:
		if msg.Text == "" || runes(msg.Text) > 2000 {
			return "message.text (1 to 2000 characters)"
		}
		m.Kind, m.Text = "text", msg.Text
		if n := len(msg.QuickReplies); n > 0 {
			if n > 13 {
				return "quick_replies (at most 13)"
			}
			for _, q := range msg.QuickReplies {
				if q.ContentType != "text" || q.Title == "" || runes(q.Title) > 20 || q.Payload == "" || len(q.Payload) > 1000 {
					return "quick_replies: titles of 1 to 20 characters, payloads of 1 to 1000"
				}
				m.Buttons = append(m.Buttons, GraphButton{ID: q.Payload, Title: q.Title})
			}
			m.Kind = "quick_replies"
		}
	}
	return ""
}

// graphInbox is what a user of a Meta platform has received: the messages
// the fake Graph API took for them, read in order.
type graphInbox struct {
	api *GraphAPI
	to  string

	mu   sync.Mutex
	skip int
	last GraphMessage
}

// Next waits for the next message sent to the user, as they see it (a
// template as "[template NAME: PARAMS]").
func (b *graphInbox) Next(ctx context.Context) (Received, error) {
	m, err := b.NextRaw(ctx)
	if err != nil {
		return Received{}, err
	}
	r := Received{Text: m.Text}
	if m.Template != nil {
		r.Text = "[template " + m.Template.Name + ": " + strings.Join(m.Template.Params, ", ") + "]"
	}
	for _, bt := range m.Buttons {
		r.Buttons = append(r.Buttons, bt.Title)
	}
	return r, nil
}

// NextRaw waits for the next message sent to the user, as the Graph API
// received it.
func (b *graphInbox) NextRaw(ctx context.Context) (GraphMessage, error) {
	b.mu.Lock()
	skip := b.skip
	b.mu.Unlock()
	m, i, err := b.api.Next(ctx, b.to, skip)
	if err != nil {
		return m, err
	}
	b.mu.Lock()
	b.skip, b.last = i+1, m
	b.mu.Unlock()
	return m, nil
}

// Last is the last message read with Next or NextRaw.
func (b *graphInbox) Last() GraphMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}
