package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/bolt"
	"github.com/charlabot/charla/flows"
)

// TestIdleConversations fills a bbolt file with CHARLA_IDLE conversations
// waiting mid-flow in examples/bench's size exchange (asked for the size),
// a tenth of them with a pending timer, then, in a fresh process, measures
// what a restart costs: opening the store and the runtime, the first timer
// scan, the first turn of an old conversation, and the resident memory.
//
//	CHARLA_IDLE=1000000 go test -run TestIdleConversations -v -timeout 30m ./cmd/charla
//
// It is skipped unless CHARLA_IDLE is set; CHARLA_IDLE_DIR keeps the file
// between runs (it is built once).
func TestIdleConversations(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CHARLA_IDLE"))
	if n <= 0 {
		t.Skip("set CHARLA_IDLE=1000000 to run")
	}
	dir := os.Getenv("CHARLA_IDLE_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	bot, err := flows.LoadDir("../../examples/bench")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir + "/" + bolt.FileName); err != nil {
		start := time.Now()
		if err := fillIdle(dir, bot.Program, n); err != nil {
			t.Fatal(err)
		}
		t.Logf("built %d conversations in %s", n, time.Since(start).Round(time.Second))
	}
	if st, err := os.Stat(dir + "/" + bolt.FileName); err == nil {
		t.Logf("file: %d MB", st.Size()>>20)
	}
	var runs []idleResult
	for run := range 3 {
		// A cold start: the file out of the page cache, as after a reboot.
		if err := evict(dir + "/" + bolt.FileName); err != nil {
			t.Logf("cannot drop the file from the page cache: %v", err)
		}
		cmd := exec.Command(os.Args[0], "-test.run", "^TestIdleChild$", "-test.v")
		cmd.Env = append(os.Environ(), "CHARLA_IDLE_CHILD="+dir, fmt.Sprintf("CHARLA_IDLE_N=%d", n),
			fmt.Sprintf("CHARLA_IDLE_RUN=%d", run+int(time.Now().Unix()%1000)*3))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		i := strings.Index(string(out), "IDLE ")
		if i < 0 {
			t.Fatalf("child said:\n%s", out)
		}
		line, _, _ := strings.Cut(string(out[i+5:]), "\n")
		var r idleResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, r)
		t.Logf("%s", line)
	}
}

// evict drops a file's pages from the page cache.
func evict(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}

// idleResult is what the child process measured.
type idleResult struct {
	Conversations int     `json:"conversations"`
	Timers        int     `json:"pending_timers"`
	OpenMS        float64 `json:"open_ms"`        // bolt.Open
	StartMS       float64 `json:"startup_ms"`     // open + runtime + first timer scan
	FirstTurnMS   float64 `json:"first_turn_ms"`  // an old conversation's next turn, durable
	OtherTurnsMS  float64 `json:"other_turns_ms"` // the median of 100 more, other old conversations
	RSSMB         float64 `json:"rss_mb"`         // resident after the turns
	PeakRSSMB     float64 `json:"peak_rss_mb"`    // the most it ever held
	FileMB        int64   `json:"file_mb"`
}

