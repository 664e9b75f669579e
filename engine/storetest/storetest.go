// Package storetest is the conformance suite of engine.Store: every store
// adapter runs it from its own tests, so all stores behave alike.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) engine.Store { return memory.New() })
//	}
package storetest

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/charlabot/charla/engine"
)

// Opener returns a new, empty store for one test; the suite closes it.
type Opener func(t *testing.T) engine.Store

// Reopener, when a store is durable, closes a store and opens the same
// data again (to check what survives a restart).
type Reopener func(t *testing.T, s engine.Store) engine.Store

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// Run runs the suite. reopen may be nil for a store that keeps nothing.
func Run(t *testing.T, open Opener, reopen ...Reopener) {
	var re Reopener
	if len(reopen) > 0 {
		re = reopen[0]
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s engine.Store, re Reopener) engine.Store
	}{
		{"SessionRoundTrip", testSessionRoundTrip},
		{"LoadMissing", testLoadMissing},
		{"Transcript", testTranscript},
		{"Timers", testTimers},
		{"Events", testEvents},
		{"Profiles", testProfiles},
		{"Outbox", testOutbox},
		{"EraseUser", testEraseUser},
		{"Prune", testPrune},
		{"ConcurrentCommits", testConcurrent},
		{"ClosedStore", testClosed},
		{"StagedCommit", testStagedCommit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			s = tt.fn(t, s, re)
			if s != nil {
				s.Close()
			}
		})
	}
}

var ctx = context.Background()

// reopened returns s reopened when the store is durable, else s.
func reopened(t *testing.T, s engine.Store, re Reopener) engine.Store {
	if re == nil {
		return s
	}
	return re(t, s)
}

// sampleSession is a session using every kind of value and field.
func sampleSession(id, user string) *engine.Session {
	loc := time.FixedZone("COT", -5*3600)
	return &engine.Session{
		ID: id, User: user, Channel: "webchat", Lang: "es", Verified: true, Status: engine.StatusBot, Version: "v1",
		Stack: []engine.Frame{
			{Flow: "size_exchange", Step: 3, Kind: engine.FrameStarted, Mode: engine.ModeRunning, Vars: engine.Vars{
				{Name: "order", Value: "A1234"},
				{Name: "size", Value: 43.5},
				{Name: "qty", Value: 2},
				{Name: "confirmed", Value: false},
				{Name: "when", Value: time.Date(2026, 11, 20, 15, 4, 5, 0, loc)},
				{Name: "o", Value: map[string]any{"id": "A1234", "items": []any{"x", 1, 2.5, true, nil}, "nested": map[string]any{"k": "v"}}},
				{Name: "empty", Value: []any{}},
				{Name: "big", Value: -1 << 40},
			}},
			{Flow: "order_status", Step: 0, Slot: "order", Kind: engine.FrameDigression, Mode: engine.ModeAsking, Tries: 2, Reprompt: true},
		},
		Vars:       engine.Vars{{Name: "email", Value: "ana@example.com"}, {Name: "ñandú", Value: "¡sí! 🎉"}},
		Seq:        7,
		Turns:      3,
		Fallbacks:  1,
		Started:    t0,
		LastActive: t0.Add(time.Minute),
		Timers: []engine.Timer{
			{Conversation: id, Kind: engine.TimerExpire, Due: t0.Add(24 * time.Hour)},
			{Conversation: id, Kind: engine.TimerReminder, Due: t0.Add(5 * time.Minute)},
		},
		Recent:  []engine.Delivery{{ID: "m1", First: 2, Last: 3}, {ID: "m2", First: 5, Last: 4}},
		Handoff: &engine.HandoffState{Queue: "ventas", Reason: "asked", Agent: "maria", Since: t0},
	}
}

func entry(seq int64, from, text string) engine.Entry {
	return engine.Entry{Seq: seq, From: from, Text: text, At: t0.Add(time.Duration(seq) * time.Second), Channel: "webchat",
		Choices: []engine.OutChoice{{Label: "Sí", Value: "yes"}}, Flow: "size_exchange"}
}

