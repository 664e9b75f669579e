package whatsapp_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/charlabot/charla/channels/channeltest"
	"github.com/charlabot/charla/channels/meta"
	"github.com/charlabot/charla/channels/whatsapp"
	"github.com/charlabot/charla/engine"
)

// benchRig is a connector on loopback against the fake Graph API, with a
// handler of fixed cost that records how long each turn took.
type benchRig struct {
	api    *channeltest.GraphAPI
	phone  *channeltest.WhatsApp
	client *http.Client
	mu     sync.Mutex
	turns  map[string]turnTimes // message id → when the handler ran
	cost   time.Duration
}

type turnTimes struct{ start, end time.Time }

func newBenchRig(b *testing.B, cost time.Duration, tweak func(*whatsapp.Connector)) *benchRig {
	r := &benchRig{api: channeltest.NewGraphAPI(b, token), turns: map[string]turnTimes{}, cost: cost}
	conn := whatsapp.New(whatsapp.Config{PhoneNumberID: phoneID, AccessToken: token, AppSecret: secret, VerifyToken: verify,
		GraphURL: r.api.URL(), Rate: 1e9}, engine.HandlerFunc(func(ctx context.Context, in engine.Inbound) (*engine.Turn, error) {
		t0 := time.Now()
		if r.cost > 0 {
			time.Sleep(r.cost)
		}
		out := []engine.Outbound{{Text: "ok " + in.Text}}
		r.mu.Lock()
		r.turns[in.ID] = turnTimes{t0, time.Now()}
		r.mu.Unlock()
		return &engine.Turn{Messages: out}, nil
	}))
	conn.Queue = &meta.Queue{Max: 100_000, Workers: 256}
	if tweak != nil {
		tweak(conn)
	}
	srv := httptest.NewServer(conn)
	b.Cleanup(func() { conn.Shutdown(context.Background()); srv.Close() })
	r.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512}}
	r.phone = &channeltest.WhatsApp{Webhook: srv.URL, AppSecret: secret, PhoneNumberID: phoneID, API: r.api, HTTP: r.client}
	return r
}

// body is a delivery of one text from user, as Meta sends it.
func (r *benchRig) body(user, id, text string) []byte {
	m := map[string]any{"from": user, "id": id, "timestamp": fmt.Sprint(time.Now().Unix()), "type": "text", "text": map[string]any{"body": text}}
	return r.phone.Envelope(user, "Ana", []map[string]any{m}, nil)
}

// post signs and posts one text from user and returns the status.
func (r *benchRig) post(user, id, text string) (int, error) {
	return r.postBody(r.body(user, id, text))
}

// postBody signs and posts a delivery (the signature is part of what
// Meta does, so it is not timed against the connector).
func (r *benchRig) postBody(body []byte) (int, error) {
	return r.postSigned(body, meta.Sign([]byte(secret), body))
}

func (r *benchRig) postSigned(body []byte, sig string) (int, error) {
	req, _ := http.NewRequest(http.MethodPost, r.phone.Webhook, bytes.NewReader(body))
	req.Header.Set(meta.SignatureHeader, sig)
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// cpuTime is the CPU time (user and system) this process has used: unlike
// wall time, it does not grow when other processes share the cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

// BenchmarkWebhookOverhead measures what webhook handling adds to a turn:
// from the signed POST leaving the client to the reply reaching the Graph
// API, minus the time the handler (a fixed-cost fake of 1 ms) took. It
// includes the signature check, parsing, the queue, the read mark with the
// typing indicator and the send, all on loopback.
func BenchmarkWebhookOverhead(b *testing.B) {
	r := newBenchRig(b, time.Millisecond, nil)
	ctx := context.Background()
	over := make([]time.Duration, 0, b.N)
	var in, out []time.Duration // POST to turn start, turn end to the reply's arrival
	b.ResetTimer()
	for i := range b.N {
		user := fmt.Sprint(573000000000 + i%100)
		id := fmt.Sprintf("wamid.bench%09d", i)
		skip := r.api.Len()
		body := r.body(user, id, "hola")
		t0 := time.Now()
		if code, err := r.postBody(body); err != nil || code != 200 {
			b.Fatalf("post: %d %v", code, err)
		}
		m, _, err := r.api.Next(ctx, user, skip)
		if err != nil {
			b.Fatal(err)
		}
		r.mu.Lock()
		turn := r.turns[id]
		r.mu.Unlock()
		over = append(over, m.At.Sub(t0)-turn.end.Sub(turn.start))
		in = append(in, turn.start.Sub(t0))
		out = append(out, m.At.Sub(turn.end))
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(over, 0.50).Microseconds()), "p50_us")
	b.ReportMetric(float64(percentile(over, 0.99).Microseconds()), "p99_us")
	b.ReportMetric(float64(percentile(in, 0.99).Microseconds()), "in_p99_us")
	b.ReportMetric(float64(percentile(out, 0.99).Microseconds()), "out_p99_us")
}

