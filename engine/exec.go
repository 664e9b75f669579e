package engine

import (
	"fmt"
	"hash/fnv"
	"time"
)

// run executes steps until the bot waits for input (a question, a wait, a
// person) or no flow is left on the stack.
func (t *turn) run() {
	for !t.stopped {
		fr := t.s.Top()
		if fr == nil || fr.Mode != ModeRunning {
			return
		}
		f := t.p.Flow(fr.Flow)
		if f == nil {
			t.popFrame()
			t.event(EvFlowAbandoned, fr.Flow, "unknown flow")
			continue
		}
		if fr.Step < 0 || fr.Step >= len(f.Steps) {
			t.endFlow(OutcomeNone)
			continue
		}
		t.steps++
		if t.steps > t.p.settings.MaxSteps {
			t.loopGuard()
			continue
		}
		t.step(fr, f, f.Steps[fr.Step])
	}
}

// step executes one step of the frame on top. fr is only valid until the
// stack changes.
func (t *turn) step(fr *Frame, f *Flow, st Step) {
	switch st := st.(type) {
	case *Say:
		if err := t.say(st.Message, f, nil); err != nil {
			t.fail(f, fr.Step, err)
			return
		}
		fr.Step++
	case *Ask:
		sl := t.p.slot(f, st.Slot)
		if sl == nil {
			t.fail(f, fr.Step, fmt.Errorf("unknown slot %q", st.Slot))
			return
		}
		if _, ok := t.slotValue(fr, sl); ok {
			fr.Step++
			fr.Tries, fr.Reprompt = 0, false
			return
		}
		msg := st.Prompt
		if fr.Reprompt && st.Reprompt != nil {
			msg = st.Reprompt
		}
		fr.Reprompt = false
		fr.Mode = ModeAsking
		fr.Slot = st.Slot
		if msg != nil {
			if err := t.say(msg, f, sl.Choices); err != nil {
				t.fail(f, fr.Step, err)
			}
		}
	case *Set:
		for _, a := range st.Assign {
			var v any
			if a.Value != nil {
				var err error
				if v, err = a.Value.Eval(t.vars()); err != nil {
					t.fail(f, fr.Step, err)
					return
				}
			}
			if err := t.setVar(fr, f, a.Name, v); err != nil {
				t.fail(f, fr.Step, err)
				return
			}
		}
		fr.Step++
	case *Branch:
		ok, err := st.Cond.EvalBool(t.vars())
		if err != nil {
			t.fail(f, fr.Step, err)
			return
		}
		if ok {
			fr.Step++
		} else {
			fr.Step = st.Else
		}
	case *Goto:
		fr.Step = st.Target
	case *Call:
		callee := t.p.Flow(st.Flow)
		args, err := t.evalArgs(st.Args)
		if err == nil && len(t.s.Stack) >= t.p.settings.MaxDepth {
			err = fmt.Errorf("calling %s: more than %d flows on the stack", st.Flow, t.p.settings.MaxDepth)
		}
		if err != nil {
			t.fail(f, fr.Step, err)
			return
		}
		fr.Step++
		nf := t.push(callee, FrameCalled, "call")
		if err := t.assignArgs(nf, callee, args); err != nil {
			t.fail(callee, 0, err)
		}
	case *Start:
		target := t.p.Flow(st.Flow)
		args, err := t.evalArgs(st.Args)
		if err != nil {
			t.fail(f, fr.Step, err)
			return
		}
		kind := fr.Kind
		t.popFrame()
		t.event(EvFlowCompleted, f.Name, "start "+st.Flow)
		nf := t.push(target, kind, "start")
		if err := t.assignArgs(nf, target, args); err != nil {
			t.fail(target, 0, err)
		}
	case *Action:
		t.doAction(fr, f, st)
	case *Handoff:
		note := t.handoffNote
		if st.Note != nil {
			s, err := st.Note.Render(t.vars())
			if err != nil {
				t.fail(f, fr.Step, err)
				return
			}
			if s != "" {
				note = s
			}
		}
		if note == "" {
			note = "handoff step"
		}
		step := stepName(st, fr.Step)
		fr.Step++
		fr.Mode = ModeHandoff
		t.requestHandoff(st.Queue, st.Priority, note, f.Name, step)
	case *Wait:
		fr.Mode = ModeWaiting
		if st.Timeout > 0 {
			t.schedule(TimerWait, t.now.Add(st.Timeout))
		}
	case *End:
		t.endFlow(st.Outcome)
	default:
		t.fail(f, fr.Step, fmt.Errorf("unknown step %T", st))
	}
}

