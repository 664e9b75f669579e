package channeltest

import (
	"sort"
	"sync"
	"time"

	"github.com/charlabot/charla/channels/meta"
)

// Clock is a manual clock for connectors that wait (debounce, windows): time
// moves only when the test calls Advance, which runs the functions that
// have come due, in order. It implements meta.Clock.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*clockTimer
	seq    int
}

var _ meta.Clock = (*Clock)(nil)

type clockTimer struct {
	c       *Clock
	due     time.Time
	seq     int
	f       func()
	stopped bool
}

// NewClock returns a clock that reads start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc calls f when the clock has been advanced by d.
func (c *Clock) AfterFunc(d time.Duration, f func()) meta.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &clockTimer{c: c, due: c.now.Add(d), seq: c.seq, f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *clockTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	for i, x := range t.c.timers {
		if x == t {
			t.c.timers = append(t.c.timers[:i], t.c.timers[i+1:]...)
			return was
		}
	}
	return false
}

// Advance moves the clock forward by d, calling the functions due on the
// way (synchronously, in order of their due time).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	for {
		sort.SliceStable(c.timers, func(i, j int) bool {
			if !c.timers[i].due.Equal(c.timers[j].due) {
				return c.timers[i].due.Before(c.timers[j].due)
			}
			return c.timers[i].seq < c.timers[j].seq
		})
		if len(c.timers) == 0 || c.timers[0].due.After(end) {
			break
		}
		t := c.timers[0]
		c.timers = c.timers[1:]
		t.stopped = true
		if t.due.After(c.now) {
			c.now = t.due
		}
		c.mu.Unlock()
		t.f()
		c.mu.Lock()
	}
	c.now = end
	c.mu.Unlock()
}

// Pending is how many functions wait for their time.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}
