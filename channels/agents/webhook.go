package agents

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/charlabot/charla/channels"
	"github.com/charlabot/charla/channels/rest"
	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/handoff"
)

// SignatureHeader carries the signature of a webhook body, both ways:
// "t=UNIX,v1=HEX" where HEX is the HMAC-SHA256, under the shared secret, of
// "UNIX.BODY". A receiver checks the HMAC and that UNIX is within five
// minutes of its clock.
const SignatureHeader = "X-Charla-Signature"

// signatureTolerance is how far a signature's time may be from now.
const signatureTolerance = 5 * time.Minute

// Sign returns the signature header value of body at time t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header against body at time now.
func Verify(secret []byte, header string, body []byte, now time.Time) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return engine.Errorf(engine.EUnauthorized, "malformed %s header", SignatureHeader)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > signatureTolerance || d < -signatureTolerance {
		return engine.Errorf(engine.EUnauthorized, "signature too old or from the future")
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	want := m.Sum(nil)
	for _, s := range sigs {
		if got, err := hex.DecodeString(s); err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return engine.Errorf(engine.EUnauthorized, "wrong signature")
}

// Webhook sends the desk's hand-offs to an external help desk and takes
// its replies. Outbound events (POSTed as JSON to URL, signed) are:
//
//   - handoff.requested: a conversation joined a queue, with its ticket
//     (queue, reason, slots, profile, channel, flow and step) and its
//     transcript;
//   - message.customer: the shopper wrote while handed off;
//   - conversation.closed: the hand-off ended (given back to the bot,
//     closed, the shopper left).
//
// They go out in order, one at a time, each retried with backoff on
// failure (a 5xx or no answer) and dropped, logged, after the last try.
type Webhook struct {
	URL     string
	Secret  []byte
	Events  []string // the events sent (empty: all)
	Desk    *handoff.Desk
	Runtime handoff.Runtime
	Client  *http.Client // (a client with a 10s timeout)
	Now     func() time.Time
	Logger  *slog.Logger
	// Retries after a failed delivery (3), the first after Backoff (1s),
	// doubling.
	Retries int
	Backoff time.Duration

	mu   sync.Mutex
	seen map[string]time.Time // inbound event ids, against replays
}

// WebhookEvent is the body of an outbound webhook request.
type WebhookEvent struct {
	ID           string    `json:"id"`
	Type         string    `json:"type"`
	Created      time.Time `json:"created"`
	Conversation string    `json:"conversation"`
	Data         any       `json:"data"`
}

// RequestedData is the data of handoff.requested.
type RequestedData struct {
	Ticket     *handoff.Ticket `json:"ticket"`
	Transcript []engine.Entry  `json:"transcript"`
}

// MessageData is the data of message.customer.
type MessageData struct {
	Message engine.Entry `json:"message"`
	Queue   string       `json:"queue"`
	Agent   string       `json:"agent,omitempty"`
}

// ClosedData is the data of conversation.closed.
type ClosedData struct {
	Why   string `json:"why"` // released, closed:AGENT, cancel, closed:inactivity, expired
	Queue string `json:"queue"`
	Agent string `json:"agent,omitempty"`
}

func (w *Webhook) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Webhook) log() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.Default()
}

func (w *Webhook) wants(typ string) bool {
	return len(w.Events) == 0 || slices.Contains(w.Events, typ)
}

// Start follows the desk's events from now on and sends them, in the
// background, until ctx ends; the channel it returns is closed then.
func (w *Webhook) Start(ctx context.Context) <-chan struct{} {
	sub := w.Desk.Subscribe(16384)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.loop(ctx, sub)
	}()
	return done
}

func (w *Webhook) loop(ctx context.Context, sub *handoff.Subscription) {
	defer func() { sub.Close() }()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-sub.C:
			if !ok {
				w.log().Error("helpdesk webhook: fell behind; some events were not sent")
				sub = w.Desk.Subscribe(16384)
				continue
			}
			if we := w.event(ctx, ev); we != nil {
				w.deliver(ctx, we)
			}
		}
	}
}

// event maps a desk event to a webhook event, or nil.
func (w *Webhook) event(ctx context.Context, ev handoff.Event) *WebhookEvent {
	if ev.Ticket == nil {
		return nil
	}
	we := &WebhookEvent{ID: fmt.Sprintf("evt_%d_%d", ev.At.UnixNano(), ev.Seq), Created: ev.At, Conversation: ev.Ticket.Conversation}
	switch {
	case ev.Kind == handoff.EvQueued:
		we.Type = "handoff.requested"
		es, err := w.Runtime.Transcript(ctx, ev.Ticket.Conversation, 0, 0)
		if err != nil {
			w.log().Warn("helpdesk webhook: transcript", "conversation", ev.Ticket.Conversation, "err", err)
		}
		if es == nil {
			es = []engine.Entry{}
		}
		we.Data = RequestedData{Ticket: ev.Ticket, Transcript: es}
	case ev.Kind == handoff.EvMessage && ev.Entry != nil && ev.Entry.From == engine.FromUser:
		we.Type = "message.customer"
		we.Data = MessageData{Message: *ev.Entry, Queue: ev.Ticket.Queue, Agent: ev.Ticket.Agent}
	case ev.Kind == handoff.EvRemoved:
		we.Type = "conversation.closed"
		we.Data = ClosedData{Why: ev.Why, Queue: ev.Ticket.Queue, Agent: ev.Ticket.Agent}
	default:
		return nil
	}
	if !w.wants(we.Type) {
		return nil
	}
	return we
}

