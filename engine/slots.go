package engine

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// fill is a value a message offers for a slot.
type fill struct {
	slot  *Slot
	value any
	ent   int // the index of the entity it came from in the understanding
}

// slotTakes reports whether an entity fills a slot outside of its question:
// the entity the slot names, or the entity of the slot's own name, or the
// unmistakable built-in entity of its type (email, phone).
func slotTakes(s *Slot, entity string) bool {
	if s.Entity != "" {
		return s.Entity == entity
	}
	if s.Name == entity {
		return true
	}
	switch s.Type {
	case SlotEmail:
		return entity == EntityEmail
	case SlotPhone:
		return entity == EntityPhone
	}
	return false
}

// entityFills returns, for each slot of flow f and each conversation- or
// user-scoped slot, the first entity of the message that fills it. An
// entity a slot already took in this turn (see turn.used) fills nothing
// more.
func (t *turn) entityFills(f *Flow) []fill {
	if t.u == nil || len(t.u.Entities) == 0 {
		return nil
	}
	var out []fill
	add := func(s *Slot) {
		for _, o := range out {
			if o.slot == s || o.slot.Name == s.Name {
				return
			}
		}
		for i, e := range t.u.Entities {
			if !slotTakes(s, e.Entity) || t.isUsed(i) {
				continue
			}
			if v, err := coerceSlot(s, NormalizeValue(e.Value)); err == nil && v != nil {
				out = append(out, fill{s, v, i})
				return
			}
		}
	}
	if f != nil {
		for _, s := range f.Slots {
			add(s)
		}
	}
	for _, s := range t.p.globals {
		add(s)
	}
	return out
}

// isUsed reports whether entity i of the message filled a slot in this
// turn. Entities past the 64th are never reused.
func (t *turn) isUsed(i int) bool {
	return i >= 64 || (i >= 0 && t.used&(1<<uint(i)) != 0)
}

// use notes that entity i (-1: none, the text) filled a slot.
func (t *turn) use(i int) {
	if i >= 0 && i < 64 {
		t.used |= 1 << uint(i)
	}
}

// fillFrom fills the unfilled slots the message has values for (except
// skip), when the values are valid.
func (t *turn) fillFrom(fr *Frame, f *Flow, fills []fill, skip *Slot) {
	for _, c := range fills {
		if c.slot == skip {
			continue
		}
		if _, ok := t.slotValue(fr, c.slot); ok {
			continue
		}
		if t.valid(fr, c.slot, c.value) {
			t.setSlot(fr, c.slot, c.value)
			t.use(c.ent)
		}
	}
}

// readMode says which readings of a message may answer a question.
type readMode uint8

const (
	// readAll: any reading (the question on top).
	readAll readMode = iota
	// readExact: no loose reading — free text or a yes/no word — since the
	// message is tried on a question it was not the reply to (a question a
	// digression interrupted; see turn.answerInterrupted).
	readExact
	// readEntities: only entities no slot took yet, since the message was
	// already the answer to another question (see turn.carryOver).
	readEntities
)

// reading is what a message says to a pending question: new values for
// slots already filled (corrections) and the pending slot's value.
type reading struct {
	sl        *Slot
	fills     []fill
	changes   []fill // new values for slots already filled
	rewind    int    // the index of the earliest corrected question, or -1
	corrected *Slot
	value     any  // the pending slot's value, not validated yet; nil: none
	ent       int  // the entity it came from, or -1
	generic   bool // value came from a loose reading
}