// TestIdleChild is the measuring process of TestIdleConversations.
func TestIdleChild(t *testing.T) {
	dir := os.Getenv("CHARLA_IDLE_CHILD")
	if dir == "" {
		t.Skip("run by TestIdleConversations")
	}
	n, _ := strconv.Atoi(os.Getenv("CHARLA_IDLE_N"))
	run, _ := strconv.Atoi(os.Getenv("CHARLA_IDLE_RUN"))
	bot, err := flows.LoadDir("../../examples/bench")
	if err != nil {
		t.Fatal(err)
	}
	u, _, err := understanderFor(bot.Program, "auto")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The conversations were left an hour before this run's clock.
	fi, err := os.Stat(dir + "/" + bolt.FileName)
	if err != nil {
		t.Fatal(err)
	}
	built := fi.ModTime()
	now := func() time.Time { return built.Add(time.Hour) }
	t0 := time.Now()
	st, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	open := time.Since(t0)
	rt, err := engine.NewRuntime(bot.Program, engine.Options{Store: st, Understander: u, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.FireTimers(ctx); err != nil {
		t.Fatal(err)
	}
	startup := time.Since(t0)
	turn := func(i int) time.Duration {
		id := fmt.Sprintf("idle-%d", i)
		t1 := time.Now()
		tr, err := rt.Handle(ctx, engine.Inbound{Conversation: id, Channel: "bench", ID: "m4", Text: "43"})
		d := time.Since(t1)
		if err != nil || len(tr.Messages) != 1 || tr.Messages[0].Text != "Confirm the exchange of order A1234 to size 43?" {
			t.Fatalf("%s: %v %+v", id, err, tr)
		}
		return d
	}
	// Each run talks to conversations no other run touched (a residue
	// class of the run number), so that none is a duplicate or moved on.
	step := max(1, n/102)
	pick := func(k int) int { return k*step + run%step }
	first := turn(pick(0))
	var others []time.Duration
	for k := 1; k <= 100; k++ {
		others = append(others, turn(pick(k)))
	}
	slicesSort(others)
	fi, _ = os.Stat(st.Path())
	r := idleResult{OpenMS: ms(open), StartMS: ms(startup), FirstTurnMS: ms(first), OtherTurnsMS: ms(others[len(others)/2]),
		RSSMB: rssMB("VmRSS"), PeakRSSMB: rssMB("VmHWM"), FileMB: fi.Size() >> 20}
	stats, _ := st.Stats() // last: it reads every page of the file
	r.Conversations, r.Timers = stats.Sessions, stats.Timers
	b, _ := json.Marshal(r)
	fmt.Printf("IDLE %s\n", b)
}

func ms(d time.Duration) float64 { return round(float64(d)/1e6, 2) }

func slicesSort(d []time.Duration) {
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j] < d[j-1]; j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
}

// rssMB reads a memory figure of this process from /proc (VmRSS, VmHWM), in MiB.
func rssMB(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return round(float64(kb)/1024, 1)
		}
	}
	return 0
}

// fillIdle writes n conversations waiting for the size, as the runtime
// leaves them after "hola", "quiero cambiar la talla", "A1234", with their
// six transcript entries; one in ten has an expiry timer pending.
func fillIdle(dir string, p *engine.Program, n int) error {
	st, err := bolt.Open(dir, bolt.Options{NoBackupSocket: true})
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	old := time.Now()
	texts := []string{"hola", "Hi! I'm the store assistant. What would you like to do?\n1. Change the size of an order (say \"cambiar la talla\")\n2. Track an order\n3. Talk to a person",
		"quiero cambiar la talla", "What is your order number? (one capital letter and 4 digits, e.g. A1234)",
		"A1234", "Which new size would you like? (35-46)"}
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	const workers = 500
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				id := fmt.Sprintf("idle-%d", i)
				s := &engine.Session{ID: id, Channel: "bench", Lang: "es", Status: engine.StatusBot, Version: p.Version,
					Stack: []engine.Frame{{Flow: "size_exchange", Step: 1, Slot: "size", Mode: engine.ModeAsking,
						Vars: engine.Vars{{Name: "order", Value: "A1234"}}}},
					Seq: 6, Turns: 3, Started: old, LastActive: old,
					Recent: []engine.Delivery{{ID: "m1", First: 2, Last: 2}, {ID: "m2", First: 4, Last: 4}, {ID: "m3", First: 6, Last: 6}}}
				if i%10 == 0 {
					s.Timers = []engine.Timer{{Conversation: id, Kind: engine.TimerExpire, Due: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)}}
				}
				c := &engine.Commit{Session: s}
				for k, text := range texts {
					from := engine.FromUser
					if k%2 == 1 {
						from = engine.FromBot
					}
					c.Entries = append(c.Entries, engine.Entry{Seq: int64(k + 1), From: from, Text: text, Channel: "bench", At: old})
				}
				if err := st.Commit(ctx, c); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	return nil
}
