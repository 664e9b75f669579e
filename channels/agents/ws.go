package agents

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/charlabot/charla/channels/rest"
	"github.com/charlabot/charla/engine/handoff"
)

// The console's WebSocket (/agent/ws) only speaks: the server sends frames
// — one per message, or, when several are waiting, a JSON array of them:
//
//	{"type": "snapshot", "seq": N, "status": "available", "conversations": [...], "queues": [...], "agents": [...]}
//
// first, then {"type": "event", "event": {...}} for every desk event the
// agent may see (a ticket that leaves their sight comes as ticket.removed
// with only its conversation), and {"type": "resync"} when the console fell
// behind and must reload. Messages from the page are read only for control
// frames.

const (
	pingEvery = 30 * time.Second
	pongWait  = 75 * time.Second
	writeWait = 10 * time.Second
	outBuffer = 1024 // frames queued per connection before it is dropped as too slow
)

// hub fans the desk's events out to the consoles: one subscription, one
// encoding per event, a writer goroutine per connection.
type hub struct {
	c        *Console
	upgrader websocket.Upgrader
	reg      chan *wsConn
	unreg    chan *wsConn

	mu      sync.Mutex
	conns   map[*wsConn]struct{}
	closing bool
	wg      sync.WaitGroup
	running bool
}

// wsConn is one console connection.
type wsConn struct {
	ws     *websocket.Conn
	agent  string
	out    chan []byte
	done   chan struct{}
	once   sync.Once
	seq    int64           // events up to this seq are in the snapshot (hub goroutine only)
	known  map[string]bool // conversations the page was shown (hub goroutine only)
	leaves func()          // tells the desk the agent's connection closed
}

func newHub(c *Console) *hub {
	h := &hub{c: c, reg: make(chan *wsConn), unreg: make(chan *wsConn, 64), conns: map[*wsConn]struct{}{}}
	h.upgrader = websocket.Upgrader{
		ReadBufferSize: 1024, WriteBufferSize: 4096,
		CheckOrigin: sameOrigin, // cross-site WebSocket hijacking: only the console's own pages
	}
	return h
}

func (h *hub) serve(w http.ResponseWriter, r *http.Request) {
	p, err := h.c.authenticate(r)
	if err != nil {
		h.c.fail(w, r, err)
		return
	}
	if !sameOrigin(r) {
		rest.WriteError(w, http.StatusForbidden, "cross-site request refused")
		return
	}
	h.mu.Lock()
	closing, running := h.closing, h.running
	h.mu.Unlock()
	if closing || !running {
		rest.WriteError(w, http.StatusServiceUnavailable, "live updates are not available")
		return
	}
	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered
	}
	c := &wsConn{ws: ws, agent: p.agent.ID, out: make(chan []byte, outBuffer), done: make(chan struct{}), known: map[string]bool{}}
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		ws.Close()
		return
	}
	h.conns[c] = struct{}{}
	h.wg.Add(2)
	h.mu.Unlock()
	c.leaves = h.c.Desk.Connect(c.agent)
	go h.writeLoop(c)
	go h.readLoop(c)
	select {
	case h.reg <- c:
	case <-c.done:
	}
}

// run follows the desk's events until ctx ends.
func (h *hub) run(ctx context.Context) {
	h.mu.Lock()
	h.running = true
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.running = false
		h.mu.Unlock()
	}()
	sub := h.c.Desk.Subscribe(8192)
	defer func() { sub.Close() }()
	conns := map[*wsConn]bool{}
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-h.reg:
			conns[c] = true
			h.snapshot(c)
		case c := <-h.unreg:
			delete(conns, c)
		case ev, ok := <-sub.C:
			if !ok { // fell behind: every console reloads
				sub = h.c.Desk.Subscribe(8192)
				for c := range conns {
					h.snapshot(c)
				}
				continue
			}
			h.fanOut(conns, ev)
		}
	}
}

// snapshot sends a connection the state it starts from.
func (h *hub) snapshot(c *wsConn) {
	ts, seq := h.c.Desk.Snapshot(c.agent)
	c.seq = seq
	clear(c.known)
	for _, t := range ts {
		c.known[t.Conversation] = true
	}
	if ts == nil {
		ts = []handoff.TicketView{}
	}
	lang := h.c.program().DefaultLang()
	if a := h.c.program().Agent(c.agent); a != nil && a.Lang != "" {
		lang = a.Lang
	}
	b, err := json.Marshal(snapshotFrame{Type: "snapshot", Seq: seq, Status: h.c.Desk.Status(c.agent), Conversations: ts,
		Queues: h.c.Desk.Queues(c.agent, lang), Agents: h.c.Desk.Agents()})
	if err == nil {
		c.send(b)
	}
}