func stepName(st Step, i int) string {
	if id := st.Meta().ID; id != "" {
		return id
	}
	return "#" + itoa(i)
}

// push puts a flow on the stack. It returns nil for a nil flow.
func (t *turn) push(f *Flow, kind FrameKind, how string) *Frame {
	if f == nil {
		return nil
	}
	if len(t.s.Stack) >= t.p.settings.MaxDepth+2 { // system flows may go a little over the bound
		t.abandonAll("depth")
	}
	t.s.Stack = append(t.s.Stack, Frame{Flow: f.Name, Kind: kind})
	t.dropEnv()
	if kind != FrameResume {
		t.event(EvFlowStarted, f.Name, how)
	}
	return &t.s.Stack[len(t.s.Stack)-1]
}

// popFrame removes the frame on top and returns it.
func (t *turn) popFrame() Frame {
	n := len(t.s.Stack)
	fr := t.s.Stack[n-1]
	t.s.Stack[n-1] = Frame{}
	t.s.Stack = t.s.Stack[:n-1]
	if len(t.s.Stack) == 0 {
		t.s.Stack = nil
	}
	if fr.Mode == ModeWaiting {
		t.unschedule(TimerWait)
	}
	t.dropEnv()
	return fr
}

// endFlow ends the flow on top with an outcome and goes back to what it
// interrupted or was called from.
func (t *turn) endFlow(o Outcome) {
	fr := t.popFrame()
	if fr.Kind != FrameResume {
		ev := t.newEvent(EvFlowCompleted, fr.Flow, "")
		ev.Outcome = o
		t.events = append(t.events, ev)
	}
	t.afterPop(fr)
}

// afterPop continues below a frame that was removed: a caller goes on; a
// question interrupted by a digression is asked again after the resume flow.
func (t *turn) afterPop(popped Frame) {
	below := t.s.Top()
	if below == nil || below.Mode != ModeAsking {
		return
	}
	if popped.Kind == FrameQuiet && !t.userTurn {
		return // a reminder: keep waiting without asking again
	}
	if popped.Kind == FrameDigression && t.carryOver(below) {
		return // the message that ended the digression answers this question too
	}
	t.resume(below)
}

// resume asks the frame's question again, after the resume system flow
// ("Volviendo a tu cambio de talla:").
func (t *turn) resume(fr *Frame) {
	fr.Mode, fr.Reprompt = ModeRunning, true
	t.preface(fr)
}

// preface runs the resume system flow over fr, which goes on after it:
// "Volviendo a tu cambio de talla…".
func (t *turn) preface(fr *Frame) {
	rf := t.p.SystemFlow(SysResume)
	if rf == nil || rf.Name == fr.Flow {
		return
	}
	title := fr.Flow
	if f := t.p.Flow(fr.Flow); f != nil {
		title = t.flowTitle(f)
	}
	if nf := t.push(rf, FrameResume, "resume"); nf != nil {
		t.setFrameVar(nf, VarResumed, title)
	}
}

// abandonAll removes every flow, logging each as abandoned.
func (t *turn) abandonAll(why string) {
	for len(t.s.Stack) > 0 {
		fr := t.popFrame()
		if fr.Kind != FrameResume {
			ev := t.newEvent(EvFlowAbandoned, fr.Flow, why)
			ev.Outcome = OutcomeAbandoned
			t.events = append(t.events, ev)
		}
	}
}

