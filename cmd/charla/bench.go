package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/bolt"
	"github.com/charlabot/charla/engine/memory"
	"github.com/charlabot/charla/flows"
)

func init() {
	register(&command{
		name:    "bench",
		usage:   "bench DIR --test NAME [--conversations N] [--concurrency K] [--store memory|bolt]",
		summary: "measure turns per second and latency of a conversation test",
		run:     runBench,
	})
}

// benchResult is what `charla bench` prints (DESIGN.md's contract, plus
// what was measured).
type benchResult struct {
	Turns     int     `json:"turns"`
	Seconds   float64 `json:"seconds"`
	TurnsPerS float64 `json:"turns_per_s"`
	P50us     float64 `json:"p50_us"`
	P99us     float64 `json:"p99_us"`
	P999us    float64 `json:"p999_us"`
	MaxUs     float64 `json:"max_us"`
	// The latency in two parts: waiting for a place among the turns
	// computing at once (queueing: K in flight at X turns/s wait about K/X),
	// and the rest (running, actions, the commit).
	WaitP50us     float64 `json:"wait_p50_us"`
	WaitP99us     float64 `json:"wait_p99_us"`
	RunP50us      float64 `json:"run_p50_us"`
	RunP99us      float64 `json:"run_p99_us"`
	AllocsPerTurn float64 `json:"allocs_per_turn"`
	BytesPerTurn  float64 `json:"bytes_per_turn"`
	RSSMB         float64 `json:"rss_mb"`

	CPUSeconds   float64 `json:"cpu_seconds"` // user+system CPU of the measured run: less noisy than wall time on a busy machine
	TurnsPerCPUS float64 `json:"turns_per_cpu_s"`

	Test          string `json:"test"`
	Store         string `json:"store"`
	Conversations int    `json:"conversations"`
	Concurrency   int    `json:"concurrency"`
	ActiveTurns   int    `json:"active_turns"` // 0: no bound
	Understander  string `json:"understander"`
	CPUs          int    `json:"cpus"`
}

