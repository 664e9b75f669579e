package bolt

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/charlabot/charla/engine"
)

// Sessions and profiles are stored in a compact binary form that keeps the
// exact type of every value (JSON would turn an int into a float and a date
// into a string). Each record starts with its format version.
const (
	sessionFormat = 1
	profileFormat = 1
)

// Value tags.
const (
	tNil byte = iota
	tString
	tFloat
	tInt
	tFalse
	tTrue
	tTime
	tList
	tMap
	tJSON // anything else, as JSON
)

type writer struct{ b []byte }

func (w *writer) byte(c byte)      { w.b = append(w.b, c) }
func (w *writer) uvarint(n uint64) { w.b = binary.AppendUvarint(w.b, n) }
func (w *writer) varint(n int64)   { w.b = binary.AppendVarint(w.b, n) }
func (w *writer) str(s string) {
	w.uvarint(uint64(len(s)))
	w.b = append(w.b, s...)
}
func (w *writer) bool(v bool) {
	if v {
		w.byte(1)
	} else {
		w.byte(0)
	}
}

// time writes an instant and its zone offset; the zero time is one byte.
func (w *writer) time(t time.Time) {
	if t.IsZero() {
		w.byte(0)
		return
	}
	w.byte(1)
	w.varint(t.Unix())
	w.uvarint(uint64(t.Nanosecond()))
	name, off := t.Zone()
	if t.Location() == time.UTC {
		name = "UTC"
	}
	w.varint(int64(off))
	w.str(name)
}

func (w *writer) value(v any) {
	switch x := v.(type) {
	case nil:
		w.byte(tNil)
	case string:
		w.byte(tString)
		w.str(x)
	case float64:
		w.byte(tFloat)
		w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(x))
	case int:
		w.byte(tInt)
		w.varint(int64(x))
	case bool:
		if x {
			w.byte(tTrue)
		} else {
			w.byte(tFalse)
		}
	case time.Time:
		w.byte(tTime)
		w.time(x)
	case []any:
		w.byte(tList)
		w.uvarint(uint64(len(x)))
		for _, e := range x {
			w.value(e)
		}
	case map[string]any:
		w.byte(tMap)
		w.uvarint(uint64(len(x)))
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys) // the same value, the same bytes
		for _, k := range keys {
			w.str(k)
			w.value(x[k])
		}
	default:
		n := engine.NormalizeValue(v)
		if _, same := n.(map[string]any); same || isCanonical(n) {
			w.value(n)
			return
		}
		b, _ := json.Marshal(v)
		w.byte(tJSON)
		w.str(string(b))
	}
}

func isCanonical(v any) bool {
	switch v.(type) {
	case nil, string, float64, int, bool, time.Time, []any, map[string]any:
		return true
	}
	return false
}

func (w *writer) vars(vs engine.Vars) {
	w.uvarint(uint64(len(vs)))
	for _, v := range vs {
		w.str(v.Name)
		w.value(v.Value)
	}
}

var errCorrupt = errors.New("corrupt record")

type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errCorrupt
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) uvarint() uint64 {
	n, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[k:]
	return n
}

func (r *reader) varint() int64 {
	n, k := binary.Varint(r.b)
	if k <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[k:]
	return n
}

func (r *reader) int() int { return int(r.varint()) }

func (r *reader) str() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *reader) bool() bool { return r.byte() != 0 }

func (r *reader) time() time.Time {
	if r.byte() == 0 {
		return time.Time{}
	}
	sec := r.varint()
	nsec := r.uvarint()
	off := r.varint()
	name := r.str()
	if r.err != nil || nsec >= 1e9 {
		r.fail()
		return time.Time{}
	}
	t := time.Unix(sec, int64(nsec))
	if name == "UTC" && off == 0 {
		return t.UTC()
	}
	if off == 0 && name == "Local" {
		return t.Local()
	}
	return t.In(time.FixedZone(name, int(off)))
}

// maxDepth bounds nesting, so a corrupt record cannot exhaust the stack.
const maxDepth = 64

