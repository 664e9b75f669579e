// Package memory is an in-memory engine.Store: sessions are kept as Go
// values (never encoded), so a turn costs no serialisation. It is meant for
// tests, benchmarks and bots that may forget everything on restart.
//
// Data is spread over shards by conversation and by user, each with its own
// lock, so concurrent conversations do not contend.
package memory

import (
	"cmp"
	"container/heap"
	"context"
	"hash/maphash"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charlabot/charla/engine"
)

var _ engine.StagedStore = (*Store)(nil)

const shardCount = 64

// Store is an in-memory engine.Store. The zero value is not usable: call New.
type Store struct {
	seed   maphash.Seed
	shards [shardCount]shard
	seq    atomic.Int64 // event-log seqs

	maxTranscript int
	maxEntries    int // per shard
	maxEvents     int // per shard
	closed        atomic.Bool
}

// Options bound what a Store keeps. The defaults hold a server's recent
// conversations in a few tens of megabytes: a store that forgets on restart
// should not grow with every turn it ever saw.
type Options struct {
	// MaxTranscript is how many entries of each conversation's transcript
	// are kept, the oldest dropped first (default 200).
	MaxTranscript int
	// MaxEntries is how many transcript entries are kept in all (default
	// 100,000, about 25 MB): past it, the transcripts of the conversations
	// written to least recently are dropped first. Their sessions stay.
	MaxEntries int
	// MaxEvents is how many event-log entries are kept, the oldest
	// dropped first (default 50,000, about 10 MB).
	MaxEvents int
}

type shard struct {
	mu       sync.Mutex
	convs    map[string]*conv
	profiles map[string]*engine.Profile
	users    map[string][]string // user key → conversation ids
	outbox   map[string][]engine.OutboxItem
	timers   timerHeap
	events   ring

	// The conversations that have transcript entries, least recently
	// written first, and how many entries they hold in all.
	oldest, newest *conv
	entries        int
}

// conv is what is kept of one conversation.
type conv struct {
	session    *engine.Session
	entries    []entry
	timers     []*timerEntry
	prev, next *conv // in the shard's order of writes, while entries is not empty
}

// written puts a conversation that holds entries last in the order of writes.
func (sh *shard) written(cv *conv) {
	if sh.newest == cv {
		return
	}
	sh.unlink(cv)
	cv.prev = sh.newest
	if sh.newest != nil {
		sh.newest.next = cv
	} else {
		sh.oldest = cv
	}
	sh.newest = cv
}

// unlink takes a conversation out of the order of writes (if it is in it).
func (sh *shard) unlink(cv *conv) {
	if cv.prev != nil {
		cv.prev.next = cv.next
	} else if sh.oldest == cv {
		sh.oldest = cv.next
	}
	if cv.next != nil {
		cv.next.prev = cv.prev
	} else if sh.newest == cv {
		sh.newest = cv.prev
	}
	cv.prev, cv.next = nil, nil
}

// setEntries replaces a conversation's transcript, keeping the shard's
// count and order of writes.
func (sh *shard) setEntries(cv *conv, es []entry) {
	sh.entries += len(es) - len(cv.entries)
	cv.entries = es
	if len(es) == 0 {
		cv.entries = nil
		sh.unlink(cv)
	}
}

// shed drops the transcripts of the conversations written to least
// recently until the shard holds at most max entries; keep is spared.
func (sh *shard) shed(max int, keep *conv) {
	for sh.entries > max && sh.oldest != nil && sh.oldest != keep {
		sh.setEntries(sh.oldest, nil)
	}
}

// entry is a transcript entry held compactly: the fields every message has,
// and the rest of the entry only when it has more.
type entry struct {
	seq     int64
	at      int64 // unix nanoseconds
	from    string
	text    string
	flow    string
	channel string
	choices []engine.OutChoice
	id      string
	full    *engine.Entry // an entry with other fields, whole
}

func pack(e *engine.Entry) entry {
	p := entry{seq: e.Seq, at: e.At.UnixNano(), from: e.From, text: e.Text, flow: e.Flow, channel: e.Channel, choices: e.Choices, id: e.ID}
	if e.Choice != "" || e.Event != "" || e.Data != nil || e.Agent != "" || e.Image != "" || e.Link != nil ||
		e.Attachments != nil || e.Location != nil || e.Proactive || e.Template != nil || e.Receipt != nil {
		full := *e
		p.full = &full
	}
	return p
}

func (p *entry) unpack() engine.Entry {
	if p.full != nil {
		return *p.full
	}
	return engine.Entry{Seq: p.seq, At: time.Unix(0, p.at).UTC(), From: p.from, Text: p.text, Flow: p.flow,
		Channel: p.channel, Choices: p.choices, ID: p.id}
}