func runBench(ctx context.Context, args []string, io stdio) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.err)
	name := fs.String("test", "", "the conversation test to run (its name in DIR/tests/*.yaml)")
	n := fs.Int("conversations", 10000, "conversations to run")
	k := fs.Int("concurrency", 100, "conversations in flight at once")
	storeName := fs.String("store", "memory", "memory, or bolt (durable: a fresh data directory, every commit fsynced)")
	warm := fs.Int("warmup", -1, "conversations run first, not measured (default: a tenth, at most 2000)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the measured run to this file")
	traceFile := fs.String("trace", "", "write an execution trace of the measured run to this file (go tool trace)")
	mutexprofile := fs.String("mutexprofile", "", "write a mutex contention profile of the measured run to this file")
	blockprofile := fs.String("blockprofile", "", "write a profile of where goroutines blocked in the measured run to this file")
	active := fs.Int("active-turns", 0, "turns computing at once (engine.Options.ActiveTurns; 0: the runtime's default, negative: no bound)")
	which := fs.String("understander", "auto", "auto (the trained NLU when the bot has training data, else keywords), nlu or keyword")
	fs.Usage = func() {
		fmt.Fprintln(io.err, "usage: charla bench DIR --test NAME [--conversations N] [--concurrency K] [--store memory|bolt]")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 || *name == "" || *n <= 0 || *k <= 0 || (*storeName != "memory" && *storeName != "bolt") {
		fs.Usage()
		return 2
	}
	bot, code := openBot(pos[0], "bench", io)
	if bot == nil {
		return code
	}
	tc := bot.Test(*name)
	if tc == nil {
		fmt.Fprintf(io.err, "charla bench: no test named %q in %s/tests\n", *name, pos[0])
		return 1
	}
	if why := benchable(tc); why != "" {
		fmt.Fprintf(io.err, "charla bench: test %s cannot be measured: %s\n", tc.Name, why)
		return 1
	}
	u, kind, err := understanderFor(bot.Program, *which)
	if err != nil {
		fmt.Fprintf(io.err, "charla bench: %v\n", err)
		return 1
	}
	var store engine.Store
	if *storeName == "bolt" {
		dir, err := os.MkdirTemp("", "charla-bench-")
		if err != nil {
			fmt.Fprintf(io.err, "charla bench: %v\n", err)
			return 1
		}
		defer os.RemoveAll(dir)
		st, err := bolt.Open(dir, bolt.Options{NoBackupSocket: true})
		if err != nil {
			fmt.Fprintf(io.err, "charla bench: %v\n", err)
			return 1
		}
		store = st
	} else {
		store = memory.New()
	}
	defer store.Close()
	clock := &testClock{t: testEpoch}
	if !tc.Now.IsZero() {
		clock.t = tc.Now
	}
	var rt *engine.Runtime
	rt, err = engine.NewRuntime(bot.Program, engine.Options{Store: store, Understander: u, Now: clock.Now, ActiveTurns: *active,
		Actions: mockActions(bot.Program, tc, func() *engine.Runtime { return rt }, nil)})
	if err != nil {
		fmt.Fprintf(io.err, "charla bench: %v\n", err)
		return 1
	}
	b := &bench{rt: rt, tc: tc}
	w := *warm
	if w < 0 {
		w = min(*n/10, 2000)
	}
	if err := b.run(ctx, "warm", w, *k, nil); err != nil {
		fmt.Fprintf(io.err, "charla bench: %v\n", err)
		return 1
	}
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	lat := make([]time.Duration, *n*len(tc.Turns))
	b.waited = make([]time.Duration, len(lat))
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintf(io.err, "charla bench: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(io.err, "charla bench: %v\n", err)
			return 1
		}
	}
	stopProfiles, err := startProfiles(*traceFile, *mutexprofile, *blockprofile)
	if err != nil {
		fmt.Fprintf(io.err, "charla bench: %v\n", err)
		return 1
	}
	cpu0 := cpuTime()
	start := time.Now()
	err = b.run(ctx, "c", *n, *k, lat)
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	if *cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	if perr := stopProfiles(); perr != nil {
		fmt.Fprintf(io.err, "charla bench: %v\n", perr)
		return 1
	}
	runtime.ReadMemStats(&m1)
	if err != nil {
		fmt.Fprintf(io.err, "charla bench: %v\n", err)
		return 1
	}
	run := make([]time.Duration, len(lat))
	for i := range lat {
		run[i] = lat[i] - b.waited[i]
	}
	slices.Sort(lat)
	slices.Sort(run)
	slices.Sort(b.waited)
	turns := len(lat)
	res := benchResult{
		Turns:         turns,
		Seconds:       round(elapsed.Seconds(), 3),
		TurnsPerS:     round(float64(turns)/elapsed.Seconds(), 0),
		P50us:         round(float64(quantile(lat, 0.50))/1e3, 1),
		P99us:         round(float64(quantile(lat, 0.99))/1e3, 1),
		P999us:        round(float64(quantile(lat, 0.999))/1e3, 1),
		MaxUs:         round(float64(lat[len(lat)-1])/1e3, 1),
		WaitP50us:     round(float64(quantile(b.waited, 0.50))/1e3, 1),
		WaitP99us:     round(float64(quantile(b.waited, 0.99))/1e3, 1),
		RunP50us:      round(float64(quantile(run, 0.50))/1e3, 1),
		RunP99us:      round(float64(quantile(run, 0.99))/1e3, 1),
		AllocsPerTurn: round(float64(m1.Mallocs-m0.Mallocs)/float64(turns), 1),
		BytesPerTurn:  round(float64(m1.TotalAlloc-m0.TotalAlloc)/float64(turns), 0),
		RSSMB:         round(peakRSSMB(), 1),
		CPUSeconds:    round(cpu.Seconds(), 3),
		TurnsPerCPUS:  round(float64(turns)/cpu.Seconds(), 0),
		Test:          tc.Name, Store: *storeName, Conversations: *n, Concurrency: *k, ActiveTurns: rt.ActiveTurns(),
		Understander: kind, CPUs: runtime.GOMAXPROCS(0),
	}
	enc := json.NewEncoder(io.out)
	if err := enc.Encode(res); err != nil {
		return 1
	}
	return 0
}

