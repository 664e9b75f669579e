package channeltest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/charlabot/charla/channels/meta"
)

// WhatsApp plays WhatsApp's side of a connector's webhook: it posts signed
// deliveries shaped like the examples of the Cloud API's webhook reference
// to the connector, and reads what the connector sent from a [GraphAPI].
// With it a test drives a whole conversation the way Meta would:
//
//	phone := &channeltest.WhatsApp{Webhook: srv.URL + "/webhooks/whatsapp",
//		AppSecret: secret, PhoneNumberID: "106540352242922", API: api}
//	ana := phone.User("573001234567", "Ana")
//	ana.Say(ctx, "hola")
//	m, _ := ana.Next(ctx) // what the bot answered, as Ana sees it
type WhatsApp struct {
	Webhook       string // the connector's webhook URL
	AppSecret     string
	PhoneNumberID string
	DisplayPhone  string // default 15550783881
	API           *GraphAPI
	HTTP          *http.Client     // default http.DefaultClient
	Now           func() time.Time // the messages' timestamps (time.Now)

	seq atomic.Int64
}

// Env returns the environment variables that point a charla server's
// WhatsApp connector at this phone and its fake Graph API (pass them
// through server.Config.Getenv); set Webhook to the server's
// /webhooks/whatsapp once it listens.
func (w *WhatsApp) Env() map[string]string {
	return map[string]string{
		"WHATSAPP_PHONE_NUMBER_ID": w.PhoneNumberID, "WHATSAPP_ACCESS_TOKEN": w.API.Token,
		"WHATSAPP_APP_SECRET": w.AppSecret, "WHATSAPP_VERIFY_TOKEN": "charla-test-verify",
		"WHATSAPP_GRAPH_URL": w.API.URL(),
	}
}

func (w *WhatsApp) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// NewID returns a fresh wamid for an inbound message.
func (w *WhatsApp) NewID() string {
	return fmt.Sprintf("wamid.HBgLNTczMDAxMjM0NTY3FQIAEhgg%08dQUFBQQ==", w.seq.Add(1))
}

// Envelope wraps message or status objects in a webhook delivery of the
// "messages" field, with the contact's profile when from is set.
func (w *WhatsApp) Envelope(from, name string, messages, statuses []map[string]any) []byte {
	display := w.DisplayPhone
	if display == "" {
		display = "15550783881"
	}
	value := map[string]any{
		"messaging_product": "whatsapp",
		"metadata":          map[string]any{"display_phone_number": display, "phone_number_id": w.PhoneNumberID},
	}
	if from != "" {
		value["contacts"] = []any{map[string]any{"profile": map[string]any{"name": name}, "wa_id": from}}
	}
	if len(messages) > 0 {
		value["messages"] = messages
	}
	if len(statuses) > 0 {
		value["statuses"] = statuses
	}
	b, _ := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{"id": "102290129340398", "changes": []any{
			map[string]any{"value": value, "field": "messages"},
		}}},
	})
	return b
}

// Post posts body signed with the app secret and returns the status.
func (w *WhatsApp) Post(ctx context.Context, body []byte) (int, error) {
	return w.PostSigned(ctx, body, meta.Sign([]byte(w.AppSecret), body))
}

// PostSigned posts body with the given X-Hub-Signature-256 ("" for none).
func (w *WhatsApp) PostSigned(ctx context.Context, body []byte, signature string) (int, error) {
	return postWebhook(ctx, w.HTTP, w.Webhook, body, signature)
}

func postWebhook(ctx context.Context, hc *http.Client, url string, body []byte, signature string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set(meta.SignatureHeader, signature)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Status delivers a status callback (sent, delivered, read, failed) for a
// message the business sent to recipient; a failed one carries the Graph
// error code (e.g. 131047, re-engagement required).
func (w *WhatsApp) Status(ctx context.Context, recipient, wamid, status string, code int) error {
	s := map[string]any{"id": wamid, "status": status, "timestamp": strconv.FormatInt(w.now().Unix(), 10), "recipient_id": recipient}
	if code != 0 {
		s["errors"] = []any{map[string]any{"code": code, "title": "Re-engagement message", "message": "Re-engagement message",
			"error_data": map[string]any{"details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."}}}
	}
	return w.expect200(ctx, w.Envelope("", "", nil, []map[string]any{s}))
}

func (w *WhatsApp) expect200(ctx context.Context, body []byte) error {
	code, err := w.Post(ctx, body)
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("the webhook answered %d", code)
	}
	return err
}

// User returns a WhatsApp user with the given wa_id (a phone number in
// international format without "+") and profile name.
func (w *WhatsApp) User(waID, name string) *WhatsAppUser {
	return &WhatsAppUser{graphInbox: graphInbox{api: w.API, to: waID}, phone: w, waID: waID, name: name}
}

// WhatsAppUser is a shopper on WhatsApp. It implements [User].
type WhatsAppUser struct {
	graphInbox
	phone *WhatsApp
	waID  string
	name  string
}

// ID is the user's charla id ("wa-" and the wa_id), which is also their
// conversation's.
func (u *WhatsAppUser) ID() string { return "wa-" + u.waID }

// WaID is the user's wa_id.
func (u *WhatsAppUser) WaID() string { return u.waID }

// Send delivers one message object of the given type (its "from", "id"
// and "timestamp" are filled in unless set) and returns its id.
func (u *WhatsAppUser) Send(ctx context.Context, typ string, content map[string]any) (string, error) {
	m := map[string]any{"from": u.waID, "id": u.phone.NewID(), "timestamp": strconv.FormatInt(u.phone.now().Unix(), 10), "type": typ}
	if content != nil {
		m[typ] = content
	}
	return m["id"].(string), u.phone.expect200(ctx, u.phone.Envelope(u.waID, u.name, []map[string]any{m}, nil))
}

// Message builds a message object as Send would, for deliveries made by
// hand (several messages in one delivery, redeliveries).
func (u *WhatsAppUser) Message(typ string, content map[string]any) map[string]any {
	m := map[string]any{"from": u.waID, "id": u.phone.NewID(), "timestamp": strconv.FormatInt(u.phone.now().Unix(), 10), "type": typ}
	if content != nil {
		m[typ] = content
	}
	return m
}

// Deliver posts messages built with Message in one signed delivery.
func (u *WhatsAppUser) Deliver(ctx context.Context, messages ...map[string]any) error {
	return u.phone.expect200(ctx, u.phone.Envelope(u.waID, u.name, messages, nil))
}

// Say sends a text message.
func (u *WhatsAppUser) Say(ctx context.Context, text string) error {
	_, err := u.Send(ctx, "text", map[string]any{"body": text})
	return err
}

// Press taps the i-th reply button or list row of the last message
// received, or answers the i-th line of a numbered list by its number.
func (u *WhatsAppUser) Press(ctx context.Context, _ Received, i int) error {
	last := u.Last()
	if i < 0 || i >= len(last.Buttons) {
		return u.Say(ctx, strconv.Itoa(i+1))
	}
	b := last.Buttons[i]
	kind := "button_reply"
	r := map[string]any{"id": b.ID, "title": b.Title}
	if last.Kind == "list" {
		kind = "list_reply"
		r["description"] = b.Description
	}
	m := u.Message("interactive", map[string]any{"type": kind, kind: r})
	m["context"] = map[string]any{"from": u.phone.DisplayPhone, "id": last.ID}
	return u.Deliver(ctx, m)
}