func (r *reader) value(depth int) any {
	if depth > maxDepth {
		r.fail()
		return nil
	}
	switch r.byte() {
	case tNil:
		return nil
	case tString:
		return r.str()
	case tFloat:
		if len(r.b) < 8 {
			r.fail()
			return nil
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
		r.b = r.b[8:]
		return f
	case tInt:
		return r.int()
	case tFalse:
		return false
	case tTrue:
		return true
	case tTime:
		return r.time()
	case tList:
		n := r.uvarint()
		if n > uint64(len(r.b)) {
			r.fail()
			return nil
		}
		out := make([]any, n)
		for i := range out {
			out[i] = r.value(depth + 1)
		}
		return out
	case tMap:
		n := r.uvarint()
		if n > uint64(len(r.b)) {
			r.fail()
			return nil
		}
		out := make(map[string]any, n)
		for range n {
			k := r.str()
			out[k] = r.value(depth + 1)
		}
		return out
	case tJSON:
		var v any
		if json.Unmarshal([]byte(r.str()), &v) != nil {
			r.fail()
		}
		return engine.NormalizeValue(v)
	}
	r.fail()
	return nil
}

func (r *reader) vars() engine.Vars {
	n := r.uvarint()
	if n == 0 || n > uint64(len(r.b)) {
		if n != 0 {
			r.fail()
		}
		return nil
	}
	vs := make(engine.Vars, n)
	for i := range vs {
		vs[i].Name = r.str()
		vs[i].Value = r.value(0)
	}
	return vs
}

// encodeSession returns the stored form of a session.
func encodeSession(s *engine.Session) []byte {
	w := &writer{b: make([]byte, 0, 256)}
	w.byte(sessionFormat)
	w.str(s.ID)
	w.str(s.User)
	w.str(s.Channel)
	w.str(s.Lang)
	w.bool(s.Verified)
	w.str(string(s.Status))
	w.str(s.Version)
	w.time(s.LastActive)
	w.time(s.Started)
	w.varint(s.Seq)
	w.varint(int64(s.Turns))
	w.varint(int64(s.Fallbacks))
	w.uvarint(uint64(len(s.Stack)))
	for _, f := range s.Stack {
		w.str(f.Flow)
		w.varint(int64(f.Step))
		w.str(f.Slot)
		w.byte(byte(f.Kind))
		w.byte(byte(f.Mode))
		w.varint(int64(f.Tries))
		w.bool(f.Reprompt)
		w.vars(f.Vars)
	}
	w.vars(s.Vars)
	w.uvarint(uint64(len(s.Timers)))
	for _, t := range s.Timers {
		w.str(string(t.Kind))
		w.time(t.Due)
	}
	w.uvarint(uint64(len(s.Recent)))
	for _, d := range s.Recent {
		w.str(d.ID)
		w.varint(d.First)
		w.varint(d.Last)
	}
	if h := s.Handoff; h != nil {
		w.byte(1)
		w.str(h.Queue)
		w.str(h.Reason)
		w.str(h.Agent)
		w.time(h.Since)
	} else {
		w.byte(0)
	}
	return w.b
}

// decodeSession reads a stored session.
func decodeSession(b []byte) (*engine.Session, error) {
	r := &reader{b: b}
	if v := r.byte(); v != sessionFormat {
		return nil, fmt.Errorf("session format %d: %w", v, errCorrupt)
	}
	s := &engine.Session{}
	s.ID = r.str()
	s.User = r.str()
	s.Channel = r.str()
	s.Lang = r.str()
	s.Verified = r.bool()
	s.Status = engine.Status(r.str())
	s.Version = r.str()
	s.LastActive = r.time()
	s.Started = r.time()
	s.Seq = r.varint()
	s.Turns = r.int()
	s.Fallbacks = r.int()
	if n := r.uvarint(); n > 0 && n <= uint64(len(r.b)) {
		s.Stack = make([]engine.Frame, n)
		for i := range s.Stack {
			f := &s.Stack[i]
			f.Flow = r.str()
			f.Step = r.int()
			f.Slot = r.str()
			f.Kind = engine.FrameKind(r.byte())
			f.Mode = engine.FrameMode(r.byte())
			f.Tries = r.int()
			f.Reprompt = r.bool()
			f.Vars = r.vars()
		}
	} else if n > 0 {
		r.fail()
	}
	s.Vars = r.vars()
	if n := r.uvarint(); n > 0 && n <= uint64(len(r.b)) {
		s.Timers = make([]engine.Timer, n)
		for i := range s.Timers {
			s.Timers[i] = engine.Timer{Conversation: s.ID, Kind: engine.TimerKind(r.str()), Due: r.time()}
		}
	} else if n > 0 {
		r.fail()
	}
	if n := r.uvarint(); n > 0 && n <= uint64(len(r.b)) {
		s.Recent = make([]engine.Delivery, n)
		for i := range s.Recent {
			s.Recent[i] = engine.Delivery{ID: r.str(), First: r.varint(), Last: r.varint()}
		}
	} else if n > 0 {
		r.fail()
	}
	if r.byte() == 1 {
		s.Handoff = &engine.HandoffState{Queue: r.str(), Reason: r.str(), Agent: r.str(), Since: r.time()}
	}
	if r.err != nil {
		return nil, r.err
	}
	return s, nil
}

// encodeProfile returns the stored form of a profile.
func encodeProfile(p *engine.Profile) []byte {
	w := &writer{b: make([]byte, 0, 128)}
	w.byte(profileFormat)
	w.str(p.ID)
	w.vars(p.Vars)
	w.uvarint(uint64(len(p.Identities)))
	for _, id := range p.Identities {
		w.str(id.Channel)
		w.str(id.Conversation)
		w.time(id.Seen)
	}
	w.bool(p.Verified)
	w.bool(p.OptOut)
	w.time(p.Created)
	w.time(p.Updated)
	return w.b
}

// decodeProfile reads a stored profile.
func decodeProfile(b []byte) (*engine.Profile, error) {
	r := &reader{b: b}
	if v := r.byte(); v != profileFormat {
		return nil, fmt.Errorf("profile format %d: %w", v, errCorrupt)
	}
	p := &engine.Profile{ID: r.str(), Vars: r.vars()}
	if n := r.uvarint(); n > 0 && n <= uint64(len(r.b)) {
		p.Identities = make([]engine.Identity, n)
		for i := range p.Identities {
			p.Identities[i] = engine.Identity{Channel: r.str(), Conversation: r.str(), Seen: r.time()}
		}
	} else if n > 0 {
		r.fail()
	}
	p.Verified = r.bool()
	p.OptOut = r.bool()
	p.Created = r.time()
	p.Updated = r.time()
	if r.err != nil {
		return nil, r.err
	}
	return p, nil
}

// Transcript entries and events are stored in the same binary form. An
// entry with any of the rarer fields (event data, links, attachments,
// locations, templates, receipts) carries its whole JSON form as well, so
// no field is ever lost. Records written as JSON (the first layout, which
// starts with '{') are still read.
const (
	entryFormat = 1
	eventFormat = 1
)

func hasRareFields(e *engine.Entry) bool {
	return e.Data != nil || e.Link != nil || e.Attachments != nil || e.Location != nil || e.Template != nil || e.Receipt != nil
}

func encodeEntry(e *engine.Entry) ([]byte, error) {
	w := &writer{b: make([]byte, 0, 64+len(e.Text))}
	w.byte(entryFormat)
	w.str(e.From)
	w.str(e.Text)
	w.str(e.Flow)
	w.str(e.Channel)
	w.str(e.ID)
	w.str(e.Choice)
	w.str(e.Event)
	w.str(e.Agent)
	w.str(e.Image)
	w.time(e.At)
	w.bool(e.Proactive)
	w.uvarint(uint64(len(e.Choices)))
	for _, c := range e.Choices {
		w.str(c.Label)
		w.str(c.Value)
	}
	if hasRareFields(e) {
		b, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		w.byte(1)
		w.str(string(b))
	} else {
		w.byte(0)
	}
	return w.b, nil
}

func decodeEntry(b []byte, seq int64) (engine.Entry, error) {
	var e engine.Entry
	if len(b) > 0 && b[0] == '{' {
		err := json.Unmarshal(b, &e)
		e.Seq = seq
		return e, err
	}
	r := &reader{b: b}
	if v := r.byte(); v != entryFormat {
		return e, fmt.Errorf("entry format %d: %w", v, errCorrupt)
	}
	e.From = r.str()
	e.Text = r.str()
	e.Flow = r.str()
	e.Channel = r.str()
	e.ID = r.str()
	e.Choice = r.str()
	e.Event = r.str()
	e.Agent = r.str()
	e.Image = r.str()
	e.At = r.time()
	e.Proactive = r.bool()
	if n := r.uvarint(); n > 0 && n <= uint64(len(r.b)) {
		e.Choices = make([]engine.OutChoice, n)
		for i := range e.Choices {
			e.Choices[i] = engine.OutChoice{Label: r.str(), Value: r.str()}
		}
	} else if n > 0 {
		r.fail()
	}
	if r.byte() == 1 {
		full := r.str()
		if r.err == nil {
			var whole engine.Entry
			if err := json.Unmarshal([]byte(full), &whole); err != nil {
				return e, err
			}
			e = whole
		}
	}
	e.Seq = seq
	return e, r.err
}

func encodeEvent(ev *engine.Event) []byte {
	w := &writer{b: make([]byte, 0, 96)}
	w.byte(eventFormat)
	w.time(ev.At)
	w.str(string(ev.Kind))
	w.str(ev.Conversation)
	w.str(ev.User)
	w.str(ev.Channel)
	w.str(ev.Flow)
	w.str(ev.Intent)
	w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(ev.Confidence))
	w.str(string(ev.Outcome))
	w.str(ev.Detail)
	w.value(ev.Value)
	return w.b
}

func decodeEvent(b []byte, seq int64) (engine.Event, error) {
	var ev engine.Event
	if len(b) > 0 && b[0] == '{' {
		err := json.Unmarshal(b, &ev)
		ev.Seq = seq
		return ev, err
	}
	r := &reader{b: b}
	if v := r.byte(); v != eventFormat {
		return ev, fmt.Errorf("event format %d: %w", v, errCorrupt)
	}
	ev.At = r.time()
	ev.Kind = engine.EventKind(r.str())
	ev.Conversation = r.str()
	ev.User = r.str()
	ev.Channel = r.str()
	ev.Flow = r.str()
	ev.Intent = r.str()
	if len(r.b) < 8 {
		r.fail()
	} else {
		ev.Confidence = math.Float64frombits(binary.LittleEndian.Uint64(r.b))
		r.b = r.b[8:]
	}
	ev.Outcome = engine.Outcome(r.str())
	ev.Detail = r.str()
	ev.Value = r.value(0)
	ev.Seq = seq
	return ev, r.err
}
