package webchat_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/charlabot/charla/channels"
	"github.com/charlabot/charla/channels/channeltest"
	"github.com/charlabot/charla/channels/webchat"
	"github.com/charlabot/charla/engine"
)

type frame struct {
	Type         string `json:"type"`
	Conversation string `json:"conversation"`
	Seq          int64  `json:"seq"`
	From         string `json:"from"`
	Text         string `json:"text"`
	Choices      []struct{ Label, Value string }
	Error        string `json:"error"`
	ID           string `json:"id"`
	On           bool   `json:"on"`
	Verified     bool   `json:"verified"`
	Replay       bool   `json:"replay"`
}

func start(t *testing.T, hub *webchat.Hub) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/ws", hub)
	mux.Handle("/uploads/", hub.Uploads)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hub.Shutdown(ctx)
		srv.Close()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
}

type client struct {
	t  *testing.T
	ws *websocket.Conn
}

func dial(t *testing.T, url string) *client {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return &client{t: t, ws: ws}
}

func (c *client) write(v any) error {
	c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(v)
}

func (c *client) read() (frame, error) {
	var f frame
	c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	err := c.ws.ReadJSON(&f)
	return f, err
}

// until reads frames until one of the given type.
func (c *client) until(typ string) frame {
	c.t.Helper()
	for {
		f, err := c.read()
		if err != nil {
			c.t.Fatalf("waiting for a %q frame: %v", typ, err)
		}
		if f.Type == typ {
			return f
		}
	}
}

func (c *client) hello(conv, user string, after int64) frame {
	c.t.Helper()
	if err := c.write(map[string]any{"type": "hello", "conversation": conv, "user": user, "after": after}); err != nil {
		c.t.Fatal(err)
	}
	return c.until("welcome")
}

var msgIDs atomic.Int64

func (c *client) say(text string) {
	c.t.Helper()
	if err := c.write(map[string]any{"type": "message", "text": text, "id": fmt.Sprint("m", msgIDs.Add(1))}); err != nil {
		c.t.Fatal(err)
	}
}

// platform plays web chat pages for the conformance suite.
type platform struct{ url string }

func (p *platform) Start(t *testing.T, b *channeltest.Bot) {
	hub := &webchat.Hub{Backend: b}
	b.Register(webchat.Channel, hub)
	p.url = start(t, hub)
}
func (p *platform) MaxText() int    { return 0 }
func (p *platform) Proactive() bool { return true }
func (p *platform) NewUser(t *testing.T, id string) channeltest.User {
	c := dial(t, p.url)
	c.hello("", id, 0)
	return &user{c: c, id: id, values: map[string]string{}}
}

type user struct {
	c      *client
	id     string
	values map[string]string
}

func (u *user) ID() string { return u.id }
func (u *user) Say(_ context.Context, text string) error {
	return u.c.write(map[string]any{"type": "message", "text": text, "id": fmt.Sprint("m", msgIDs.Add(1))})
}
func (u *user) Press(_ context.Context, m channeltest.Received, i int) error {
	return u.c.write(map[string]any{"type": "choice", "value": u.values[m.Buttons[i]], "id": fmt.Sprint("p", msgIDs.Add(1))})
}
func (u *user) Next(ctx context.Context) (channeltest.Received, error) {
	for {
		f, err := u.c.read()
		if err != nil {
			return channeltest.Received{}, err
		}
		switch f.Type {
		case "message":
			r := channeltest.Received{Text: f.Text}
			for _, ch := range f.Choices {
				r.Buttons = append(r.Buttons, ch.Label)
				u.values[ch.Label] = ch.Value
			}
			return r, nil
		case "error":
			return channeltest.Received{Text: f.Error, Error: true}, nil
		}
	}
}

func TestConformance(t *testing.T) { channeltest.Run(t, &platform{}) }

