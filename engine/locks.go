package engine

import (
	"context"
	"hash/maphash"
	"sync"
)

// convLocks serialises the turns of each conversation in arrival order,
// without a process-wide lock: conversations hash onto shards, each with its
// own mutex guarding only the bookkeeping of its queues.
type convLocks struct {
	seed   maphash.Seed
	shards [256]lockShard
}

type lockShard struct {
	mu sync.Mutex
	m  map[string]*convQueue
}

// convQueue is the FIFO of turns of one conversation: the holder and those
// waiting, in arrival order.
type convQueue struct {
	busy    bool
	waiters []chan struct{}
	refs    int
}

func newConvLocks() *convLocks {
	l := &convLocks{seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].m = make(map[string]*convQueue)
	}
	return l
}

func (l *convLocks) shard(id string) *lockShard {
	return &l.shards[maphash.String(l.seed, id)%uint64(len(l.shards))]
}

// lock waits for the conversation's turn. Callers are served in the order in
// which they called lock. It fails only when ctx is done first.
func (l *convLocks) lock(ctx context.Context, id string) error {
	sh := l.shard(id)
	sh.mu.Lock()
	q := sh.m[id]
	if q == nil {
		q = queues.Get().(*convQueue)
		sh.m[id] = q
	}
	q.refs++
	if !q.busy {
		q.busy = true
		sh.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	q.waiters = append(q.waiters, ch)
	sh.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
	}
	sh.mu.Lock()
	for i, w := range q.waiters {
		if w == ch { // still waiting: leave the queue
			q.waiters = append(q.waiters[:i], q.waiters[i+1:]...)
			l.dropRef(sh, id, q)
			sh.mu.Unlock()
			return ctx.Err()
		}
	}
	sh.mu.Unlock()
	// The lock was handed over just as ctx ended: pass it on.
	l.unlock(id)
	return ctx.Err()
}

// unlock hands the conversation to the next waiting caller, if any.
func (l *convLocks) unlock(id string) {
	sh := l.shard(id)
	sh.mu.Lock()
	q := sh.m[id]
	if len(q.waiters) > 0 {
		ch := q.waiters[0]
		q.waiters[0] = nil
		q.waiters = q.waiters[1:]
		close(ch)
	} else {
		q.busy = false
	}
	l.dropRef(sh, id, q)
	sh.mu.Unlock()
}

func (l *convLocks) dropRef(sh *lockShard, id string, q *convQueue) {
	q.refs--
	if q.refs == 0 {
		delete(sh.m, id)
		q.busy, q.waiters = false, q.waiters[:0]
		queues.Put(q)
	}
}

// queues recycles the queues of conversations nobody holds: most turns
// find their conversation free, and would allocate one each.
var queues = sync.Pool{New: func() any { return new(convQueue) }}

// waiting returns how many callers wait for the conversation (for tests).
func (l *convLocks) waiting(id string) int {
	sh := l.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if q := sh.m[id]; q != nil {
		return len(q.waiters)
	}
	return 0
}
