package agents

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/charlabot/charla/engine/handoff"
)

// Metrics are the hand-off's Prometheus metrics:
//
//   - charla_handoff_queue_length{queue,state}: tickets waiting, with an
//     agent, or left as messages, now;
//   - charla_handoff_requests_total{queue}: hand-offs asked for;
//   - charla_handoff_wait_seconds{queue}: from joining a queue to an agent
//     taking the conversation;
//   - charla_handoff_handling_seconds{queue}: from an agent taking it to
//     the hand-off's end;
//   - charla_handoff_ended_total{queue,outcome}: hand-offs ended, by how
//     (released, closed, cancel, inactivity, expired, other);
//   - charla_handoff_agents{status}: agents available, away, offline.
//
// The hand-off rate is charla_handoff_requests_total over the server's
// charla_conversations_total (see docs/handoff.md).
type Metrics struct {
	requests *prometheus.CounterVec
	wait     *prometheus.HistogramVec
	handling *prometheus.HistogramVec
	ended    *prometheus.CounterVec
}

// NewMetrics registers the metrics of desk on reg.
func NewMetrics(reg prometheus.Registerer, desk *handoff.Desk) (*Metrics, error) {
	buckets := []float64{5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200}
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "charla_handoff_requests_total", Help: "Hand-offs asked for, by queue.",
		}, []string{"queue"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "charla_handoff_wait_seconds", Help: "Time from joining a queue to an agent taking the conversation, by queue.",
			Buckets: buckets,
		}, []string{"queue"}),
		handling: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "charla_handoff_handling_seconds", Help: "Time from an agent taking a conversation to the end of the hand-off, by queue.",
			Buckets: buckets,
		}, []string{"queue"}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "charla_handoff_ended_total", Help: "Hand-offs ended, by queue and outcome (released, closed, cancel, inactivity, expired, other).",
		}, []string{"queue", "outcome"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.wait, m.handling, m.ended, &deskCollector{desk}} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Observe counts an event of the desk; it is quick and never blocks (use
// it as, or in, handoff.Desk.OnEvent).
func (m *Metrics) Observe(ev handoff.Event) {
	if ev.Ticket == nil {
		return
	}
	q := ev.Ticket.Queue
	switch ev.Kind {
	case handoff.EvQueued:
		m.requests.WithLabelValues(q).Inc()
	case handoff.EvUpdated:
		if ev.Ticket.State == handoff.StateAssigned && ev.Waited > 0 {
			m.wait.WithLabelValues(q).Observe(ev.Waited.Seconds())
		}
	case handoff.EvRemoved:
		if ev.Handled > 0 {
			m.handling.WithLabelValues(q).Observe(ev.Handled.Seconds())
		}
		m.ended.WithLabelValues(q, outcome(ev.Why)).Inc()
	}
}

func outcome(why string) string {
	switch {
	case why == "released" || why == "cancel" || why == "expired":
		return why
	case why == "closed:inactivity":
		return "inactivity"
	case strings.HasPrefix(why, "closed:"):
		return "closed"
	}
	return "other"
}

// deskCollector reads the queues' lengths and the agents' statuses at
// scrape time.
type deskCollector struct{ desk *handoff.Desk }

var (
	queueLengthDesc = prometheus.NewDesc("charla_handoff_queue_length",
		"Tickets in each queue now, by state (waiting, assigned, message).", []string{"queue", "state"}, nil)
	agentsDesc = prometheus.NewDesc("charla_handoff_agents",
		"Agents by status (available, away, offline).", []string{"status"}, nil)
)

func (d *deskCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueLengthDesc
	ch <- agentsDesc
}

func (d *deskCollector) Collect(ch chan<- prometheus.Metric) {
	for q, byState := range d.desk.Lengths() {
		for s, n := range byState {
			ch <- prometheus.MustNewConstMetric(queueLengthDesc, prometheus.GaugeValue, float64(n), q, string(s))
		}
	}
	n := map[handoff.Availability]int{handoff.Available: 0, handoff.Away: 0, handoff.Offline: 0}
	for _, a := range d.desk.Agents() {
		n[a.Status]++
	}
	for s, v := range n {
		ch <- prometheus.MustNewConstMetric(agentsDesc, prometheus.GaugeValue, float64(v), string(s))
	}
}