// New returns an empty store.
func New(o ...Options) *Store {
	var opt Options
	if len(o) > 0 {
		opt = o[0]
	}
	if opt.MaxTranscript <= 0 {
		opt.MaxTranscript = 200
	}
	if opt.MaxEntries <= 0 {
		opt.MaxEntries = 100_000
	}
	if opt.MaxEvents <= 0 {
		opt.MaxEvents = 50_000
	}
	s := &Store{seed: maphash.MakeSeed(), maxTranscript: opt.MaxTranscript,
		maxEntries: max(1, opt.MaxEntries/shardCount), maxEvents: max(1, opt.MaxEvents/shardCount)}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.convs = map[string]*conv{}
		sh.profiles = map[string]*engine.Profile{}
		sh.users = map[string][]string{}
		sh.outbox = map[string][]engine.OutboxItem{}
	}
	return s
}

func (s *Store) shard(key string) *shard {
	return &s.shards[maphash.String(s.seed, key)%shardCount]
}

func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return engine.Errorf(engine.EUnavailable, "store closed")
	}
	return ctx.Err()
}

// userKey is the user a session belongs to: its user, or itself when anonymous.
func userKey(se *engine.Session) string {
	if se.User != "" {
		return se.User
	}
	return se.ID
}

// Load implements engine.Store.
func (s *Store) Load(ctx context.Context, id string) (*engine.Session, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if c := sh.convs[id]; c != nil {
		return c.session, nil
	}
	return nil, nil
}

// Commit implements engine.Store.
func (s *Store) Commit(ctx context.Context, c *engine.Commit) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	var oldUser string
	se := c.Session
	if se != nil {
		sh := s.shard(se.ID)
		sh.mu.Lock()
		cv := sh.convs[se.ID]
		if cv == nil {
			cv = &conv{}
			sh.convs[se.ID] = cv
		} else if cv.session != nil {
			oldUser = cv.session.User
		}
		cv.session = se
		if len(c.Entries) > 0 {
			es := cv.entries
			if es == nil {
				es = make([]entry, 0, max(8, len(c.Entries)))
			}
			for i := range c.Entries {
				es = append(es, pack(&c.Entries[i]))
			}
			if over := len(es) - s.maxTranscript; over > 0 {
				over = min(len(es), max(over, s.maxTranscript/4))
				es = append(es[:0:0], es[over:]...)
			}
			sh.setEntries(cv, es)
			if len(cv.entries) > 0 {
				sh.written(cv)
			}
			sh.shed(s.maxEntries, cv)
		}
		sh.reschedule(cv, se.ID, c.Unschedule, se.Timers)
		s.appendEvents(sh, c.Events)
		sh.mu.Unlock()
	} else {
		for _, tm := range c.Unschedule {
			sh := s.shard(tm.Conversation)
			sh.mu.Lock()
			if cv := sh.convs[tm.Conversation]; cv != nil {
				sh.reschedule(cv, tm.Conversation, []engine.Timer{tm}, nil)
			} else {
				sh.dropTimer(tm)
			}
			sh.mu.Unlock()
		}
		if len(c.Events) > 0 {
			sh := s.shard(c.Events[0].Conversation)
			sh.mu.Lock()
			s.appendEvents(sh, c.Events)
			sh.mu.Unlock()
		}
	}
	if se != nil && se.User != "" && oldUser != se.User {
		uk := se.User
		sh := s.shard(uk)
		sh.mu.Lock()
		if !slices.Contains(sh.users[uk], se.ID) {
			sh.users[uk] = append(sh.users[uk], se.ID)
		}
		sh.mu.Unlock()
	}
	if c.Profile != nil {
		sh := s.shard(c.Profile.ID)
		sh.mu.Lock()
		sh.profiles[c.Profile.ID] = c.Profile
		sh.mu.Unlock()
	}
	if len(c.Outbox) > 0 {
		for _, it := range c.Outbox {
			sh := s.shard(it.User)
			sh.mu.Lock()
			sh.outbox[it.User] = append(sh.outbox[it.User], it)
			sh.mu.Unlock()
		}
	}
	return nil
}

// StageCommit implements engine.StagedStore: the commit is applied at
// once, as Commit does; there is nothing to wait for.
func (s *Store) StageCommit(ctx context.Context, c *engine.Commit) (func() error, error) {
	return nil, s.Commit(ctx, c)
}

func (s *Store) appendEvents(sh *shard, evs []engine.Event) {
	for i := range evs {
		ev := &evs[i]
		sh.events.push(s.maxEvents, ev)
		sh.events.last().Seq = s.seq.Add(1)
	}
}

// ring is a shard's event log: the latest events up to a bound, in seq order.
type ring struct {
	buf  []engine.Event
	head int // the oldest, once the buffer is full
}

