// Package bolt is the durable engine.Store: one bbolt file (DATADIR/charla.db)
// holding sessions, transcripts, timers, user profiles, the event log and
// the outbox of proactive messages.
//
// Every Commit reaches the disk (fsync) before it returns; commits of
// concurrent conversations share a transaction and its fsync through bbolt's
// Batch, so throughput grows with the number of conversations in flight.
// The file carries a schema version; Open migrates older files and refuses
// newer ones. [Store.Backup] writes a consistent copy while the store
// serves; a process holding the file also answers backup requests on a Unix
// socket next to it, which `charla backup` uses.
package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/charlabot/charla/engine"
)

var _ engine.StagedStore = (*Store)(nil)

// SchemaVersion is the version of the file layout this package writes.
const SchemaVersion = 1

// FileName is the name of the data file in a data directory.
const FileName = "charla.db"

var (
	bMeta        = []byte("meta")
	bSessions    = []byte("sessions")    // conversation → session
	bTranscripts = []byte("transcripts") // lp(conversation) seq → entry
	bTimers      = []byte("timers")      // due lp(conversation) kind → ""
	bEvents      = []byte("events")      // seq → event
	bProfiles    = []byte("profiles")    // user → profile
	bUsers       = []byte("users")       // lp(user) conversation → ""
	bOutbox      = []byte("outbox")      // lp(user) lp(conversation) seq → item (JSON)
	allBuckets   = [][]byte{bMeta, bSessions, bTranscripts, bTimers, bEvents, bProfiles, bUsers, bOutbox}
	kSchema      = []byte("schema")
)

// migrations[v] upgrades a file from schema version v to v+1.
var migrations = map[int]func(tx *bbolt.Tx) error{}

// Store is the bbolt store.
type Store struct {
	db     *bbolt.DB
	path   string
	closed atomic.Bool
	backup *backupServer

	// Group commit: commits queue here while the writer is busy, and the
	// next transaction takes all of them, with one fsync.
	mu      sync.Mutex
	queue   []*pending
	wake    chan struct{}
	stopped chan struct{}
	maxTx   int
	txs     atomic.Int64 // transactions written by the committer
	commits atomic.Int64 // commits they held

	cache    cache[engine.Session]
	profiles cache[engine.Profile]
}

// pending is a commit waiting for its transaction.
type pending struct {
	p       *prepared
	done    chan error
	session *engine.Session // to cache once committed
	profile *engine.Profile
	s       *Store
}

// Options configure Open.
type Options struct {
	// Timeout is how long Open waits for another process to release the
	// file (default 1s).
	Timeout time.Duration
	// MaxBatchSize caps how many commits share one transaction (default
	// 2000). Commits never wait for others: a transaction takes the commits
	// that queued while the previous one was being written.
	MaxBatchSize int
	// ReadOnly opens the file for reading only (a backup of a file no
	// process holds).
	ReadOnly bool
	// NoBackupSocket disables the backup socket (see the package doc).
	NoBackupSocket bool
	// CacheSessions is how many recently used sessions, and as many
	// profiles, are kept decoded in memory (default 10,000; negative: none).
	// They are immutable once committed, so a cached one is always the
	// stored one.
	CacheSessions int
}