// deliver POSTs one event, retrying with backoff.
func (w *Webhook) deliver(ctx context.Context, we *WebhookEvent) {
	body, err := json.Marshal(we)
	if err != nil {
		w.log().Error("helpdesk webhook: encoding", "event", we.ID, "err", err)
		return
	}
	client := w.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	retries, backoff := w.Retries, w.Backoff
	if retries == 0 {
		retries = 3
	}
	if backoff <= 0 {
		backoff = time.Second
	}
	for try := 0; ; try++ {
		status, err := w.post(ctx, client, we, body)
		if err == nil && status < 300 {
			return
		}
		permanent := err == nil && status >= 400 && status < 500 && status != http.StatusTooManyRequests
		if permanent || try >= retries || ctx.Err() != nil {
			w.log().Error("helpdesk webhook: not delivered", "event", we.ID, "type", we.Type,
				"conversation", we.Conversation, "status", status, "err", err)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff << try):
		}
	}
}

func (w *Webhook) post(ctx context.Context, client *http.Client, we *WebhookEvent, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "charla-webhook")
	req.Header.Set("X-Charla-Event", we.Type)
	req.Header.Set("X-Charla-Delivery", we.ID)
	req.Header.Set(SignatureHeader, Sign(w.Secret, w.now(), body))
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// InboundEvent is what the help desk POSTs to /agent/api/v1/helpdesk,
// signed like the outbound events:
//
//   - agent.message {conversation, agent, text}: a reply to the shopper
//     (the help desk takes the conversation if it was waiting);
//   - conversation.claim {conversation, agent};
//   - conversation.release {conversation, agent, flow}: back to the bot
//     (flow "" : the interrupted flow goes on);
//   - conversation.close {conversation, agent}.
//
// agent is the help desk's name for its agent; the desk records it as
// "helpdesk:NAME".
type InboundEvent struct {
	ID           string `json:"id"`
	Type         string `json:"type"`
	Conversation string `json:"conversation"`
	Agent        string `json:"agent"`
	Text         string `json:"text"`
	Flow         string `json:"flow"`
}

// fresh remembers an inbound event id and reports whether it is new.
func (w *Webhook) fresh(id string, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen == nil {
		w.seen = map[string]time.Time{}
	}
	for k, t := range w.seen {
		if now.Sub(t) > 2*signatureTolerance {
			delete(w.seen, k)
		}
	}
	if _, dup := w.seen[id]; dup {
		return false
	}
	w.seen[id] = now
	return true
}

func (c *Console) postHelpdesk(rw http.ResponseWriter, r *http.Request) {
	w := c.Webhook
	if w == nil || len(w.Secret) == 0 {
		rest.WriteError(rw, http.StatusNotFound, "no help desk is configured")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, 64<<10))
	if err != nil {
		rest.WriteError(rw, http.StatusRequestEntityTooLarge, "body larger than 64 KiB")
		return
	}
	now := w.now()
	if err := Verify(w.Secret, r.Header.Get(SignatureHeader), body, now); err != nil {
		c.log().Warn("helpdesk webhook: refused", "err", err)
		c.fail(rw, r, err)
		return
	}
	var ev InboundEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		rest.WriteError(rw, http.StatusBadRequest, "invalid JSON: "+err.Error())
		return
	}
	if !channels.ValidID(ev.Conversation) {
		rest.WriteError(rw, http.StatusBadRequest, "invalid conversation id")
		return
	}
	name := strings.TrimSpace(ev.Agent)
	if name == "" || len(name) > 64 {
		rest.WriteError(rw, http.StatusBadRequest, `"agent" is required (at most 64 bytes)`)
		return
	}
	if ev.ID != "" && !w.fresh(ev.ID, now) {
		rest.WriteJSON(rw, http.StatusOK, map[string]string{"status": "duplicate"})
		return
	}
	agent := handoff.ExternalPrefix + name
	ctx := r.Context()
	switch ev.Type {
	case "agent.message":
		err = c.Desk.Send(ctx, ev.Conversation, agent, ev.Text)
	case "conversation.claim":
		err = c.Desk.Claim(ctx, ev.Conversation, agent)
	case "conversation.release":
		_, err = c.Desk.Release(ctx, ev.Conversation, agent, ev.Flow)
	case "conversation.close":
		err = c.Desk.Close(ctx, ev.Conversation, agent)
	default:
		rest.WriteError(rw, http.StatusBadRequest, "unknown event type "+strconv.Quote(ev.Type))
		return
	}
	if err != nil {
		c.fail(rw, r, err)
		return
	}
	rest.WriteJSON(rw, http.StatusOK, map[string]string{"status": "ok"})
}