func (r *ring) len() int { return len(r.buf) }

// at returns the i-th oldest event.
func (r *ring) at(i int) *engine.Event { return &r.buf[(r.head+i)%len(r.buf)] }

func (r *ring) last() *engine.Event { return r.at(len(r.buf) - 1) }

func (r *ring) push(max int, ev *engine.Event) {
	if len(r.buf) < max {
		r.buf = append(r.buf, *ev)
		return
	}
	r.buf[r.head] = *ev
	r.head = (r.head + 1) % len(r.buf)
}

// after returns the events with a seq greater than seq.
func (r *ring) after(seq int64) []engine.Event {
	n := len(r.buf)
	i := sort.Search(n, func(i int) bool { return r.at(i).Seq > seq })
	out := make([]engine.Event, 0, n-i)
	for ; i < n; i++ {
		out = append(out, *r.at(i))
	}
	return out
}

// deleteFunc removes the events del selects.
func (r *ring) deleteFunc(del func(*engine.Event) bool) {
	out := make([]engine.Event, 0, len(r.buf))
	for i := range len(r.buf) {
		if e := r.at(i); !del(e) {
			out = append(out, *e)
		}
	}
	r.buf, r.head = out, 0
}

// reschedule brings a conversation's indexed timers in line with its session.
func (sh *shard) reschedule(cv *conv, id string, drop, want []engine.Timer) {
	for _, tm := range drop {
		for i, te := range cv.timers {
			if te.kind == tm.Kind {
				heap.Remove(&sh.timers, te.index)
				cv.timers = slices.Delete(cv.timers, i, i+1)
				break
			}
		}
	}
	for _, tm := range want {
		found := false
		for _, te := range cv.timers {
			if te.kind == tm.Kind {
				found = true
				if !te.due.Equal(tm.Due) {
					te.due = tm.Due
					heap.Fix(&sh.timers, te.index)
				}
				break
			}
		}
		if !found {
			te := &timerEntry{conv: id, kind: tm.Kind, due: tm.Due}
			heap.Push(&sh.timers, te)
			cv.timers = append(cv.timers, te)
		}
	}
	// Timers no longer wanted (a session written without them).
	for i := 0; i < len(cv.timers); i++ {
		te := cv.timers[i]
		if !slices.ContainsFunc(want, func(t engine.Timer) bool { return t.Kind == te.kind }) {
			heap.Remove(&sh.timers, te.index)
			cv.timers = slices.Delete(cv.timers, i, i+1)
			i--
		}
	}
	if len(cv.timers) == 0 {
		cv.timers = nil
	}
}

func (sh *shard) dropTimer(tm engine.Timer) {
	for _, te := range sh.timers {
		if te.conv == tm.Conversation && te.kind == tm.Kind {
			heap.Remove(&sh.timers, te.index)
			return
		}
	}
}

// Profile implements engine.Store.
func (s *Store) Profile(ctx context.Context, user string) (*engine.Profile, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	sh := s.shard(user)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.profiles[user], nil
}

// Transcript implements engine.Store.
func (s *Store) Transcript(ctx context.Context, id string, after int64, limit int) ([]engine.Entry, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	cv := sh.convs[id]
	if cv == nil {
		return nil, nil
	}
	i, _ := slices.BinarySearchFunc(cv.entries, after+1, func(e entry, seq int64) int { return cmp.Compare(e.seq, seq) })
	es := cv.entries[i:]
	if limit > 0 && len(es) > limit {
		es = es[:limit]
	}
	out := make([]engine.Entry, len(es))
	for i := range es {
		out[i] = es[i].unpack()
	}
	return out, nil
}