// Open opens (creating when missing) the store in path: a data directory,
// whose file is DIR/charla.db, or a file (an existing one, or a path ending
// in .db).
func Open(path string, o Options) (*Store, error) {
	file := path
	if st, err := os.Stat(path); (err != nil || st.IsDir()) && filepath.Ext(path) != ".db" {
		if !o.ReadOnly {
			if err := os.MkdirAll(path, 0o700); err != nil {
				return nil, err
			}
		}
		file = filepath.Join(path, FileName)
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	db, err := bbolt.Open(file, 0o600, &bbolt.Options{
		Timeout:         o.Timeout,
		ReadOnly:        o.ReadOnly,
		FreelistType:    bbolt.FreelistMapType,
		InitialMmapSize: 1 << 30,
	})
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			return nil, &engine.Error{Code: engine.EUnavailable, Message: file + " is in use by another process", Err: err}
		}
		return nil, fmt.Errorf("opening %s: %w", file, err)
	}
	s := &Store{db: db, path: file, wake: make(chan struct{}, 1), stopped: make(chan struct{}), maxTx: 2000}
	switch {
	case o.CacheSessions == 0:
		s.cache.init(10000)
		s.profiles.init(10000)
	case o.CacheSessions > 0:
		s.cache.init(o.CacheSessions)
		s.profiles.init(o.CacheSessions)
	}
	if o.MaxBatchSize > 0 {
		s.maxTx = o.MaxBatchSize
	}
	if !o.ReadOnly {
		if err := s.migrate(); err != nil {
			db.Close()
			return nil, err
		}
		if !o.NoBackupSocket {
			s.backup = listenBackup(s)
		}
		go s.committer()
	} else if err := s.checkSchema(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Path returns the data file's path.
func (s *Store) Path() string { return s.path }

// DB returns the underlying bbolt database (for other adapters that keep
// their data in the same file, in their own buckets).
func (s *Store) DB() *bbolt.DB { return s.db }

// migrate creates the buckets of a new file and upgrades an older one.
func (s *Store) migrate() error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bMeta)
		v := 0
		if meta != nil {
			if b := meta.Get(kSchema); len(b) == 8 {
				v = int(binary.BigEndian.Uint64(b))
			}
		} else if tx.Bucket(bSessions) == nil {
			v = SchemaVersion // a new file
		}
		if v > SchemaVersion {
			return fmt.Errorf("%s has schema version %d; this charla reads up to %d: upgrade charla", s.path, v, SchemaVersion)
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		for ; v < SchemaVersion; v++ {
			m := migrations[v]
			if m == nil {
				return fmt.Errorf("%s: no migration from schema version %d", s.path, v)
			}
			if err := m(tx); err != nil {
				return fmt.Errorf("migrating %s from schema version %d: %w", s.path, v, err)
			}
		}
		return tx.Bucket(bMeta).Put(kSchema, binary.BigEndian.AppendUint64(nil, uint64(SchemaVersion)))
	})
}

func (s *Store) checkSchema() error {
	return s.db.View(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if meta == nil {
			return fmt.Errorf("%s is not a charla data file", s.path)
		}
		if b := meta.Get(kSchema); len(b) != 8 || int(binary.BigEndian.Uint64(b)) != SchemaVersion {
			return fmt.Errorf("%s has another schema version; open it read-write to migrate", s.path)
		}
		return nil
	})
}

func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return engine.Errorf(engine.EUnavailable, "store closed")
	}
	return ctx.Err()
}

// lp appends a length-prefixed string, so that prefixes of ids never match
// other ids ("c1" and "c10").
func lp(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func seqKey(b []byte, seq int64) []byte { return binary.BigEndian.AppendUint64(b, uint64(seq)) }

func transcriptKey(conv string, seq int64) []byte {
	return seqKey(lp(make([]byte, 0, len(conv)+10), conv), seq)
}

// timeKey orders instants, including those before 1970.
func timeKey(b []byte, t time.Time) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(t.UnixNano())^(1<<63))
}

func timerKey(tm engine.Timer) []byte {
	b := timeKey(make([]byte, 0, 8+len(tm.Conversation)+10), tm.Due)
	b = lp(b, tm.Conversation)
	return append(b, tm.Kind...)
}

func parseTimerKey(k []byte) (engine.Timer, bool) {
	if len(k) < 9 {
		return engine.Timer{}, false
	}
	ns := int64(binary.BigEndian.Uint64(k) ^ (1 << 63))
	rest := k[8:]
	n, w := binary.Uvarint(rest)
	if w <= 0 || uint64(len(rest)-w) < n {
		return engine.Timer{}, false
	}
	conv := string(rest[w : w+int(n)])
	kind := engine.TimerKind(rest[w+int(n):])
	return engine.Timer{Conversation: conv, Kind: kind, Due: time.Unix(0, ns).UTC()}, true
}