// read reads the message as the answer to the pending question of frame
// fr (of flow f, at ask). It changes nothing.
func (t *turn) read(fr *Frame, f *Flow, ask *Ask, mode readMode) reading {
	r := reading{rewind: -1, ent: -1}
	sl := t.p.slot(f, ask.Slot)
	if sl == nil {
		return r
	}
	r.sl = sl
	r.fills = t.entityFills(f)
	// A message that asks for another flow ("¿y dónde está mi pedido
	// A1002?" in the middle of an exchange of A1001) is a digression, not a
	// correction of what this flow was told.
	elsewhere := t.triggersElsewhere(f)
	// Corrections: a new value for a slot already filled.
	for _, c := range r.fills {
		if c.slot == sl || c.slot.Type == SlotBoolean || elsewhere {
			continue
		}
		cur, ok := t.slotValue(fr, c.slot)
		if !ok || ValuesEqual(cur, c.value) || !t.valid(fr, c.slot, c.value) {
			continue
		}
		r.changes = append(r.changes, c)
		if ai := f.AskIndex(c.slot.Name); ai >= 0 && ai < fr.Step && (r.rewind < 0 || ai < r.rewind) {
			r.rewind, r.corrected = ai, c.slot
		}
	}
	if r.rewind >= 0 {
		return r
	}
	r.value, r.generic, r.ent = t.readPending(sl, r.fills, mode)
	if r.value != nil && r.generic {
		if mode != readAll {
			r.value = nil
		} else if role := t.systemRole(); role == SysCancel || role == SysHuman {
			// "olvídalo", "quiero hablar con una persona" are not
			// free-text answers nor a "no".
			r.value = nil
		} else if sl.Type == SlotBoolean && t.askedElsewhere(f, r.ent) {
			r.value = nil
		}
	}
	return r
}

// askedElsewhere reports whether a message read as a yes or no (from
// entity ent, or -1) is rather a question that asks for something else:
// "¿ya llegó mi pedido?" at "¿Lo confirmo?" starts the order status (a
// digression), whatever yes an understander read in its "ya". A yes or no
// that is its own clause ("sí, ¿y cuándo llega?", "¿sí?") stays the
// answer; an understander's entity without a position is trusted.
func (t *turn) askedElsewhere(f *Flow, ent int) bool {
	if !isQuestion(t.in.Text) {
		return false
	}
	if m := t.match(); m.article == nil && !t.triggersElsewhere(f) {
		return false
	}
	if ent < 0 || t.u == nil || ent >= len(t.u.Entities) {
		return false // ReadYesNo's own reading: the answer is its clause
	}
	e := t.u.Entities[ent]
	return e.Start < e.End && !endsClause(t.in.Text, e.End)
}

// isQuestion reports whether a text asks: it has "¿" or ends with "?"
// (before emoji and spaces).
func isQuestion(s string) bool {
	if strings.ContainsRune(s, '¿') {
		return true
	}
	s = strings.TrimRightFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsSymbol(r) || r == '!' || r == '.' })
	return strings.HasSuffix(s, "?")
}

// endsClause reports whether the text ends, or its clause does, at rune
// offset end (spaces aside).
func endsClause(s string, end int) bool {
	i := 0
	for _, r := range s {
		if i >= end {
			switch {
			case unicode.IsSpace(r):
				continue
			case strings.ContainsRune(",.;:!?¡¿…", r):
				return true
			}
			return false
		}
		i++
	}
	return true
}

// takes reports whether a reading would be taken: a correction, or a valid
// value for the pending slot.
func (t *turn) takes(fr *Frame, r *reading) bool {
	return r.rewind >= 0 || (r.value != nil && t.valid(fr, r.sl, r.value))
}

// apply takes a reading: a correction makes the flow go back to just after
// the corrected question, forget what followed, and run again from there;
// an answer fills the pending slot (and whatever else the message fills).
// It reports whether the message was taken; a value that validation
// refused is noted in t.rejected.
func (t *turn) apply(fr *Frame, f *Flow, r *reading) bool {
	if r.sl == nil {
		return false
	}
	if r.rewind >= 0 {
		t.forgetAfter(fr, f, r.rewind)
		for _, c := range r.changes {
			t.setSlot(fr, c.slot, c.value)
			t.use(c.ent)
		}
		t.fillFrom(fr, f, r.fills, nil)
		fr.Step, fr.Mode, fr.Tries, fr.Reprompt = r.rewind+1, ModeRunning, 0, false
		t.answered = true
		t.gotIt()
		return true
	}
	for _, c := range r.changes { // corrections of what was not asked yet
		t.setSlot(fr, c.slot, c.value)
		t.use(c.ent)
	}
	if r.value == nil {
		return false
	}
	if !t.valid(fr, r.sl, r.value) {
		t.rejected = r.sl
		return false
	}
	t.setSlot(fr, r.sl, r.value)
	t.use(r.ent)
	if u := t.u; u != nil {
		// "A1001, la 43": what the answer leaves may be a later question's.
		t.understandForLater(fr, f, r.sl)
		if t.u != u {
			r.fills = t.entityFills(f)
		}
	}
	t.fillFrom(fr, f, r.fills, r.sl)
	fr.Mode, fr.Tries, fr.Reprompt = ModeRunning, 0, false
	t.answered = true
	t.gotIt()
	return true
}