// startProfiles starts what the bench's --trace, --mutexprofile and
// --blockprofile ask for; stop writes the profiles.
func startProfiles(traceFile, mutexFile, blockFile string) (stop func() error, err error) {
	var tf *os.File
	if traceFile != "" {
		if tf, err = os.Create(traceFile); err != nil {
			return nil, err
		}
		if err = trace.Start(tf); err != nil {
			tf.Close()
			return nil, err
		}
	}
	if mutexFile != "" {
		runtime.SetMutexProfileFraction(10)
	}
	if blockFile != "" {
		runtime.SetBlockProfileRate(int(10 * time.Microsecond))
	}
	return func() error {
		var errs []error
		if tf != nil {
			trace.Stop()
			errs = append(errs, tf.Close())
		}
		write := func(name, file string) {
			if file == "" {
				return
			}
			f, err := os.Create(file)
			if err != nil {
				errs = append(errs, err)
				return
			}
			errs = append(errs, pprof.Lookup(name).WriteTo(f, 0), f.Close())
		}
		write("mutex", mutexFile)
		write("block", blockFile)
		runtime.SetMutexProfileFraction(0)
		runtime.SetBlockProfileRate(0)
		return errors.Join(errs...)
	}, nil
}

// benchable says why a test cannot be benchmarked ("" when it can): every
// turn must expect exact texts, so that a broken bot cannot pass for a
// fast one, and time cannot pass.
func benchable(tc *flows.TestCase) string {
	if len(tc.Turns) == 0 {
		return "it has no turns"
	}
	for i, t := range tc.Turns {
		if t.Kind == flows.TurnWait {
			return fmt.Sprintf("turn %d waits", i+1)
		}
		if !t.CheckBot {
			return fmt.Sprintf("turn %d (%s) has no bot: expectation", i+1, t.Pos)
		}
		for _, e := range t.Bot {
			if e.Match != flows.MatchExact {
				return fmt.Sprintf("turn %d (%s) expects a reply by contains or regex; charla bench needs exact texts", i+1, t.Pos)
			}
		}
	}
	return ""
}

// bench plays a test as many conversations.
type bench struct {
	rt     *engine.Runtime
	tc     *flows.TestCase
	waited []time.Duration // of the measured run: each turn's Turn.Waited
}

// run plays n conversations, k at a time; lat (when not nil) receives each
// turn's latency. The first reply that differs from the test stops it.
func (b *bench) run(ctx context.Context, prefix string, n, k int, lat []time.Duration) error {
	var next atomic.Int64
	var failed atomic.Bool
	var once sync.Once
	var firstErr error
	var wg sync.WaitGroup
	turns := len(b.tc.Turns)
	for range min(k, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				conv := fmt.Sprintf("%s-%d", prefix, i)
				if err := b.conversation(ctx, conv, i, lat, turns); err != nil {
					once.Do(func() { firstErr = err })
					failed.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

func (b *bench) conversation(ctx context.Context, conv string, i int, lat []time.Duration, turns int) error {
	// Independent conversations are independent shoppers: a test that
	// names a user gets a user of its own per conversation, so that
	// thousands of conversations do not share (and queue on) one profile.
	tc := b.tc
	if tc.User != "" {
		own := *tc
		own.User = tc.User + "-" + conv
		tc = &own
	}
	if err := seed(ctx, b.rt, conv, tc); err != nil {
		return fmt.Errorf("%s: start: %w", conv, err)
	}
	for j, turn := range tc.Turns {
		in := inbound(conv, tc, turn, fmt.Sprintf("%d", j+1))
		t0 := time.Now()
		tr, err := b.rt.Handle(ctx, in)
		d := time.Since(t0)
		if err != nil {
			return fmt.Errorf("%s turn %d: %w", conv, j+1, err)
		}
		if lat != nil {
			lat[i*turns+j] = d
			b.waited[i*turns+j] = tr.Waited
		}
		if len(tr.Messages) != len(turn.Bot) {
			return fmt.Errorf("%s turn %d (%s): want %d replies, got %d: %q", conv, j+1, turn.Pos, len(turn.Bot), len(tr.Messages), replyTexts(tr.Messages))
		}
		for r, e := range turn.Bot {
			if tr.Messages[r].Text != e.Text {
				return fmt.Errorf("%s turn %d (%s) reply %d:\n  want %q\n  got  %q", conv, j+1, turn.Pos, r+1, e.Text, tr.Messages[r].Text)
			}
		}
	}
	return nil
}

func replyTexts(ms []engine.Outbound) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Text
	}
	return out
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(len(sorted)-1, i))]
}

func round(x float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(x*p+0.5)) / p
}

// cpuTime is the CPU time the process used so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSSMB is the process's peak resident set, in MiB.
func peakRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024 // kilobytes on Linux
}