func TestReconnectReplaysHistoryOnce(t *testing.T) {
	b := &channeltest.Bot{}
	hub := &webchat.Hub{Backend: b}
	b.Register(webchat.Channel, hub)
	url := start(t, hub)

	c := dial(t, url)
	w := c.hello("", "", 0)
	if !strings.HasPrefix(w.Conversation, "wc-") {
		t.Fatalf("new conversation id %q", w.Conversation)
	}
	c.say("hola")
	first := c.until("message")
	if first.Text != channeltest.Greeting || first.Seq != 2 || len(first.Choices) != 2 {
		t.Fatalf("greeting frame %+v", first)
	}
	c.ws.Close()

	// a reloaded page (after 0) sees the whole history, user's lines included
	c2 := dial(t, url)
	if w2 := c2.hello(w.Conversation, "", 0); w2.Conversation != w.Conversation || w2.Seq != 2 {
		t.Fatalf("resumed welcome %+v", w2)
	}
	for _, want := range []string{"user:hola", "bot:" + channeltest.Greeting} {
		f := c2.until("message")
		if got := f.From + ":" + f.Text; got != want || !f.Replay {
			t.Fatalf("replay %q (replay=%v), want %q", got, f.Replay, want)
		}
	}
	// a reconnect of a page that has everything up to 2 sees only news
	c3 := dial(t, url)
	c3.hello(w.Conversation, "", 2)
	c3.say("qué tal")
	if f := c3.until("message"); f.Text != "Dijiste: qué tal" || f.Seq != 4 {
		t.Fatalf("after reconnect: %+v", f)
	}
	// the other open tab shows both sides of that turn
	for _, want := range []string{"user:qué tal", "bot:Dijiste: qué tal"} {
		if f := c2.until("message"); f.From+":"+f.Text != want {
			t.Fatalf("other tab: %+v, want %s", f, want)
		}
	}
	// proactive messages go to every tab
	d, err := b.Trigger(context.Background(), w.Conversation, "order_shipped", map[string]any{"order": "B7"})
	if err != nil || d.Status != channels.Delivered {
		t.Fatalf("trigger: %+v %v", d, err)
	}
	for _, c := range []*client{c2, c3} {
		if f := c.until("message"); f.Text != "Tu pedido B7 va en camino." || f.Seq != 5 {
			t.Fatalf("proactive frame %+v", f)
		}
	}
}

func TestOutboxDrainedOnReconnect(t *testing.T) {
	b := &channeltest.Bot{}
	hub := &webchat.Hub{Backend: b}
	b.Register(webchat.Channel, hub)
	url := start(t, hub)

	c := dial(t, url)
	w := c.hello("", "cust-1", 0)
	c.say("hola")
	c.until("message")
	c.ws.Close()
	// wait until the hub has let go of the connection
	for deadline := time.Now().Add(5 * time.Second); hub.Connections() > 0; {
		if time.Now().After(deadline) {
			t.Fatal("the closed connection is still counted")
		}
		time.Sleep(5 * time.Millisecond)
	}
	d, err := b.Trigger(context.Background(), "cust-1", "order_shipped", map[string]any{"order": "C3"})
	if err != nil || d.Status != channels.Queued {
		t.Fatalf("offline user: %+v %v, want queued", d, err)
	}
	c2 := dial(t, url)
	c2.hello(w.Conversation, "cust-1", 2)
	f := c2.until("message")
	if f.Text != "Tu pedido C3 va en camino." || f.Seq != 3 {
		t.Fatalf("drained %+v", f)
	}
	if box, _ := b.TakeOutbox(context.Background(), w.Conversation, "cust-1"); len(box) != 0 {
		t.Fatalf("outbox not drained: %+v", box)
	}
	// and it is shown once: nothing else arrives
	c2.ws.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	var extra frame
	if err := c2.ws.ReadJSON(&extra); err == nil && extra.Type == "message" {
		t.Fatalf("duplicate bubble %+v", extra)
	}
}