// fail handles a step that could not run (an expression or action error):
// the flow is abandoned and the error system flow runs; the conversation
// goes on with what the flow had interrupted. A failure while the error
// flow runs stops the turn with the runtime's own apology.
func (t *turn) fail(f *Flow, step int, err error) {
	detail := fmt.Sprintf("%s step %d: %v", f.Name, step, err)
	var pos Pos
	if step >= 0 && step < len(f.Steps) {
		pos = f.Steps[step].Meta().Pos
	}
	if pos.IsValid() { // where the designer wrote it: "flows/reservas.yaml:23:7: reservas step 6: …"
		detail = pos.String() + ": " + detail
	}
	t.event(EvError, f.Name, detail)
	t.rt.log.Warn("flow failed", "conversation", t.s.ID, "flow", f.Name, "step", step, "pos", pos.String(), "err", err)
	if t.failing {
		t.abandonAll("error")
		t.sayBuiltin(SysError)
		t.stopped = true
		return
	}
	t.failing = true
	var popped Frame
	if len(t.s.Stack) > 0 && t.s.Top().Flow == f.Name {
		popped = t.popFrame()
		ev := t.newEvent(EvFlowAbandoned, f.Name, "error")
		ev.Outcome = OutcomeAbandoned
		t.events = append(t.events, ev)
	}
	if ef := t.p.SystemFlow(SysError); ef != nil {
		t.push(ef, t.overKind(), "error")
		return
	}
	t.sayBuiltin(SysError)
	t.afterPop(popped)
}

// loopGuard stops a turn that ran more than Settings.MaxSteps steps
// without waiting for input: every flow is abandoned and the error flow
// runs, once.
func (t *turn) loopGuard() {
	t.event(EvError, "", fmt.Sprintf("loop guard: more than %d steps without waiting for input", t.p.settings.MaxSteps))
	t.abandonAll("loop")
	if t.guarded {
		t.sayBuiltin(SysError)
		t.stopped = true
		return
	}
	t.guarded, t.failing, t.steps = true, true, 0
	if ef := t.p.SystemFlow(SysError); ef != nil {
		t.push(ef, FrameStarted, "error")
		return
	}
	t.sayBuiltin(SysError)
	t.stopped = true
}

// say renders a message and adds it to the replies.
func (t *turn) say(m *Message, f *Flow, auto []Choice) error {
	if m == nil {
		return nil
	}
	e, err := t.render(m, f, auto)
	if err != nil {
		return err
	}
	t.emit(e)
	return nil
}

// sayText says a plain text.
func (t *turn) sayText(tx Text, f *Flow) {
	s, err := tx.Render(t.s.Lang, t.p.DefaultLang(), t.vars())
	if err != nil {
		if top := t.s.Top(); f != nil && top != nil {
			t.fail(f, top.Step, err)
		} else {
			t.event(EvError, "", err.Error())
			t.sayBuiltin(SysError)
		}
		return
	}
	e := Entry{From: FromBot, Text: s, At: t.now, Channel: t.s.Channel}
	if f != nil {
		e.Flow = f.Name
	}
	t.emit(e)
}

// render turns a message into a transcript entry: one variant (chosen by
// the conversation and its position, so a replay says the same), the
// buttons, the image and the link.
func (t *turn) render(m *Message, f *Flow, auto []Choice) (Entry, error) {
	e := Entry{From: FromBot, At: t.now, Channel: t.s.Channel}
	if f != nil {
		e.Flow = f.Name
	}
	lang, def := t.s.Lang, t.p.DefaultLang()
	// The environment is built only for texts with placeholders.
	var env map[string]any
	vars := func(tm *Template) map[string]any {
		if env == nil && tm != nil && !tm.Static() {
			env = t.vars()
		}
		return env
	}
	text := func(tx Text) (string, error) {
		tm := tx.Pick(lang, def)
		if tm == nil {
			return "", nil
		}
		return tm.Render(vars(tm))
	}
	if n := len(m.Variants); n > 0 {
		i := 0
		if n > 1 {
			h := fnv.New32a()
			h.Write([]byte(t.s.ID))
			h.Write([]byte{byte(t.s.Seq), byte(t.s.Seq >> 8), byte(t.s.Seq >> 16)})
			i = int(h.Sum32() % uint32(n))
		}
		s, err := text(m.Variants[i])
		if err != nil {
			return e, err
		}
		e.Text = s
	}
	choices, err := t.buttons(m, auto, text)
	if err != nil {
		return e, err
	}
	e.Choices = choices
	if m.Image != nil {
		s, err := m.Image.Render(vars(m.Image))
		if err != nil {
			return e, err
		}
		e.Image = s
	}
	if m.Link != nil && m.Link.URL != nil {
		u, err := m.Link.URL.Render(vars(m.Link.URL))
		if err != nil {
			return e, err
		}
		l, err := text(m.Link.Label)
		if err != nil {
			return e, err
		}
		e.Link = &OutLink{URL: u, Label: l}
	}
	if m.Template != nil {
		tm, err := t.renderTemplate(m.Template)
		if err != nil {
			return e, err
		}
		e.Template = tm
	}
	return e, nil
}

