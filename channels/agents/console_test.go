package agents_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/charlabot/charla/channels/agents"
	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/handoff"
	"github.com/charlabot/charla/engine/keyword"
	"github.com/charlabot/charla/engine/memory"
	"github.com/charlabot/charla/flows"
)

const password = "clave-secreta-123"

// hashOnce is the agents' password hash, at bcrypt's lowest cost to keep
// the tests quick (HashPassword uses the default cost).
var hashOnce = sync.OnceValue(func() string {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
})

func TestHashPassword(t *testing.T) {
	h, err := agents.HashPassword(password)
	if err != nil || bcrypt.CompareHashAndPassword([]byte(h), []byte(password)) != nil {
		t.Fatalf("HashPassword: %q %v", h, err)
	}
	if _, err := agents.HashPassword("corta"); engine.ErrCode(err) != engine.EInvalid {
		t.Errorf("a short password: %v", err)
	}
}

func botFiles() map[string]string {
	return map[string]string{
		"bot.yaml": `
name: tienda
languages: [es, en]
settings: {default_queue: ventas}
queues:
  ventas: {title: Ventas, skills: [ventas]}
  cambios: {title: Cambios, skills: [cambios]}
agents:
  ana: {name: Ana, skills: [ventas, cambios], password: "` + hashOnce() + `"}
  beto: {name: Beto, skills: [ventas], password: "` + hashOnce() + `", max_chats: 1}
  robot: {skills: [ventas, cambios], token: "${ROBOT_TOKEN}"}
handoff:
  canned:
    saludo: {es: "Hola, soy {{ agent }}.", en: "Hi, I'm {{ agent }}."}
`,
		"flows/main.yaml": `
flows:
  - flow: cambio
    triggers: {keywords: [cambio]}
    slots:
      pedido: {type: pattern, pattern: '[A-Z]\d{4}'}
    steps:
      - ask: pedido
        say: "¿Cuál es tu pedido?"
      - handoff: cambios
        note: "Cambio del pedido {{ pedido }}"
      - say: "Sigo aquí para lo que necesites."
  - flow: csat
    slots:
      nota: {type: integer}
    steps:
      - ask: nota
        say: "¿Cómo nos fue, del 1 al 5?"
      - say: "¡Gracias!"
`,
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t       testing.TB
	rt      *engine.Runtime
	desk    *handoff.Desk
	console *agents.Console
	srv     *httptest.Server
	clock   *clock
	reg     *prometheus.Registry
	logs    *bytes.Buffer
	n       int
}

func newEnv(t testing.TB, files map[string]string, wh func(*agents.Webhook)) *env {
	t.Helper()
	bot, err := flows.LoadFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	p := bot.Program
	e := &env{t: t, clock: &clock{t: time.Now()}, reg: prometheus.NewRegistry(), logs: &bytes.Buffer{}}
	logger := slog.New(slog.NewTextHandler(&syncWriter{w: e.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.desk = &handoff.Desk{Store: handoff.NewMemory(), Now: e.clock.Now, Logger: logger}
	e.rt, err = engine.NewRuntime(p, engine.Options{Store: memory.New(), Agents: e.desk, Now: e.clock.Now,
		Understander: keyword.New(p), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	e.desk.Runtime = e.rt
	m, err := agents.NewMetrics(e.reg, e.desk)
	if err != nil {
		t.Fatal(err)
	}
	e.desk.OnEvent = m.Observe
	if err := e.desk.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.console = &agents.Console{Desk: e.desk, Runtime: e.rt, Now: e.clock.Now, Logger: logger,
		Getenv: func(k string) string { return map[string]string{"ROBOT_TOKEN": "tok-robot-1234"}[k] }}
	ctx, cancel := context.WithCancel(context.Background())
	if wh != nil {
		w := &agents.Webhook{Desk: e.desk, Runtime: e.rt, Now: e.clock.Now, Logger: logger, Backoff: time.Millisecond}
		wh(w)
		e.console.Webhook = w
		w.Start(ctx)
	}
	e.console.Start(ctx)
	e.srv = httptest.NewServer(e.console)
	t.Cleanup(func() {
		e.console.Shutdown(context.Background())
		e.srv.Close()
		cancel()
	})
	return e
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// shopper sends a message from a shopper.
func (e *env) shopper(conv, text string) *engine.Turn {
	e.t.Helper()
	e.n++
	tr, err := e.rt.Handle(context.Background(), engine.Inbound{Conversation: conv, User: "u-" + conv, Channel: "webchat", ID: fmt.Sprint("m", e.n), Text: text})
	if err != nil {
		e.t.Fatal(err)
	}
	return tr
}

// client is a browser (or program) talking to the console.
type client struct {
	e     *env
	http  *http.Client
	csrf  string
	token string
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, http: &http.Client{Jar: jar}}
}

func (c *client) do(method, path string, body any, hdr ...string) (int, map[string]any, http.Header) {
	c.e.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.e.srv.URL+path, r)
	if c.csrf != "" {
		req.Header.Set(agents.CSRFHeader, c.csrf)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, resp.Header
}

func (c *client) login(agent string) *client {
	c.e.t.Helper()
	st, me, _ := c.do("POST", "/agent/api/v1/login", map[string]string{"agent": agent, "password": password})
	if st != 200 {
		c.e.t.Fatalf("login %s: %d %v", agent, st, me)
	}
	c.csrf = me["csrf"].(string)
	return c
}

func (c *client) ok(method, path string, body any) map[string]any {
	c.e.t.Helper()
	st, out, _ := c.do(method, path, body)
	if st != 200 {
		c.e.t.Fatalf("%s %s: %d %v", method, path, st, out)
	}
	return out
}

func ids(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(map[string]any)["conversation"].(string))
	}
	return out
}

func TestNoSessionIsRefused(t *testing.T) {
	e := newEnv(t, botFiles(), nil)
	c := e.client()
	for _, r := range []struct{ method, path string }{
		{"GET", "/agent/api/v1/me"}, {"GET", "/agent/api/v1/conversations"}, {"GET", "/agent/api/v1/conversations/c1"},
		{"GET", "/agent/api/v1/conversations/c1/messages"}, {"POST", "/agent/api/v1/conversations/c1/messages"},
		{"POST", "/agent/api/v1/conversations/c1/claim"}, {"POST", "/agent/api/v1/conversations/c1/release"},
		{"POST", "/agent/api/v1/conversations/c1/transfer"}, {"POST", "/agent/api/v1/conversations/c1/close"},
		{"POST", "/agent/api/v1/status"}, {"GET", "/agent/api/v1/queues"}, {"GET", "/agent/api/v1/agents"},
		{"POST", "/agent/api/v1/logout"}, {"GET", "/agent/ws"},
	} {
		st, body, _ := c.do(r.method, r.path, nil)
		if st != 401 || body["error"] == nil {
			t.Errorf("%s %s without a session: %d %v", r.method, r.path, st, body)
		}
	}
	// The page itself is public (it shows the sign-in form), and locked to its origin.
	resp, err := http.Get(e.srv.URL + "/agent/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `id="login-form"`) || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("page: %d %q", resp.StatusCode, resp.Header)
	}
	st, _, _ := c.do("GET", "/agent/api/v1/nothing", nil)
	check(t, "unknown endpoint", st, 404)
	resp, _ = http.Get(e.srv.URL + "/agent/nothing.js")
	check(t, "unknown asset", resp.StatusCode, 404)
}

func TestLoginCookieAndRateLimit(t *testing.T) {
	e := newEnv(t, botFiles(), nil)
	c := e.client()
	st, body, _ := c.do("POST", "/agent/api/v1/login", map[string]string{"agent": "ana", "password": "mal"})
	check(t, "wrong password", fmt.Sprint(st, " ", body["error"]), "401 wrong agent or password")
	st, _, _ = c.do("POST", "/agent/api/v1/login", map[string]string{"agent": "nadie", "password": "x"})
	check(t, "unknown agent", st, 401)
	st, _, _ = c.do("POST", "/agent/api/v1/login", map[string]string{"agent": "robot", "password": ""})
	check(t, "no password", st, 400)
	for range 3 {
		c.do("POST", "/agent/api/v1/login", map[string]string{"agent": "ana", "password": "mal"})
	}
	// Five failures from this address: even the right password is refused for a while.
	st, body, hdr := c.do("POST", "/agent/api/v1/login", map[string]string{"agent": "ana", "password": password})
	if st != 429 || hdr.Get("Retry-After") != "60" {
		t.Fatalf("after 5 failures: %d %v %q", st, body, hdr.Get("Retry-After"))
	}
	e.clock.Add(61 * time.Second)
	req, _ := http.NewRequest("POST", e.srv.URL+"/agent/api/v1/login", strings.NewReader(`{"agent":"ana","password":"`+password+`"}`))
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var me map[string]any
	json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("after the lock: %d %v", resp.StatusCode, me)
	}
	ck := resp.Cookies()[0]
	if ck.Name != agents.CookieName || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/agent" || len(ck.Value) < 40 {
		t.Errorf("cookie = %+v", ck)
	}
	agent := me["agent"].(map[string]any)
	check(t, "me", fmt.Sprint(agent["id"], " ", agent["name"], " ", me["csat"], " ", me["flows"]), "ana Ana csat [cambio csat]")
	if s, _ := me["csrf"].(string); len(s) < 40 {
		t.Errorf("csrf = %q", s)
	}
	c.csrf = me["csrf"].(string)
	c.ok("GET", "/agent/api/v1/me", nil)
	// A second lock lasts twice as long.
	for range 5 {
		c.do("POST", "/agent/api/v1/login", map[string]string{"agent": "beto", "password": "mal"})
	}
	_, _, hdr = c.do("POST", "/agent/api/v1/login", map[string]string{"agent": "beto", "password": password})
	check(t, "second lock", hdr.Get("Retry-After"), "120")
	// Signing out ends the session.
	c.ok("POST", "/agent/api/v1/logout", nil)
	st, _, _ = c.do("GET", "/agent/api/v1/me", nil)
	check(t, "after sign-out", st, 401)
	// A session ends by itself.
	e.clock.Add(5 * time.Minute)
	d := e.client().login("ana")
	e.clock.Add(12*time.Hour + time.Second)
	st, _, _ = d.do("GET", "/agent/api/v1/me", nil)
	check(t, "expired session", st, 401)
}

func TestCSRFAndOrigin(t *testing.T) {
	e := newEnv(t, botFiles(), nil)
	c := e.client().login("ana")
	csrf := c.csrf
	c.csrf = ""
	st, body, _ := c.do("POST", "/agent/api/v1/status", map[string]string{"status": "away"})
	check(t, "no CSRF token", fmt.Sprint(st, " ", body["error"]), "403 missing or wrong CSRF token")
	c.csrf = "x" + csrf[1:]
	st, _, _ = c.do("POST", "/agent/api/v1/status", map[string]string{"status": "away"})
	check(t, "wrong CSRF token", st, 403)
	c.csrf = csrf
	st, _, _ = c.do("POST", "/agent/api/v1/status", map[string]string{"status": "away"}, "Origin", "https://evil.example")
	check(t, "another origin", st, 401)
	st, _, _ = c.do("POST", "/agent/api/v1/login", map[string]string{"agent": "ana", "password": password}, "Origin", "https://evil.example")
	check(t, "sign-in from another origin", st, 403)
	c.ok("POST", "/agent/api/v1/status", map[string]string{"status": "away"})
	check(t, "status", e.desk.Status("ana"), handoff.Offline) // not connected: offline whatever it chose
	st, _, _ = c.do("POST", "/agent/api/v1/status", map[string]string{"status": "dormido"})
	check(t, "bad status", st, 400)
	// GETs need no token.
	c.csrf = ""
	c.ok("GET", "/agent/api/v1/queues", nil)
}

func TestBearerToken(t *testing.T) {
	e := newEnv(t, botFiles(), nil)
	c := e.client()
	c.token = "tok-robot-1234"
	me := c.ok("GET", "/agent/api/v1/me", nil)
	check(t, "robot", me["agent"].(map[string]any)["id"], "robot")
	e.shopper("c1", "hablar con una persona")
	c.ok("POST", "/agent/api/v1/conversations/c1/claim", nil) // no CSRF token with a bearer token
	c.token = "tok-robot-12345"
	st, _, _ := c.do("GET", "/agent/api/v1/me", nil)
	check(t, "wrong token", st, 401)
	st, _, _ = e.client().do("GET", "/agent/api/v1/me", nil, "Authorization", "Basic abc")
	check(t, "not a bearer", st, 401)
}

func TestAgentSeesOnlyTheirQueues(t *testing.T) {
	e := newEnv(t, botFiles(), nil)
	e.shopper("c1", "cambio")
	e.shopper("c1", "A1234")
	e.shopper("v1", "hablar con una persona")
	beto := e.client().login("beto")
	check(t, "beto's list", ids(beto.ok("GET", "/agent/api/v1/conversations", nil)["conversations"]), []string{"v1"})
	for _, path := range []string{"/agent/api/v1/conversations/c1", "/agent/api/v1/conversations/c1/messages"} {
		st, _, _ := beto.do("GET", path, nil)
		check(t, "beto reads "+path, st, 404)
	}
	st, _, _ := beto.do("POST", "/agent/api/v1/conversations/c1/claim", nil)
	check(t, "beto claims c1", st, 404)
	ana := e.client().login("ana")
	check(t, "ana's list", ids(ana.ok("GET", "/agent/api/v1/conversations", nil)["conversations"]), []string{"c1", "v1"})
	st, _, _ = ana.do("GET", "/agent/api/v1/conversations/bad%20id", nil)
	check(t, "bad id", st, 400)
}

func TestConversationThroughTheAPI(t *testing.T) {
	e := newEnv(t, botFiles(), nil)
	e.shopper("c1", "cambio")
	e.shopper("c1", "A1234")
	ana := e.client().login("ana")
	d := ana.ok("GET", "/agent/api/v1/conversations/c1", nil)
	tk := d["ticket"].(map[string]any)
	check(t, "reason", tk["reason"], "Cambio del pedido A1234")
	check(t, "slots", tk["slots"], map[string]any{"pedido": "A1234"})
	check(t, "position", tk["position"], 1.0)
	var lines []string
	for _, x := range d["transcript"].([]any) {
		m := x.(map[string]any)
		lines = append(lines, m["from"].(string)+": "+m["text"].(string))
	}
	check(t, "transcript", lines[:3], []string{"user: cambio", "bot: ¿Cuál es tu pedido?", "user: A1234"})
	check(t, "canned", d["canned"], []any{map[string]any{"name": "saludo", "text": "Hola, soy Ana."}})
	st, body, _ := ana.do("POST", "/agent/api/v1/conversations/c1/messages", map[string]string{"text": "hola"})
	check(t, "reply before claiming", fmt.Sprint(st, " ", body["error"]), "409 take the conversation first")
	ana.ok("POST", "/agent/api/v1/conversations/c1/claim", nil)
	beto := e.client().login("beto")
	e.shopper("v1", "hablar con una persona")
	st, _, _ = ana.do("POST", "/agent/api/v1/conversations/c1/messages", map[string]string{"text": ""})
	check(t, "empty reply", st, 400)
	ana.ok("POST", "/agent/api/v1/conversations/c1/messages", map[string]string{"text": "Hola, soy Ana. ¿Qué talla?"})
	e.shopper("c1", "La 42")
	ms := ana.ok("GET", "/agent/api/v1/conversations/c1/messages?after=4", nil)["messages"].([]any)
	var got []string
	for _, x := range ms {
		m := x.(map[string]any)
		got = append(got, m["from"].(string)+": "+m["text"].(string))
	}
	check(t, "after seq 4", got[len(got)-2:], []string{"agent: Hola, soy Ana. ¿Qué talla?", "user: La 42"})
	// Transfer v1 from beto's queue to cambios, which beto does not serve.
	ana.ok("POST", "/agent/api/v1/conversations/v1/claim", nil)
	st, _, _ = ana.do("POST", "/agent/api/v1/conversations/v1/transfer", map[string]string{"queue": "cambios", "agent": "beto"})
	check(t, "queue and agent", st, 400)
	ana.ok("POST", "/agent/api/v1/conversations/v1/transfer", map[string]string{"queue": "cambios", "note": "Es un cambio"})
	check(t, "beto's list", ids(beto.ok("GET", "/agent/api/v1/conversations", nil)["conversations"]), []string(nil))
	tk = ana.ok("GET", "/agent/api/v1/conversations/v1", nil)["ticket"].(map[string]any)
	check(t, "transferred", fmt.Sprint(tk["queue"], " ", tk["state"], " ", tk["note"]), "cambios waiting Es un cambio")
	// Back to the bot, starting csat.
	r := ana.ok("POST", "/agent/api/v1/conversations/c1/release", map[string]string{"flow": "csat"})
	check(t, "release says", r["messages"].([]any)[0].(map[string]any)["text"], "¿Cómo nos fue, del 1 al 5?")
	c, _ := e.rt.Conversation(context.Background(), "c1")
	check(t, "with the bot", fmt.Sprint(c.Status, " ", c.Flow), "bot csat")
	st, _, _ = ana.do("POST", "/agent/api/v1/conversations/v1/release", map[string]string{"flow": "nada"})
	check(t, "unknown flow", st, 404)
	ana.ok("POST", "/agent/api/v1/conversations/v1/close", nil)
	c, _ = e.rt.Conversation(context.Background(), "v1")
	check(t, "closed, then csat", fmt.Sprint(c.Status, " ", c.Flow), "bot csat")
	st, _, _ = ana.do("POST", "/agent/api/v1/conversations/v1/close", nil)
	check(t, "closed twice", st, 404)
	// No message text in the logs.
	for _, s := range []string{"¿Qué talla?", "La 42", "A1234", "Es un cambio"} {
		if strings.Contains(e.logs.String(), s) {
			t.Errorf("the logs hold %q:\n%s", s, e.logs)
		}
	}
}

// ws opens the console's WebSocket as a signed-in browser would.
func (c *client) ws() *websocket.Conn {
	c.e.t.Helper()
	u := "ws" + strings.TrimPrefix(c.e.srv.URL, "http") + "/agent/ws"
	h := http.Header{"Origin": {c.e.srv.URL}}
	if c.token != "" {
		h.Set("Authorization", "Bearer "+c.token)
	}
	d := websocket.Dialer{Jar: c.http.Jar}
	conn, resp, err := d.Dial(u, h)
	if err != nil {
		st := 0
		if resp != nil {
			st = resp.StatusCode
		}
		c.e.t.Fatalf("dial: %v (%d)", err, st)
	}
	c.e.t.Cleanup(func() { conn.Close() })
	return conn
}

// pending holds the frames of a batch (a JSON array) not read yet.
var pending sync.Map // *websocket.Conn → []map[string]any

// next returns the next frame from the console's WebSocket.
func next(t *testing.T, conn *websocket.Conn) map[string]any {
	t.Helper()
	if v, ok := pending.Load(conn); ok {
		if fs := v.([]map[string]any); len(fs) > 0 {
			pending.Store(conn, fs[1:])
			return fs[0]
		}
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := conn.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && b[0] == '[' {
		var fs []map[string]any
		if err := json.Unmarshal(b, &fs); err != nil || len(fs) < 2 {
			t.Fatalf("a batch of frames: %v %s", err, b)
		}
		pending.Store(conn, fs[1:])
		return fs[0]
	}
	var f map[string]any
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// nextEvent skips frames until an event of the given kind.
func nextEvent(t *testing.T, conn *websocket.Conn, kind string) map[string]any {
	t.Helper()
	for {
		f := next(t, conn)
		if f["type"] == "event" {
			if ev := f["event"].(map[string]any); ev["kind"] == kind {
				return ev
			}
		}
	}
}

func TestWebSocket(t *testing.T) {
	e := newEnv(t, botFiles(), nil)
	e.shopper("v0", "hablar con una persona")
	ana := e.client().login("ana")
	if err := e.desk.SetStatus(context.Background(), "ana", handoff.Away); err != nil {
		t.Fatal(err)
	}
	conn := ana.ws()
	f := next(t, conn)
	check(t, "snapshot", fmt.Sprint(f["type"], " ", ids(f["conversations"])), "snapshot [v0]")
	check(t, "connected", e.desk.Status("ana"), handoff.Available) // a new sign-in is available
	check(t, "v0 taken on connecting", f["conversations"].([]any)[0].(map[string]any)["agent"], "ana")
	ana.ok("POST", "/agent/api/v1/status", map[string]string{"status": "away"})
	nextEvent(t, conn, "agent.status")
	e.shopper("v1", "hablar con una persona")
	ev := nextEvent(t, conn, "ticket.queued")
	check(t, "queued", ev["ticket"].(map[string]any)["conversation"], "v1")
	e.shopper("v1", "¿hay alguien?")
	ev = nextEvent(t, conn, "message")
	check(t, "message", ev["entry"].(map[string]any)["text"], "¿hay alguien?")
	ana.ok("POST", "/agent/api/v1/conversations/v1/claim", nil)
	nextEvent(t, conn, "ticket.updated")
	// beto sees v1 go when ana moves it out of his queue.
	beto := e.client().login("beto")
	bconn := beto.ws()
	check(t, "beto's snapshot", ids(next(t, bconn)["conversations"]), []string{"v0", "v1"})
	ana.ok("POST", "/agent/api/v1/conversations/v1/transfer", map[string]string{"queue": "cambios"})
	ev = nextEvent(t, bconn, "ticket.removed")
	check(t, "gone for beto", fmt.Sprint(ev["why"], " ", ev["ticket"].(map[string]any)["conversation"]), "transferred v1")
	if ev["ticket"].(map[string]any)["slots"] != nil {
		t.Error("a ticket gone from sight keeps its slots")
	}
	check(t, "ana still sees it", nextEvent(t, conn, "ticket.updated")["ticket"].(map[string]any)["queue"], "cambios")
	// Closing the socket starts the grace period; signing out gives v0 back at once.
	ana.ok("POST", "/agent/api/v1/logout", nil)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			break
		}
	}
	tv, _ := e.desk.Ticket("beto", "v0")
	check(t, "v0 back, and taken by beto", tv.Agent, "beto")
	// From another site: refused.
	d := websocket.Dialer{Jar: beto.http.Jar}
	_, resp, err := d.Dial("ws"+strings.TrimPrefix(e.srv.URL, "http")+"/agent/ws", http.Header{"Origin": {"https://evil.example"}})
	if err == nil || resp.StatusCode != 403 {
		t.Errorf("cross-site WebSocket: %v", err)
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, botFiles(), nil)
	ctx := context.Background()
	e.shopper("a", "hablar con una persona")
	e.shopper("b", "hablar con una persona")
	e.clock.Add(30 * time.Second)
	bye := e.desk.Connect("beto")
	defer bye()
	e.clock.Add(2 * time.Minute)
	if _, err := e.desk.Release(ctx, "a", "beto", ""); err != nil {
		t.Fatal(err)
	}
	got := gather(t, e.reg)
	for _, line := range []string{
		`charla_handoff_queue_length{queue="ventas",state="assigned"} 1`,
		`charla_handoff_queue_length{queue="ventas",state="waiting"} 0`,
		`charla_handoff_queue_length{queue="cambios",state="waiting"} 0`,
		`charla_handoff_requests_total{queue="ventas"} 2`,
		`charla_handoff_ended_total{outcome="released",queue="ventas"} 1`,
		`charla_handoff_agents{status="available"} 1`,
		`charla_handoff_agents{status="offline"} 2`,
		`charla_handoff_wait_seconds_count{queue="ventas"} 2`,
		`charla_handoff_wait_seconds_sum{queue="ventas"} 180`,
		`charla_handoff_handling_seconds_count{queue="ventas"} 1`,
		`charla_handoff_handling_seconds_sum{queue="ventas"} 120`,
	} {
		if !got[line] {
			t.Errorf("metrics lack %s", line)
		}
	}
}

// gather returns the registry's samples as "name{labels} value" lines.
func gather(t *testing.T, reg *prometheus.Registry) map[string]bool {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			lab := "{" + strings.Join(ls, ",") + "}"
			switch {
			case m.GetGauge() != nil:
				out[fmt.Sprintf("%s%s %v", mf.GetName(), lab, m.GetGauge().GetValue())] = true
			case m.GetCounter() != nil:
				out[fmt.Sprintf("%s%s %v", mf.GetName(), lab, m.GetCounter().GetValue())] = true
			case m.GetHistogram() != nil:
				out[fmt.Sprintf("%s_count%s %v", mf.GetName(), lab, m.GetHistogram().GetSampleCount())] = true
				out[fmt.Sprintf("%s_sum%s %v", mf.GetName(), lab, m.GetHistogram().GetSampleSum())] = true
			}
		}
	}
	return out
}

func check(t *testing.T, what string, got, want any) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s:\n got  %v\n want %v", what, got, want)
	}
}