func TestBadFrames(t *testing.T) {
	b := &channeltest.Bot{}
	url := start(t, &webchat.Hub{Backend: b, ReadLimit: 64 << 10})
	c := dial(t, url)

	c.ws.WriteMessage(websocket.TextMessage, []byte(`{"type":`))
	if f := c.until("error"); f.Error != "invalid JSON frame" {
		t.Errorf("invalid JSON: %q", f.Error)
	}
	c.write(map[string]any{"type": "message", "text": "hola"})
	if f := c.until("error"); !strings.Contains(f.Error, "hello") {
		t.Errorf("message before hello: %q", f.Error)
	}
	c.hello("", "", 0)
	c.write(map[string]any{"type": "dance"})
	if f := c.until("error"); f.Error != `unknown frame type "dance"` {
		t.Errorf("unknown type: %q", f.Error)
	}
	c.ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
	if f := c.until("error"); !strings.Contains(f.Error, "JSON text") {
		t.Errorf("binary frame: %q", f.Error)
	}
	c.write(map[string]any{"type": "message", "text": "   "})
	if f := c.until("error"); f.Error != "empty message" {
		t.Errorf("empty: %q", f.Error)
	}
	c.write(map[string]any{"type": "attachment", "data": base64.StdEncoding.EncodeToString([]byte("not an image at all"))})
	if f := c.until("error"); !strings.Contains(f.Error, "images") {
		t.Errorf("non-image attachment: %q", f.Error)
	}
	// the connection still works
	c.say("hola")
	if f := c.until("message"); f.Text != channeltest.Greeting {
		t.Errorf("after bad frames: %+v", f)
	}

	// a 10 MB frame closes that connection with "message too big"
	big := dial(t, url)
	big.hello("", "", 0)
	big.ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"message","text":"`+strings.Repeat("x", 10<<20)+`"}`))
	for {
		_, err := big.read()
		if err != nil {
			if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) && !strings.Contains(err.Error(), "reset") && !strings.Contains(err.Error(), "broken pipe") {
				t.Errorf("10 MB frame: %v", err)
			}
			break
		}
	}
	// the process and other connections survive
	c.say("sigo aquí")
	if f := c.until("message"); f.Text != "Dijiste: sigo aquí" {
		t.Errorf("after a 10 MB frame elsewhere: %+v", f)
	}
}

func TestImageUpload(t *testing.T) {
	b := &channeltest.Bot{}
	hub := &webchat.Hub{Backend: b, MaxUpload: 1000}
	url := start(t, hub)
	c := dial(t, url)
	c.hello("", "", 0)
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...)
	c.write(map[string]any{"type": "attachment", "name": "foto.png", "data": base64.StdEncoding.EncodeToString(png), "id": "a1"})
	if f := c.until("message"); f.Text != channeltest.ImageAck {
		t.Fatalf("image: %+v", f)
	}
	c.write(map[string]any{"type": "attachment", "name": "big.png", "data": base64.StdEncoding.EncodeToString(append(png, make([]byte, 2000)...))})
	if f := c.until("error"); !strings.Contains(f.Error, "too large") {
		t.Fatalf("big image: %+v", f)
	}
}

func TestFloodIsThrottled(t *testing.T) {
	now := time.Unix(1e9, 0)
	b := &channeltest.Bot{}
	url := start(t, &webchat.Hub{Backend: b, Rate: 1, Burst: 3, Now: func() time.Time { return now }})
	c := dial(t, url)
	c.hello("", "", 0) // takes a token
	throttled := 0
	for i := range 30 {
		c.write(map[string]any{"type": "message", "text": fmt.Sprint("spam ", i)})
	}
	closed := false
	for !closed {
		f, err := c.read()
		switch {
		case err != nil:
			closed = websocket.IsCloseError(err, websocket.ClosePolicyViolation)
			if !closed {
				t.Fatalf("flood: %v", err)
			}
		case f.Type == "error" && strings.Contains(f.Error, "too many"):
			throttled++
		}
	}
	if b.Turns != 2 || throttled == 0 {
		t.Errorf("flood: %d turns run, %d refusals seen; want 2 turns, refusals, then the connection closed", b.Turns, throttled)
	}
}

func TestOrigins(t *testing.T) {
	b := &channeltest.Bot{}
	url := start(t, &webchat.Hub{Backend: b, AllowedOrigins: []string{"https://tienda.example"}})
	for origin, ok := range map[string]bool{"https://tienda.example": true, "https://evil.example": false} {
		h := http.Header{"Origin": {origin}}
		ws, resp, err := websocket.DefaultDialer.Dial(url, h)
		if ok {
			if err != nil {
				t.Errorf("%s refused: %v", origin, err)
			} else {
				ws.Close()
			}
			continue
		}
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%s: want 403, got %v", origin, err)
		}
		var e map[string]string
		json.NewDecoder(resp.Body).Decode(&e)
		if !strings.Contains(e["error"], "origin") {
			t.Errorf("foreign origin error %q", e["error"])
		}
	}
}

func TestVerifiedUser(t *testing.T) {
	secret := []byte("s")
	b := &channeltest.Bot{}
	url := start(t, &webchat.Hub{Backend: b, IdentitySecret: secret})
	c := dial(t, url)
	c.write(map[string]any{"type": "hello", "user": "cust-9", "user_hash": channels.SignUser(secret, "cust-9")})
	if w := c.until("welcome"); !w.Verified {
		t.Errorf("signed hello not verified: %+v", w)
	}
	c2 := dial(t, url)
	c2.write(map[string]any{"type": "hello", "user": "cust-9", "user_hash": "bad"})
	if f := c2.until("error"); !strings.Contains(f.Error, "guest") {
		t.Errorf("bad hash: %+v", f)
	}
	if w := c2.until("welcome"); w.Verified || w.Conversation == "" {
		t.Errorf("bad hash welcome %+v", w)
	}
}

func TestShutdownClosesConnections(t *testing.T) {
	b := &channeltest.Bot{}
	hub := &webchat.Hub{Backend: b}
	url := start(t, hub)
	c := dial(t, url)
	c.hello("", "", 0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hub.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := c.read()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("after shutdown: %v, want going away", err)
	}
	if _, resp, err := websocket.DefaultDialer.Dial(url, nil); err == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dial after shutdown: %v", err)
	}
}

// slow is a backend whose turns wait for release.
type slow struct {
	*channeltest.Bot
	release chan struct{}
}

func (s slow) Handle(ctx context.Context, in engine.Inbound) (*engine.Turn, error) {
	<-s.release
	return s.Bot.Handle(ctx, in)
}

func TestTypingIndicatorOnlyForSlowTurns(t *testing.T) {
	b := slow{&channeltest.Bot{}, make(chan struct{}, 1)}
	url := start(t, &webchat.Hub{Backend: b, TypingDelay: time.Millisecond})
	c := dial(t, url)
	c.hello("", "", 0)
	c.say("hola")
	if f := c.until("typing"); !f.On {
		t.Fatalf("a slow turn: %+v, want typing on", f)
	}
	b.release <- struct{}{}
	if seen := c.turnFrames(); seen != "message typing ack" {
		t.Errorf("frames after the turn: %v, want message, typing off, ack", seen)
	}

	// a quick turn shows no indicator
	fast := start(t, &webchat.Hub{Backend: &channeltest.Bot{}})
	c2 := dial(t, fast)
	c2.hello("", "", 0)
	c2.say("hola")
	if seen := c2.turnFrames(); seen != "message ack" {
		t.Errorf("frames of a quick turn: %v", seen)
	}
}

// turnFrames reads the frames of a turn up to its ack and returns their types.
func (c *client) turnFrames() string {
	c.t.Helper()
	var seen []string
	for {
		f, err := c.read()
		if err != nil {
			c.t.Fatal(err)
		}
		seen = append(seen, f.Type)
		if f.Type == "ack" {
			return strings.Join(seen, " ")
		}
	}
}

func TestForgottenConversationStartsAfresh(t *testing.T) {
	url := start(t, &webchat.Hub{Backend: &channeltest.Bot{}})
	c := dial(t, url)
	// a page that shows 12 bubbles of a conversation this server never had
	if w := c.hello("wc-gone", "", 12); w.Conversation == "wc-gone" || w.Conversation == "" {
		t.Fatalf("welcome %+v: want a new conversation", w)
	}
	// a page with nothing on screen may name its own new conversation
	c2 := dial(t, url)
	if w := c2.hello("wc-mine", "", 0); w.Conversation != "wc-mine" {
		t.Fatalf("welcome %+v", w)
	}
}

func TestLongHistoryReplay(t *testing.T) {
	b := &channeltest.Bot{}
	url := start(t, &webchat.Hub{Backend: b, Rate: 1e6, Burst: 1e6})
	c := dial(t, url)
	w := c.hello("", "", 0)
	for i := range 150 {
		c.say(fmt.Sprint("mensaje ", i))
		c.until("ack")
	}
	// 300 entries replayed at once: far more than the send queue holds
	c2 := dial(t, url)
	if w2 := c2.hello(w.Conversation, "", 0); w2.Seq != 300 {
		t.Fatalf("welcome %+v", w2)
	}
	for i := 1; i <= 300; i++ {
		if f := c2.until("message"); f.Seq != int64(i) {
			t.Fatalf("replayed entry %d has seq %d", i, f.Seq)
		}
	}
}

// greeter counts the conversation_start events and answers them as "hola".
type greeter struct {
	*channeltest.Bot
	opened atomic.Int32
}

func (g *greeter) Handle(ctx context.Context, in engine.Inbound) (*engine.Turn, error) {
	if in.Event == engine.EventConversationStart {
		g.opened.Add(1)
		in.Event, in.Text = "", "hola"
	}
	return g.Bot.Handle(ctx, in)
}

// With Greet, a page that opens a new conversation lets the bot speak
// first; a page that comes back to its conversation is not greeted again.
func TestGreetOnOpen(t *testing.T) {
	g := &greeter{Bot: &channeltest.Bot{}}
	hub := &webchat.Hub{Backend: g, Greet: true}
	g.Register(webchat.Channel, hub)
	url := start(t, hub)

	c := dial(t, url)
	w := c.hello("", "", 0)
	if f := c.until("message"); f.Text != channeltest.Greeting || f.From != "bot" {
		t.Fatalf("opening: %+v", f)
	}
	c.ws.Close()
	c2 := dial(t, url)
	c2.hello(w.Conversation, "", 0)
	c2.say("hola")
	c2.until("message") // the replayed greeting
	c2.until("message")
	if n := g.opened.Load(); n != 1 {
		t.Fatalf("conversation_start sent %d times", n)
	}
}
