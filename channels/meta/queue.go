package meta

import (
	"context"
	"sync"
)

// Queue runs jobs keyed by conversation: the jobs of one conversation one at
// a time in the order they were pushed, different conversations in parallel
// (at most Workers at once), and never more than Max jobs waiting in all.
// A webhook reserves room for what a delivery holds before answering Meta,
// so a full queue is a 503 that Meta redelivers, never a lost message.
// The zero value is ready to use.
type Queue struct {
	Max     int // jobs reserved or waiting (default 10,000)
	Workers int // conversations running at once (default 128)

	once   sync.Once
	sem    chan struct{}
	mu     sync.Mutex
	lanes  map[string]*lane
	held   int // reserved slots, including queued and running jobs
	closed bool
	idle   chan struct{} // closed when closed and nothing is held
}

type lane struct{ jobs []func() }

func (q *Queue) init() {
	q.once.Do(func() {
		w := q.Workers
		if w <= 0 {
			w = 128
		}
		q.sem = make(chan struct{}, w)
		q.lanes = map[string]*lane{}
	})
}

// Reserve holds room for n jobs and reports whether there was room (and
// the queue is open). Each reserved slot is given back by Release or by
// the end of a job pushed with it.
func (q *Queue) Reserve(n int) bool {
	q.init()
	max := q.Max
	if max <= 0 {
		max = 10_000
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.held+n > max {
		return false
	}
	q.held += n
	return true
}

// Release gives back n reserved slots that will not be pushed.
func (q *Queue) Release(n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.held -= n
	if q.closed && q.held == 0 && q.idle != nil {
		close(q.idle)
		q.idle = nil
	}
}

// Len is how many slots are reserved (waiting or running jobs included).
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.held
}

// Push queues job after the jobs already queued for key, using a slot
// reserved before; the slot is released when the job has run.
func (q *Queue) Push(key string, job func()) {
	q.init()
	q.mu.Lock()
	defer q.mu.Unlock()
	if l, ok := q.lanes[key]; ok {
		l.jobs = append(l.jobs, job)
		return
	}
	l := &lane{jobs: []func(){job}}
	q.lanes[key] = l
	go q.run(key, l)
}

func (q *Queue) run(key string, l *lane) {
	q.sem <- struct{}{}
	defer func() { <-q.sem }()
	for {
		q.mu.Lock()
		if len(l.jobs) == 0 {
			delete(q.lanes, key)
			q.mu.Unlock()
			return
		}
		job := l.jobs[0]
		l.jobs[0] = nil
		l.jobs = l.jobs[1:]
		q.mu.Unlock()
		job()
		q.Release(1)
	}
}

// Close refuses new reservations and waits until every reserved slot is
// given back — the queued jobs have run, and what was reserved before is
// pushed and run or released — or ctx is done.
func (q *Queue) Close(ctx context.Context) error {
	q.init()
	q.mu.Lock()
	q.closed = true
	if q.held == 0 {
		q.mu.Unlock()
		return nil
	}
	if q.idle == nil {
		q.idle = make(chan struct{})
	}
	idle := q.idle
	q.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
