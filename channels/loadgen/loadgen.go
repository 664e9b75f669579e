// Package loadgen is the load generator of charla's channels: it drives a
// running server (charla serve) over loopback through the web chat
// WebSocket or the REST API and reports throughput, round-trip latency and
// the server's memory. Every run is bounded in connections, messages and
// time, and it refuses targets that are not on this machine.
package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// Config is one run.
type Config struct {
	URL      string        // the server, e.g. http://127.0.0.1:8080 (loopback only)
	Mode     string        // "idle", "ws" or "rest"
	Conns    int           // connections (idle, ws) or concurrent clients (rest)
	Rate     float64       // ws: messages per second in all
	Duration time.Duration // how long to hold or to send (at most 5 minutes)
	Text     string        // the message to send ("hola")
	PID      int           // the server's process, to read its memory (0: not read)
}

// Result is what a run measured.
type Result struct {
	Mode        string  `json:"mode"`
	Conns       int     `json:"conns"`
	Seconds     float64 `json:"seconds"`
	Messages    int64   `json:"messages,omitempty"`
	Errors      int64   `json:"errors"`
	PerSecond   float64 `json:"per_s,omitempty"`
	P50ms       float64 `json:"p50_ms,omitempty"`
	P99ms       float64 `json:"p99_ms,omitempty"`
	MaxMs       float64 `json:"max_ms,omitempty"`
	ServerCPUus float64 `json:"server_cpu_us_per_msg,omitempty"` // the server's CPU time per message (user + system)
	ServerRSSMB float64 `json:"server_rss_mb,omitempty"`
	ServerHWMMB float64 `json:"server_peak_rss_mb,omitempty"`
}

// Run runs one load test.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, err
	}
	if !loopback(u.Hostname()) {
		return nil, fmt.Errorf("loadgen: %s is not a loopback address: load tests only target this machine", u.Hostname())
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 10 * time.Second
	}
	cfg.Duration = min(cfg.Duration, 5*time.Minute)
	if cfg.Conns <= 0 {
		cfg.Conns = 100
	}
	if cfg.Conns > 50_000 {
		return nil, errors.New("loadgen: at most 50,000 connections")
	}
	if cfg.Text == "" {
		cfg.Text = "hola"
	}
	RaiseOpenFiles()
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration+2*time.Minute)
	defer cancel()
	switch cfg.Mode {
	case "idle":
		return idle(ctx, cfg)
	case "ws":
		return wsLoad(ctx, cfg)
	case "rest":
		return restLoad(ctx, cfg)
	}
	return nil, fmt.Errorf("loadgen: unknown mode %q (idle, ws or rest)", cfg.Mode)
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RaiseOpenFiles lifts the soft limit of open files to the hard one, when
// allowed: 10,000 connections need more than the usual 1,024.
func RaiseOpenFiles() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// cpuTime reads a process's CPU time (user + system) from /proc; Linux
// counts it in clock ticks of 1/100 s.
func cpuTime(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// the command name (field 2) may hold spaces: count from after its ')'
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond
}

// memory reads a process's resident set and its peak, in MB.
func memory(pid int) (rss, hwm float64) {
	if pid <= 0 {
		return 0, 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			hwm = kb / 1024
		}
	}
	return rss, hwm
}

func wsURL(base string) string {
	return "ws" + strings.TrimPrefix(base, "http") + "/ws"
}

var dialer = &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}

type frame struct {
	Type string `json:"type"`
	Text string `json:"text"`
	ID   string `json:"id"`
}

// open dials a web chat connection and says hello.
func open(ctx context.Context, base string) (*websocket.Conn, error) {
	ws, _, err := dialer.DialContext(ctx, wsURL(base), nil)
	if err != nil {
		return nil, err
	}
	if err := ws.WriteJSON(map[string]any{"type": "hello"}); err != nil {
		ws.Close()
		return nil, err
	}
	ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		var f frame
		if err := ws.ReadJSON(&f); err != nil {
			ws.Close()
			return nil, err
		}
		if f.Type == "welcome" {
			ws.SetReadDeadline(time.Time{})
			return ws, nil
		}
	}
}

// idle opens Conns connections, holds them for Duration (answering pings)
// and reads the server's memory while they are all open.
func idle(ctx context.Context, cfg Config) (*Result, error) {
	start := time.Now()
	conns := make([]*websocket.Conn, 0, cfg.Conns)
	var mu sync.Mutex
	var errs atomic.Int64
	sem := make(chan struct{}, 200)
	var wg sync.WaitGroup
	for range cfg.Conns {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ws, err := open(ctx, cfg.URL)
			if err != nil {
				errs.Add(1)
				return
			}
			mu.Lock()
			conns = append(conns, ws)
			mu.Unlock()
			go func() { // answer pings; notice a closed connection
				for {
					if _, _, err := ws.ReadMessage(); err != nil {
						return
					}
				}
			}()
		})
	}
	wg.Wait()
	opened := time.Since(start)
	select {
	case <-ctx.Done():
	case <-time.After(cfg.Duration):
	}
	rss, hwm := memory(cfg.PID)
	for _, c := range conns {
		c.Close()
	}
	return &Result{Mode: "idle", Conns: len(conns), Seconds: opened.Seconds(), Errors: errs.Load(), ServerRSSMB: round(rss), ServerHWMMB: round(hwm)}, nil
}