// DueTimers implements engine.Store.
func (s *Store) DueTimers(ctx context.Context, t time.Time, limit int) ([]engine.Timer, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var out []engine.Timer
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.timers.due(0, t, &out)
		sh.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b engine.Timer) int { return a.Due.Compare(b.Due) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Events implements engine.Store. It holds every shard's lock at once so
// that it sees a prefix of the log: no later commit can add a smaller seq.
func (s *Store) Events(ctx context.Context, after int64, limit int) ([]engine.Event, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	for i := range s.shards {
		s.shards[i].mu.Lock()
	}
	var out []engine.Event
	for i := range s.shards {
		out = append(out, s.shards[i].events.after(after)...)
	}
	for i := range s.shards {
		s.shards[i].mu.Unlock()
	}
	slices.SortFunc(out, func(a, b engine.Event) int { return cmp.Compare(a.Seq, b.Seq) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Outbox implements engine.Store.
func (s *Store) Outbox(ctx context.Context, user string) ([]engine.OutboxItem, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	sh := s.shard(user)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return slices.Clone(sh.outbox[user]), nil
}

// Ack implements engine.Store.
func (s *Store) Ack(ctx context.Context, items []engine.OutboxItem) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	for _, it := range items {
		sh := s.shard(it.User)
		sh.mu.Lock()
		box := sh.outbox[it.User]
		box = slices.DeleteFunc(box, func(o engine.OutboxItem) bool {
			return o.Conversation == it.Conversation && o.Seq == it.Seq
		})
		if len(box) == 0 {
			delete(sh.outbox, it.User)
		} else {
			sh.outbox[it.User] = box
		}
		sh.mu.Unlock()
	}
	return nil
}

// Conversations implements engine.Store. An anonymous conversation is
// not indexed: it is its own user.
func (s *Store) Conversations(ctx context.Context, user string) ([]string, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	sh := s.shard(user)
	sh.mu.Lock()
	ids := slices.Clone(sh.users[user])
	if cv := sh.convs[user]; cv != nil && cv.session.User == "" {
		ids = append(ids, user)
	}
	sh.mu.Unlock()
	return ids, nil
}

// EraseUser implements engine.Store.
func (s *Store) EraseUser(ctx context.Context, user string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	ush := s.shard(user)
	ush.mu.Lock()
	ids := ush.users[user]
	if cv := ush.convs[user]; cv != nil && cv.session.User == "" {
		ids = append(slices.Clip(ids), user)
	}
	delete(ush.users, user)
	delete(ush.profiles, user)
	delete(ush.outbox, user)
	ush.mu.Unlock()
	gone := map[string]bool{}
	for _, id := range ids {
		sh := s.shard(id)
		sh.mu.Lock()
		if cv := sh.convs[id]; cv != nil && userKey(cv.session) == user {
			for _, te := range cv.timers {
				heap.Remove(&sh.timers, te.index)
			}
			sh.setEntries(cv, nil)
			delete(sh.convs, id)
			gone[id] = true
		}
		sh.mu.Unlock()
	}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.events.deleteFunc(func(e *engine.Event) bool {
			return e.User == user || gone[e.Conversation]
		})
		sh.mu.Unlock()
	}
	return nil
}

// Prune implements engine.Store.
func (s *Store) Prune(ctx context.Context, p engine.Prune) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	type gone struct{ user, id string }
	var pruned []gone
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		if !p.Transcripts.IsZero() {
			for id, cv := range sh.convs {
				if cv.session.LastActive.Before(p.Transcripts) && len(cv.timers) == 0 {
					sh.setEntries(cv, nil)
					delete(sh.convs, id)
					if cv.session.User != "" {
						pruned = append(pruned, gone{cv.session.User, id})
					}
					continue
				}
				cut := p.Transcripts.UnixNano()
				sh.setEntries(cv, slices.DeleteFunc(cv.entries, func(e entry) bool { return e.at < cut }))
			}
		}
		if !p.Profiles.IsZero() {
			for id, pr := range sh.profiles {
				if pr.Updated.Before(p.Profiles) {
					delete(sh.profiles, id)
				}
			}
		}
		if !p.Events.IsZero() {
			sh.events.deleteFunc(func(e *engine.Event) bool { return e.At.Before(p.Events) })
		}
		sh.mu.Unlock()
	}
	for _, g := range pruned {
		sh := s.shard(g.user)
		sh.mu.Lock()
		ids := slices.DeleteFunc(sh.users[g.user], func(id string) bool { return id == g.id })
		if len(ids) == 0 {
			delete(sh.users, g.user)
		} else {
			sh.users[g.user] = ids
		}
		sh.mu.Unlock()
	}
	return nil
}

// Close implements engine.Store; a closed store refuses every call.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}

// Len returns how many conversations the store holds.
func (s *Store) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.convs)
		sh.mu.Unlock()
	}
	return n
}

// timerEntry is a pending timer in a shard's heap.
type timerEntry struct {
	conv  string
	kind  engine.TimerKind
	due   time.Time
	index int
}

// timerHeap orders a shard's timers by due time.
type timerHeap []*timerEntry

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	te := x.(*timerEntry)
	te.index = len(*h)
	*h = append(*h, te)
}
func (h *timerHeap) Pop() any {
	old := *h
	n := len(old)
	te := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	te.index = -1
	return te
}

// due collects the timers due by t in the subtree at i.
func (h timerHeap) due(i int, t time.Time, out *[]engine.Timer) {
	if i >= len(h) || h[i].due.After(t) {
		return
	}
	*out = append(*out, engine.Timer{Conversation: h[i].conv, Kind: h[i].kind, Due: h[i].due})
	h.due(2*i+1, t, out)
	h.due(2*i+2, t, out)
}
