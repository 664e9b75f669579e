package memory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/charlabot/charla/engine"
)

// commitTurn writes n transcript entries to a conversation.
func commitTurn(t *testing.T, s *Store, id, user string, seq *int64, n int, at time.Time) {
	t.Helper()
	c := &engine.Commit{Session: &engine.Session{ID: id, User: user, LastActive: at}}
	for range n {
		*seq++
		c.Entries = append(c.Entries, engine.Entry{Seq: *seq, From: engine.FromBot, Text: "hola", At: at})
	}
	c.Session.Seq = *seq
	if err := s.Commit(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

// consistent checks each shard's count of entries and its order of writes.
func consistent(t *testing.T, s *Store) int {
	t.Helper()
	total := 0
	for i := range s.shards {
		sh := &s.shards[i]
		n, linked := 0, 0
		for _, cv := range sh.convs {
			n += len(cv.entries)
		}
		var prev *conv
		for cv := sh.oldest; cv != nil; cv = cv.next {
			if cv.prev != prev || len(cv.entries) == 0 {
				t.Fatalf("shard %d: broken order of writes", i)
			}
			prev = cv
			linked++
		}
		if prev != sh.newest {
			t.Fatalf("shard %d: newest is not the last", i)
		}
		withEntries := 0
		for _, cv := range sh.convs {
			if len(cv.entries) > 0 {
				withEntries++
			}
		}
		if n != sh.entries || linked != withEntries {
			t.Fatalf("shard %d: counted %d entries in %d conversations, keeps %d in %d", i, n, withEntries, sh.entries, linked)
		}
		total += n
	}
	return total
}

// TestEntryBudget: past MaxEntries the transcripts of the conversations
// written to least recently go first; the sessions stay; erasing and
// pruning keep the books right.
func TestEntryBudget(t *testing.T) {
	s := New(Options{MaxTranscript: 10, MaxEntries: 64 * 20})
	ctx := context.Background()
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	seqs := map[string]*int64{}
	const convs = 2000
	for i := range convs {
		id := fmt.Sprint("c", i)
		seqs[id] = new(int64)
		commitTurn(t, s, id, fmt.Sprint("u", i%7), seqs[id], 3, t0.Add(time.Duration(i)*time.Second))
	}
	// One conversation keeps talking: it never loses its latest entries.
	for range 30 {
		commitTurn(t, s, "c0", "u0", seqs["c0"], 2, t0.Add(time.Hour))
	}
	total := consistent(t, s)
	if total > 64*20 {
		t.Fatalf("%d entries kept, budget %d", total, 64*20)
	}
	es, _ := s.Transcript(ctx, "c0", 0, 0)
	if len(es) < 8 || len(es) > 10 || es[len(es)-1].Seq != *seqs["c0"] {
		t.Fatalf("the active conversation kept %d entries (last %v)", len(es), es)
	}
	// The latest conversations kept their transcripts, the first ones lost theirs.
	kept := 0
	for i := convs - 50; i < convs; i++ {
		if es, _ := s.Transcript(ctx, fmt.Sprint("c", i), 0, 0); len(es) == 3 {
			kept++
		}
	}
	if kept < 45 {
		t.Fatalf("only %d of the 50 latest conversations kept their transcripts", kept)
	}
	if es, _ := s.Transcript(ctx, "c1", 0, 0); len(es) != 0 {
		t.Fatalf("an old conversation kept %d entries", len(es))
	}
	if se, _ := s.Load(ctx, "c1"); se == nil {
		t.Fatal("the session went with the transcript")
	}
	if err := s.EraseUser(ctx, "u3"); err != nil {
		t.Fatal(err)
	}
	consistent(t, s)
	if err := s.Prune(ctx, engine.Prune{Transcripts: t0.Add(1900 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	consistent(t, s)
	commitTurn(t, s, "c1999", "u4", seqs["c1999"], 4, t0.Add(2*time.Hour))
	consistent(t, s)
}