// forgetAfter forgets, for a correction of the question at step ai, the
// frame's variables that only the steps after it set: what depended on the
// old answer (the stock checked, the confirmation) is computed again, what
// came before (the order looked up) stays — even when the corrected slot
// was filled before it, from the message that started the flow.
func (t *turn) forgetAfter(fr *Frame, f *Flow, ai int) {
	var after, before []string
	for i, st := range f.Steps {
		names := &after
		if i <= ai {
			names = &before
		}
		switch st := st.(type) {
		case *Ask:
			*names = append(*names, st.Slot)
		case *Set:
			for _, a := range st.Assign {
				*names = append(*names, a.Name)
			}
		case *Action:
			if st.Into != "" {
				*names = append(*names, st.Into)
			}
		case *Wait:
			if st.Into != "" {
				*names = append(*names, st.Into)
			}
		}
	}
	for _, n := range after {
		if slices.Contains(before, n) {
			continue
		}
		if sl := t.p.slot(f, n); sl != nil && sl.Scope != ScopeFlow {
			continue
		}
		if _, ok := fr.Vars.Get(n); ok {
			fr.Vars.Delete(n)
			t.touch(fr, n, nil)
		}
	}
}

// answer tries the message as the answer to the pending question (see
// read and apply). It reports whether the message was taken.
func (t *turn) answer(fr *Frame, f *Flow, ask *Ask) bool {
	r := t.read(fr, f, ask, readAll)
	return t.apply(fr, f, &r)
}

// triggersElsewhere reports whether the message starts a flow other than
// f (not a system role, which answer handles itself).
func (t *turn) triggersElsewhere(f *Flow) bool {
	m := t.match()
	return m.flow != nil && m.flow != f && t.p.roleOf[m.flow.Name] == ""
}

// readPending reads the pending slot's value from the message: an entity
// that fills it, else the text read as the slot's type. generic says the
// value came from a loose reading (any text, a yes or no word); ent is the
// entity it came from, or -1. In readEntities mode only entities no slot
// took yet are read.
func (t *turn) readPending(sl *Slot, fills []fill, mode readMode) (v any, generic bool, ent int) {
	for _, c := range fills {
		if c.slot == sl {
			return c.value, false, c.ent
		}
	}
	entity := func(names ...string) (any, int) {
		if t.u == nil {
			return nil, -1
		}
		for i, e := range t.u.Entities {
			if t.isUsed(i) {
				continue
			}
			for _, n := range names {
				if e.Entity == n {
					if v, err := coerceSlot(sl, NormalizeValue(e.Value)); err == nil && v != nil {
						return v, i
					}
				}
			}
		}
		return nil, -1
	}
	if mode == readEntities {
		switch sl.Type {
		case SlotNumber, SlotInteger:
			v, ent = entity(EntityNumber, EntitySize)
		case SlotEmail:
			v, ent = entity(EntityEmail)
		case SlotPhone:
			v, ent = entity(EntityPhone)
		case SlotDate:
			v, ent = entity(EntityDate)
		}
		return v, false, ent
	}
	text := strings.TrimSpace(t.in.Text)
	switch sl.Type {
	case SlotText:
		if text != "" {
			return text, true, -1
		}
	case SlotNumber, SlotInteger:
		if v, i := entity(EntityNumber, EntitySize); v != nil {
			return v, false, i
		}
		if f, _, ok := ReadNumber(text); ok {
			if v, err := coerceSlot(sl, f); err == nil {
				return v, false, -1
			}
		}
	case SlotBoolean:
		if AckClosing(text) {
			// "ok gracias", "ok thanks": thanks, not a yes — whatever
			// the understander read in it.
			return nil, false, -1
		}
		if v, i := entity(EntityBoolean); v != nil {
			return v, true, i
		}
		if yes, ok := ReadYesNo(text); ok {
			return yes, true, -1
		}
	case SlotChoice:
		if c, ok := matchChoice(sl, text); ok {
			return c, false, -1
		}
	case SlotEmail:
		if v, i := entity(EntityEmail); v != nil {
			return v, false, i
		}
		if m := emailRE.FindString(text); m != "" {
			return m, false, -1
		}
	case SlotPhone:
		if v, i := entity(EntityPhone); v != nil {
			return v, false, i
		}
		if m := phoneRE.FindString(text); m != "" && countDigits(m) >= 7 {
			return strings.TrimSpace(m), false, -1
		}
	case SlotDate:
		if v, i := entity(EntityDate); v != nil {
			return v, false, i
		}
		if d, err := ParseDate(text); err == nil {
			return d, false, -1
		}
	case SlotPattern:
		if sl.Pattern != nil {
			if m, ok := findWord(sl.Pattern, text); ok {
				return m, false, -1
			}
		}
	case SlotLocation:
		if l := t.in.Location; l != nil {
			return map[string]any{"lat": l.Lat, "lon": l.Lon, "name": l.Name, "address": l.Address}, false, -1
		}
	case SlotAttachment:
		for _, a := range t.in.Attachments {
			if acceptsAttachment(sl, a) {
				return map[string]any{"id": a.ID, "kind": a.Kind, "url": a.URL, "name": a.Name,
					"mime": a.MIME, "caption": a.Caption, "size": a.Size}, false, -1
			}
		}
	}
	return nil, false, -1
}

