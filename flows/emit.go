package flows

import (
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/charlabot/charla/engine"
)

// Pass 2: lowering a flow's nested YAML steps into the engine's flat state
// machine. Guards and if/then/else become Branch and Goto steps; on_error,
// exhausted, on_none and on_timeout blocks are emitted after the flow's main line,
// each ending the flow unless it jumps elsewhere.

type emitter struct {
	c   *compiler
	d   *flowDecl
	env engine.Env

	steps  []engine.Step
	synth  []bool // steps the compiler added (not reported as unreachable)
	labels []int  // label → step index, -1 while unbound
	fixups []fixup

	ids       map[string]int  // step id → label
	idAt      map[string]node // where each id is defined
	idRefs    []strAt         // goto targets, checked at the end
	exhausted map[*slotDecl]int
	pending   []pendingBlock
}

type fixup struct {
	target *int
	label  int
}

type pendingBlock struct {
	label int
	steps []node
}

func (e *emitter) newLabel() int {
	e.labels = append(e.labels, -1)
	return len(e.labels) - 1
}

func (e *emitter) bind(l int) { e.labels[l] = len(e.steps) }

func (e *emitter) ref(target *int, l int) { e.fixups = append(e.fixups, fixup{target, l}) }

func (e *emitter) emit(s engine.Step, at node, synthetic bool) {
	s.Meta().Pos = at.pos()
	e.steps = append(e.steps, s)
	e.synth = append(e.synth, synthetic)
}

func (e *emitter) idLabel(id string) int {
	if l, ok := e.ids[id]; ok {
		return l
	}
	l := e.newLabel()
	e.ids[id] = l
	return l
}

// deferBlock schedules a block for emission after the main line and
// returns its label.
func (e *emitter) deferBlock(x node) int {
	l := e.newLabel()
	e.pending = append(e.pending, pendingBlock{l, e.c.block(x)})
	return l
}

func terminal(s engine.Step) bool {
	switch s.(type) {
	case *engine.Goto, *engine.Start, *engine.End:
		return true
	}
	return false
}

// compileFlow compiles a flow's slots, triggers and steps.
func (c *compiler) compileFlow(d *flowDecl) {
	env := c.flowEnv(d)
	for _, s := range d.fl.Slots {
		c.compileSlot(d.slots[s.Name], env)
	}
	c.compileTriggers(d, c.globalEnv())
	if v := d.m.get("title"); v.ok() {
		d.fl.Title = c.text(v, env, "title")
	}
	e := &emitter{c: c, d: d, env: env, ids: map[string]int{}, idAt: map[string]node{}, exhausted: map[*slotDecl]int{}}
	for _, x := range d.steps {
		e.step(x)
	}
	if n := len(e.steps); len(e.pending) > 0 && n > 0 && !terminal(e.steps[n-1]) {
		// The main line ends the flow: it must not run on into the blocks
		// placed after it.
		at := node{d.f, nil}
		if len(d.steps) > 0 {
			at = d.steps[len(d.steps)-1]
		}
		e.emit(&engine.End{}, at, true)
	}
	for len(e.pending) > 0 {
		b := e.pending[0]
		e.pending = e.pending[1:]
		e.bind(b.label)
		for _, x := range b.steps {
			e.step(x)
		}
		if n := len(e.steps); n == 0 || !terminal(e.steps[n-1]) {
			at := node{d.f, nil}
			if len(b.steps) > 0 {
				at = b.steps[len(b.steps)-1]
			}
			e.emit(&engine.End{}, at, true)
		}
	}
	end := len(e.steps)
	for _, r := range e.idRefs {
		if l, ok := e.ids[r.s]; !ok || e.labels[l] < 0 {
			c.errN(r.at, "unknown step %q in flow %s%s", r.s, d.fl.Name, didYouMean(r.s, sortedKeys(e.idAt)))
		}
	}
	for _, f := range e.fixups {
		if t := e.labels[f.label]; t >= 0 {
			*f.target = t
		} else {
			*f.target = end
		}
	}
	d.fl.Steps = e.steps
	c.synth[d.fl] = e.synth
}