// buttons renders a message's buttons: its own and those its expression
// computes, or auto (a choice slot's choices) when it has neither. text
// renders a label.
func (t *turn) buttons(m *Message, auto []Choice, text func(Text) (string, error)) ([]OutChoice, error) {
	choices := m.Choices
	if len(choices) == 0 && m.ChoicesFrom == nil {
		choices = auto
	}
	var out []OutChoice
	if len(choices) > 0 {
		out = make([]OutChoice, 0, len(choices))
	}
	for _, c := range choices {
		label, err := text(c.Label)
		if err != nil {
			return out, err
		}
		if label == "" {
			label = c.Value
		}
		out = append(out, OutChoice{Label: label, Value: c.Value})
	}
	if m.ChoicesFrom != nil {
		v, err := m.ChoicesFrom.Eval(t.vars())
		if err != nil {
			return out, err
		}
		xs, _ := NormalizeValue(v).([]any)
		for _, x := range xs {
			switch x := x.(type) {
			case map[string]any:
				label, value := FormatValue(x["label"]), FormatValue(x["value"])
				if value == "" {
					value = label
				}
				if label == "" {
					label = value
				}
				out = append(out, OutChoice{Label: label, Value: value})
			case nil:
			default:
				s := FormatValue(x)
				out = append(out, OutChoice{Label: s, Value: s})
			}
		}
	}
	return out, nil
}

// vars returns the expression environment of the frame on top: the
// builtins, the user's and the conversation's slots, and the frame's own
// slots and variables. It is rebuilt only when the stack changes.
func (t *turn) vars() map[string]any {
	if t.env != nil {
		return t.env
	}
	fr := t.s.Top()
	n := 10 + len(t.s.Vars)
	if fr != nil {
		n += len(fr.Vars)
	}
	if t.profile != nil {
		n += len(t.profile.Vars)
	}
	m := t.spareEnv
	if m == nil {
		m = make(map[string]any, n)
	} else {
		t.spareEnv = nil
		clear(m)
	}
	if t.userVar == nil {
		t.userVar = map[string]any{"id": t.s.User, "verified": t.s.Verified, "channel": t.s.Channel}
	}
	m[VarUser] = t.userVar
	m[VarLang] = t.s.Lang
	m[VarChannel] = t.s.Channel
	m[VarText] = t.in.Text
	m[VarIntent] = t.intent
	m[VarConfidence] = t.confidence
	now := t.now.In(t.p.loc)
	m[VarNow] = now
	m[VarToday] = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, t.p.loc)
	m[VarWaiting] = t.waitingFlow()
	if t.profile != nil {
		for _, v := range t.profile.Vars {
			m[v.Name] = v.Value
		}
	}
	for _, v := range t.s.Vars {
		m[v.Name] = v.Value
	}
	if fr != nil {
		for _, v := range fr.Vars {
			m[v.Name] = v.Value
		}
	}
	t.env = m
	return m
}

// setVar assigns a slot (coerced to its type, kept in its scope) or a flow variable.
func (t *turn) setVar(fr *Frame, f *Flow, name string, v any) error {
	v = NormalizeValue(v)
	if sl := t.p.slot(f, name); sl != nil {
		cv, err := coerceSlot(sl, v)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		t.setSlot(fr, sl, cv)
		return nil
	}
	if v == nil {
		fr.Vars.Delete(name)
	} else {
		fr.Vars.Set(name, v)
	}
	t.touch(fr, name, v)
	return nil
}

// dropEnv forgets the expression environment (the stack changed); its map
// is kept to be filled again.
func (t *turn) dropEnv() {
	if t.env != nil {
		t.spareEnv, t.env = t.env, nil
	}
}

// setFrameVar sets a variable of a frame.
func (t *turn) setFrameVar(fr *Frame, name string, v any) {
	fr.Vars.Set(name, v)
	t.touch(fr, name, v)
}

// touch keeps the environment in step with an assignment.
func (t *turn) touch(fr *Frame, name string, v any) {
	if t.env != nil {
		if fr == t.s.Top() {
			t.env[name] = v
		} else {
			t.dropEnv()
		}
	}
}

