// Package webchat is charla's web chat: a WebSocket JSON protocol (see
// docs/webchat.md), an embeddable widget (widget.js, plain JavaScript and
// CSS) and a demo page, all embedded in the binary.
//
// A [Hub] serves the WebSocket endpoint and is the channel's
// [engine.Sender]: proactive messages reach every open tab of a
// conversation, or wait in the outbox (the Sender returns
// channels.ErrOffline) until the shopper comes back; on reconnect the
// conversation's transcript is replayed after the last message the page
// has, so no bubble is shown twice.
package webchat

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/charlabot/charla/channels"
	"github.com/charlabot/charla/engine"
)

// Channel is the channel name of web chat conversations.
const Channel = "webchat"

// Defaults of the Hub's limits.
const (
	DefaultReadLimit  = 2 << 20 // bytes per frame (room for a base64 image)
	DefaultMaxUpload  = 1 << 20 // bytes of one decoded image
	DefaultRate       = 5       // messages per second, sustained
	DefaultBurst      = 10      // messages at once
	DefaultPongWait   = 60 * time.Second
	DefaultWriteWait  = 10 * time.Second
	DefaultMaxButtons = 10
	sendQueue         = 16 // frames queued for the writer (a full queue makes senders wait)
	maxStrikes        = 20 // frames refused for flooding before the connection is closed
)

// Hub is the web chat's server side. Backend is required; every other
// field has a useful zero value. Fields must not change once it serves.
type Hub struct {
	Backend channels.Backend

	// AllowedOrigins are the origins (scheme://host[:port]) of the pages
	// that may open the chat; "*" allows any. Empty: only the server's own.
	AllowedOrigins []string
	// IdentitySecret verifies the shop's customer ids (see
	// channels.SignUser). Without it, a user id given by a page is taken
	// as an unverified hint.
	IdentitySecret []byte
	// Uploads keeps shoppers' images; nil keeps them in memory (64 MiB).
	Uploads *Uploads

	ReadLimit int64         // bytes per frame (DefaultReadLimit)
	MaxUpload int           // bytes per image (DefaultMaxUpload)
	Rate      float64       // messages per second per connection (DefaultRate)
	Burst     int           // (DefaultBurst)
	PongWait  time.Duration // (DefaultPongWait)
	// TypingDelay is how long a turn runs before "typing…" shows (DefaultTypingDelay).
	TypingDelay time.Duration
	// Greet sends the bot the conversation_start event when a page opens a
	// new conversation, so that a bot with a flow for it speaks first
	// (bot.yaml: channels.webchat.greet).
	Greet  bool
	Logger *slog.Logger
	Now    func() time.Time

	once       sync.Once
	upgrader   websocket.Upgrader
	mu         sync.RWMutex
	convs      map[string]map[*conn]struct{}
	unattached sync.Map // *conn → struct{}: connections before their hello
	closing    bool
	turns      sync.WaitGroup
	conns      sync.WaitGroup
	count      atomic.Int64
}

var (
	_ channels.Connector = (*Hub)(nil)
	_ channels.Buttoner  = (*Hub)(nil)
	_ channels.Typer     = (*Hub)(nil)
	_ channels.Imager    = (*Hub)(nil)
)

func (h *Hub) init() {
	h.once.Do(func() {
		h.convs = map[string]map[*conn]struct{}{}
		if h.Uploads == nil {
			h.Uploads = &Uploads{}
		}
		h.upgrader = websocket.Upgrader{
			ReadBufferSize:  1024,
			WriteBufferSize: 1024,
			WriteBufferPool: &sync.Pool{},
			CheckOrigin:     h.checkOrigin,
			Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
				writeError(w, status, reason.Error())
			},
		}
	})
}

// Name is "webchat".
func (h *Hub) Name() string { return Channel }

// MaxButtons is how many quick replies a message shows.
func (h *Hub) MaxButtons() int { return DefaultMaxButtons }

// Images reports that the web chat shows images.
func (h *Hub) Images() bool { return true }

// Connections is the number of open WebSocket connections.
func (h *Hub) Connections() int { return int(h.count.Load()) }

func (h *Hub) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Hub) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func (h *Hub) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser
	}
	for _, o := range h.AllowedOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// Send delivers a message to every open tab of out.Conversation. With no
