package engine

import (
	"context"
	"time"
)

// FireTimers runs every timer due by now (the injected clock): Wait
// timeouts, inactivity reminders and closes, session expiry. Each runs as a
// turn of its conversation; its messages are proactive (sent through the
// channel's Sender, or kept in the outbox). It returns how many fired.
// [Runtime.Run] calls it periodically; tests call it after moving the clock.
func (rt *Runtime) FireTimers(ctx context.Context) (int, error) {
	now := rt.now()
	done := map[Timer]bool{}
	n := 0
	for {
		due, err := rt.store.DueTimers(ctx, now, 256)
		if err != nil {
			return n, storeError(err)
		}
		fresh := 0
		for _, tm := range due {
			k := Timer{Conversation: tm.Conversation, Kind: tm.Kind, Due: tm.Due.UTC()}
			if done[k] {
				continue
			}
			done[k] = true
			fresh++
			if err := rt.fireTimer(ctx, tm); err != nil {
				return n, err
			}
			n++
		}
		if len(due) < 256 || fresh == 0 {
			return n, nil
		}
	}
}

// fireTimer runs one timer as a turn of its conversation.
func (rt *Runtime) fireTimer(ctx context.Context, tm Timer) error {
	return rt.withConversation(ctx, tm.Conversation, func(prev *Session) (*turnResult, error) {
		if prev == nil { // the conversation is gone: drop the timer
			if err := rt.store.Commit(ctx, &Commit{Unschedule: []Timer{tm}}); err != nil {
				return nil, storeError(err)
			}
			return nil, nil
		}
		return rt.sideTurn(ctx, prev, asBefore(prev), sideProactive, func(t *turn) error {
			t.fire(tm)
			return nil
		})
	})
}

// Run fires timers as they come due and prunes what the retention settings
// allow, until ctx ends. Servers run it in a goroutine; it returns ctx's error.
func (rt *Runtime) Run(ctx context.Context) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var lastPrune time.Time
	for {
		if _, err := rt.FireTimers(ctx); err != nil && ctx.Err() == nil {
			rt.log.Error("timers", "err", err)
		}
		if now := rt.now(); now.Sub(lastPrune) >= time.Hour {
			lastPrune = now
			if err := rt.Prune(ctx); err != nil && ctx.Err() == nil {
				rt.log.Error("prune", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		case <-rt.wake:
		}
	}
}

// Prune deletes transcripts, idle sessions and profiles older than the
// program's Retention, and event-log entries older than its EventLogTTL.
func (rt *Runtime) Prune(ctx context.Context) error {
	st := rt.programs.Load().current.settings
	now := rt.now()
	var p Prune
	if st.Retention > 0 {
		p.Transcripts = now.Add(-st.Retention)
		p.Profiles = now.Add(-st.Retention)
	}
	if st.EventLogTTL > 0 {
		p.Events = now.Add(-st.EventLogTTL)
	}
	if p == (Prune{}) {
		return nil
	}
	if err := rt.store.Prune(ctx, p); err != nil {
		return storeError(err)
	}
	return nil
}