// flowEnv returns what the flow's expressions can read: the builtins, the
// global slots, the flow's slots, and the flow variables it sets (with set
// or into), typed by what is assigned to them.
func (c *compiler) flowEnv(d *flowDecl) engine.Env {
	env := c.globalEnv()
	for _, s := range d.fl.Slots {
		env[s.Name] = s.Type.ValueType()
	}
	builtins := engine.Builtins()
	isSlot := func(name string) bool {
		_, g := c.globals[name]
		_, l := d.slots[name]
		return g || l
	}
	type assign struct {
		name string
		v    node
	}
	var sets []assign
	vars := map[string][]*engine.Type{}
	for _, x := range c.allSteps(d) {
		m := c.stepMap(x)
		if m == nil {
			continue
		}
		if v := m.get("into"); v.ok() {
			name, ok := c.ident(v, "into")
			switch {
			case !ok:
			case builtins[name] != nil:
				c.errN(v, "into: %q is a builtin variable; choose another name", name)
			case isSlot(name):
				c.errN(v, "into: %q is a slot; store the result under another name", name)
			default:
				t := engine.ObjectOf(nil)
				if m.has("action") {
					t = engine.Any
					if a := c.actionByName(m.get("action").n.Value); a != nil && a.Result != nil {
						t = a.Result
					}
				}
				vars[name] = append(vars[name], t)
			}
		}
		if v := m.get("set"); v.ok() {
			sm := c.mapOf(v, "set")
			if sm == nil {
				continue
			}
			for _, p := range sm.pairs {
				name, ok := c.ident(p.k, "variable")
				if !ok {
					continue
				}
				if builtins[name] != nil {
					c.errN(p.k, "set: %q is a builtin variable and cannot be changed", name)
					continue
				}
				if !isSlot(name) {
					sets = append(sets, assign{name, p.v})
					if _, ok := vars[name]; !ok {
						vars[name] = nil
					}
				}
			}
		}
	}
	for name := range vars {
		env[name] = engine.Any
	}
	// Type the variables given by set from their first assignments. The
	// expressions are compiled for real with the steps.
	for _, a := range sets {
		if isNull(a.v.n) {
			continue
		}
		src := deref(a.v.n)
		if src.Kind != yaml.ScalarNode {
			continue
		}
		if ex, err := engine.CompileExpr(src.Value, env, nil); err == nil {
			vars[a.name] = append(vars[a.name], ex.Type)
		} else {
			vars[a.name] = append(vars[a.name], engine.Any)
		}
	}
	for name, ts := range vars {
		env[name] = unify(ts)
	}
	return env
}

// unify returns the one type all of ts agree on, or any.
func unify(ts []*engine.Type) *engine.Type {
	if len(ts) == 0 {
		return engine.Any
	}
	t := ts[0]
	for _, u := range ts[1:] {
		if u.String() != t.String() {
			if (u.Kind == engine.KindNumber || u.Kind == engine.KindInteger) && (t.Kind == engine.KindNumber || t.Kind == engine.KindInteger) {
				t = engine.Number
				continue
			}
			return engine.Any
		}
	}
	return t
}

// mainKeys are the things a step does; a step does at most one of them
// (besides saying something, setting values and ending).
var mainKeys = []string{"ask", "action", "call", "start", "goto", "handoff", "wait", "then"}

// needs lists keys that only make sense with another key in the step.
var needs = []struct{ key, with string }{
	{"then", "if"}, {"else", "if"}, {"reprompt", "ask"}, {"exhausted", "ask"}, {"on_none", "ask"},
	{"into", "action|wait"}, {"on_error", "action"}, {"args", "action|call|start"},
	{"priority", "handoff"}, {"note", "handoff"}, {"timeout", "wait"}, {"on_timeout", "wait"},
}