// BenchmarkWebhookPost is one signed delivery answered 200: what Meta
// waits for (the turn runs after), from 64 clients at once.
func BenchmarkWebhookPost(b *testing.B) {
	r := newBenchRig(b, 0, func(c *whatsapp.Connector) { c.Config.NoReadMarks = true })
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if code, err := r.post(fmt.Sprint(573100000000+i%1000), fmt.Sprintf("wamid.post%09d", i), "hola"); err != nil || code != 200 {
				b.Errorf("post: %d %v", code, err)
				return
			}
		}
	})
}

// BenchmarkWebhookSustained posts b.N signed deliveries at a steady
// 5,000 a second (CHARLA_BENCH_RATE overrides it; set -benchtime=30000x
// for 6 s) from 2,000 conversations
// and checks that every one got its reply: no 503, nothing lost. It
// reports the rate achieved, the webhook's p99 answer time and how long
// after the last post the last reply came.
func BenchmarkWebhookSustained(b *testing.B) {
	rate := 5000.0
	if v, err := strconv.ParseFloat(os.Getenv("CHARLA_BENCH_RATE"), 64); err == nil && v > 0 {
		rate = v // to look for the ceiling
	}
	r := newBenchRig(b, 0, nil)
	// Meta's side of the work is done before the clock starts: the
	// deliveries and their signatures
	bodies := make([][]byte, b.N)
	sigs := make([]string, b.N)
	for i := range bodies {
		bodies[i] = r.body(fmt.Sprint(573200000000+i%2000), fmt.Sprintf("wamid.sus%09d", i), "hola")
		sigs[i] = meta.Sign([]byte(secret), bodies[i])
	}
	var lat []time.Duration
	var mu sync.Mutex
	var failed atomic.Int64
	jobs := make(chan int, 1024)
	var wg sync.WaitGroup
	for range 128 {
		wg.Go(func() {
			var mine []time.Duration
			for i := range jobs {
				t0 := time.Now()
				code, err := r.postSigned(bodies[i], sigs[i])
				if err != nil || code != 200 {
					failed.Add(1)
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for i := range b.N {
		if wait := time.Until(start.Add(time.Duration(float64(i) * float64(time.Second) / rate))); wait > 0 {
			time.Sleep(wait)
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	posted := time.Since(start)
	// every delivery gets its reply
	deadline := time.Now().Add(30 * time.Second)
	replies := 0
	for time.Now().Before(deadline) {
		replies = 0
		for _, m := range r.api.Sent() {
			if m.Kind == "text" {
				replies++
			}
		}
		if replies >= b.N {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	drained := time.Since(start) - posted
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if failed.Load() > 0 || replies != b.N {
		b.Fatalf("%d posts refused, %d replies for %d posts", failed.Load(), replies, b.N)
	}
	b.ReportMetric(float64(b.N)/posted.Seconds(), "posts/s")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds()), "post_p99_us")
	b.ReportMetric(float64(drained.Milliseconds()), "drain_ms")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu_us/post")
}

// roundTripper answers every Graph API request in memory, as Meta would.
type roundTripper struct{ n atomic.Int64 }

func (rt *roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	body := `{"success":true}`
	if rt.n.Add(1)%2 == 0 {
		body = `{"messaging_product":"whatsapp","contacts":[{"input":"1","wa_id":"1"}],"messages":[{"id":"wamid.X"}]}`
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader([]byte(body))), Request: r}, nil
}

// BenchmarkConnectorCPU is the connector's own work for one message, with
// no network: the webhook handler called directly (signature, parsing,
// de-duplication, queueing), the turn's plumbing, the read mark and the
// reply encoded for a Graph API answered in memory. It waits for every
// turn to finish; ns/op over the cores used is the connector's CPU cost.
func BenchmarkConnectorCPU(b *testing.B) {
	conn := whatsapp.New(whatsapp.Config{PhoneNumberID: phoneID, AccessToken: token, AppSecret: secret, VerifyToken: verify, Rate: 1e9},
		engine.HandlerFunc(func(ctx context.Context, in engine.Inbound) (*engine.Turn, error) {
			return &engine.Turn{Messages: []engine.Outbound{{Text: "ok " + in.Text}}}, nil
		}))
	conn.Queue = &meta.Queue{Max: 1 << 20, Workers: 256}
	conn.HTTP = &http.Client{Transport: &roundTripper{}}
	phone := &channeltest.WhatsApp{AppSecret: secret, PhoneNumberID: phoneID}
	bodies := make([][]byte, b.N)
	sigs := make([]string, b.N)
	for i := range bodies {
		m := map[string]any{"from": fmt.Sprint(573300000000 + i%2000), "id": fmt.Sprintf("wamid.cpu%09d", i),
			"timestamp": fmt.Sprint(time.Now().Unix()), "type": "text", "text": map[string]any{"body": "hola"}}
		bodies[i] = phone.Envelope(fmt.Sprint(573300000000+i%2000), "Ana", []map[string]any{m}, nil)
		sigs[i] = meta.Sign([]byte(secret), bodies[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := range b.N {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/whatsapp", bytes.NewReader(bodies[i]))
		req.Header.Set(meta.SignatureHeader, sigs[i])
		w := httptest.NewRecorder()
		conn.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
	}
	if err := conn.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu_us/msg")
}