// tab open it returns channels.ErrOffline: the message waits in the outbox
// (the runtime keeps it, and it is in the transcript) until the shopper
// reconnects.
func (h *Hub) Send(ctx context.Context, out engine.Outbound) error {
	h.init()
	cs := h.connsOf(out.Conversation)
	if len(cs) == 0 {
		return channels.ErrOffline
	}
	for _, c := range cs {
		// The runtime commits a message to the transcript before sending
		// it: the page gets it with its seq. Only when the transcript
		// cannot be read is it sent as it is.
		if _, err := c.sync(ctx, true); err != nil {
			c.send(messageFrame(out, 0, h.now()))
		}
	}
	return nil
}

// Typing shows the typing indicator in every open tab of conversation.
func (h *Hub) Typing(_ context.Context, conversation string) error {
	h.init()
	for _, c := range h.connsOf(conversation) {
		c.send(frame{Type: "typing", On: true})
	}
	return nil
}

func (h *Hub) connsOf(id string) []*conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	set := h.convs[id]
	cs := make([]*conn, 0, len(set))
	for c := range set {
		cs = append(cs, c)
	}
	return cs
}

// ServeHTTP upgrades a request to a WebSocket connection and serves it.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.init()
	h.mu.RLock()
	closing := h.closing
	h.mu.RUnlock()
	if closing {
		writeError(w, http.StatusServiceUnavailable, "the server is shutting down")
		return
	}
	hj := &batchHijacker{ResponseWriter: w}
	ws, err := h.upgrader.Upgrade(hj, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	c := &conn{h: h, ws: ws, bc: hj.conn, out: make(chan []byte, sendQueue), done: make(chan struct{}), wdone: make(chan struct{}), lang: lang(r)}
	h.conns.Add(1)
	h.count.Add(1)
	go c.writeLoop()
	c.readLoop()
}