func (e *emitter) step(x node) {
	c := e.c
	m := c.stepMap(x)
	if m == nil {
		return
	}
	var main string
	for _, k := range mainKeys {
		if !m.has(k) {
			continue
		}
		if main != "" {
			c.errN(m.key(k), "a step does one thing: it has both %s and %s; split it into two steps", main, k)
			continue
		}
		main = k
	}
	for _, n := range needs {
		if !m.has(n.key) {
			continue
		}
		found := false
		for _, w := range strings.Split(n.with, "|") {
			found = found || m.has(w)
		}
		if !found {
			c.errN(m.key(n.key), "%s needs %s in the same step", n.key, strings.ReplaceAll(n.with, "|", " or "))
		}
	}
	if !m.has("ask") {
		for _, k := range slotSpecKeys {
			if m.has(k) {
				c.errN(m.key(k), "%s describes the slot of an ask step; this step asks nothing", k)
			}
		}
	}
	first := len(e.steps)
	if v := m.get("id"); v.ok() {
		if id, ok := c.label(v, "step id"); ok {
			if prev, dup := e.idAt[id]; dup {
				c.errN(v, "step id %q used twice in flow %s (first at %s)", id, e.d.fl.Name, prev.pos())
			} else {
				e.idAt[id] = v
				e.bind(e.idLabel(id))
			}
		}
	}
	if m.has("if") {
		br := &engine.Branch{Cond: c.expr(m.get("if"), e.env, engine.Bool, "condition")}
		if br.Cond == nil {
			br.Cond = engine.MustExpr("false")
		}
		e.emit(br, m.key("if"), false)
		if m.has("then") {
			for _, k := range []string{"say", "set", "end", "buttons", "image", "link", "template"} {
				if m.has(k) {
					c.errN(m.key(k), "%s cannot go with then: put it inside then, or drop then and guard the step with if", k)
				}
			}
			for _, s := range c.block(m.get("then")) {
				e.step(s)
			}
		} else {
			if !e.body(m, main) {
				c.errN(m.key("if"), "if: guards nothing: give it then:, or something to do in the same step")
			}
		}
		if m.has("else") {
			g := &engine.Goto{}
			e.emit(g, m.key("else"), true)
			after := e.newLabel()
			e.ref(&g.Target, after)
			br.Else = len(e.steps)
			for _, s := range c.block(m.get("else")) {
				e.step(s)
			}
			e.bind(after)
		} else {
			l := e.newLabel()
			e.ref(&br.Else, l)
			e.bind(l)
		}
	} else if !e.body(m, main) && !hasUnknownKey(m) {
		c.errN(x, "a step needs something to do: say, ask, set, action, call, start, goto, handoff, wait or end")
	}
	if v := m.get("id"); v.ok() && first < len(e.steps) {
		e.steps[first].Meta().ID = v.n.Value
	}
}

// body emits what a step does, in reading order: set, say, the main
// thing, end. It reports whether the step did anything.
func (e *emitter) body(m *ymap, main string) bool {
	c := e.c
	did := false
	if v := m.get("set"); v.ok() {
		e.emit(&engine.Set{Assign: e.assigns(v, true)}, m.key("set"), false)
		did = true
	}
	if main != "ask" {
		if msg := c.message(m, "say", e.env); msg != nil {
			e.emit(&engine.Say{Message: msg}, m.key(firstKey(m, messageKeys)), false)
			did = true
		}
	}
	switch main {
	case "ask":
		e.ask(m)
	case "action":
		e.action(m)
	case "call", "start":
		name := e.flowRef(m.get(main))
		args := e.callArgs(m, name)
		if main == "call" {
			e.emit(&engine.Call{Flow: name, Args: args}, m.key(main), false)
		} else {
			e.emit(&engine.Start{Flow: name, Args: args}, m.key(main), false)
		}
	case "goto":
		g := &engine.Goto{}
		if id, ok := c.label(m.get("goto"), "goto"); ok {
			e.ref(&g.Target, e.idLabel(id))
			e.idRefs = append(e.idRefs, strAt{id, m.get("goto")})
		}
		e.emit(g, m.key("goto"), false)
	case "handoff":
		e.handoff(m)
	case "wait":
		e.wait(m)
	}
	did = did || (main != "" && main != "then")
	if v := m.get("end"); v.ok() {
		if main == "goto" || main == "start" {
			c.errN(m.key("end"), "end after %s is never reached", main)
		}
		end := &engine.End{}
		switch {
		case isNull(v.n):
		case v.n.Kind == yaml.ScalarNode && v.n.Tag == "!!bool" && v.n.Value == "true":
		default:
			if s, ok := c.str(v, "end"); ok {
				if o, ok := engine.ParseOutcome(s); ok {
					end.Outcome = o
				} else {
					c.errN(v, "end: unknown outcome %q (use resolved, abandoned or escalated)", s)
				}
			}
		}
		e.emit(end, m.key("end"), false)
		did = true
	}
	return did
}

func firstKey(m *ymap, keys []string) string {
	for _, k := range keys {
		if m.has(k) {
			return k
		}
	}
	return ""
}