func userConvKey(user, conv string) []byte { return append(lp(nil, user), conv...) }

func outboxKey(it engine.OutboxItem) []byte {
	return seqKey(lp(lp(nil, it.User), it.Conversation), it.Seq)
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
	se, mark := s.cache.get(id)
	if se != nil {
		return se, nil
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bSessions).Get([]byte(id))
		if b == nil {
			return nil
		}
		var err error
		se, err = decodeSession(b)
		if err != nil {
			return fmt.Errorf("session %q: %w", id, err)
		}
		return nil
	})
	if se != nil && err == nil {
		s.cache.fill(id, se, mark)
	}
	return se, err
}

// prepared is a commit encoded outside the transaction, so the shared
// writer only copies bytes.
type prepared struct {
	session    []byte
	id         []byte
	user       []byte // users index key
	entries    [][2][]byte
	events     [][]byte
	timers     [][]byte
	unschedule [][]byte
	profileID  []byte
	profile    []byte
	outbox     [][2][]byte
}

func prepare(c *engine.Commit) (*prepared, error) {
	p := &prepared{}
	if se := c.Session; se != nil {
		p.id = []byte(se.ID)
		p.session = encodeSession(se)
		if se.User != "" { // an anonymous conversation is its own user: no index entry
			p.user = userConvKey(se.User, se.ID)
		}
		for i := range c.Entries {
			e := &c.Entries[i]
			v, err := encodeEntry(e)
			if err != nil {
				return nil, err
			}
			p.entries = append(p.entries, [2][]byte{transcriptKey(se.ID, e.Seq), v})
		}
		for _, tm := range se.Timers {
			tm.Conversation = se.ID
			p.timers = append(p.timers, timerKey(tm))
		}
	}
	for _, tm := range c.Unschedule {
		p.unschedule = append(p.unschedule, timerKey(tm))
	}
	for i := range c.Events {
		p.events = append(p.events, encodeEvent(&c.Events[i]))
	}
	if c.Profile != nil {
		p.profileID = []byte(c.Profile.ID)
		p.profile = encodeProfile(c.Profile)
	}
	for _, it := range c.Outbox {
		v, err := json.Marshal(it)
		if err != nil {
			return nil, err
		}
		p.outbox = append(p.outbox, [2][]byte{outboxKey(it), v})
	}
	return p, nil
}

