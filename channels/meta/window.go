package meta

import (
	"sync"
	"time"
)

// Seen is a bounded set of recently seen message ids: Meta redelivers a
// webhook it thinks was not received, and each message must make one turn.
// Past Max ids (default 100,000) the oldest are forgotten. The zero value
// is ready to use.
type Seen struct {
	Max int

	mu    sync.Mutex
	ids   map[string]struct{}
	order []string
	head  int
}

// Add records id and reports whether it is new.
func (s *Seen) Add(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil {
		max := s.Max
		if max <= 0 {
			max = 100_000
		}
		s.ids = make(map[string]struct{}, 1024)
		s.order = make([]string, 0, min(max, 1024))
		s.Max = max
	}
	if _, dup := s.ids[id]; dup {
		return false
	}
	s.ids[id] = struct{}{}
	if len(s.order) < s.Max {
		s.order = append(s.order, id)
	} else {
		delete(s.ids, s.order[s.head])
		s.order[s.head] = id
		s.head = (s.head + 1) % s.Max
	}
	return true
}

// Has reports whether id was seen (without recording it).
func (s *Seen) Has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.ids[id]
	return ok
}

// Forget removes id, so that a redelivery of it is handled (after a turn
// that could not be stored).
func (s *Seen) Forget(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.ids, id)
}

// ServiceWindow is how long after a customer's last message a business may
// answer with free-form messages (WhatsApp and Messenger alike).
const ServiceWindow = 24 * time.Hour

// Windows remembers when each conversation's customer last wrote, to tell
// whether a message is inside the 24-hour customer-service window. Past Max
// conversations (default 1,000,000) it drops those whose window has
// closed, then arbitrary ones. The zero value is ready to use.
type Windows struct {
	Max int

	mu   sync.Mutex
	last map[string]time.Time
}

// Touch records a message from the customer of conv at t.
func (w *Windows) Touch(conv string, t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == nil {
		w.last = map[string]time.Time{}
	}
	if prev, ok := w.last[conv]; ok && prev.After(t) {
		return
	}
	max := w.Max
	if max <= 0 {
		max = 1_000_000
	}
	if _, ok := w.last[conv]; !ok && len(w.last) >= max {
		for k, v := range w.last {
			if t.Sub(v) > ServiceWindow {
				delete(w.last, k)
			}
		}
		for k := range w.last {
			if len(w.last) < max {
				break
			}
			delete(w.last, k)
		}
	}
	w.last[conv] = t
}

// Open reports whether conv's window is open at now, and whether the
// customer's last message is known at all (after a restart it is not: the
// connector then tries a free-form message and falls back on the answer).
func (w *Windows) Open(conv string, now time.Time) (open, known bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.last[conv]
	if !ok {
		return false, false
	}
	return now.Sub(t) < ServiceWindow, true
}

// Close records that conv's window is closed (the platform said so).
func (w *Windows) Close(conv string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == nil {
		w.last = map[string]time.Time{}
	}
	w.last[conv] = time.Time{}
}