// wsLoad sends Rate messages per second in all over Conns connections,
// each paced on its own schedule, and times each message to the first bot
// message that answers it.
func wsLoad(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Rate <= 0 {
		cfg.Rate = 1000
	}
	per := cfg.Rate / float64(cfg.Conns) // messages per second per connection
	if per > 5 {
		return nil, fmt.Errorf("loadgen: %.1f messages/s per connection exceeds the web chat's rate limit (5/s): use more connections", per)
	}
	conns := make([]*websocket.Conn, cfg.Conns)
	var wg sync.WaitGroup
	var errs atomic.Int64
	for i := range conns {
		wg.Go(func() {
			ws, err := open(ctx, cfg.URL)
			if err != nil {
				errs.Add(1)
				return
			}
			conns[i] = ws
		})
	}
	wg.Wait()
	if errs.Load() > 0 {
		return nil, fmt.Errorf("loadgen: %d connections failed to open", errs.Load())
	}
	lat := make([][]time.Duration, len(conns))
	cpu0 := cpuTime(cfg.PID)
	start := time.Now()
	end := start.Add(cfg.Duration)
	interval := time.Duration(float64(time.Second) / per)
	for i, ws := range conns {
		wg.Go(func() {
			defer ws.Close()
			// stagger the connections over one interval
			next := start.Add(interval * time.Duration(i) / time.Duration(len(conns)))
			n := 0
			for {
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
				}
				if time.Now().After(end) || ctx.Err() != nil {
					return
				}
				n++
				sent := time.Now()
				if err := ws.WriteJSON(map[string]any{"type": "message", "text": cfg.Text, "id": fmt.Sprintf("l%d-%d", i, n)}); err != nil {
					errs.Add(1)
					return
				}
				ws.SetReadDeadline(time.Now().Add(10 * time.Second))
				for {
					var f frame
					if err := ws.ReadJSON(&f); err != nil {
						errs.Add(1)
						return
					}
					if f.Type == "error" {
						errs.Add(1)
						break
					}
					if f.Type == "message" {
						lat[i] = append(lat[i], time.Since(sent))
						// drain the rest of the turn, up to its ack
						for f.Type != "ack" {
							if err := ws.ReadJSON(&f); err != nil {
								errs.Add(1)
								return
							}
						}
						break
					}
				}
				next = next.Add(interval)
			}
		})
	}
	wg.Wait()
	// the rate is over the sending window; the last replies come just after it
	r := summarize("ws", len(conns), cfg.Duration, lat, errs.Load())
	r.serverCPU(cfg.PID, cpu0)
	return r, nil
}

// restLoad runs Conns clients, each posting turns back to back over its
// own keep-alive connection, for Duration. The client writes requests and
// reads responses on a bare connection (net/http's client costs the
// loopback machine more CPU than the server it measures).
func restLoad(ctx context.Context, cfg Config) (*Result, error) {
	u, _ := url.Parse(cfg.URL)
	lat := make([][]time.Duration, cfg.Conns)
	var errs atomic.Int64
	cpu0 := cpuTime(cfg.PID)
	start := time.Now()
	end := start.Add(cfg.Duration)
	var wg sync.WaitGroup
	body := fmt.Sprintf(`{"text":%q}`, cfg.Text)
	for i := range cfg.Conns {
		wg.Go(func() {
			var conn net.Conn
			var br *bufio.Reader
			for n := 0; time.Now().Before(end) && ctx.Err() == nil; n++ {
				if conn == nil {
					c, err := (&net.Dialer{}).DialContext(ctx, "tcp", u.Host)
					if err != nil {
						errs.Add(1)
						time.Sleep(10 * time.Millisecond)
						continue
					}
					conn, br = c, bufio.NewReader(c)
				}
				req := fmt.Sprintf("POST /api/v1/conversations/load-%d-%d/messages HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
					i, n%100, u.Host, len(body), body)
				t0 := time.Now()
				conn.SetDeadline(t0.Add(10 * time.Second))
				if _, err := io.WriteString(conn, req); err != nil {
					errs.Add(1)
					conn.Close()
					conn = nil
					continue
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					errs.Add(1)
					conn.Close()
					conn = nil
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs.Add(1)
					continue
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
			if conn != nil {
				conn.Close()
			}
		})
	}
	wg.Wait()
	r := summarize("rest", cfg.Conns, time.Since(start), lat, errs.Load())
	r.serverCPU(cfg.PID, cpu0)
	return r, nil
}

func summarize(mode string, conns int, d time.Duration, lat [][]time.Duration, errs int64) *Result {
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	r := &Result{Mode: mode, Conns: conns, Seconds: round(d.Seconds()), Messages: int64(len(all)), Errors: errs}
	if len(all) > 0 {
		r.PerSecond = round(float64(len(all)) / d.Seconds())
		pct := func(p float64) float64 {
			return round(float64(all[min(len(all)-1, int(p*float64(len(all))))]) / float64(time.Millisecond))
		}
		r.P50ms, r.P99ms = pct(0.50), pct(0.99)
		r.MaxMs = round(float64(all[len(all)-1]) / float64(time.Millisecond))
	}
	return r
}

// serverCPU records the server's CPU time per message since cpu0, and its memory.
func (r *Result) serverCPU(pid int, cpu0 time.Duration) {
	if pid <= 0 || r.Messages == 0 {
		return
	}
	r.ServerCPUus = round(float64(cpuTime(pid)-cpu0) / float64(time.Microsecond) / float64(r.Messages))
	rss, hwm := memory(pid)
	r.ServerRSSMB, r.ServerHWMMB = round(rss), round(hwm)
}

func round(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// JSON renders a result on one line.
func (r *Result) JSON() string {
	b, _ := json.Marshal(r)
	return string(b)
}