// sameSession compares sessions, times by instant.
func sameSession(t *testing.T, got, want *engine.Session) {
	t.Helper()
	if got == nil {
		t.Fatalf("session missing")
	}
	g, w := normTimes(*got), normTimes(*want)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("session differs:\n got  %+v\n want %+v", g, w)
	}
}

func normTimes(s engine.Session) engine.Session {
	s.Started, s.LastActive = s.Started.UTC(), s.LastActive.UTC()
	s.Timers = append([]engine.Timer(nil), s.Timers...)
	for i := range s.Timers {
		s.Timers[i].Due = s.Timers[i].Due.UTC()
	}
	if s.Handoff != nil {
		h := *s.Handoff
		h.Since = h.Since.UTC()
		s.Handoff = &h
	}
	st := make([]engine.Frame, len(s.Stack))
	for i, f := range s.Stack {
		f.Vars = normVars(f.Vars)
		st[i] = f
	}
	s.Stack = st
	s.Vars = normVars(s.Vars)
	return s
}

func normVars(vs engine.Vars) engine.Vars {
	if vs == nil {
		return nil
	}
	out := make(engine.Vars, len(vs))
	for i, v := range vs {
		out[i] = engine.Var{Name: v.Name, Value: normValue(v.Value)}
	}
	return out
}

func normValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normValue(e)
		}
		return out
	}
	return v
}

