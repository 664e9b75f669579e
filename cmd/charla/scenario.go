package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/keyword"
	"github.com/charlabot/charla/flows"
	"github.com/charlabot/charla/nlu"
)

// This file holds what `charla test` and `charla bench` share: the bot's
// understander, and a runtime set up for one conversation test (its mocks,
// its clock, a recorder of proactive messages).

// testEpoch is the clock of a test that sets no `now:` (a Monday morning).
var testEpoch = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// understanderFor returns the understander named by which: "nlu" (the
// trained classifier), "keyword" (engine/keyword) or "auto": the real NLU
// when the bot has training data, else the keyword understander. It
// returns the name of the one it chose.
func understanderFor(prog *engine.Program, which string) (engine.Understander, string, error) {
	switch which {
	case "keyword":
		return keyword.New(prog), "keyword", nil
	case "nlu", "auto", "":
	default:
		return nil, "", fmt.Errorf("unknown understander %q (auto, nlu, keyword)", which)
	}
	hasData := len(prog.KB) > 0 || which == "nlu"
	for _, d := range prog.NLU {
		if len(d.Intents) > 0 {
			hasData = true
		}
	}
	if !hasData {
		return keyword.New(prog), "keyword", nil
	}
	var opts []nlu.Option
	if dir, err := os.UserCacheDir(); err == nil {
		opts = append(opts, nlu.WithCacheDir(filepath.Join(dir, "charla", "nlu")))
	}
	u, err := nlu.New(prog, opts...)
	if err != nil {
		return nil, "", fmt.Errorf("training the NLU: %w", err)
	}
	return u, "nlu", nil
}

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// actionLog records the actions called, and the calls of actions that have
// neither a mock nor an implementation.
type actionLog struct {
	mu      sync.Mutex
	calls   []engine.ActionCall
	missing []string
}

func (l *actionLog) take() ([]engine.ActionCall, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, m := l.calls, l.missing
	l.calls, l.missing = nil, nil
	return c, m
}

// mockActions returns the functions behind the program's actions for a
// test: its mocks (successive results, the last one repeating), else the
// real HTTP call, else a failure saying the action has neither.
func mockActions(prog *engine.Program, tc *flows.TestCase, rt func() *engine.Runtime, log *actionLog) map[string]engine.ActionFunc {
	out := map[string]engine.ActionFunc{}
	for _, spec := range prog.Actions {
		spec := spec
		mocks := tc.Mocks[spec.Name]
		var n int
		var mu sync.Mutex
		out[spec.Name] = func(ctx context.Context, call engine.ActionCall) (any, error) {
			if log != nil {
				log.mu.Lock()
				log.calls = append(log.calls, call)
				log.mu.Unlock()
			}
			if len(mocks) > 0 {
				mu.Lock()
				m := mocks[min(n, len(mocks)-1)]
				n++
				mu.Unlock()
				if m.Error != "" {
					return nil, errors.New(m.Error)
				}
				return m.Result, nil
			}
			if spec.HTTP != nil {
				return rt().HTTPAction(spec)(ctx, call)
			}
			if log != nil {
				log.mu.Lock()
				log.missing = append(log.missing, spec.Name)
				log.mu.Unlock()
			}
			return nil, fmt.Errorf("action %s has no mock and no implementation", spec.Name)
		}
	}
	return out
}

// recorder is the Sender of the test channel: it keeps proactive messages
// (reminders, event flows' messages) for the turn that caused them.
type recorder struct {
	mu   sync.Mutex
	msgs []engine.Outbound
}

func (r *recorder) Send(_ context.Context, o engine.Outbound) error {
	r.mu.Lock()
	r.msgs = append(r.msgs, o)
	r.mu.Unlock()
	return nil
}

func (r *recorder) take() []engine.Outbound {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.msgs
	r.msgs = nil
	return m
}

// inbound returns the message a test turn sends.
func inbound(conv string, tc *flows.TestCase, turn *flows.TestTurn, id string) engine.Inbound {
	in := engine.Inbound{Conversation: conv, User: tc.User, Channel: tc.Channel, ID: id, Lang: tc.Lang, Verified: tc.Verified}
	if in.Channel == "" {
		in.Channel = "test"
	}
	switch turn.Kind {
	case flows.TurnUser:
		in.Text = turn.Text
	case flows.TurnChoice:
		in.Choice = turn.Choice
	case flows.TurnEvent:
		in.Event, in.Data = turn.Event, turn.Data
	}
	return in
}

// seed puts a test's conversation in its start state.
func seed(ctx context.Context, rt *engine.Runtime, conv string, tc *flows.TestCase) error {
	if tc.Start == nil {
		return nil
	}
	ch := tc.Channel
	if ch == "" {
		ch = "test"
	}
	_, err := rt.Seed(ctx, conv, engine.Seed{User: tc.User, Verified: tc.Verified, Channel: ch, Lang: tc.Lang,
		Flow: tc.Start.Flow, Step: tc.Start.Step, Slots: tc.Start.Slots, Profile: tc.Start.Profile})
	return err
}