// readChoice reads a pressed button as the pending slot's value.
func (t *turn) readChoice(sl *Slot, value string) (any, bool) {
	if sl == nil {
		return nil, false
	}
	switch sl.Type {
	case SlotChoice:
		for _, c := range sl.Choices {
			if c.Value == value {
				return c.Value, true
			}
		}
		if c, ok := matchChoice(sl, value); ok {
			return c, true
		}
	case SlotBoolean:
		switch strings.ToLower(value) {
		case "true", "yes", "si", "sí", "1":
			return true, true
		case "false", "no", "0":
			return false, true
		}
	default:
		if v, err := coerceSlot(sl, value); err == nil && v != nil {
			return v, true
		}
	}
	return nil, false
}

var (
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	phoneRE = regexp.MustCompile(`\+?[0-9][0-9 ().\-]{5,}[0-9]`)
)

func countDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}

// findWord returns the first match of re in s that is not glued to other
// letters or digits.
func findWord(re *regexp.Regexp, s string) (string, bool) {
	for _, loc := range re.FindAllStringIndex(s, 8) {
		if loc[0] == loc[1] {
			continue
		}
		if loc[0] > 0 && isWordByte(s[loc[0]-1]) {
			continue
		}
		if loc[1] < len(s) && isWordByte(s[loc[1]]) {
			continue
		}
		return s[loc[0]:loc[1]], true
	}
	return "", false
}

func acceptsAttachment(sl *Slot, a Attachment) bool {
	if len(sl.Accept) == 0 {
		return true
	}
	for _, k := range sl.Accept {
		if k == a.Kind {
			return true
		}
	}
	return false
}

// matchChoice finds the choice a text names: by value, label (any
// language) or synonym, accent- and case-insensitively; as a whole phrase
// inside the text when only one choice appears; or by its number in the list.
func matchChoice(sl *Slot, text string) (string, bool) {
	n := Normalize(text)
	if n == "" {
		return "", false
	}
	phrases := func(c Choice) []string {
		ps := []string{Normalize(c.Value)}
		for _, tm := range c.Label {
			if tm != nil && tm.Static() {
				ps = append(ps, Normalize(tm.Source))
			}
		}
		for _, s := range c.Synonyms {
			ps = append(ps, Normalize(s))
		}
		return ps
	}
	for _, c := range sl.Choices {
		for _, p := range phrases(c) {
			if p == n {
				return c.Value, true
			}
		}
	}
	found := -1
	for i, c := range sl.Choices {
		for _, p := range phrases(c) {
			if containsPhrase(n, p) {
				if found >= 0 && found != i {
					found = -2
				} else if found != -2 {
					found = i
				}
				break
			}
		}
	}
	if found >= 0 {
		return sl.Choices[found].Value, true
	}
	if k, err := strconv.Atoi(n); err == nil && k >= 1 && k <= len(sl.Choices) {
		return sl.Choices[k-1].Value, true
	}
	return "", false
}