func (e *emitter) ask(m *ymap) {
	c := e.c
	at := m.get("ask")
	name, ok := c.ident(at, "ask")
	a := &engine.Ask{Slot: name, Exhausted: engine.Default}
	if !ok {
		e.emit(a, m.key("ask"), false)
		return
	}
	sd := e.d.slots[name]
	if sd == nil {
		sd = c.globals[name]
	}
	if sd == nil {
		c.errN(at, "unknown slot %q: declare it under slots: or give it a type: here%s", name, didYouMean(name, e.slotNames()))
		e.emit(a, m.key("ask"), false)
		return
	}
	if m.has("say") {
		a.Prompt = c.message(m, "say", e.env)
	} else if p := sd.m.get("prompt"); p.ok() && sd.m != m {
		a.Prompt = &engine.Message{Variants: c.variants(p, e.env, "prompt"), Pos: p.pos()}
	} else {
		c.errN(at, "ask %s: say what to ask (say: here, or prompt: in the slot)", name)
	}
	if r := m.get("reprompt"); r.ok() {
		a.Reprompt = &engine.Message{Variants: c.variants(r, e.env, "reprompt"), Pos: r.pos()}
	} else if r := sd.m.get("reprompt"); r.ok() && sd.m != m {
		a.Reprompt = &engine.Message{Variants: c.variants(r, e.env, "reprompt"), Pos: r.pos()}
	}
	if sd.s.Type == engine.SlotChoice && a.Prompt != nil && len(a.Prompt.Choices) == 0 && a.Prompt.ChoicesFrom == nil {
		p := *a.Prompt
		p.Choices = sd.s.Choices
		a.Prompt = &p
	}
	switch {
	case m.has("exhausted"):
		e.ref(&a.Exhausted, e.deferBlock(m.get("exhausted")))
	case sd.m != m && sd.m.has("exhausted"):
		l, ok := e.exhausted[sd]
		if !ok {
			l = e.deferBlock(sd.m.get("exhausted"))
			e.exhausted[sd] = l
		}
		e.ref(&a.Exhausted, l)
	}
	if m.has("on_none") {
		if sd.s.Type == engine.SlotBoolean {
			c.errN(m.key("on_none"), "on_none: %s is a yes/no question, whose no is its answer; branch on the slot instead", name)
		} else {
			e.ref(&a.OnNone, e.deferBlock(m.get("on_none")))
		}
	}
	e.emit(a, m.key("ask"), false)
}

func (e *emitter) slotNames() []string {
	names := sortedKeys(e.d.slots)
	for n := range e.c.globals {
		names = append(names, n)
	}
	return names
}

func (e *emitter) action(m *ymap) {
	c := e.c
	at := m.get("action")
	a := &engine.Action{OnError: engine.Default}
	name, ok := c.ident(at, "action")
	a.Name = name
	spec := c.actionByName(name)
	if ok && spec == nil {
		c.errN(at, "unknown action %q: declare it in actions.yaml%s", name, didYouMean(name, sortedKeys(c.actionAt)))
	}
	if spec != nil {
		a.Args = e.actionArgs(m, spec)
	} else if v := m.get("args"); v.ok() {
		a.Args = e.assigns(v, false)
	}
	if v := m.get("into"); v.ok() {
		a.Into = v.n.Value
	}
	if m.has("on_error") {
		e.ref(&a.OnError, e.deferBlock(m.get("on_error")))
	}
	e.emit(a, m.key("action"), false)
}

func (e *emitter) actionArgs(m *ymap, spec *engine.ActionSpec) []engine.Assign {
	c := e.c
	v := m.get("args")
	am := c.mapOf(v, "args")
	if am == nil {
		return nil
	}
	var out []engine.Assign
	names := make([]string, len(spec.Params))
	for i, p := range spec.Params {
		names[i] = p.Name
	}
	for _, p := range am.pairs {
		name := p.k.n.Value
		var par *engine.Param
		for i := range spec.Params {
			if spec.Params[i].Name == name {
				par = &spec.Params[i]
			}
		}
		if par == nil {
			c.errN(p.k, "action %s has no parameter %q%s", spec.Name, name, didYouMean(name, names))
			continue
		}
		out = append(out, engine.Assign{Name: name, Value: c.expr(p.v, e.env, wantType(par.Type), "argument "+name), Pos: p.k.pos()})
	}
	for _, p := range spec.Params {
		if p.Required && !am.has(p.Name) {
			at := m.key("action")
			if v.ok() {
				at = m.key("args")
			}
			c.errN(at, "action %s needs argument %s", spec.Name, p.Name)
		}
	}
	return out
}

// wantType returns the type an expression must have to fill t (nil: any).
func wantType(t *engine.Type) *engine.Type {
	if t == nil || t.Kind == engine.KindAny {
		return nil
	}
	if t.Kind == engine.KindObject || t.Kind == engine.KindList {
		return &engine.Type{Kind: t.Kind} // fields and elements are not compared
	}
	return t
}

