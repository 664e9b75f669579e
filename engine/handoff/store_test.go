package handoff_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/bolt"
	"github.com/charlabot/charla/engine/handoff"
)

func openBolt(t *testing.T, dir string) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(dir, bolt.Options{NoBackupSocket: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testStore is the conformance suite every handoff.Store passes.
func testStore(t *testing.T, s handoff.Store) {
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	if ts, err := s.Tickets(ctx); err != nil || len(ts) != 0 {
		t.Fatalf("empty store: %v %v", ts, err)
	}
	tk := &handoff.Ticket{Conversation: "c1", Queue: "ventas", State: handoff.StateAssigned, Agent: "ana",
		Slots: map[string]any{"pedido": "A1234", "talla": 42.0}, Requested: at, Enqueued: at, Order: 7,
		Profile: &handoff.Profile{Identities: []engine.Identity{{Channel: "webchat", Conversation: "c1", Seen: at}}}}
	if err := s.SaveTickets(ctx, []*handoff.Ticket{tk, {Conversation: "c3"}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveTickets(ctx, []*handoff.Ticket{{Conversation: "c2", Queue: "cambios", State: handoff.StateWaiting, Order: -1}}, []string{"c3"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveTickets(ctx, []*handoff.Ticket{{}}, nil); engine.ErrCode(err) != engine.EInvalid {
		t.Errorf("a ticket without a conversation: %v", err)
	}
	ts, err := s.Tickets(ctx)
	if err != nil || len(ts) != 2 {
		t.Fatalf("tickets: %v %v", ts, err)
	}
	for _, g := range ts {
		if g.Conversation == "c1" {
			check(t, "agent", g.Agent, "ana")
			check(t, "slots", g.Slots, map[string]any{"pedido": "A1234", "talla": 42.0})
			check(t, "requested", g.Requested.Equal(at), true)
			check(t, "identities", len(g.Profile.Identities), 1)
		}
	}
	if err := s.SaveTickets(ctx, nil, []string{"c1", "nothing"}); err != nil {
		t.Fatal(err)
	}
	if ts, _ := s.Tickets(ctx); len(ts) != 1 || ts[0].Conversation != "c2" || ts[0].Order != -1 {
		t.Fatalf("after delete: %+v", ts)
	}

	for _, ss := range []*handoff.Session{
		{Key: "k1", Agent: "ana", CSRF: "x", Created: at, Expires: at.Add(time.Hour)},
		{Key: "k2", Agent: "ana", Expires: at.Add(2 * time.Hour)},
		{Key: "k3", Agent: "beto", Expires: at.Add(-time.Hour)},
		{Key: "k4", Agent: "caro", Expires: at.Add(3 * time.Hour)},
	} {
		if err := s.PutSession(ctx, ss); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Session(ctx, "k1")
	if err != nil || got == nil || got.Agent != "ana" || got.CSRF != "x" || !got.Expires.Equal(at.Add(time.Hour)) {
		t.Fatalf("session k1: %+v %v", got, err)
	}
	if got, err := s.Session(ctx, "nope"); got != nil || err != nil {
		t.Fatalf("unknown session: %+v %v", got, err)
	}
	if err := s.DeleteSessions(ctx, "", at); err != nil { // the expired
		t.Fatal(err)
	}
	if got, _ := s.Session(ctx, "k3"); got != nil {
		t.Error("expired session kept")
	}
	if err := s.DeleteSessions(ctx, "ana", time.Time{}); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]bool{"k1": false, "k2": false, "k4": true} {
		if got, _ := s.Session(ctx, key); (got != nil) != want {
			t.Errorf("session %s kept: %v", key, got != nil)
		}
	}
	if err := s.DeleteSession(ctx, "k4"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Session(ctx, "k4"); got != nil {
		t.Error("deleted session kept")
	}
}

func TestMemoryStore(t *testing.T) { testStore(t, handoff.NewMemory()) }

func TestBoltStore(t *testing.T) {
	db := openBolt(t, t.TempDir())
	defer db.Close()
	hs, err := handoff.NewBolt(db.DB())
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, hs)
}

// A restart in the middle of a hand-off: the queue, the assignment and the
// transcript survive; the agent who had it gets the grace period to
// reconnect, after which it goes back to the head of the queue.
func TestRestartKeepsQueueAndAssignment(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)}

	db := openBolt(t, dir)
	hs, err := handoff.NewBolt(db.DB())
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, shopBot(), db, hs, c)
	f.desk.Connect("beto")
	f.say("a", "asesor")
	f.say("a", "mi pedido no llega")
	if err := f.desk.Send(ctx, "a", "beto", "Lo reviso"); err != nil {
		t.Fatal(err)
	}
	f.say("b", "cambio")
	f.say("b", "A1234")
	f.say("w", "asesor")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	c.Add(30 * time.Second)
	db = openBolt(t, filepath.Join(dir, bolt.FileName))
	defer db.Close()
	hs, err = handoff.NewBolt(db.DB())
	if err != nil {
		t.Fatal(err)
	}
	g := newFixture(t, shopBot(), db, hs, c)
	check(t, "a still beto's", g.ticket("ana", "a").Agent, "beto")
	check(t, "b still waits in cambios", g.ticket("ana", "b").Position, 1)
	check(t, "w still waits in ventas", g.ticket("ana", "w").Position, 1)
	check(t, "b keeps its slots", g.ticket("ana", "b").Slots["pedido"], "A1234")
	es, err := g.rt.Transcript(ctx, "a", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range es {
		lines = append(lines, e.From+": "+e.Text)
	}
	check(t, "transcript", lines, []string{
		"user: asesor", "bot: Te comunico con una persona.",
		"bot: Hola, te atiende Beto.", "user: mi pedido no llega", "agent: Lo reviso"})
	// beto reconnects within the grace and goes on.
	g.desk.Connect("beto")
	if err := g.desk.Send(ctx, "a", "beto", "Ya salió tu pedido"); err != nil {
		t.Fatal(err)
	}
	// Had he not, the conversation would go back at the head of ventas.
	g.desk.SignOut(ctx, "beto")
	tv := g.ticket("ana", "a")
	check(t, "requeued at the head", fmt.Sprint(tv.State, " ", tv.Position), "waiting 1")
	check(t, "w behind it", g.ticket("ana", "w").Position, 2)
}