// coerceSlot converts a value to the canonical type of a slot and checks
// what the type itself demands (a pattern, a choice).
func coerceSlot(sl *Slot, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch sl.Type {
	case SlotBoolean:
		if s, ok := v.(string); ok {
			switch strings.ToLower(s) {
			case "true", "yes", "si", "sí":
				return true, nil
			case "false", "no":
				return false, nil
			}
		}
	case SlotChoice:
		s := FormatValue(v)
		if len(sl.Choices) == 0 {
			return s, nil
		}
		if c, ok := matchChoice(sl, s); ok {
			return c, nil
		}
		return nil, fmt.Errorf("%q is not one of the choices", s)
	case SlotPattern:
		s, ok := v.(string)
		if !ok {
			s = FormatValue(v)
		}
		if sl.Pattern != nil && !sl.Pattern.MatchString(s) {
			return nil, fmt.Errorf("%q does not match %s", s, sl.Pattern)
		}
		return s, nil
	case SlotText, SlotEmail, SlotPhone:
		if _, ok := v.(string); !ok {
			switch v.(type) {
			case float64, int, bool:
				return FormatValue(v), nil
			}
		}
	case SlotDate:
		if s, ok := v.(string); ok {
			d, err := ParseDate(s)
			if err != nil {
				return nil, err
			}
			return d, nil
		}
	case SlotLocation:
		if l, ok := v.(*Location); ok {
			return map[string]any{"lat": l.Lat, "lon": l.Lon, "name": l.Name, "address": l.Address}, nil
		}
	}
	return sl.Type.ValueType().Coerce(v)
}

// valid reports whether a value passes the slot's validation (evaluated
// with the value under the slot's name). A validation that fails to
// evaluate rejects the value and is logged.
func (t *turn) valid(fr *Frame, sl *Slot, v any) bool {
	if sl.Validate == nil {
		return true
	}
	env := t.vars()
	old, had := env[sl.Name]
	env[sl.Name] = v
	ok, err := sl.Validate.EvalBool(env)
	if had {
		env[sl.Name] = old
	} else {
		delete(env, sl.Name)
	}
	if err != nil {
		flow := ""
		if fr != nil {
			flow = fr.Flow
		}
		t.event(EvError, flow, "validate "+sl.Name+": "+err.Error())
		return false
	}
	return ok
}

// slotValue returns a slot's value as the frame sees it.
func (t *turn) slotValue(fr *Frame, sl *Slot) (any, bool) {
	switch {
	case sl.Scope == ScopeFlow:
		if fr == nil {
			return nil, false
		}
		return fr.Vars.Get(sl.Name)
	case sl.Scope == ScopeUser && t.profile != nil:
		return t.profile.Vars.Get(sl.Name)
	}
	return t.s.Vars.Get(sl.Name)
}

// SlotOptOut is the user-scoped boolean slot through which a shopper
// consents to proactive messages: false opts out ("no quiero más avisos").
const SlotOptOut = "notifications"

// setSlot stores a slot's value in its scope (nil clears it).
func (t *turn) setSlot(fr *Frame, sl *Slot, v any) {
	var vs *Vars
	switch {
	case sl.Scope == ScopeFlow:
		if fr == nil {
			return
		}
		vs = &fr.Vars
	case sl.Scope == ScopeUser && t.profile != nil:
		vs = &t.profile.Vars
		t.profileDirty = true
		if sl.Name == SlotOptOut {
			b, _ := v.(bool)
			t.profile.OptOut = v != nil && !b
		}
	default:
		vs = &t.s.Vars
	}
	if v == nil {
		vs.Delete(sl.Name)
	} else {
		vs.Set(sl.Name, v)
	}
	if t.env != nil {
		t.env[sl.Name] = v
	}
	if v != nil && fr != nil && (sl.Name == "csat" || fr.Flow == "csat") &&
		(sl.Type == SlotNumber || sl.Type == SlotInteger || sl.Type == SlotChoice) {
		ev := t.newEvent(EvCSAT, fr.Flow, sl.Name)
		ev.Value = v
		t.events = append(t.events, ev)
	}
}
