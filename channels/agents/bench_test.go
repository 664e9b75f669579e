package agents_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/charlabot/charla/channels/agents"
	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/bolt"
	"github.com/charlabot/charla/engine/handoff"
	"github.com/charlabot/charla/engine/keyword"
	"github.com/charlabot/charla/flows"
)

const (
	benchQueued = 1000
	benchAgents = 50
)

// benchDesk is a server with benchQueued conversations handed off and
// benchAgents agents connected to the console over WebSockets on loopback;
// everything is stored in one bbolt file, as charla serve does.
type benchDesk struct {
	mu        sync.Mutex
	published map[string]time.Time // marker → when the desk published its event
	rt        *engine.Runtime
	desk      *handoff.Desk
	srv       *httptest.Server
	clients   []*benchClient
	waiting   []string // conversations still waiting
}

type benchClient struct {
	conn  *websocket.Conn
	ready chan struct{} // closed at the snapshot
	mu    sync.Mutex
	want  map[string]chan time.Time // marker → where to say when it arrived
}

func newBenchDesk(b *testing.B) *benchDesk {
	b.Helper()
	var sb strings.Builder
	sb.WriteString("name: bench\nlanguages: [es]\nsettings: {default_queue: ventas}\nqueues:\n  ventas: {skills: [ventas]}\nagents:\n")
	tokens := map[string]string{}
	for i := range benchAgents {
		fmt.Fprintf(&sb, "  a%d: {skills: [ventas], token: \"${TOKEN_%d}\"}\n", i, i)
		tokens[fmt.Sprint("TOKEN_", i)] = fmt.Sprint("token-of-agent-", i)
	}
	bot, err := flows.LoadFiles(map[string]string{"bot.yaml": sb.String()})
	if err != nil {
		b.Fatal(err)
	}
	p := bot.Program
	store, err := bolt.Open(b.TempDir(), bolt.Options{NoBackupSocket: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	hs, err := handoff.NewBolt(store.DB())
	if err != nil {
		b.Fatal(err)
	}
	bd := &benchDesk{desk: &handoff.Desk{Store: hs}, published: map[string]time.Time{}}
	bd.desk.OnEvent = func(ev handoff.Event) {
		if ev.Entry != nil {
			if i := strings.Index(ev.Entry.Text, "«"); i >= 0 {
				bd.mu.Lock()
				bd.published[ev.Entry.Text[i:]] = time.Now()
				bd.mu.Unlock()
			}
		}
	}
	bd.rt, err = engine.NewRuntime(p, engine.Options{Store: store, Agents: bd.desk, Understander: keyword.New(p)})
	if err != nil {
		b.Fatal(err)
	}
	bd.desk.Runtime = bd.rt
	if err := bd.desk.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	// The conversations, asked for a person in parallel (the turns' commits
	// share fsyncs).
	ctx := context.Background()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range benchQueued {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if _, err := bd.rt.Handle(ctx, engine.Inbound{Conversation: fmt.Sprint("c", i), Channel: "webchat", Text: "quiero hablar con un asesor"}); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	console := &agents.Console{Desk: bd.desk, Runtime: bd.rt, Getenv: func(k string) string { return tokens[k] },
		Logger: discard()}
	cctx, cancel := context.WithCancel(ctx)
	console.Start(cctx)
	bd.srv = httptest.NewServer(console)
	b.Cleanup(func() { console.Shutdown(context.Background()); bd.srv.Close(); cancel() })
	for i := range benchAgents {
		h := http.Header{"Authorization": {"Bearer " + tokens[fmt.Sprint("TOKEN_", i)]}}
		conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(bd.srv.URL, "http")+"/agent/ws", h)
		if err != nil {
			b.Fatal(err)
		}
		c := &benchClient{conn: conn, ready: make(chan struct{}), want: map[string]chan time.Time{}}
		bd.clients = append(bd.clients, c)
		go c.read()
	}
	for _, c := range bd.clients {
		select {
		case <-c.ready:
		case <-time.After(30 * time.Second):
			b.Fatal("a console got no snapshot")
		}
	}
	// Every agent took their three conversations; the rest wait.
	for range 200 {
		if n := len(bd.desk.Tickets("a0")); n == benchQueued && len(waitingOf(bd.desk)) == benchQueued-3*benchAgents {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	bd.waiting = waitingOf(bd.desk)
	if len(bd.waiting) != benchQueued-3*benchAgents {
		b.Fatalf("%d conversations waiting", len(bd.waiting))
	}
	return bd
}

func waitingOf(d *handoff.Desk) []string {
	var out []string
	for _, t := range d.Tickets("a0") {
		if t.State == handoff.StateWaiting {
			out = append(out, t.Conversation)
		}
	}
	return out
}

// read takes the console's frames, noting when each awaited marker arrives
// (a search in the frame's bytes, to keep the clients' work small: the
// agents' browsers do the parsing on their own machines).
func (c *benchClient) read() {
	snap := []byte(`{"type":"snapshot"`)
	for {
		_, b, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		if bytes.HasPrefix(bytes.TrimPrefix(b, []byte("[")), snap) { // alone, or first of a batch
			select {
			case <-c.ready:
			default:
				close(c.ready)
			}
		}
		now := time.Now()
		for {
			i := bytes.Index(b, []byte("«"))
			if i < 0 {
				break
			}
			j := bytes.Index(b[i:], []byte("»"))
			if j < 0 {
				break
			}
			m := string(b[i : i+j+len("»")])
			b = b[i+j:]
			c.mu.Lock()
			if ch, ok := c.want[m]; ok {
				ch <- now
				delete(c.want, m)
			}
			c.mu.Unlock()
		}
	}
}

// update makes one console update — a waiting shopper writes — and returns
// how long it took to reach each agent from the shopper's message (its
// durable turn included) and from the desk's event.
func (bd *benchDesk) update(b *testing.B, conv, marker string) (total, fanout []time.Duration) {
	arrived := make(chan time.Time, len(bd.clients))
	for _, c := range bd.clients {
		c.mu.Lock()
		c.want[marker] = arrived
		c.mu.Unlock()
	}
	start := time.Now()
	if _, err := bd.rt.Handle(context.Background(), engine.Inbound{Conversation: conv, Channel: "webchat", Text: "sigo esperando " + marker}); err != nil {
		b.Fatal(err)
	}
	timeout := time.After(10 * time.Second)
	var at []time.Time
	for range bd.clients {
		select {
		case t := <-arrived:
			at = append(at, t)
		case <-timeout:
			b.Fatalf("an update did not reach every agent (%d of %d)", len(at), len(bd.clients))
		}
	}
	bd.mu.Lock()
	pub := bd.published[marker]
	bd.mu.Unlock()
	for _, t := range at {
		total = append(total, t.Sub(start))
		fanout = append(fanout, t.Sub(pub))
	}
	return total, fanout
}

// report gives the latencies' quantiles: p50_ms, p99_ms and max_ms from
// the shopper's message, fanout_p99_ms from the desk's event.
func report(b *testing.B, lat, fanout []time.Duration) {
	q := func(l []time.Duration, f float64) float64 {
		slices.Sort(l)
		return float64(l[int(f*float64(len(l)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(q(lat, 0.5), "p50_ms")
	b.ReportMetric(q(lat, 0.99), "p99_ms")
	b.ReportMetric(q(lat, 1), "max_ms")
	b.ReportMetric(q(fanout, 0.99), "fanout_p99_ms")
}

// BenchmarkConsoleUpdate: with 1,000 conversations handed off and 50 agents
// connected, a shopper's message (a durable turn, then the desk's event)
// reaches every agent's console; p99_ms is over every agent's delivery.
func BenchmarkConsoleUpdate(b *testing.B) {
	bd := newBenchDesk(b)
	var lat, fan []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		conv := bd.waiting[i%len(bd.waiting)]
		l, f := bd.update(b, conv, fmt.Sprintf("«m%d»", i))
		lat, fan = append(lat, l...), append(fan, f...)
	}
	b.StopTimer()
	report(b, lat, fan)
}

// BenchmarkConsoleUpdateBurst: the same, with 20 shoppers writing at once.
func BenchmarkConsoleUpdateBurst(b *testing.B) {
	bd := newBenchDesk(b)
	var mu sync.Mutex
	var lat, fan []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		for j := range 20 {
			wg.Go(func() {
				conv := bd.waiting[(i*20+j)%len(bd.waiting)]
				l, f := bd.update(b, conv, fmt.Sprintf("«m%d-%d»", i, j))
				mu.Lock()
				lat, fan = append(lat, l...), append(fan, f...)
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	b.StopTimer()
	report(b, lat, fan)
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