// Shutdown stops accepting connections, waits for the turns in flight
// (until ctx is done), then closes every connection with "going away".
func (h *Hub) Shutdown(ctx context.Context) error {
	h.init()
	h.mu.Lock()
	h.closing = true
	h.mu.Unlock()
	turns := make(chan struct{})
	go func() { h.turns.Wait(); close(turns) }()
	select {
	case <-turns:
	case <-ctx.Done():
	}
	h.mu.RLock()
	var all []*conn
	for _, set := range h.convs {
		for c := range set {
			all = append(all, c)
		}
	}
	h.mu.RUnlock()
	for _, c := range all {
		c.closeWith(websocket.CloseGoingAway, "server shutting down")
	}
	h.unattached.Range(func(k, _ any) bool {
		k.(*conn).closeWith(websocket.CloseGoingAway, "server shutting down")
		return true
	})
	done := make(chan struct{})
	go func() { h.conns.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func lang(r *http.Request) string {
	al := strings.ToLower(r.Header.Get("Accept-Language"))
	if strings.HasPrefix(al, "en") {
		return "en"
	}
	if strings.HasPrefix(al, "es") {
		return "es"
	}
	return ""
}

// NewID returns a random id with a prefix, for conversations and uploads.
func NewID(prefix string) string {
	var b [16]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func writeError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// frame is a message of the protocol, in both directions (docs/webchat.md).
type frame struct {
	Type string `json:"type"`

	// client → server
	ID           string `json:"id,omitempty"`
	Text         string `json:"text,omitempty"`
	Value        string `json:"value,omitempty"`
	Conversation string `json:"conversation,omitempty"`
	User         string `json:"user,omitempty"`
	UserHash     string `json:"user_hash,omitempty"`
	Lang         string `json:"lang,omitempty"`
	After        int64  `json:"after,omitempty"`
	Name         string `json:"name,omitempty"`
	MIME         string `json:"mime,omitempty"`
	Data         string `json:"data,omitempty"` // base64

	// server → client
	Seq      int64              `json:"seq,omitempty"`
	From     string             `json:"from,omitempty"`
	Choices  []engine.OutChoice `json:"choices,omitempty"`
	Image    string             `json:"image,omitempty"`
	Link     *engine.OutLink    `json:"link,omitempty"`
	Flow     string             `json:"flow,omitempty"`
	At       *time.Time         `json:"at,omitempty"`
	On       bool               `json:"on,omitempty"`
	Error    string             `json:"error,omitempty"`
	Verified bool               `json:"verified,omitempty"`
	Replay   bool               `json:"replay,omitempty"`
}

func messageFrame(out engine.Outbound, seq int64, at time.Time) frame {
	from := out.From
	if from == "" {
		from = "bot"
	}
	return frame{Type: "message", Seq: seq, From: from, Text: out.Text, Choices: out.Choices, Image: out.Image, Link: out.Link, Flow: out.Flow, At: &at}
}

// shown reports whether a transcript entry is a bubble: the user's, the
// bot's or an agent's words (not receipts and other bookkeeping).
func shown(e channels.Entry) bool {
	switch e.From {
	case engine.FromUser, engine.FromBot, engine.FromAgent:
		return e.Text != "" || e.Image != "" || len(e.Attachments) > 0 || len(e.Choices) > 0
	}
	return false
}

func entryFrame(e channels.Entry, replay bool) frame {
	at := e.At
	f := frame{Type: "message", Seq: e.Seq, From: e.From, Text: e.Text, Choices: e.Choices, Image: e.Image, Link: e.Link, Flow: e.Flow, At: &at, Replay: replay}
	if f.Image == "" {
		for _, a := range e.Attachments {
			if a.Kind == "image" && strings.HasPrefix(a.URL, UploadsPath) {
				f.Image = a.URL // the shopper's own photo, shown again on replay
				break
			}
		}
	}
	return f
}

// conn is one WebSocket connection: a reader (this goroutine, which also
// runs the turns in order) and a writer goroutine, the only one that writes.
type conn struct {
	h     *Hub
	ws    *websocket.Conn
	bc    *batchConn // under ws
	out   chan []byte
	done  chan struct{}
	wdone chan struct{} // closed when the writer has stopped
	once  sync.Once
	lang  string

	mu       sync.Mutex // guards the fields below
	conv     string
	user     string
	verified bool
	seq      int64 // the last transcript entry this connection has seen

	tokens  float64
	last    time.Time
	strikes int
}

// send queues a frame for the writer, waiting while the queue is full (a
// history replay outruns the socket); a client that takes nothing for
// DefaultWriteWait is disconnected. It takes no lock, so callers may hold c.mu.
func (c *conn) send(f frame) {
	b, err := json.Marshal(f)
	if err != nil {
		return
	}
	select {
	case <-c.done:
		return
	case c.out <- b:
		return
	default:
	}
	t := time.NewTimer(DefaultWriteWait)
	defer t.Stop()
	select {
	case <-c.done:
	case c.out <- b:
	case <-t.C:
		c.h.logger().Warn("webchat: client too slow, closing")
		go c.closeWith(websocket.ClosePolicyViolation, "too slow")
	}
}

func (c *conn) conversation() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conv
}

func (c *conn) closeWith(code int, reason string) {
	c.once.Do(func() {
		msg := websocket.FormatCloseMessage(code, reason)
		c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		close(c.done)
		c.ws.Close()
	})
}

// flushAndClose lets the writer send what is queued, then closes with code.
func (c *conn) flushAndClose(code int, reason string) {
	select {
	case c.out <- websocket.FormatCloseMessage(code, reason):
		select {
		case <-c.wdone:
		case <-time.After(time.Second):
		}
	default:
	}
	c.closeWith(code, reason)
}

func (c *conn) writeLoop() {
	defer close(c.wdone)
	pingEvery := c.h.pongWait() * 9 / 10
	t := time.NewTicker(pingEvery)
	defer t.Stop()
	for {
		select {
		case b := <-c.out:
			// write every queued frame, then put them on the wire at once
			c.bc.begin()
			c.ws.SetWriteDeadline(time.Now().Add(DefaultWriteWait))
			for b != nil {
				if len(b) > 0 && b[0] != '{' { // a close message from flushAndClose
					c.ws.WriteControl(websocket.CloseMessage, b, time.Now().Add(time.Second))
					c.bc.flush()
					return
				}
				if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
					c.bc.flush()
					c.closeWith(websocket.CloseAbnormalClosure, "")
					return
				}
				select {
				case b = <-c.out:
				default:
					b = nil
				}
			}
			if err := c.bc.flush(); err != nil {
				c.closeWith(websocket.CloseAbnormalClosure, "")
				return
			}
		case <-t.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(DefaultWriteWait)); err != nil {
				c.closeWith(websocket.CloseAbnormalClosure, "")
				return
			}
		case <-c.done:
			return
		}
	}
}

