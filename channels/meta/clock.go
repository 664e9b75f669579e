package meta

import (
	"context"
	"sync"
	"time"
)

// Clock is the time the connectors read and wait on. Tests inject a manual
// clock so that nothing sleeps for time to pass.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc.
type Timer interface {
	// Stop prevents the call if it has not happened yet, and reports
	// whether it did so.
	Stop() bool
}

// SystemClock is the real clock.
var SystemClock Clock = systemClock{}

type systemClock struct{}

func (systemClock) Now() time.Time                            { return time.Now() }
func (systemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

func clockOr(c Clock) Clock {
	if c == nil {
		return SystemClock
	}
	return c
}

// Limiter is a token bucket: Rate requests per second with bursts of Burst.
// Reservations may go into debt, so waiters are served in order. The zero
// Rate means no limit. It is safe for concurrent use.
type Limiter struct {
	Rate  float64
	Burst float64 // default max(1, Rate)
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// NewLimiter returns a limiter of rate requests per second (<= 0: none).
func NewLimiter(rate float64) *Limiter { return &Limiter{Rate: rate} }

// Reserve takes a token and returns how long to wait before using it.
func (l *Limiter) Reserve() time.Duration {
	if l == nil || l.Rate <= 0 {
		return 0
	}
	now := time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	burst := l.Burst
	if burst <= 0 {
		burst = max(1, l.Rate)
	}
	if l.last.IsZero() {
		l.tokens = burst
	} else if now.After(l.last) {
		l.tokens = min(burst, l.tokens+now.Sub(l.last).Seconds()*l.Rate)
	}
	if now.After(l.last) {
		l.last = now
	}
	l.tokens--
	if l.tokens >= 0 {
		return 0
	}
	return time.Duration(-l.tokens / l.Rate * float64(time.Second))
}

// Wait takes a token, waiting until it is due or ctx is done.
func (l *Limiter) Wait(ctx context.Context) error {
	d := l.Reserve()
	if d <= 0 {
		return ctx.Err()
	}
	if l.Sleep != nil {
		return l.Sleep(ctx, d)
	}
	return Sleep(ctx, d)
}
