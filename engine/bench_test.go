package engine_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/bolt"
	"github.com/charlabot/charla/engine/keyword"
	"github.com/charlabot/charla/engine/memory"
)

// The peer benchmark's conversation (examples/bench holds the same bot in YAML).
var benchScript = []struct{ user, bot string }{
	{"hola", txtGreeting},
	{"quiero cambiar la talla", txtAskOrder},
	{"A1234", txtAskSize},
	{"43", "Confirm the exchange of order A1234 to size 43?"},
	{"si", "Done! Order A1234 will be exchanged to size 43. You will receive an email with the return label."},
}

func benchRuntime(b *testing.B, st engine.Store) *engine.Runtime {
	p := sizeBot()
	p.NLU = nil // keyword routing only, as the peer
	rt, err := engine.NewRuntime(p, engine.Options{Store: st, Understander: keyword.New(p)})
	if err != nil {
		b.Fatal(err)
	}
	return rt
}

// BenchmarkTurn runs the 5-turn conversation, many conversations in
// parallel; one op is one turn.
func BenchmarkTurn(b *testing.B) {
	playScript(b, benchRuntime(b, memory.New()), 0)
}

// playScript plays the conversation over and over on parallel goroutines
// (inFlight of them; 0: one per CPU), one op a turn, and reports the CPU a
// turn cost (cpu-ns/op).
func playScript(b *testing.B, rt *engine.Runtime, inFlight int) {
	ctx := context.Background()
	var conv atomic.Int64
	b.ReportAllocs()
	if inFlight > 0 {
		b.SetParallelism(max(1, inFlight/runtime.GOMAXPROCS(0)))
	}
	cpu0 := cpuTime()
	defer func() { b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op") }()
	b.RunParallel(func(pb *testing.PB) {
		id, t := "", len(benchScript)
		for pb.Next() {
			if t == len(benchScript) {
				id, t = fmt.Sprint("c", conv.Add(1)), 0
			}
			tr, err := rt.Handle(ctx, engine.Inbound{Conversation: id, Channel: "bench", ID: benchScript[t].user, Text: benchScript[t].user})
			if err != nil || len(tr.Messages) != 1 || tr.Messages[0].Text != benchScript[t].bot {
				b.Fatalf("turn %d: %v %+v", t, err, tr)
			}
			t++
		}
	})
}

// BenchmarkTurnInFlight runs the conversation with 100 turns in flight,
// with the runtime's gate (ActiveTurns, default) and without it: the CPU a
// turn costs when the gate admits turns one after another (cpu-ns/op).
func BenchmarkTurnInFlight(b *testing.B) {
	for _, c := range []struct {
		name   string
		active int
	}{{"gate", 0}, {"nogate", -1}} {
		b.Run(c.name, func(b *testing.B) {
			p := sizeBot()
			p.NLU = nil
			rt, err := engine.NewRuntime(p, engine.Options{Store: memory.New(), Understander: keyword.New(p), ActiveTurns: c.active})
			if err != nil {
				b.Fatal(err)
			}
			playScript(b, rt, 100)
		})
	}
}

// cpuTime is the CPU time the process used so far, user and system: on a
// shared, noisy machine it varies less than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestHeapPerWaitingConversation measures the heap held by conversations
// left waiting mid-flow (after turn 3, as the peer's 'mid' state), without
// their transcripts.
func TestHeapPerWaitingConversation(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 20,000 conversations")
	}
	const n = 20000
	st := memory.New(memory.Options{MaxTranscript: 1, MaxEvents: 1})
	rt := benchRuntime(&testing.B{}, st)
	ctx := context.Background()
	run := func(prefix string) {
		for i := range n {
			id := fmt.Sprint(prefix, i)
			for j := range 3 {
				if _, err := rt.Handle(ctx, engine.Inbound{Conversation: id, Channel: "bench", ID: fmt.Sprint(j), Text: benchScript[j].user}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	run("warm")
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m0)
	run("c")
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	per := float64(m1.HeapAlloc-m0.HeapAlloc) / n
	t.Logf("heap per conversation waiting mid-flow: %.0f bytes (transcript and event log capped: counted apart)", per)
	runtime.KeepAlive(rt)
}

// BenchmarkTurnBolt is BenchmarkTurn on the durable store, 1,000
// conversations in flight: every turn is fsynced before it returns.
func BenchmarkTurnBolt(b *testing.B) {
	st, err := bolt.Open(b.TempDir(), bolt.Options{NoBackupSocket: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	defer func() {
		if s, err := st.Stats(); err == nil && s.Transactions > 0 {
			b.ReportMetric(float64(s.Commits)/float64(s.Transactions), "commits/tx")
		}
	}()
	playScript(b, benchRuntime(b, st), 1000)
}