// assigns compiles a mapping name → expression (set:, args: of unknown
// actions). A null value clears the name when clear is allowed.
func (e *emitter) assigns(x node, clear bool) []engine.Assign {
	c := e.c
	am := c.mapOf(x, "set")
	if am == nil {
		return nil
	}
	var out []engine.Assign
	for _, p := range am.pairs {
		name := p.k.n.Value
		if !identRE.MatchString(name) {
			continue // reported by flowEnv
		}
		a := engine.Assign{Name: name, Pos: p.k.pos()}
		if isNull(p.v.n) && clear {
			out = append(out, a)
			continue
		}
		var want *engine.Type
		if sd := e.slot(name); sd != nil {
			want = wantType(sd.s.Type.ValueType())
		}
		a.Value = c.expr(p.v, e.env, want, name)
		out = append(out, a)
	}
	return out
}

func (e *emitter) slot(name string) *slotDecl {
	if sd := e.d.slots[name]; sd != nil {
		return sd
	}
	return e.c.globals[name]
}

func (e *emitter) flowRef(x node) string {
	c := e.c
	name, ok := c.ident(x, "flow")
	if ok && c.flowByName[name] == nil {
		c.errN(x, "unknown flow %q%s", name, didYouMean(name, sortedKeys(c.flowByName)))
	}
	return name
}

// callArgs compiles the args of call and start: values for the called
// flow's slots.
func (e *emitter) callArgs(m *ymap, flow string) []engine.Assign {
	c := e.c
	v := m.get("args")
	if !v.ok() {
		return nil
	}
	am := c.mapOf(v, "args")
	if am == nil {
		return nil
	}
	target := c.flowByName[flow]
	var out []engine.Assign
	for _, p := range am.pairs {
		name := p.k.n.Value
		var sd *slotDecl
		if target != nil {
			sd = target.slots[name]
		}
		if sd == nil {
			sd = c.globals[name]
		}
		if sd == nil && target != nil {
			c.errN(p.k, "flow %s has no slot %q%s", flow, name, didYouMean(name, sortedKeys(target.slots)))
			continue
		}
		var want *engine.Type
		if sd != nil {
			want = wantType(sd.s.Type.ValueType())
		}
		out = append(out, engine.Assign{Name: name, Value: c.expr(p.v, e.env, want, "argument "+name), Pos: p.k.pos()})
	}
	return out
}

func (e *emitter) handoff(m *ymap) {
	c := e.c
	h := &engine.Handoff{}
	if v := m.get("handoff"); !isNull(v.n) {
		if q, ok := c.label(v, "queue"); ok {
			h.Queue = q
			if _, known := c.bot.queueAt[q]; !known {
				c.errN(v, "unknown queue %q: declare it under queues: in bot.yaml%s", q, didYouMean(q, c.queueNames()))
			}
		}
	}
	if v := m.get("priority"); v.ok() {
		h.Priority, _ = c.integer(v, "priority", -1000, 1000)
	}
	if v := m.get("note"); v.ok() {
		h.Note = c.template(v, e.env, "note")
	}
	e.emit(h, m.key("handoff"), false)
}

func (e *emitter) wait(m *ymap) {
	c := e.c
	w := &engine.Wait{OnTimeout: engine.Default}
	v := m.get("wait")
	if v.n.Kind == yaml.ScalarNode && durationRE.MatchString(v.n.Value) {
		w.Timeout, _ = c.positiveDuration(v, "wait")
	} else {
		for _, ev := range c.strList(v, "wait", true) {
			w.Events = append(w.Events, ev.s)
		}
		if len(w.Events) == 0 {
			c.errN(v, "wait: name an event (or several), or a time such as 10m")
		}
	}
	if t := m.get("timeout"); t.ok() {
		if w.Timeout > 0 {
			c.errN(t, "a pause of %s has no other timeout", formatDuration(w.Timeout))
		}
		w.Timeout, _ = c.positiveDuration(t, "timeout")
	}
	if w.Timeout > 366*24*time.Hour {
		c.errN(v, "wait: at most a year")
	}
	if v := m.get("into"); v.ok() {
		w.Into = v.n.Value
	}
	if m.has("on_timeout") {
		if w.Timeout == 0 {
			c.errN(m.key("on_timeout"), "on_timeout needs a timeout")
		}
		e.ref(&w.OnTimeout, e.deferBlock(m.get("on_timeout")))
	}
	e.emit(w, m.key("wait"), false)
}

func hasUnknownKey(m *ymap) bool {
	for _, p := range m.pairs {
		if !contains(stepKeys, p.k.n.Value) {
			return true
		}
	}
	return false
}
