package handoff

import (
	"context"
	"sync"
	"time"

	"github.com/charlabot/charla/engine"
)

// Store keeps what the desk must not forget across a restart: the tickets
// (queues and assignments) and the agents' console sessions. Memory is for
// tests; Bolt keeps them in the runtime's bbolt file.
type Store interface {
	// Tickets returns every ticket.
	Tickets(ctx context.Context) ([]*Ticket, error)
	// SaveTickets saves the tickets put (the store may keep them: the
	// caller does not change them afterwards) and removes those of the
	// conversations del, all in one durable write.
	SaveTickets(ctx context.Context, put []*Ticket, del []string) error

	// PutSession saves an agent's console session.
	PutSession(ctx context.Context, s *Session) error
	// Session returns the session with the given key, or nil.
	Session(ctx context.Context, key string) (*Session, error)
	// DeleteSession removes a session; DeleteSessions every session of an
	// agent, and those expired before t when agent is "".
	DeleteSession(ctx context.Context, key string) error
	DeleteSessions(ctx context.Context, agent string, expired time.Time) error
}

// Session is an agent signed in to the console. Key is a hash of the
// cookie's secret: a leaked database does not open sessions.
type Session struct {
	Key     string    `json:"key"`
	Agent   string    `json:"agent"`
	CSRF    string    `json:"csrf"` // the token mutating requests carry
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// Memory is an in-memory Store.
type Memory struct {
	mu       sync.Mutex
	tickets  map[string]*Ticket
	sessions map[string]*Session
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{tickets: map[string]*Ticket{}, sessions: map[string]*Session{}}
}

// Tickets returns copies of every ticket.
func (m *Memory) Tickets(context.Context) ([]*Ticket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Ticket, 0, len(m.tickets))
	for _, t := range m.tickets {
		out = append(out, t.Clone())
	}
	return out, nil
}

// SaveTickets saves copies of put and removes del.
func (m *Memory) SaveTickets(_ context.Context, put []*Ticket, del []string) error {
	for _, t := range put {
		if t.Conversation == "" {
			return engine.Errorf(engine.EInvalid, "a ticket needs a conversation")
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range put {
		m.tickets[t.Conversation] = t.Clone()
	}
	for _, id := range del {
		delete(m.tickets, id)
	}
	return nil
}

// PutSession saves a session.
func (m *Memory) PutSession(_ context.Context, s *Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := *s
	m.sessions[s.Key] = &c
	return nil
}

// Session returns a session or nil.
func (m *Memory) Session(_ context.Context, key string) (*Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[key]
	if !ok {
		return nil, nil
	}
	c := *s
	return &c, nil
}

// DeleteSession removes a session.
func (m *Memory) DeleteSession(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, key)
	return nil
}

// DeleteSessions removes an agent's sessions, or the expired ones.
func (m *Memory) DeleteSessions(_ context.Context, agent string, expired time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, s := range m.sessions {
		if (agent != "" && s.Agent == agent) || (agent == "" && s.Expires.Before(expired)) {
			delete(m.sessions, k)
		}
	}
	return nil
}
