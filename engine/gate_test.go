package engine

import (
	"context"
	"runtime"
	"sync"
	"testing"
)

// TestGateIsFIFO: turns are admitted in the order they arrived, and those
// coming back from an action before any of them.
func TestGateIsFIFO(t *testing.T) {
	g := newGate(1)
	ctx := context.Background()
	if err := g.enter(ctx, false); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	arrive := func(i int, again bool) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.enter(ctx, again); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			g.leave()
		}()
		for g.waiting() != i+1 { // queued before the next one arrives
			runtime.Gosched()
		}
	}
	for i := range 40 {
		arrive(i, false)
	}
	arrive(40, true) // back from an action: first
	arrive(41, true)
	g.leave()
	wg.Wait()
	want := append([]int{40, 41}, make([]int, 40)...)
	for i := range 40 {
		want[i+2] = i
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order = %v\nwant    %v", order, want)
		}
	}
	if g.free != 1 || g.queue.len() != 0 || g.again.len() != 0 {
		t.Fatalf("gate left with free=%d queued=%d", g.free, g.waiting())
	}
}

// TestGateBoundsAndCancels: no more than n turns are inside; a turn whose
// context ends while it waits leaves the queue without taking a place.
func TestGateBoundsAndCancels(t *testing.T) {
	g := newGate(2)
	bg := context.Background()
	g.enter(bg, false)
	g.enter(bg, false)
	ctx, cancel := context.WithCancel(bg)
	errc := make(chan error)
	go func() { errc <- g.enter(ctx, false) }()
	for g.waiting() != 1 {
		runtime.Gosched()
	}
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("entered a full gate after cancel")
	}
	if g.waiting() != 0 {
		t.Fatal("the cancelled turn is still queued")
	}
	g.leave()
	g.leave()
	if g.free != 2 {
		t.Fatalf("free = %d, want 2", g.free)
	}
	var inside, most int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.enter(bg, false)
			mu.Lock()
			inside++
			most = max(most, inside)
			mu.Unlock()
			runtime.Gosched()
			mu.Lock()
			inside--
			mu.Unlock()
			g.leave()
		}()
	}
	wg.Wait()
	if most > 2 {
		t.Fatalf("%d turns inside a gate of 2", most)
	}
	var nilGate *gate // no bound
	if err := nilGate.enter(bg, false); err != nil || nilGate.waiting() != 0 {
		t.Fatal("a nil gate must admit at once")
	}
	nilGate.leave()
}

// TestFIFORemoveAndCompact exercises the queue's bookkeeping.
func TestFIFORemoveAndCompact(t *testing.T) {
	var q fifo
	chs := make([]chan struct{}, 300)
	for i := range chs {
		chs[i] = make(chan struct{}, 1)
		q.push(chs[i])
	}
	if !q.remove(chs[150]) || q.remove(chs[150]) {
		t.Fatal("remove")
	}
	for i := range 200 {
		if i == 150 {
			continue
		}
		if got := q.pop(); got != chs[i] {
			t.Fatalf("pop %d: wrong channel", i)
		}
	}
	extra := make(chan struct{}, 1)
	q.push(extra) // compacts: 200 of 300 consumed
	if q.head != 0 || q.len() != 101 {
		t.Fatalf("after compaction head=%d len=%d", q.head, q.len())
	}
	for i := 200; i < 300; i++ {
		if q.pop() != chs[i] {
			t.Fatalf("pop %d after compaction", i)
		}
	}
	if q.pop() != extra || q.pop() != nil || q.len() != 0 {
		t.Fatal("tail")
	}
}
