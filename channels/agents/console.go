// Package agents is the people's front end of the hand-off desk
// (engine/handoff): the agent console at /agent (plain JavaScript, no
// build step, Spanish and English), the agent REST API it uses under
// /agent/api/v1/, its WebSocket of live updates at /agent/ws, the signed
// webhook that sends hand-offs to an external help desk and takes its
// replies, and the hand-off's Prometheus metrics.
//
// Agents come from bot.yaml (agents:): they sign in with a password (a
// bcrypt hash in bot.yaml) and get an HttpOnly, SameSite=Strict session
// cookie; every request that changes something also carries the session's
// CSRF token. Programs use a bearer token instead (the agent's token:
// ${NAME} in bot.yaml, read from the environment). Repeated failed
// sign-ins are refused for a while. An agent sees only the conversations
// of their queues, and their own.
//
// See docs/handoff.md for the API.
package agents

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/charlabot/charla/channels"
	"github.com/charlabot/charla/channels/rest"
	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/handoff"
)

// Console serves the agent console and its API. Desk and Runtime are
// required; fields must not change once it serves.
type Console struct {
	Desk    *handoff.Desk
	Runtime handoff.Runtime
	// Getenv reads the agents' tokens and the webhook's secret (os.Getenv).
	Getenv func(string) string
	Now    func() time.Time
	Logger *slog.Logger
	// SessionTTL is how long a sign-in lasts (12h).
	SessionTTL time.Duration
	// SecureCookies marks the cookie Secure even on plain HTTP (behind a
	// proxy that terminates TLS without saying X-Forwarded-Proto).
	SecureCookies bool
	// Webhook, when set, is the external help desk whose inbound endpoint
	// this console serves (POST /agent/api/v1/helpdesk).
	Webhook *Webhook

	once  sync.Once
	mux   *http.ServeMux
	limit limiter
	hub   *hub
}

// ServeHTTP serves /agent, /agent/api/v1/... and /agent/ws.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.once.Do(c.routes)
	c.mux.ServeHTTP(w, r)
}

