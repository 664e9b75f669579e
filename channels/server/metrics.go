package server

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/charlabot/charla/engine"
)

// Metrics are the server's Prometheus metrics, registered on the
// Registerer it is given (never the global one: two servers in one process,
// as in tests, or an embedding program with its own metrics, must not
// collide).
type Metrics struct {
	turns       *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	wait        prometheus.Histogram
	errors      *prometheus.CounterVec
	fallbacks   *prometheus.CounterVec
	handoffs    *prometheus.CounterVec
	convs       *prometheus.CounterVec
	proactive   *prometheus.CounterVec
	active      *activeSet
	fallbackFor func() string
}

// NewMetrics registers the metrics on reg. fallbackFlow names the flow
// whose messages count as fallbacks (it may change on reload).
func NewMetrics(reg prometheus.Registerer, fallbackFlow func() string, connections func() float64) (*Metrics, error) {
	m := &Metrics{
		turns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "charla_turns_total", Help: "Turns handled, by channel.",
		}, []string{"channel"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "charla_turn_seconds", Help: "Time to handle a turn, by channel.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"channel"}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "charla_turn_wait_seconds", Help: "Time turns waited for their place among the turns computing at once (queueing under load).",
			Buckets: []float64{.0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "charla_turn_errors_total", Help: "Turns that failed, by channel and error code.",
		}, []string{"channel", "code"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "charla_fallbacks_total", Help: "Turns answered by the fallback flow (not understood), by channel.",
		}, []string{"channel"}),
		handoffs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "charla_handoffs_total", Help: "Conversations handed to a person, by channel.",
		}, []string{"channel"}),
		convs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "charla_conversations_total", Help: "Conversations started (or started afresh after closing or expiring), by channel; the hand-off rate is charla_handoffs_total over it.",
		}, []string{"channel"}),
		proactive: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "charla_proactive_total", Help: "Proactive events, by outcome (delivered, queued, opted_out, no_flow, error).",
		}, []string{"status"}),
		active:      newActiveSet(30 * time.Minute),
		fallbackFor: fallbackFlow,
	}
	cs := []prometheus.Collector{m.turns, m.latency, m.wait, m.errors, m.fallbacks, m.handoffs, m.convs, m.proactive,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "charla_active_conversations", Help: "Conversations with a turn in the last 30 minutes.",
		}, func() float64 { return float64(m.active.count(time.Now())) }),
	}
	if connections != nil {
		cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "charla_webchat_connections", Help: "Open web chat WebSocket connections.",
		}, connections))
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Handler wraps h so that every turn is counted and timed.
func (m *Metrics) Handler(h engine.Handler) engine.Handler {
	return engine.HandlerFunc(func(ctx context.Context, in engine.Inbound) (*engine.Turn, error) {
		start := time.Now()
		t, err := h.Handle(ctx, in)
		d := time.Since(start)
		ch := in.Channel
		m.latency.WithLabelValues(ch).Observe(d.Seconds())
		m.turns.WithLabelValues(ch).Inc()
		if err != nil {
			m.errors.WithLabelValues(ch, string(engine.ErrCode(err))).Inc()
			return t, err
		}
		if t == nil || t.Duplicate {
			return t, err
		}
		m.wait.Observe(t.Waited.Seconds())
		if t.Started {
			m.convs.WithLabelValues(ch).Inc()
		}
		if fb := m.fallbackFor(); fb != "" {
			for _, o := range t.Messages {
				if o.Flow == fb {
					m.fallbacks.WithLabelValues(ch).Inc()
					break
				}
			}
		}
		if prev := m.active.touch(in.Conversation, t.Conversation.Status, start); t.Conversation.Status == engine.StatusQueued && prev != engine.StatusQueued && prev != engine.StatusAgent {
			m.handoffs.WithLabelValues(ch).Inc()
		}
		return t, nil
	})
}

// activeSet remembers when each conversation last had a turn, and its
// status then, in shards so that turns do not contend.
type activeSet struct {
	ttl    time.Duration
	seed   maphash.Seed
	shards [32]activeShard
}

type activeShard struct {
	mu   sync.Mutex
	seen map[string]activeConv
}

type activeConv struct {
	at     time.Time
	status engine.Status
}

func newActiveSet(ttl time.Duration) *activeSet {
	a := &activeSet{ttl: ttl, seed: maphash.MakeSeed()}
	for i := range a.shards {
		a.shards[i].seen = map[string]activeConv{}
	}
	return a
}

// touch records a turn and returns the conversation's previous status.
func (a *activeSet) touch(id string, st engine.Status, now time.Time) engine.Status {
	s := &a.shards[maphash.String(a.seed, id)%uint64(len(a.shards))]
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.seen[id]
	s.seen[id] = activeConv{now, st}
	return prev.status
}

// count returns how many conversations had a turn within ttl, forgetting
// the older ones.
func (a *activeSet) count(now time.Time) int {
	n := 0
	for i := range a.shards {
		s := &a.shards[i]
		s.mu.Lock()
		for id, c := range s.seen {
			if now.Sub(c.at) > a.ttl {
				delete(s.seen, id)
			} else {
				n++
			}
		}
		s.mu.Unlock()
	}
	return n
}
