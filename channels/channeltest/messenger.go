package channeltest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/charlabot/charla/channels/meta"
)

// Messenger plays the Messenger Platform's side of a connector's webhook:
// signed deliveries (object "page") shaped like the examples of the
// webhook events reference, and what the connector sent read from a
// [GraphAPI].
type Messenger struct {
	Webhook   string
	AppSecret string
	PageID    string
	API       *GraphAPI
	HTTP      *http.Client
	Now       func() time.Time

	seq atomic.Int64
}

// Env returns the environment variables that point a charla server's
// Messenger connector at this page and its fake Graph API; set Webhook to
// the server's /webhooks/messenger once it listens.
func (p *Messenger) Env() map[string]string {
	return map[string]string{
		"MESSENGER_PAGE_ID": p.PageID, "MESSENGER_PAGE_TOKEN": p.API.Token,
		"MESSENGER_APP_SECRET": p.AppSecret, "MESSENGER_VERIFY_TOKEN": "charla-test-verify",
		"MESSENGER_GRAPH_URL": p.API.URL(),
	}
}

func (p *Messenger) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// NewMid returns a fresh message id.
func (p *Messenger) NewMid() string {
	return fmt.Sprintf("m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_%06d", p.seq.Add(1))
}

// Envelope wraps messaging events in a delivery.
func (p *Messenger) Envelope(events ...map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{
		"object": "page",
		"entry":  []any{map[string]any{"id": p.PageID, "time": p.now().UnixMilli(), "messaging": events}},
	})
	return b
}

// Post posts body signed with the app secret and returns the status.
func (p *Messenger) Post(ctx context.Context, body []byte) (int, error) {
	return p.PostSigned(ctx, body, meta.Sign([]byte(p.AppSecret), body))
}

// PostSigned posts body with the given X-Hub-Signature-256 ("" for none).
func (p *Messenger) PostSigned(ctx context.Context, body []byte, signature string) (int, error) {
	return postWebhook(ctx, p.HTTP, p.Webhook, body, signature)
}

func (p *Messenger) expect200(ctx context.Context, body []byte) error {
	code, err := p.Post(ctx, body)
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("the webhook answered %d", code)
	}
	return err
}

// User returns a person with the given page-scoped id.
func (p *Messenger) User(psid string) *MessengerUser {
	return &MessengerUser{graphInbox: graphInbox{api: p.API, to: psid}, page: p, psid: psid}
}

// MessengerUser is a shopper on Messenger. It implements [User].
type MessengerUser struct {
	graphInbox
	page *Messenger
	psid string
}

// ID is the user's charla id ("fb-" and the PSID), also their conversation's.
func (u *MessengerUser) ID() string { return "fb-" + u.psid }

// PSID is the user's page-scoped id.
func (u *MessengerUser) PSID() string { return u.psid }

// Event builds a messaging event of the user: kind is "message",
// "postback", "delivery", "read" or "reaction".
func (u *MessengerUser) Event(kind string, content map[string]any) map[string]any {
	return map[string]any{
		"sender": map[string]any{"id": u.psid}, "recipient": map[string]any{"id": u.page.PageID},
		"timestamp": u.page.now().UnixMilli(), kind: content,
	}
}

// Deliver posts events in one signed delivery.
func (u *MessengerUser) Deliver(ctx context.Context, events ...map[string]any) error {
	return u.page.expect200(ctx, u.page.Envelope(events...))
}

// Message sends a message event with the given content (a mid is added
// unless set) and returns its mid.
func (u *MessengerUser) Message(ctx context.Context, content map[string]any) (string, error) {
	if _, ok := content["mid"]; !ok {
		content["mid"] = u.page.NewMid()
	}
	return content["mid"].(string), u.Deliver(ctx, u.Event("message", content))
}

// Say sends a text.
func (u *MessengerUser) Say(ctx context.Context, text string) error {
	_, err := u.Message(ctx, map[string]any{"text": text})
	return err
}

// Press taps the i-th quick reply or template button of the last message
// received, or answers a numbered list by number.
func (u *MessengerUser) Press(ctx context.Context, _ Received, i int) error {
	last := u.Last()
	if i < 0 || i >= len(last.Buttons) {
		return u.Say(ctx, strconv.Itoa(i+1))
	}
	b := last.Buttons[i]
	if last.Kind == "buttons" {
		return u.Deliver(ctx, u.Event("postback", map[string]any{"mid": u.page.NewMid(), "title": b.Title, "payload": b.ID}))
	}
	_, err := u.Message(ctx, map[string]any{"text": b.Title, "quick_reply": map[string]any{"payload": b.ID}})
	return err
}