func (h *Hub) pongWait() time.Duration {
	if h.PongWait > 0 {
		return h.PongWait
	}
	return DefaultPongWait
}

func (c *conn) readLoop() {
	h := c.h
	defer func() {
		c.closeWith(websocket.CloseNormalClosure, "")
		h.detach(c)
		h.count.Add(-1)
		h.conns.Done()
	}()
	limit := h.ReadLimit
	if limit <= 0 {
		limit = DefaultReadLimit
	}
	c.ws.SetReadLimit(limit)
	c.ws.SetReadDeadline(time.Now().Add(h.pongWait()))
	c.ws.SetPongHandler(func(string) error {
		c.ws.SetReadDeadline(time.Now().Add(h.pongWait()))
		return nil
	})
	h.unattached.Store(c, struct{}{})
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.closeWith(websocket.CloseMessageTooBig, "frame too large")
			}
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(h.pongWait()))
		if typ != websocket.TextMessage {
			c.send(frame{Type: "error", Error: "frames must be JSON text"})
			continue
		}
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			c.send(frame{Type: "error", Error: "invalid JSON frame"})
			continue
		}
		if !c.allow() {
			c.send(frame{Type: "error", ID: f.ID, Error: "too many messages; slow down"})
			if c.strikes > maxStrikes {
				c.flushAndClose(websocket.ClosePolicyViolation, "flood")
				return
			}
			continue
		}
		c.handle(f)
	}
}