// evalArgs evaluates the arguments of a call, a start or an action.
func (t *turn) evalArgs(as []Assign) (map[string]any, error) {
	if len(as) == 0 {
		return nil, nil
	}
	vars := t.vars()
	out := make(map[string]any, len(as))
	for _, a := range as {
		if a.Value == nil {
			out[a.Name] = nil
			continue
		}
		v, err := a.Value.Eval(vars)
		if err != nil {
			return nil, err
		}
		out[a.Name] = NormalizeValue(v)
	}
	return out, nil
}

// assignArgs gives a new frame the arguments of its call or start.
func (t *turn) assignArgs(fr *Frame, f *Flow, args map[string]any) error {
	if fr == nil {
		return nil
	}
	for k, v := range args {
		if err := t.setVar(fr, f, k, v); err != nil {
			return err
		}
	}
	return nil
}

// seed puts the conversation in a given state (see Runtime.Seed).
func (t *turn) seed(sd Seed) error {
	for k, v := range sd.Profile {
		sl := t.p.GlobalSlot(k)
		if sl == nil || sl.Scope != ScopeUser {
			return Errorf(EInvalid, "%q is not a user-scoped slot", k)
		}
		cv, err := coerceSlot(sl, NormalizeValue(v))
		if err != nil {
			return Errorf(EInvalid, "profile %s: %v", k, err)
		}
		t.setSlot(nil, sl, cv)
	}
	var fr *Frame
	var f *Flow
	if sd.Flow != "" {
		if f = t.p.Flow(sd.Flow); f == nil {
			return Errorf(EInvalid, "no flow %q", sd.Flow)
		}
		t.abandonAll("seed")
		fr = t.push(f, FrameStarted, "seed")
		if sd.Step != "" {
			i := f.StepByID(sd.Step)
			if i < 0 {
				return Errorf(EInvalid, "flow %s has no step %q", sd.Flow, sd.Step)
			}
			fr.Step = i
		}
	}
	for k, v := range sd.Slots {
		sl := t.p.slot(f, k)
		if sl == nil {
			if fr == nil {
				return Errorf(EInvalid, "no slot %q outside a flow", k)
			}
			t.setFrameVar(fr, k, NormalizeValue(v))
			continue
		}
		cv, err := coerceSlot(sl, NormalizeValue(v))
		if err != nil {
			return Errorf(EInvalid, "slot %s: %v", k, err)
		}
		if sl.Scope == ScopeFlow && fr == nil {
			return Errorf(EInvalid, "slot %q belongs to a flow: name the flow", k)
		}
		t.setSlot(fr, sl, cv)
	}
	t.dropEnv()
	return nil
}

// fire runs a timer that came due.
func (t *turn) fire(tm Timer) {
	cur, ok := t.s.Timer(tm.Kind)
	if !ok || !cur.Due.Equal(tm.Due) {
		t.unsched = append(t.unsched, tm) // stale
		return
	}
	t.unschedule(tm.Kind)
	if tm.Kind != TimerWait {
		due, ok := t.inactiveDue(tm.Kind)
		if !ok {
			return // no longer applies (a question answered, a wait begun)
		}
		if t.now.Before(due) {
			t.schedule(tm.Kind, due) // the conversation was active since: later
			return
		}
	}
	switch tm.Kind {
	case TimerWait:
		fr := t.s.Top()
		if fr == nil || fr.Mode != ModeWaiting {
			return
		}
		f := t.p.Flow(fr.Flow)
		w, ok := f.Steps[fr.Step].(*Wait)
		if !ok {
			return
		}
		fr.Mode = ModeRunning
		if w.OnTimeout >= 0 {
			fr.Step = w.OnTimeout
		} else {
			fr.Step++
		}
	case TimerReminder:
		if t.s.Status != StatusBot || !t.asking() {
			return
		}
		if f := t.p.SystemFlow(SysInactivity); f != nil {
			t.push(f, FrameQuiet, "inactivity")
		} else {
			t.sayBuiltin(SysInactivity)
		}
	case TimerClose:
		if t.s.Status == StatusAgent || t.s.Status == StatusClosed {
			return
		}
		t.close("inactivity")
	case TimerExpire:
		if t.s.Status == StatusAgent {
			return
		}
		t.restart("expired")
	}
	t.run()
}
