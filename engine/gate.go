package engine

import (
	"context"
	"sync"
)

// gate bounds how many turns execute at once and admits them first come,
// first served.
//
// Without it, a thousand conversations in flight on two cores are a
// thousand runnable goroutines: the Go scheduler serves them unevenly (those
// in its global queue wait while the others cycle through the per-CPU
// queues), and a goroutine descheduled while it holds a store's shard lock
// makes every other turn of that shard queue behind it — a lock convoy that
// turned turns of 40 µs into waits of seconds. With the gate, the turns not
// admitted sleep in a FIFO, the few admitted run at once without
// contending, and a turn's deadline starts when it runs.
//
// A turn holds its place only while it computes: it gives it back before
// waiting for the store's commit (an fsync) and while an action runs, and
// a turn coming back from an action is admitted before the newly arrived
// ones, so that what was started is finished first.
type gate struct {
	size  int
	mu    sync.Mutex
	free  int
	queue fifo // turns that arrived
	again fifo // turns back from an action: served first
}

// newGate returns a gate for n turns at once; nil (no bound) when n <= 0.
func newGate(n int) *gate {
	if n <= 0 {
		return nil
	}
	return &gate{size: n, free: n}
}

// enter waits for a place. again says the turn comes back from a wait
// (an action) and goes before the turns that have not started. It fails
// only when ctx ends first. A nil gate admits at once.
func (g *gate) enter(ctx context.Context, again bool) error {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	if g.free > 0 && g.again.len() == 0 && (again || g.queue.len() == 0) {
		g.free--
		g.mu.Unlock()
		return nil
	}
	// A channel of its own, buffered: leave never blocks. Not recycled
	// through a pool: a channel made outside a testing/synctest bubble and
	// waited on inside would keep the bubble from ever settling.
	ch := make(chan struct{}, 1)
	q := &g.queue
	if again {
		q = &g.again
	}
	q.push(ch)
	g.mu.Unlock()
	done := ctx.Done()
	if done == nil { // a context that never ends: a plain receive is cheaper than a select
		<-ch
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-done:
	}
	g.mu.Lock()
	if q.remove(ch) {
		g.mu.Unlock()
		return ctx.Err()
	}
	g.mu.Unlock()
	// The place was handed over just as ctx ended: pass it on.
	<-ch
	g.leave()
	return ctx.Err()
}

// leave gives a place back: to the first turn waiting, if any.
func (g *gate) leave() {
	if g == nil {
		return
	}
	g.mu.Lock()
	ch := g.again.pop()
	if ch == nil {
		ch = g.queue.pop()
	}
	if ch == nil {
		g.free++
	} else {
		ch <- struct{}{} // buffered: never blocks
	}
	g.mu.Unlock()
}

// waiting returns how many turns wait for a place (for tests and metrics).
func (g *gate) waiting() int {
	if g == nil {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.queue.len() + g.again.len()
}

// fifo is a queue of waiting turns.
type fifo struct {
	items []chan struct{}
	head  int
}

func (q *fifo) len() int { return len(q.items) - q.head }

func (q *fifo) push(ch chan struct{}) {
	if q.head > 0 && q.head == len(q.items) { // empty: start over at the front
		q.items, q.head = q.items[:0], 0
	}
	if q.head > 64 && q.head*2 >= len(q.items) { // mostly consumed: move the rest down
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	q.items = append(q.items, ch)
}

func (q *fifo) pop() chan struct{} {
	if q.head == len(q.items) {
		return nil
	}
	ch := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	return ch
}

// remove takes ch out of the queue; it reports whether ch was there.
func (q *fifo) remove(ch chan struct{}) bool {
	for i := q.head; i < len(q.items); i++ {
		if q.items[i] == ch {
			copy(q.items[i:], q.items[i+1:])
			q.items[len(q.items)-1] = nil
			q.items = q.items[:len(q.items)-1]
			return true
		}
	}
	return false
}