// snapshotFrame is the state a console starts from.
type snapshotFrame struct {
	Type          string               `json:"type"`
	Seq           int64                `json:"seq"`
	Status        handoff.Availability `json:"status"`
	Conversations []handoff.TicketView `json:"conversations"`
	Queues        []handoff.QueueView  `json:"queues"`
	Agents        []handoff.AgentView  `json:"agents"`
}

// eventFrame is an event as the console gets it.
type eventFrame struct {
	Type  string        `json:"type"`
	Event handoff.Event `json:"event"`
}

// fanOut sends an event to every connection whose agent may see it,
// encoding it once.
func (h *hub) fanOut(conns map[*wsConn]bool, ev handoff.Event) {
	var full, gone []byte
	enc := func() []byte {
		if full == nil {
			full, _ = json.Marshal(eventFrame{"event", ev})
		}
		return full
	}
	for c := range conns {
		select {
		case <-c.done:
			delete(conns, c)
			continue
		default:
		}
		if ev.Seq <= c.seq {
			continue
		}
		switch {
		case ev.Ticket == nil:
			if ev.Kind == handoff.EvReminder && ev.Agent != c.agent {
				continue
			}
			c.send(enc())
		case ev.Kind == handoff.EvReminder:
			if ev.Agent == c.agent {
				c.send(enc())
			}
		case h.c.Desk.Sees(c.agent, ev.Ticket):
			if ev.Kind == handoff.EvRemoved {
				delete(c.known, ev.Ticket.Conversation)
			} else {
				c.known[ev.Ticket.Conversation] = true
			}
			c.send(enc())
		case c.known[ev.Ticket.Conversation]:
			// It left the agent's sight (a transfer): tell them it is gone,
			// and nothing more.
			delete(c.known, ev.Ticket.Conversation)
			if gone == nil {
				gone, _ = json.Marshal(eventFrame{"event", handoff.Event{Seq: ev.Seq, Kind: handoff.EvRemoved, At: ev.At,
					Ticket: &handoff.Ticket{Conversation: ev.Ticket.Conversation, Queue: ev.Ticket.Queue}, Why: "transferred"}})
			}
			c.send(gone)
		}
	}
}

// send queues a frame; a connection too slow to take it is closed (the
// page reconnects and gets a new snapshot).
func (c *wsConn) send(b []byte) {
	select {
	case <-c.done:
	case c.out <- b:
	default:
		go c.close(websocket.ClosePolicyViolation, "too slow")
	}
}

func (c *wsConn) close(code int, reason string) {
	c.once.Do(func() {
		c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		close(c.done)
		c.ws.Close()
	})
}

func (h *hub) writeLoop(c *wsConn) {
	defer h.wg.Done()
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	for {
		select {
		case <-c.done:
			return
		case b := <-c.out:
			c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.ws.WriteMessage(websocket.TextMessage, batch(b, c.out)); err != nil {
				c.close(websocket.CloseGoingAway, "")
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				c.close(websocket.CloseGoingAway, "")
				return
			}
		}
	}
}

// batch joins the frames already waiting after first into one message, a
// JSON array, so that a burst of events costs one write per console rather
// than one per event; a lone frame goes as it is.
func batch(first []byte, more <-chan []byte) []byte {
	var buf []byte
	for len(buf) < 256<<10 {
		select {
		case b := <-more:
			if buf == nil {
				buf = append(append(append(make([]byte, 0, 2*len(first)+len(b)+2), '['), first...), ',')
			} else {
				buf = append(buf, ',')
			}
			buf = append(buf, b...)
			continue
		default:
		}
		break
	}
	if buf == nil {
		return first
	}
	return append(buf, ']')
}

func (h *hub) readLoop(c *wsConn) {
	defer h.wg.Done()
	defer func() {
		c.close(websocket.CloseNormalClosure, "")
		c.leaves()
		h.mu.Lock()
		delete(h.conns, c)
		h.mu.Unlock()
		select {
		case h.unreg <- c:
		default: // the hub drops it when it next finds it closed
		}
	}()
	c.ws.SetReadLimit(4096)
	c.ws.SetReadDeadline(time.Now().Add(pongWait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		if _, _, err := c.ws.ReadMessage(); err != nil {
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(pongWait))
	}
}

// closeAgent closes an agent's connections (they signed out).
func (h *hub) closeAgent(agent string) {
	h.mu.Lock()
	var cs []*wsConn
	for c := range h.conns {
		if c.agent == agent {
			cs = append(cs, c)
		}
	}
	h.mu.Unlock()
	for _, c := range cs {
		c.close(websocket.CloseNormalClosure, "signed out")
	}
}

// shutdown closes every connection and waits for their goroutines.
func (h *hub) shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closing = true
	var cs []*wsConn
	for c := range h.conns {
		cs = append(cs, c)
	}
	h.mu.Unlock()
	for _, c := range cs {
		c.close(websocket.CloseGoingAway, "server shutting down")
	}
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