// allow takes a token of the connection's rate limit.
func (c *conn) allow() bool {
	h := c.h
	rate, burst := h.Rate, float64(h.Burst)
	if rate <= 0 {
		rate = DefaultRate
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	now := h.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last.IsZero() {
		c.tokens = burst
	} else {
		c.tokens = min(burst, c.tokens+now.Sub(c.last).Seconds()*rate)
	}
	c.last = now
	if c.tokens < 1 {
		c.strikes++
		return false
	}
	c.tokens--
	c.strikes = 0
	return true
}

func (c *conn) handle(f frame) {
	h := c.h
	if f.Type == "hello" {
		c.hello(f)
		return
	}
	conv := c.conversation()
	if conv == "" {
		c.send(frame{Type: "error", ID: f.ID, Error: `say "hello" first`})
		return
	}
	if f.ID != "" && !channels.ValidID(f.ID) {
		c.send(frame{Type: "error", Error: "invalid message id"})
		return
	}
	c.mu.Lock()
	in := engine.Inbound{Conversation: conv, User: c.user, Verified: c.verified, Channel: Channel, Lang: c.lang, At: h.now()}
	c.mu.Unlock()
	if f.ID != "" {
		in.ID = "wc-" + f.ID
	}
	switch f.Type {
	case "message":
		if strings.TrimSpace(f.Text) == "" {
			c.send(frame{Type: "error", ID: f.ID, Error: "empty message"})
			return
		}
		if len(f.Text) > 4096 {
			c.send(frame{Type: "error", ID: f.ID, Error: "message longer than 4096 bytes"})
			return
		}
		in.Text = f.Text
	case "choice":
		if f.Value == "" || len(f.Value) > 256 {
			c.send(frame{Type: "error", ID: f.ID, Error: "a choice needs its value"})
			return
		}
		in.Choice = f.Value
	case "attachment":
		a, err := h.upload(f)
		if err != nil {
			c.send(frame{Type: "error", ID: f.ID, Error: err.Error()})
			return
		}
		in.Attachments = []engine.Attachment{a}
	default:
		c.send(frame{Type: "error", ID: f.ID, Error: "unknown frame type " + quote(f.Type)})
		return
	}
	h.mu.RLock()
	closing := h.closing
	if !closing {
		h.turns.Add(1)
	}
	h.mu.RUnlock()
	if closing {
		c.send(frame{Type: "error", ID: f.ID, Error: "the server is shutting down; your message was not read"})
		return
	}
	defer h.turns.Done()
	delay := h.TypingDelay
	if delay <= 0 {
		delay = DefaultTypingDelay
	}
	typing := c.typingAfter(delay)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	turn, err := h.Backend.Handle(ctx, in)
	shown := typing()
	if err != nil {
		if engine.ErrCode(err) == engine.EInternal {
			h.logger().Error("webchat: turn failed", "conversation", conv, "err", err)
		}
		if shown {
			c.send(frame{Type: "typing"})
		}
		c.send(frame{Type: "error", ID: f.ID, Error: politeError(err, c.lang)})
		return
	}
	for _, o := range h.connsOf(conv) {
		if o != c {
			o.sync(ctx, true) // other tabs of the conversation show both sides
		}
	}
	sent, err := c.sync(ctx, false)
	if turn != nil && (err != nil || (!sent && turn.Duplicate)) {
		// no transcript to read, or a retry whose replies were synced
		// before: send the turn's replies as they are
		for _, m := range turn.Messages {
			c.send(messageFrame(m, 0, h.now()))
		}
	}
	if shown {
		c.send(frame{Type: "typing"})
	}
	c.send(frame{Type: "ack", ID: f.ID}) // the turn is over
}

// DefaultTypingDelay is how long a turn runs before the page shows
// "typing…": a quick answer needs no indicator (and saves two frames).
const DefaultTypingDelay = 300 * time.Millisecond

// typingAfter shows the typing indicator if the turn is still running after
// d. The returned function ends the wait and reports whether it was shown.
func (c *conn) typingAfter(d time.Duration) func() bool {
	var mu sync.Mutex
	shown, over := false, false
	t := time.AfterFunc(d, func() {
		mu.Lock()
		defer mu.Unlock()
		if !over {
			shown = true
			c.send(frame{Type: "typing", On: true})
		}
	})
	return func() bool {
		t.Stop()
		mu.Lock()
		defer mu.Unlock()
		over = true
		return shown
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func politeError(err error, lang string) string {
	if code := engine.ErrCode(err); code != engine.EInternal && code != engine.EUnavailable {
		return engine.ErrMessage(err)
	}
	if lang == "en" {
		return "Sorry, something went wrong. Shall we try again?"
	}
	return "Lo siento, tuve un problema. ¿Lo intentamos de nuevo?"
}

// sync sends the transcript entries after the connection's last seen
// sequence number, the user's own lines only when withUser (a page shows
// what its user types as it is typed). It reports whether it sent any.
func (c *conn) sync(ctx context.Context, withUser bool) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conv == "" {
		return false, nil
	}
	entries, err := c.h.Backend.Transcript(ctx, c.conv, c.seq, 0)
	if err != nil {
		return false, err
	}
	sent := false
	for _, e := range entries {
		if e.Seq > c.seq {
			c.seq = e.Seq
		}
		if !shown(e) {
			continue
		}
		if withUser || e.From != engine.FromUser {
			c.send(entryFrame(e, false))
			sent = true
		}
	}
	return sent, nil
}

// hello attaches the connection to a conversation (a new one, or the one
// the page resumes), replays its transcript after f.After and drains the
// outbox.
func (c *conn) hello(f frame) {
	h := c.h
	if c.conversation() != "" {
		c.send(frame{Type: "error", Error: "hello was already said"})
		return
	}
	if f.Lang == "es" || f.Lang == "en" {
		c.lang = f.Lang
	}
	user, verified := "", false
	if f.User != "" {
		if !channels.ValidID(f.User) {
			c.send(frame{Type: "error", Error: "invalid user id"})
			return
		}
		switch {
		case channels.VerifyUser(h.IdentitySecret, f.User, f.UserHash):
			user, verified = f.User, true
		case len(h.IdentitySecret) > 0:
			c.send(frame{Type: "error", Error: "user_hash does not match user; chatting as a guest"})
		default:
			user = f.User
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conv := f.Conversation
	fresh := false // nobody has talked in this conversation yet
	if conv != "" {
		if !channels.ValidID(conv) {
			conv = ""
		} else if cv, err := h.Backend.Conversation(ctx, conv); err == nil && cv.User != "" && cv.User != user && cv.Verified {
			conv = "" // a verified user's conversation is theirs alone
		} else if engine.ErrCode(err) == engine.ENotFound && f.After > 0 {
			// The page shows a conversation this server does not have (its
			// data was wiped): start afresh, or the new messages' seqs would
			// collide with the bubbles on screen.
			conv = ""
		} else if err != nil && engine.ErrCode(err) != engine.ENotFound {
			h.logger().Error("webchat: reading conversation", "conversation", conv, "err", err)
		} else if err != nil {
			fresh = true
		}
	}
	if conv == "" {
		conv = NewID("wc-")
		f.After = 0
		fresh = true
	}
	c.mu.Lock()
	c.conv, c.user, c.verified = conv, user, verified
	c.seq = max(f.After, 0)
	entries, _ := h.Backend.Transcript(ctx, conv, c.seq, 0)
	last := c.seq
	if n := len(entries); n > 0 {
		last = entries[n-1].Seq
	}
	c.send(frame{Type: "welcome", Conversation: conv, User: user, Verified: verified, Seq: last, Lang: c.lang})
	for _, e := range entries {
		if shown(e) {
			c.send(entryFrame(e, true))
		}
		c.seq = max(c.seq, e.Seq)
	}
	c.mu.Unlock()
	// attach before draining, so nothing sent meanwhile is lost
	h.attach(c, conv)
	owner := user
	if owner == "" {
		owner = conv // an anonymous conversation stands for its user
	}
	if box, err := h.Backend.TakeOutbox(ctx, conv, owner); err == nil {
		c.mu.Lock()
		for _, e := range box {
			switch {
			case e.Seq == 0: // from another conversation of the user
				c.send(entryFrame(e, true))
			case e.Seq > c.seq: // not already replayed
				c.send(entryFrame(e, true))
				c.seq = e.Seq
			}
		}
		c.mu.Unlock()
	} else {
		h.logger().Error("webchat: reading the outbox", "conversation", conv, "err", err)
	}
	if fresh && h.Greet {
		c.open(conv)
	}
}

// open tells the bot that a shopper opened the chat on a new conversation
// (the conversation_start event, as Telegram's /start), so that a bot with
// a flow for it greets first; a bot without one says nothing.
func (c *conn) open(conv string) {
	h := c.h
	h.mu.RLock()
	closing := h.closing
	if !closing {
		h.turns.Add(1)
	}
	h.mu.RUnlock()
	if closing {
		return
	}
	defer h.turns.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c.mu.Lock()
	in := engine.Inbound{Conversation: conv, User: c.user, Verified: c.verified, Channel: Channel, Lang: c.lang,
		At: h.now(), Event: engine.EventConversationStart}
	c.mu.Unlock()
	if _, err := h.Backend.Handle(ctx, in); err != nil {
		h.logger().Error("webchat: opening the conversation", "conversation", conv, "err", err)
		return
	}
	if _, err := c.sync(ctx, false); err != nil {
		h.logger().Error("webchat: reading the greeting", "conversation", conv, "err", err)
	}
}

func (h *Hub) attach(c *conn, conv string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.unattached.Delete(c)
	set := h.convs[conv]
	if set == nil {
		set = map[*conn]struct{}{}
		h.convs[conv] = set
	}
	set[c] = struct{}{}
}

func (h *Hub) detach(c *conn) {
	h.unattached.Delete(c)
	conv := c.conversation()
	h.mu.Lock()
	defer h.mu.Unlock()
	if set := h.convs[conv]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(h.convs, conv)
		}
	}
}

// upload stores an image sent in an attachment frame.
func (h *Hub) upload(f frame) (engine.Attachment, error) {
	max := h.MaxUpload
	if max <= 0 {
		max = DefaultMaxUpload
	}
	if base64.StdEncoding.DecodedLen(len(f.Data)) > max+3 {
		return engine.Attachment{}, errors.New("the image is too large")
	}
	data, err := base64.StdEncoding.DecodeString(f.Data)
	if err != nil || len(data) == 0 {
		return engine.Attachment{}, errors.New("the attachment's data is not base64")
	}
	if len(data) > max {
		return engine.Attachment{}, errors.New("the image is too large")
	}
	mime := http.DetectContentType(data)
	switch mime {
	case "image/jpeg", "image/png", "image/gif", "image/webp":
	default:
		return engine.Attachment{}, errors.New("only JPEG, PNG, GIF and WebP images can be sent")
	}
	id := h.Uploads.Put(mime, data)
	name := f.Name
	if len(name) > 200 {
		name = name[:200]
	}
	return engine.Attachment{ID: id, Kind: "image", URL: UploadsPath + id, Name: name, MIME: mime, Size: len(data)}, nil
}