// apply writes a prepared commit. It is idempotent: a transaction that
// fails is retried commit by commit.
func (p *prepared) apply(tx *bbolt.Tx) error {
	if p.session != nil {
		if err := tx.Bucket(bSessions).Put(p.id, p.session); err != nil {
			return err
		}
		if p.user != nil {
			users := tx.Bucket(bUsers)
			if users.Get(p.user) == nil {
				if err := users.Put(p.user, nil); err != nil {
					return err
				}
			}
		}
	}
	tr := tx.Bucket(bTranscripts)
	tr.FillPercent = 0.9 // entries are added at the end of a conversation's range
	for _, kv := range p.entries {
		if err := tr.Put(kv[0], kv[1]); err != nil {
			return err
		}
	}
	tb := tx.Bucket(bTimers)
	tb.FillPercent = 0.9 // mostly appended: due times grow
	for _, k := range p.unschedule {
		if err := tb.Delete(k); err != nil {
			return err
		}
	}
	for _, k := range p.timers {
		if err := tb.Put(k, nil); err != nil {
			return err
		}
	}
	if len(p.events) > 0 {
		eb := tx.Bucket(bEvents)
		eb.FillPercent = 1 // appended in seq order
		for _, v := range p.events {
			seq, err := eb.NextSequence()
			if err != nil {
				return err
			}
			if err := eb.Put(seqKey(nil, int64(seq)), v); err != nil {
				return err
			}
		}
	}
	if p.profile != nil {
		if err := tx.Bucket(bProfiles).Put(p.profileID, p.profile); err != nil {
			return err
		}
	}
	ob := tx.Bucket(bOutbox)
	for _, kv := range p.outbox {
		if err := ob.Put(kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// Commit implements engine.Store: the changes are on disk when it returns.
func (s *Store) Commit(ctx context.Context, c *engine.Commit) error {
	wait, err := s.StageCommit(ctx, c)
	if err != nil {
		return err
	}
	return wait()
}

// StageCommit implements engine.StagedStore: it encodes the commit and
// queues it for the committer; wait returns once its transaction is on
// disk.
func (s *Store) StageCommit(ctx context.Context, c *engine.Commit) (func() error, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	p, err := prepare(c)
	if err != nil {
		return nil, err
	}
	w := &pending{p: p, done: make(chan error, 1), session: c.Session, profile: c.Profile, s: s}
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return nil, engine.Errorf(engine.EUnavailable, "store closed")
	}
	s.queue = append(s.queue, w)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return w.wait, nil
}

// wait waits for the commit's transaction; once it is on disk, the
// committed session and profile are what the cache holds.
func (w *pending) wait() error {
	err := <-w.done
	if err == nil {
		if w.session != nil {
			w.s.cache.put(w.session.ID, w.session)
		}
		if w.profile != nil {
			w.s.profiles.put(w.profile.ID, w.profile)
		}
	}
	return err
}

// committer writes queued commits, as many per transaction as queued
// while the last one was written. When a transaction fails, its commits
// are retried one by one so that one bad commit fails alone.
func (s *Store) committer() {
	defer close(s.stopped)
	for {
		s.mu.Lock()
		batch := s.queue
		if len(batch) > s.maxTx {
			batch = batch[:s.maxTx]
			s.queue = append([]*pending(nil), s.queue[s.maxTx:]...)
		} else {
			s.queue = nil
		}
		closed := s.closed.Load()
		s.mu.Unlock()
		if len(batch) == 0 {
			if closed {
				return
			}
			<-s.wake
			continue
		}
		s.txs.Add(1)
		s.commits.Add(int64(len(batch)))
		err := s.db.Update(func(tx *bbolt.Tx) error {
			for _, w := range batch {
				if err := w.p.apply(tx); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil || len(batch) == 1 {
			for _, w := range batch {
				w.done <- err
			}
			continue
		}
		for _, w := range batch {
			w.done <- s.db.Update(w.p.apply)
		}
	}
}

// Profile implements engine.Store.
func (s *Store) Profile(ctx context.Context, user string) (*engine.Profile, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	p, mark := s.profiles.get(user)
	if p != nil {
		return p, nil
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bProfiles).Get([]byte(user))
		if b == nil {
			return nil
		}
		var err error
		p, err = decodeProfile(b)
		return err
	})
	if p != nil && err == nil {
		s.profiles.fill(user, p, mark)
	}
	return p, err
}

// Transcript implements engine.Store.
func (s *Store) Transcript(ctx context.Context, id string, after int64, limit int) ([]engine.Entry, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var out []engine.Entry
	prefix := lp(nil, id)
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bTranscripts).Cursor()
		start := after + 1
		if start < 0 {
			start = 0
		}
		for k, v := c.Seek(seqKey(append([]byte(nil), prefix...), start)); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			e, err := decodeEntry(v, int64(binary.BigEndian.Uint64(k[len(k)-8:])))
			if err != nil {
				return fmt.Errorf("transcript %q: %w", id, err)
			}
			out = append(out, e)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// DueTimers implements engine.Store.
func (s *Store) DueTimers(ctx context.Context, t time.Time, limit int) ([]engine.Timer, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var out []engine.Timer
	end := timeKey(nil, t)
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bTimers).Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k[:8], end) <= 0; k, _ = c.Next() {
			if tm, ok := parseTimerKey(k); ok {
				out = append(out, tm)
			}
			if limit > 0 && len(out) >= limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// Events implements engine.Store.
func (s *Store) Events(ctx context.Context, after int64, limit int) ([]engine.Event, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var out []engine.Event
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bEvents).Cursor()
		for k, v := c.Seek(seqKey(nil, after+1)); k != nil; k, v = c.Next() {
			ev, err := decodeEvent(v, int64(binary.BigEndian.Uint64(k)))
			if err != nil {
				return fmt.Errorf("event %x: %w", k, err)
			}
			out = append(out, ev)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// Outbox implements engine.Store.
func (s *Store) Outbox(ctx context.Context, user string) ([]engine.OutboxItem, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var out []engine.OutboxItem
	prefix := lp(nil, user)
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bOutbox).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var it engine.OutboxItem
			if err := json.Unmarshal(v, &it); err != nil {
				return err
			}
			out = append(out, it)
		}
		return nil
	})
	// Oldest first, across the user's conversations.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].At.Before(out[j-1].At); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, err
}