func testSessionRoundTrip(t *testing.T, s engine.Store, re Reopener) engine.Store {
	want := sampleSession("c1", "ana")
	if err := s.Commit(ctx, &engine.Commit{Session: want}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	sameSession(t, got, want)
	// Types survive exactly: an int stays an int, a float a float.
	o := got.Stack[0].Vars
	if v, _ := o.Get("qty"); reflect.TypeOf(v) != reflect.TypeOf(0) {
		t.Fatalf("qty is %T", v)
	}
	if v, _ := o.Get("size"); reflect.TypeOf(v) != reflect.TypeOf(0.0) {
		t.Fatalf("size is %T", v)
	}
	s = reopened(t, s, re)
	got, err = s.Load(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	sameSession(t, got, want)
	// A later commit replaces the session.
	next := sampleSession("c1", "ana")
	next.Stack, next.Seq, next.Status, next.Handoff, next.Timers = nil, 9, engine.StatusClosed, nil, nil
	if err := s.Commit(ctx, &engine.Commit{Session: next, Unschedule: want.Timers}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Load(ctx, "c1")
	sameSession(t, got, next)
	return s
}

// testStagedCommit: a StagedStore's staged commit, once waited for, is
// the same as a Commit: readable, and durable.
func testStagedCommit(t *testing.T, s engine.Store, re Reopener) engine.Store {
	st, ok := s.(engine.StagedStore)
	if !ok {
		t.Skip("not a StagedStore")
	}
	want := sampleSession("c1", "ana")
	wait, err := st.StageCommit(ctx, &engine.Commit{Session: want,
		Entries: []engine.Entry{{Seq: 1, From: engine.FromUser, Text: "hola", At: want.LastActive}},
		Profile: &engine.Profile{ID: "ana", Created: want.Started, Updated: want.LastActive}})
	if err != nil {
		t.Fatal(err)
	}
	if wait != nil {
		if err := wait(); err != nil {
			t.Fatal(err)
		}
	}
	s = reopened(t, s, re)
	got, err := s.Load(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	sameSession(t, got, want)
	if p, err := s.Profile(ctx, "ana"); err != nil || p == nil {
		t.Fatalf("profile: %v, %v", p, err)
	}
	if es, err := s.Transcript(ctx, "c1", 0, 0); err != nil || len(es) != 1 || es[0].Text != "hola" {
		t.Fatalf("transcript: %v, %v", es, err)
	}
	return s
}

func testLoadMissing(t *testing.T, s engine.Store, _ Reopener) engine.Store {
	got, err := s.Load(ctx, "nobody")
	if err != nil || got != nil {
		t.Fatalf("Load(missing) = %v, %v", got, err)
	}
	p, err := s.Profile(ctx, "nobody")
	if err != nil || p != nil {
		t.Fatalf("Profile(missing) = %v, %v", p, err)
	}
	es, err := s.Transcript(ctx, "nobody", 0, 0)
	if err != nil || len(es) != 0 {
		t.Fatalf("Transcript(missing) = %v, %v", es, err)
	}
	ids, err := s.Conversations(ctx, "nobody")
	if err != nil || len(ids) != 0 {
		t.Fatalf("Conversations(missing) = %v, %v", ids, err)
	}
	return s
}

func testTranscript(t *testing.T, s engine.Store, re Reopener) engine.Store {
	se := &engine.Session{ID: "c1", Status: engine.StatusBot, Seq: 3}
	e1 := entry(1, engine.FromUser, "hola")
	e1.ID, e1.Attachments = "m1", []engine.Attachment{{ID: "f1", Kind: "image", Size: 10}}
	e2 := entry(2, engine.FromBot, "¡Hola! ¿En qué te ayudo?")
	e2.Link = &engine.OutLink{URL: "https://x", Label: "x"}
	e3 := entry(3, engine.FromAgent, "Soy María")
	e3.Agent, e3.Proactive = "maria", true
	if err := s.Commit(ctx, &engine.Commit{Session: se, Entries: []engine.Entry{e1, e2, e3}}); err != nil {
		t.Fatal(err)
	}
	// Another conversation whose id extends this one's must not mix in.
	other := &engine.Session{ID: "c10", Status: engine.StatusBot, Seq: 1}
	if err := s.Commit(ctx, &engine.Commit{Session: other, Entries: []engine.Entry{entry(1, engine.FromUser, "otro")}}); err != nil {
		t.Fatal(err)
	}
	s = reopened(t, s, re)
	es, err := s.Transcript(ctx, "c1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.Entry{e1, e2, e3}
	if len(es) != 3 {
		t.Fatalf("got %d entries: %+v", len(es), es)
	}
	for i := range es {
		es[i].At = es[i].At.UTC()
		if !reflect.DeepEqual(es[i], want[i]) {
			t.Fatalf("entry %d:\n got  %+v\n want %+v", i, es[i], want[i])
		}
	}
	es, _ = s.Transcript(ctx, "c1", 1, 1)
	if len(es) != 1 || es[0].Seq != 2 {
		t.Fatalf("after 1, limit 1: %+v", es)
	}
	es, _ = s.Transcript(ctx, "c1", 3, 0)
	if len(es) != 0 {
		t.Fatalf("after 3: %+v", es)
	}
	return s
}

func testTimers(t *testing.T, s engine.Store, re Reopener) engine.Store {
	for i := range 5 {
		id := fmt.Sprint("c", i)
		se := &engine.Session{ID: id, Status: engine.StatusBot, Timers: []engine.Timer{
			{Conversation: id, Kind: engine.TimerReminder, Due: t0.Add(time.Duration(5-i) * time.Minute)},
		}}
		if err := s.Commit(ctx, &engine.Commit{Session: se}); err != nil {
			t.Fatal(err)
		}
	}
	s = reopened(t, s, re)
	due, err := s.DueTimers(ctx, t0.Add(3*time.Minute), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 3 || due[0].Conversation != "c4" || due[2].Conversation != "c2" || due[0].Kind != engine.TimerReminder {
		t.Fatalf("due = %+v", due)
	}
	due, _ = s.DueTimers(ctx, t0.Add(time.Hour), 2)
	if len(due) != 2 || !due[0].Due.Equal(t0.Add(time.Minute)) {
		t.Fatalf("limit 2: %+v", due)
	}
	// Rescheduling moves a timer; unscheduling removes it.
	c4 := &engine.Session{ID: "c4", Status: engine.StatusBot, Timers: []engine.Timer{
		{Conversation: "c4", Kind: engine.TimerReminder, Due: t0.Add(time.Hour)},
	}}
	old := engine.Timer{Conversation: "c4", Kind: engine.TimerReminder, Due: t0.Add(time.Minute)}
	if err := s.Commit(ctx, &engine.Commit{Session: c4, Unschedule: []engine.Timer{old}}); err != nil {
		t.Fatal(err)
	}
	c3 := &engine.Session{ID: "c3", Status: engine.StatusBot}
	old3 := engine.Timer{Conversation: "c3", Kind: engine.TimerReminder, Due: t0.Add(2 * time.Minute)}
	if err := s.Commit(ctx, &engine.Commit{Session: c3, Unschedule: []engine.Timer{old3}}); err != nil {
		t.Fatal(err)
	}
	// A commit without a session can drop a timer (of a conversation that is gone).
	old0 := engine.Timer{Conversation: "c0", Kind: engine.TimerReminder, Due: t0.Add(5 * time.Minute)}
	if err := s.Commit(ctx, &engine.Commit{Unschedule: []engine.Timer{old0}}); err != nil {
		t.Fatal(err)
	}
	s = reopened(t, s, re)
	due, _ = s.DueTimers(ctx, t0.Add(10*time.Minute), 0)
	var ids []string
	for _, d := range due {
		ids = append(ids, d.Conversation)
	}
	if fmt.Sprint(ids) != "[c2 c1]" {
		t.Fatalf("due after changes = %v", ids)
	}
	due, _ = s.DueTimers(ctx, t0.Add(2*time.Hour), 0)
	if len(due) != 3 || due[2].Conversation != "c4" {
		t.Fatalf("c4 moved: %+v", due)
	}
	return s
}

func testEvents(t *testing.T, s engine.Store, re Reopener) engine.Store {
	for i := range 3 {
		id := fmt.Sprint("c", i)
		c := &engine.Commit{Session: &engine.Session{ID: id, Status: engine.StatusBot}, Events: []engine.Event{
			{At: t0, Kind: engine.EvTurn, Conversation: id, Intent: "greet", Confidence: 0.9},
			{At: t0, Kind: engine.EvFlowCompleted, Conversation: id, Flow: "welcome", Outcome: engine.OutcomeResolved},
		}}
		if err := s.Commit(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Commit(ctx, &engine.Commit{Events: []engine.Event{{At: t0, Kind: engine.EvCSAT, Conversation: "c1", Value: 5}}}); err != nil {
		t.Fatal(err)
	}
	s = reopened(t, s, re)
	evs, err := s.Events(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 7 {
		t.Fatalf("%d events", len(evs))
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Seq <= evs[i-1].Seq {
			t.Fatalf("seqs not increasing: %d then %d", evs[i-1].Seq, evs[i].Seq)
		}
	}
	if evs[0].Kind != engine.EvTurn || evs[0].Intent != "greet" || evs[1].Outcome != engine.OutcomeResolved || evs[6].Kind != engine.EvCSAT {
		t.Fatalf("events = %+v", evs)
	}
	page, _ := s.Events(ctx, evs[2].Seq, 2)
	if len(page) != 2 || page[0].Seq != evs[3].Seq {
		t.Fatalf("page = %+v", page)
	}
	return s
}

func testProfiles(t *testing.T, s engine.Store, re Reopener) engine.Store {
	p := &engine.Profile{ID: "ana", Vars: engine.Vars{{Name: "name", Value: "Ana"}, {Name: "points", Value: 1250}},
		Identities: []engine.Identity{{Channel: "webchat", Conversation: "c1", Seen: t0}},
		Verified:   true, OptOut: true, Created: t0, Updated: t0.Add(time.Hour)}
	se := &engine.Session{ID: "c1", User: "ana", Status: engine.StatusBot}
	if err := s.Commit(ctx, &engine.Commit{Session: se, Profile: p}); err != nil {
		t.Fatal(err)
	}
	s = reopened(t, s, re)
	got, err := s.Profile(ctx, "ana")
	if err != nil || got == nil {
		t.Fatalf("Profile = %v, %v", got, err)
	}
	if got.ID != "ana" || !got.Verified || !got.OptOut || !got.Updated.Equal(p.Updated) ||
		len(got.Identities) != 1 || got.Identities[0].Conversation != "c1" || !got.Identities[0].Seen.Equal(t0) ||
		!reflect.DeepEqual(got.Vars, p.Vars) {
		t.Fatalf("profile = %+v", got)
	}
	ids, _ := s.Conversations(ctx, "ana")
	if fmt.Sprint(ids) != "[c1]" {
		t.Fatalf("conversations = %v", ids)
	}
	return s
}

func testOutbox(t *testing.T, s engine.Store, re Reopener) engine.Store {
	items := []engine.OutboxItem{
		{User: "ana", Conversation: "c1", Seq: 4, Message: engine.Outbound{Text: "Tu pedido salió", Flow: "shipping"}, At: t0},
		{User: "ana", Conversation: "c1", Seq: 5, Message: engine.Outbound{Text: "Llega mañana"}, At: t0},
		{User: "luis", Conversation: "c2", Seq: 1, Message: engine.Outbound{Text: "Hola Luis"}, At: t0},
	}
	if err := s.Commit(ctx, &engine.Commit{Session: &engine.Session{ID: "c1", User: "ana", Status: engine.StatusBot}, Outbox: items[:2]}); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, &engine.Commit{Session: &engine.Session{ID: "c2", User: "luis", Status: engine.StatusBot}, Outbox: items[2:]}); err != nil {
		t.Fatal(err)
	}
	s = reopened(t, s, re)
	got, err := s.Outbox(ctx, "ana")
	if err != nil || len(got) != 2 || got[0].Seq != 4 || got[1].Message.Text != "Llega mañana" || got[0].Message.Flow != "shipping" {
		t.Fatalf("outbox = %+v, %v", got, err)
	}
	if err := s.Ack(ctx, got[:1]); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Outbox(ctx, "ana")
	if len(got) != 1 || got[0].Seq != 5 {
		t.Fatalf("after ack = %+v", got)
	}
	got, _ = s.Outbox(ctx, "luis")
	if len(got) != 1 {
		t.Fatalf("luis = %+v", got)
	}
	return s
}

func testEraseUser(t *testing.T, s engine.Store, re Reopener) engine.Store {
	for _, c := range []struct{ id, user string }{{"a1", "ana"}, {"a2", "ana"}, {"l1", "luis"}, {"anon", ""}} {
		se := sampleSession(c.id, c.user)
		com := &engine.Commit{Session: se,
			Entries: []engine.Entry{entry(1, engine.FromUser, "hola "+c.id)},
			Events:  []engine.Event{{At: t0, Kind: engine.EvTurn, Conversation: c.id, User: c.user}},
		}
		if c.user != "" {
			com.Profile = &engine.Profile{ID: c.user, Created: t0, Updated: t0}
			com.Outbox = []engine.OutboxItem{{User: c.user, Conversation: c.id, Seq: 1, Message: engine.Outbound{Text: "x"}, At: t0}}
		}
		if err := s.Commit(ctx, com); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.EraseUser(ctx, "ana"); err != nil {
		t.Fatal(err)
	}
	// An anonymous conversation is its own user.
	if err := s.EraseUser(ctx, "anon"); err != nil {
		t.Fatal(err)
	}
	s = reopened(t, s, re)
	for _, id := range []string{"a1", "a2", "anon"} {
		if se, _ := s.Load(ctx, id); se != nil {
			t.Fatalf("session %s survived", id)
		}
		if es, _ := s.Transcript(ctx, id, 0, 0); len(es) != 0 {
			t.Fatalf("transcript %s survived", id)
		}
	}
	if p, _ := s.Profile(ctx, "ana"); p != nil {
		t.Fatalf("profile survived")
	}
	if ob, _ := s.Outbox(ctx, "ana"); len(ob) != 0 {
		t.Fatalf("outbox survived")
	}
	if ids, _ := s.Conversations(ctx, "ana"); len(ids) != 0 {
		t.Fatalf("index survived: %v", ids)
	}
	evs, _ := s.Events(ctx, 0, 0)
	if len(evs) != 1 || evs[0].User != "luis" {
		t.Fatalf("events = %+v", evs)
	}
	due, _ := s.DueTimers(ctx, t0.Add(48*time.Hour), 0)
	for _, d := range due {
		if d.Conversation != "l1" {
			t.Fatalf("timer survived: %+v", d)
		}
	}
	if se, _ := s.Load(ctx, "l1"); se == nil {
		t.Fatalf("luis's session was erased")
	}
	return s
}

func testPrune(t *testing.T, s engine.Store, re Reopener) engine.Store {
	old := &engine.Session{ID: "old", User: "ana", Status: engine.StatusBot, LastActive: t0, Seq: 1}
	recent := &engine.Session{ID: "new", User: "luis", Status: engine.StatusBot, LastActive: t0.Add(48 * time.Hour), Seq: 2}
	s.Commit(ctx, &engine.Commit{Session: old, Entries: []engine.Entry{entry(1, engine.FromUser, "viejo")},
		Profile: &engine.Profile{ID: "ana", Created: t0, Updated: t0},
		Events:  []engine.Event{{At: t0, Kind: engine.EvTurn, Conversation: "old"}}})
	e1 := entry(1, engine.FromUser, "viejo")
	e2 := entry(2, engine.FromUser, "nuevo")
	e2.At = t0.Add(48 * time.Hour)
	s.Commit(ctx, &engine.Commit{Session: recent, Entries: []engine.Entry{e1, e2},
		Profile: &engine.Profile{ID: "luis", Created: t0, Updated: t0.Add(48 * time.Hour)},
		Events:  []engine.Event{{At: t0.Add(48 * time.Hour), Kind: engine.EvTurn, Conversation: "new"}}})
	cut := t0.Add(24 * time.Hour)
	if err := s.Prune(ctx, engine.Prune{Transcripts: cut, Profiles: cut, Events: cut}); err != nil {
		t.Fatal(err)
	}
	s = reopened(t, s, re)
	if se, _ := s.Load(ctx, "old"); se != nil {
		t.Fatalf("idle session survived")
	}
	if ids, _ := s.Conversations(ctx, "ana"); len(ids) != 0 {
		t.Fatalf("index of a pruned session survived: %v", ids)
	}
	if es, _ := s.Transcript(ctx, "new", 0, 0); len(es) != 1 || es[0].Text != "nuevo" {
		t.Fatalf("transcript of new = %+v", es)
	}
	if p, _ := s.Profile(ctx, "ana"); p != nil {
		t.Fatalf("old profile survived")
	}
	if p, _ := s.Profile(ctx, "luis"); p == nil {
		t.Fatalf("recent profile pruned")
	}
	evs, _ := s.Events(ctx, 0, 0)
	if len(evs) != 1 || evs[0].Conversation != "new" {
		t.Fatalf("events = %+v", evs)
	}
	return s
}

func testConcurrent(t *testing.T, s engine.Store, re Reopener) engine.Store {
	const convs, turns = 20, 10
	var wg sync.WaitGroup
	for c := range convs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint("c", c)
			for i := 1; i <= turns; i++ {
				se := &engine.Session{ID: id, Status: engine.StatusBot, Seq: int64(i), Turns: i}
				com := &engine.Commit{Session: se, Entries: []engine.Entry{entry(int64(i), engine.FromUser, fmt.Sprint(i))},
					Events: []engine.Event{{At: t0, Kind: engine.EvTurn, Conversation: id}}}
				if err := s.Commit(ctx, com); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	s = reopened(t, s, re)
	for c := range convs {
		id := fmt.Sprint("c", c)
		se, err := s.Load(ctx, id)
		if err != nil || se == nil || se.Turns != turns {
			t.Fatalf("%s = %+v, %v", id, se, err)
		}
		es, _ := s.Transcript(ctx, id, 0, 0)
		if len(es) != turns {
			t.Fatalf("%s has %d entries", id, len(es))
		}
	}
	evs, _ := s.Events(ctx, 0, 0)
	if len(evs) != convs*turns {
		t.Fatalf("%d events", len(evs))
	}
	return s
}

func testClosed(t *testing.T, s engine.Store, _ Reopener) engine.Store {
	s.Commit(ctx, &engine.Commit{Session: &engine.Session{ID: "c", Status: engine.StatusBot}})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, "c"); err == nil {
		t.Fatalf("Load after Close succeeded")
	}
	if err := s.Commit(ctx, &engine.Commit{Session: &engine.Session{ID: "c", Status: engine.StatusBot}}); err == nil {
		t.Fatalf("Commit after Close succeeded")
	}
	return nil
}
