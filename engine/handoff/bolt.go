package handoff

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/charlabot/charla/engine"
)

// Bucket names of the desk in the runtime's bbolt file. They sit beside
// the runtime store's own buckets and never touch them.
var (
	bucketTickets  = []byte("handoff.tickets")  // conversation id → Ticket (JSON)
	bucketSessions = []byte("handoff.sessions") // session key → Session (JSON)
)

// Bolt is a Store in a bbolt database: usually the runtime's own file
// (DATADIR/charla.db), shared with engine/bolt. Every write is one synced
// transaction.
type Bolt struct {
	db *bolt.DB
}

var _ Store = (*Bolt)(nil)

// NewBolt creates the desk's buckets in db if they are missing. The caller
// owns db and closes it.
func NewBolt(db *bolt.DB) (*Bolt, error) {
	err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketTickets, bucketSessions} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("handoff: creating buckets: %w", err)
	}
	return &Bolt{db: db}, nil
}

func storeErr(err error) error {
	if err == nil {
		return nil
	}
	return &engine.Error{Code: engine.EUnavailable, Message: "the hand-off store is unavailable", Err: err}
}

// Tickets returns every ticket.
func (b *Bolt) Tickets(ctx context.Context) ([]*Ticket, error) {
	var out []*Ticket
	err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTickets).ForEach(func(k, v []byte) error {
			t := &Ticket{}
			if err := json.Unmarshal(v, t); err != nil {
				return fmt.Errorf("ticket %q: %w", k, err)
			}
			out = append(out, t)
			return nil
		})
	})
	return out, storeErr(err)
}

// SaveTickets saves put and removes del in one synced transaction.
func (b *Bolt) SaveTickets(ctx context.Context, put []*Ticket, del []string) error {
	vals := make([][]byte, len(put))
	for i, t := range put {
		if t.Conversation == "" {
			return engine.Errorf(engine.EInvalid, "a ticket needs a conversation")
		}
		v, err := json.Marshal(t)
		if err != nil {
			return err
		}
		vals[i] = v
	}
	return storeErr(b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketTickets)
		for i, t := range put {
			if err := bk.Put([]byte(t.Conversation), vals[i]); err != nil {
				return err
			}
		}
		for _, id := range del {
			if err := bk.Delete([]byte(id)); err != nil {
				return err
			}
		}
		return nil
	}))
}

// PutSession saves a session.
func (b *Bolt) PutSession(ctx context.Context, s *Session) error {
	v, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return storeErr(b.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).Put([]byte(s.Key), v)
	}))
}

// Session returns a session or nil.
func (b *Bolt) Session(ctx context.Context, key string) (*Session, error) {
	var s *Session
	err := b.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketSessions).Get([]byte(key))
		if v == nil {
			return nil
		}
		s = &Session{}
		return json.Unmarshal(v, s)
	})
	return s, storeErr(err)
}

// DeleteSession removes a session.
func (b *Bolt) DeleteSession(ctx context.Context, key string) error {
	return storeErr(b.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).Delete([]byte(key))
	}))
}

// DeleteSessions removes an agent's sessions, or the expired ones.
func (b *Bolt) DeleteSessions(ctx context.Context, agent string, expired time.Time) error {
	return storeErr(b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketSessions)
		var dead [][]byte
		err := bk.ForEach(func(k, v []byte) error {
			var s Session
			if json.Unmarshal(v, &s) != nil || (agent != "" && s.Agent == agent) || (agent == "" && s.Expires.Before(expired)) {
				dead = append(dead, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range dead {
			if err := bk.Delete(k); err != nil {
				return err
			}
		}
		return nil
	}))
}