// Ack implements engine.Store.
func (s *Store) Ack(ctx context.Context, items []engine.OutboxItem) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		ob := tx.Bucket(bOutbox)
		for _, it := range items {
			if err := ob.Delete(outboxKey(it)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Conversations implements engine.Store.
func (s *Store) Conversations(ctx context.Context, user string) ([]string, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var out []string
	err := s.db.View(func(tx *bbolt.Tx) error {
		out = userConversations(tx, user)
		return nil
	})
	return out, err
}

// userConversations lists a user's conversations: those indexed under the
// user, and the anonymous conversation whose id it is.
func userConversations(tx *bbolt.Tx, user string) []string {
	var out []string
	prefix := lp(nil, user)
	c := tx.Bucket(bUsers).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		out = append(out, string(k[len(prefix):]))
	}
	if b := tx.Bucket(bSessions).Get([]byte(user)); b != nil {
		if se, err := decodeSession(b); err == nil && se.User == "" {
			out = append(out, user)
		}
	}
	return out
}

// deleteConversation removes a conversation's session, transcript, timers
// and index entry.
func deleteConversation(tx *bbolt.Tx, se *engine.Session) error {
	id := []byte(se.ID)
	if err := tx.Bucket(bSessions).Delete(id); err != nil {
		return err
	}
	if err := deletePrefix(tx.Bucket(bTranscripts), lp(nil, se.ID)); err != nil {
		return err
	}
	tb := tx.Bucket(bTimers)
	for _, tm := range se.Timers {
		tm.Conversation = se.ID
		if err := tb.Delete(timerKey(tm)); err != nil {
			return err
		}
	}
	if se.User == "" {
		return nil
	}
	return tx.Bucket(bUsers).Delete(userConvKey(se.User, se.ID))
}

func deletePrefix(b *bbolt.Bucket, prefix []byte) error {
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// EraseUser implements engine.Store. Sessions, transcripts, timers,
// profile and outbox go in one transaction; event-log entries follow in
// chunks, so that a long log does not hold up other conversations.
func (s *Store) EraseUser(ctx context.Context, user string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	gone := map[string]bool{}
	defer s.cache.clear()
	defer s.profiles.clear()
	err := s.db.Update(func(tx *bbolt.Tx) error {
		prefix := lp(nil, user)
		for _, id := range userConversations(tx, user) {
			if err := tx.Bucket(bUsers).Delete(userConvKey(user, id)); err != nil {
				return err
			}
			b := tx.Bucket(bSessions).Get([]byte(id))
			if b == nil {
				continue
			}
			se, err := decodeSession(b)
			if err != nil {
				return err
			}
			if userKey(se) != user {
				continue // the conversation moved to another user
			}
			if err := deleteConversation(tx, se); err != nil {
				return err
			}
			gone[id] = true
		}
		if err := tx.Bucket(bProfiles).Delete([]byte(user)); err != nil {
			return err
		}
		return deletePrefix(tx.Bucket(bOutbox), prefix)
	})
	if err != nil {
		return err
	}
	return s.deleteEvents(func(ev *engine.Event) bool { return ev.User == user || gone[ev.Conversation] }, false)
}

// deleteEvents deletes matching events in chunks of transactions; with
// ordered, it stops at the first event that does not match.
func (s *Store) deleteEvents(match func(*engine.Event) bool, ordered bool) error {
	var from []byte
	for {
		done := true
		err := s.db.Update(func(tx *bbolt.Tx) error {
			c := tx.Bucket(bEvents).Cursor()
			k, v := c.First()
			if from != nil {
				k, v = c.Seek(from)
			}
			for n := 0; k != nil; n++ {
				if n == 10000 {
					from = append([]byte(nil), k...)
					done = false
					return nil
				}
				ev, err := decodeEvent(v, 0)
				if err == nil && match(&ev) {
					k = append([]byte(nil), k...)
					if err := c.Delete(); err != nil {
						return err
					}
					k, v = c.Seek(k)
					continue
				}
				if ordered {
					return nil
				}
				k, v = c.Next()
			}
			return nil
		})
		if err != nil || done {
			return err
		}
	}
}

// Prune implements engine.Store.
func (s *Store) Prune(ctx context.Context, p engine.Prune) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if !p.Transcripts.IsZero() {
		defer s.cache.clear()
		if err := s.pruneConversations(p.Transcripts); err != nil {
			return err
		}
	}
	if !p.Profiles.IsZero() {
		defer s.profiles.clear()
		err := s.db.Update(func(tx *bbolt.Tx) error {
			c := tx.Bucket(bProfiles).Cursor()
			for k, v := c.First(); k != nil; {
				pr, err := decodeProfile(v)
				if err == nil && pr.Updated.Before(p.Profiles) {
					k = append([]byte(nil), k...)
					if err := c.Delete(); err != nil {
						return err
					}
					k, v = c.Seek(k)
					continue
				}
				k, v = c.Next()
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if !p.Events.IsZero() {
		return s.deleteEvents(func(ev *engine.Event) bool { return ev.At.Before(p.Events) }, true)
	}
	return nil
}

// pruneConversations deletes the conversations idle since before cut (and
// without pending timers), and the older entries of the others'
// transcripts, a chunk of conversations per transaction.
func (s *Store) pruneConversations(cut time.Time) error {
	var from []byte
	for {
		done := true
		err := s.db.Update(func(tx *bbolt.Tx) error {
			c := tx.Bucket(bSessions).Cursor()
			k, v := c.First()
			if from != nil {
				k, v = c.Seek(from)
			}
			for n := 0; k != nil; n++ {
				if n == 2000 {
					from = append([]byte(nil), k...)
					done = false
					return nil
				}
				se, err := decodeSession(v)
				if err != nil {
					k, v = c.Next()
					continue
				}
				if se.LastActive.Before(cut) && len(se.Timers) == 0 {
					k = append([]byte(nil), k...)
					if err := deleteConversation(tx, se); err != nil {
						return err
					}
					k, v = c.Seek(k)
					continue
				}
				if err := pruneTranscript(tx, se.ID, cut); err != nil {
					return err
				}
				k, v = c.Next()
			}
			return nil
		})
		if err != nil || done {
			return err
		}
	}
}

func pruneTranscript(tx *bbolt.Tx, id string, cut time.Time) error {
	prefix := lp(nil, id)
	c := tx.Bucket(bTranscripts).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Seek(prefix) {
		e, err := decodeEntry(v, 0)
		if err != nil || !e.At.Before(cut) {
			return nil
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// Backup writes a consistent copy of the whole file to w while the store
// keeps serving, and returns its size.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// Stats are counts of what the store holds.
type Stats struct {
	Schema       int   `json:"schema"`
	Sessions     int   `json:"sessions"`
	Transcript   int   `json:"transcript_entries"`
	Timers       int   `json:"timers"`
	Events       int   `json:"events"`
	Profiles     int   `json:"profiles"`
	Outbox       int   `json:"outbox"`
	FileBytes    int64 `json:"file_bytes"`
	MaxEventSeq  int64 `json:"max_event_seq"`
	Commits      int64 `json:"commits"`      // since Open
	Transactions int64 `json:"transactions"` // since Open: commits share them
}

// Stats counts what the store holds. It walks every page of the file (and
// so brings it all into memory): it is for tools and tests, not for metrics.
func (s *Store) Stats() (Stats, error) {
	var st Stats
	err := s.db.View(func(tx *bbolt.Tx) error {
		st.Schema = SchemaVersion
		st.Sessions = tx.Bucket(bSessions).Stats().KeyN
		st.Transcript = tx.Bucket(bTranscripts).Stats().KeyN
		st.Timers = tx.Bucket(bTimers).Stats().KeyN
		st.Events = tx.Bucket(bEvents).Stats().KeyN
		st.Profiles = tx.Bucket(bProfiles).Stats().KeyN
		st.Outbox = tx.Bucket(bOutbox).Stats().KeyN
		st.FileBytes = tx.Size()
		st.MaxEventSeq = int64(tx.Bucket(bEvents).Sequence())
		st.Commits, st.Transactions = s.commits.Load(), s.txs.Load()
		return nil
	})
	return st, err
}

// Close implements engine.Store.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed.Swap(true) {
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	if !s.db.IsReadOnly() {
		select { // the committer drains the queue, then stops
		case s.wake <- struct{}{}:
		default:
		}
		<-s.stopped
	}
	if s.backup != nil {
		s.backup.close()
	}
	return s.db.Close()
}

// cache keeps recently used records decoded (sessions, profiles), in
// shards with their own locks; a full shard forgets an entry at random.
// Records are immutable once committed, so a cached one is the stored one —
// provided a reader never puts back what it read before a commit replaced
// it: each shard counts its writes, and a reader fills the cache only if
// no write came between its look and its fill.
type cache[T any] struct {
	shards []cacheShard[T]
	per    int
	seed   maphash.Seed
}

type cacheShard[T any] struct {
	mu     sync.Mutex
	m      map[string]*T
	writes uint64
}

func (c *cache[T]) init(size int) {
	c.shards = make([]cacheShard[T], 64)
	c.per = max(1, size/len(c.shards))
	c.seed = maphash.MakeSeed()
	for i := range c.shards {
		c.shards[i].m = make(map[string]*T)
	}
}

func (c *cache[T]) shard(id string) *cacheShard[T] {
	return &c.shards[maphash.String(c.seed, id)%uint64(len(c.shards))]
}

// get returns the cached record (nil when there is none) and a mark for fill.
func (c *cache[T]) get(id string) (*T, uint64) {
	if c.shards == nil {
		return nil, 0
	}
	sh := c.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.m[id], sh.writes
}

// put records what a commit wrote.
func (c *cache[T]) put(id string, v *T) {
	if c.shards == nil {
		return
	}
	sh := c.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.writes++
	sh.set(id, v, c.per)
}

// fill caches a record read from the file, unless the shard was written
// since mark (the record read may be older than the one committed).
func (c *cache[T]) fill(id string, v *T, mark uint64) {
	if c.shards == nil {
		return
	}
	sh := c.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.writes == mark {
		sh.set(id, v, c.per)
	}
}

func (sh *cacheShard[T]) set(id string, v *T, per int) {
	if _, ok := sh.m[id]; !ok && len(sh.m) >= per {
		for k := range sh.m {
			delete(sh.m, k)
			break
		}
	}
	sh.m[id] = v
}

// clear forgets everything (after erasing or pruning).
func (c *cache[T]) clear() {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		clear(sh.m)
		sh.writes++
		sh.mu.Unlock()
	}
}