func (c *Console) routes() {
	c.hub = newHub(c)
	m := http.NewServeMux()
	const api = "/agent/api/v1"
	m.HandleFunc("POST "+api+"/login", c.postLogin)
	m.HandleFunc("POST "+api+"/logout", c.authed(c.postLogout))
	m.HandleFunc("GET "+api+"/me", c.authed(c.getMe))
	m.HandleFunc("POST "+api+"/status", c.authed(c.postStatus))
	m.HandleFunc("GET "+api+"/queues", c.authed(c.getQueues))
	m.HandleFunc("GET "+api+"/agents", c.authed(c.getAgents))
	m.HandleFunc("GET "+api+"/conversations", c.authed(c.getConversations))
	m.HandleFunc("GET "+api+"/conversations/{id}", c.authed(c.getConversation))
	m.HandleFunc("GET "+api+"/conversations/{id}/messages", c.authed(c.getMessages))
	m.HandleFunc("POST "+api+"/conversations/{id}/messages", c.authed(c.postMessage))
	m.HandleFunc("POST "+api+"/conversations/{id}/claim", c.authed(c.postClaim))
	m.HandleFunc("POST "+api+"/conversations/{id}/release", c.authed(c.postRelease))
	m.HandleFunc("POST "+api+"/conversations/{id}/transfer", c.authed(c.postTransfer))
	m.HandleFunc("POST "+api+"/conversations/{id}/close", c.authed(c.postClose))
	m.HandleFunc("POST "+api+"/helpdesk", c.postHelpdesk)
	m.HandleFunc(api+"/", func(w http.ResponseWriter, r *http.Request) {
		rest.WriteError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	m.HandleFunc("GET /agent/ws", c.hub.serve)
	m.Handle("/agent/", assets())
	m.HandleFunc("GET /agent", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/agent/", http.StatusMovedPermanently)
	})
	c.mux = m
}

// Start runs the console's background work until ctx ends: the WebSocket
// fan-out, and the hourly removal of ended sessions. Serving without it
// works, without live updates.
func (c *Console) Start(ctx context.Context) {
	c.once.Do(c.routes)
	go c.hub.run(ctx)
	go func() { // forget ended sessions
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			if err := c.Desk.Store.DeleteSessions(ctx, "", c.now()); err != nil && ctx.Err() == nil {
				c.log().Warn("agent console: pruning sessions", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Shutdown closes the consoles' WebSockets (hijacked connections that
// http.Server.Shutdown does not wait for).
func (c *Console) Shutdown(ctx context.Context) error {
	c.once.Do(c.routes)
	return c.hub.shutdown(ctx)
}

func (c *Console) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Console) getenv(k string) string {
	if c.Getenv != nil {
		return c.Getenv(k)
	}
	return os.Getenv(k)
}

func (c *Console) log() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

func (c *Console) sessionTTL() time.Duration {
	if c.SessionTTL > 0 {
		return c.SessionTTL
	}
	return 12 * time.Hour
}

func (c *Console) program() *engine.Program { return c.Runtime.Program() }

type handler func(w http.ResponseWriter, r *http.Request, p *principal)

// authed authenticates a request (401 without a session or token) and,
// for one that changes something, checks its CSRF token (403).
func (c *Console) authed(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		p, err := c.authenticate(r)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := checkCSRF(r, p); err != nil {
				c.fail(w, r, err)
				return
			}
		}
		h(w, r, p)
	}
}

func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	var tm *tooMany
	var fb *forbidden
	switch {
	case errors.As(err, &tm):
		w.Header().Set("Retry-After", strconv.Itoa(int(tm.wait.Seconds()+0.999)))
		rest.WriteError(w, http.StatusTooManyRequests, tm.Error())
		return
	case errors.As(err, &fb):
		rest.WriteError(w, http.StatusForbidden, fb.msg)
		return
	}
	code := engine.ErrCode(err)
	status := rest.StatusOf(code)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="charla agents"`)
	}
	if status >= 500 {
		c.log().ErrorContext(r.Context(), "agent api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	rest.WriteError(w, status, engine.ErrMessage(err))
}

// decode reads a JSON body of at most 64 KiB into v.
func (c *Console) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		rest.WriteError(w, http.StatusRequestEntityTooLarge, "body larger than 64 KiB")
		return false
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		b = []byte("{}")
	}
	if err := json.Unmarshal(b, v); err != nil {
		rest.WriteError(w, http.StatusBadRequest, "invalid JSON: "+err.Error())
		return false
	}
	return true
}

func convID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !channels.ValidID(id) {
		rest.WriteError(w, http.StatusBadRequest, "invalid conversation id")
		return "", false
	}
	return id, true
}

// AgentInfo is the signed-in agent, as /me returns it.
type AgentInfo struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Lang     string   `json:"lang,omitempty"`
	Skills   []string `json:"skills,omitempty"`
	MaxChats int      `json:"max_chats"`
}

func agentInfo(a *engine.AgentSpec) AgentInfo {
	m := a.MaxChats
	if m <= 0 {
		m = 3
	}
	return AgentInfo{ID: a.ID, Name: a.DisplayName(), Lang: a.Lang, Skills: a.Skills, MaxChats: m}
}

// Me is the answer to sign-in and GET /me: who the agent is, the CSRF
// token their requests carry, and what the console offers.
type Me struct {
	Agent  AgentInfo            `json:"agent"`
	CSRF   string               `json:"csrf,omitempty"`
	Status handoff.Availability `json:"status"`
	Bot    string               `json:"bot"`
	Flows  []string             `json:"flows"`  // flows an agent may start when giving a conversation back
	CSAT   string               `json:"csat"`   // the flow closing starts ("" : none)
	Queues []handoff.QueueView  `json:"queues"` // the agent's queues
	Agents []handoff.AgentView  `json:"agents"` // colleagues, for transfers
	Canned []string             `json:"canned"` // names of the canned replies
	Lang   string               `json:"lang"`   // the bot's default language
}

func (c *Console) me(p *principal) Me {
	prog := c.program()
	m := Me{Agent: agentInfo(p.agent), Status: c.Desk.Status(p.agent.ID), Bot: prog.Name,
		CSAT: handoff.CSATFlow(prog), Lang: prog.DefaultLang(), Flows: []string{}, Canned: []string{}}
	if p.session != nil {
		m.CSRF = p.session.CSRF
	}
	for _, f := range prog.Flows {
		if !f.System {
			m.Flows = append(m.Flows, f.Name)
		}
	}
	m.Queues = c.Desk.Queues(p.agent.ID, c.langOf(p))
	m.Agents = c.Desk.Agents()
	for _, cr := range prog.Handoff.Canned {
		m.Canned = append(m.Canned, cr.Name)
	}
	return m
}

func (c *Console) langOf(p *principal) string {
	if p.agent.Lang != "" {
		return p.agent.Lang
	}
	return c.program().DefaultLang()
}

type loginRequest struct {
	Agent    string `json:"agent"`
	Password string `json:"password"`
}

func (c *Console) postLogin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !sameOrigin(r) {
		rest.WriteError(w, http.StatusForbidden, "cross-site request refused")
		return
	}
	var req loginRequest
	if !c.decode(w, r, &req) {
		return
	}
	if req.Agent == "" || req.Password == "" {
		rest.WriteError(w, http.StatusBadRequest, `"agent" and "password" are required`)
		return
	}
	s, secret, err := c.login(r.Context(), r, req.Agent, req.Password)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.setCookie(w, r, secret, s.Expires)
	a := c.program().Agent(s.Agent)
	rest.WriteJSON(w, http.StatusOK, c.me(&principal{agent: a, session: s}))
}

func (c *Console) postLogout(w http.ResponseWriter, r *http.Request, p *principal) {
	if p.session != nil {
		if err := c.Desk.Store.DeleteSession(r.Context(), p.session.Key); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	c.setCookie(w, r, "", time.Time{})
	// Signing out is leaving: the agent's conversations go back to their queues.
	if err := c.Desk.SignOut(r.Context(), p.agent.ID); err != nil {
		c.fail(w, r, err)
		return
	}
	c.hub.closeAgent(p.agent.ID)
	rest.WriteJSON(w, http.StatusOK, map[string]string{"status": "signed out"})
}

func (c *Console) getMe(w http.ResponseWriter, r *http.Request, p *principal) {
	rest.WriteJSON(w, http.StatusOK, c.me(p))
}

func (c *Console) postStatus(w http.ResponseWriter, r *http.Request, p *principal) {
	var req struct {
		Status handoff.Availability `json:"status"`
	}
	if !c.decode(w, r, &req) {
		return
	}
	if err := c.Desk.SetStatus(r.Context(), p.agent.ID, req.Status); err != nil {
		c.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, map[string]any{"status": req.Status})
}

func (c *Console) getQueues(w http.ResponseWriter, r *http.Request, p *principal) {
	rest.WriteJSON(w, http.StatusOK, map[string]any{"queues": c.Desk.Queues(p.agent.ID, c.langOf(p))})
}

func (c *Console) getAgents(w http.ResponseWriter, r *http.Request, p *principal) {
	rest.WriteJSON(w, http.StatusOK, map[string]any{"agents": c.Desk.Agents()})
}

func (c *Console) getConversations(w http.ResponseWriter, r *http.Request, p *principal) {
	ts := c.Desk.Tickets(p.agent.ID)
	if ts == nil {
		ts = []handoff.TicketView{}
	}
	rest.WriteJSON(w, http.StatusOK, map[string]any{"conversations": ts, "queues": c.Desk.Queues(p.agent.ID, c.langOf(p))})
}

// Detail is a conversation as the console shows it: the ticket, the
// conversation's state now, its whole transcript and the canned replies
// ready for it.
type Detail struct {
	Ticket       handoff.TicketView   `json:"ticket"`
	Conversation *engine.Conversation `json:"conversation,omitempty"`
	Transcript   []engine.Entry       `json:"transcript"`
	Canned       []Canned             `json:"canned"`
	Wait         float64              `json:"wait_seconds,omitempty"` // estimated, when waiting
}

// Canned is a canned reply rendered for one conversation.
type Canned struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

func (c *Console) getConversation(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := convID(w, r)
	if !ok {
		return
	}
	tv, err := c.Desk.Ticket(p.agent.ID, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := Detail{Ticket: tv, Canned: []Canned{}}
	conv, err := c.Runtime.Conversation(r.Context(), id)
	if err != nil && engine.ErrCode(err) != engine.ENotFound {
		c.fail(w, r, err)
		return
	}
	d.Conversation = conv
	if d.Transcript, err = c.Runtime.Transcript(r.Context(), id, 0, 0); err != nil {
		c.fail(w, r, err)
		return
	}
	if _, wait, ok := c.Desk.Place(id); ok {
		d.Wait = wait.Seconds()
	}
	prog := c.program()
	vars := map[string]any{}
	if conv != nil {
		for k, v := range conv.Slots {
			vars[k] = v
		}
	}
	for k, v := range tv.Slots {
		vars[k] = v
	}
	vars["agent"] = p.agent.DisplayName()
	for _, cr := range prog.Handoff.Canned {
		if s, err := cr.Text.Render(tv.Lang, prog.DefaultLang(), vars); err == nil {
			d.Canned = append(d.Canned, Canned{Name: cr.Name, Text: s})
		}
	}
	rest.WriteJSON(w, http.StatusOK, d)
}

func (c *Console) getMessages(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := convID(w, r)
	if !ok {
		return
	}
	if _, err := c.Desk.Ticket(p.agent.ID, id); err != nil {
		c.fail(w, r, err)
		return
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	es, err := c.Runtime.Transcript(r.Context(), id, after, 0)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, map[string]any{"messages": es})
}

func (c *Console) postMessage(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := convID(w, r)
	if !ok {
		return
	}
	var req struct {
		Text string `json:"text"`
	}
	if !c.decode(w, r, &req) {
		return
	}
	if err := c.Desk.Send(r.Context(), id, p.agent.ID, req.Text); err != nil {
		c.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, map[string]string{"status": "sent"})
}

func (c *Console) postClaim(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := convID(w, r)
	if !ok {
		return
	}
	if err := c.Desk.Claim(r.Context(), id, p.agent.ID); err != nil {
		c.fail(w, r, err)
		return
	}
	tv, err := c.Desk.Ticket(p.agent.ID, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, map[string]any{"ticket": tv})
}

func (c *Console) postRelease(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := convID(w, r)
	if !ok {
		return
	}
	var req struct {
		Flow string `json:"flow"`
	}
	if !c.decode(w, r, &req) {
		return
	}
	turn, err := c.Desk.Release(r.Context(), id, p.agent.ID, req.Flow)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var msgs []rest.Message
	if turn != nil {
		msgs = rest.Messages(turn.Messages)
	}
	if msgs == nil {
		msgs = []rest.Message{}
	}
	rest.WriteJSON(w, http.StatusOK, map[string]any{"status": "released", "messages": msgs})
}

func (c *Console) postTransfer(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := convID(w, r)
	if !ok {
		return
	}
	var req struct {
		handoff.Target
		Note string `json:"note"`
	}
	if !c.decode(w, r, &req) {
		return
	}
	if err := c.Desk.Transfer(r.Context(), id, p.agent.ID, req.Target, req.Note); err != nil {
		c.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, map[string]string{"status": "transferred"})
}

func (c *Console) postClose(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := convID(w, r)
	if !ok {
		return
	}
	if err := c.Desk.Close(r.Context(), id, p.agent.ID); err != nil {
		c.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, map[string]string{"status": "closed"})
}
