package meta

import (
	"sync"
	"time"
)

// Debouncer gathers the items of a key that arrive close together — a
// shopper typing "hola" / "quiero cambiar" / "la talla" in a burst — and
// hands them over at once: Delay after the last one, or MaxWait after the
// first (default 4×Delay) for someone who never pauses. Flush is called
// with the debouncer's lock held, one call at a time, so it must be quick
// (queue the items) and must not call the debouncer. Fields must not change
// once in use.
type Debouncer[T any] struct {
	Delay   time.Duration
	MaxWait time.Duration
	Clock   Clock
	Flush   func(key string, items []T)

	mu      sync.Mutex
	pending map[string]*burst[T]
}

type burst[T any] struct {
	items []T
	first time.Time
	timer Timer
	gen   uint64
}

// Add appends item to key's burst and (re)starts its timer.
func (d *Debouncer[T]) Add(key string, item T) {
	c := clockOr(d.Clock)
	now := c.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pending == nil {
		d.pending = map[string]*burst[T]{}
	}
	b := d.pending[key]
	if b == nil {
		b = &burst[T]{first: now}
		d.pending[key] = b
	}
	b.items = append(b.items, item)
	if b.timer != nil {
		b.timer.Stop()
	}
	maxWait := d.MaxWait
	if maxWait <= 0 {
		maxWait = 4 * d.Delay
	}
	wait := min(d.Delay, b.first.Add(maxWait).Sub(now))
	b.gen++
	gen := b.gen
	b.timer = c.AfterFunc(max(wait, 0), func() { d.fire(key, gen) })
}

func (d *Debouncer[T]) fire(key string, gen uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if b := d.pending[key]; b != nil && b.gen == gen {
		d.flushLocked(key, b)
	}
}

func (d *Debouncer[T]) flushLocked(key string, b *burst[T]) {
	delete(d.pending, key)
	if b.timer != nil {
		b.timer.Stop()
	}
	d.Flush(key, b.items)
}

// FlushKey hands over key's burst now, if there is one, and then calls
// then (which may be nil) under the same lock, so that what then queues
// comes after the burst.
func (d *Debouncer[T]) FlushKey(key string, then func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if b := d.pending[key]; b != nil {
		d.flushLocked(key, b)
	}
	if then != nil {
		then()
	}
}

// FlushAll hands over every burst now (at shutdown).
func (d *Debouncer[T]) FlushAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for key, b := range d.pending {
		d.flushLocked(key, b)
	}
}

// Pending is how many keys have a burst waiting.
func (d *Debouncer[T]) Pending() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.pending)
}
