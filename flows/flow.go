package flows

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/charlabot/charla/engine"
)

// flows/*.yaml: parsing a flow's declarations (pass 1), then compiling its
// slots, triggers and steps against a typed environment (pass 2, emit.go).

var flowKeys = []string{"flow", "description", "title", "triggers", "slots", "steps", "interruptible", "aside"}

var triggerKeys = []string{"intents", "keywords", "patterns", "events", "if"}

// slotSpecKeys describe a slot, in slots: or inline in an ask step.
var slotSpecKeys = []string{"type", "scope", "entity", "pattern", "choices", "accept", "validate", "invalid", "retries"}

var slotKeys = append([]string{"description", "prompt", "reprompt", "exhausted"}, slotSpecKeys...)

// flowDecl is a flow between the passes.
type flowDecl struct {
	f      *yfile
	m      *ymap
	at     node // the flow's name
	fl     *engine.Flow
	slots  map[string]*slotDecl // declared by this flow, inline asks included
	steps  []node
	system bool // a default flow of the compiler
}

// slotDecl is a slot and the parts of its declaration compiled later.
type slotDecl struct {
	s    *engine.Slot
	at   node  // its name
	m    *ymap // its keys
	flow *flowDecl
}

func (c *compiler) parseFlowFile(f *yfile) {
	for _, doc := range f.docs {
		x := node{f, doc}
		if doc.Kind != yaml.MappingNode {
			c.wrongType(x, "a flow file", "a mapping with flow: (or flows: and a list of flows)")
			continue
		}
		m := c.mapOf(x, "a flow file")
		if m.has("flows") && !m.has("flow") {
			c.fields(x, "a flow file", "flows")
			for _, e := range c.list(m.get("flows"), "flows", false) {
				c.parseFlow(e)
			}
			continue
		}
		c.parseFlow(x)
	}
}

func (c *compiler) parseFlow(x node) {
	m := c.fields(x, "a flow", flowKeys...)
	if m == nil {
		return
	}
	if !m.has("flow") {
		c.errN(x, "a flow needs a name: flow: NAME")
		return
	}
	name, ok := c.ident(m.get("flow"), "flow name")
	if !ok {
		return
	}
	d := &flowDecl{f: x.f, m: m, at: m.get("flow"), slots: map[string]*slotDecl{}, system: x.f.lenient}
	d.fl = &engine.Flow{Name: name, Pos: d.at.pos(), Interruptible: true, System: x.f.lenient}
	if prev, dup := c.flowByName[name]; dup {
		if prev.system {
			return // never reached: defaults are added only for free names
		}
		c.errN(d.at, "flow %q declared twice (first at %s)", name, prev.at.pos())
		return
	}
	c.flowByName[name] = d
	c.flowDecls = append(c.flowDecls, d)
	d.fl.Description = c.optStr(m.get("description"), "description")
	if v := m.get("interruptible"); v.ok() {
		// true, false, or leave: a digression ends the flow instead of
		// coming back to it (a survey, an "anything else?").
		if n := deref(v.n); n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!str" && n.Value == "leave" {
			d.fl.Interruptible, d.fl.Leave = true, true
		} else if n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
			c.wrongType(v, "interruptible", "true, false or leave")
		} else {
			d.fl.Interruptible, _ = c.boolean(v, "interruptible")
		}
	}
	if v := m.get("aside"); v.ok() {
		// A short reply that fits anywhere: at a question it runs
		// without leaving it, and the question is asked again.
		d.fl.Aside, _ = c.boolean(v, "aside")
	}
	if v := m.get("slots"); v.ok() {
		sm := c.mapOf(v, "slots")
		if sm != nil {
			for _, p := range sm.pairs {
				c.declareSlot(d, p.k, p.v, false)
			}
		}
	}
	if v := m.get("steps"); v.ok() {
		d.steps = c.list(v, "steps", false)
		if len(d.steps) == 0 && (isNull(v.n) || v.n.Kind == yaml.SequenceNode) {
			c.errN(v, "flow %s has no steps", name)
		}
	} else {
		c.errN(d.at, "flow %s has no steps", name)
	}
	// Inline slot declarations in ask steps, wherever they are nested.
	for _, sx := range c.allSteps(d) {
		sm := c.stepMap(sx)
		if sm == nil || !sm.has("ask") {
			continue
		}
		inline := false
		for _, k := range slotSpecKeys {
			inline = inline || sm.has(k)
		}
		if inline {
			c.declareSlot(d, sm.get("ask"), sx, true)
		}
	}
}

// declareSlot reads a slot's type, scope and what fills it; the parts
// that need the typed environment wait for compileSlot.
func (c *compiler) declareSlot(d *flowDecl, k, v node, inline bool) {
	name, ok := c.ident(k, "slot")
	if !ok {
		return
	}
	if _, builtin := engine.Builtins()[name]; builtin {
		c.errN(k, "slot %q has the name of a builtin variable; choose another name", name)
		return
	}
	if prev, dup := d.slots[name]; dup {
		if inline && prev.at.n == k.n {
			return
		}
		c.errN(k, "slot %q declared twice in flow %s (first at %s)", name, d.fl.Name, prev.at.pos())
		return
	}
	var m *ymap
	if inline {
		m = c.stepMap(v) // unknown keys are reported with the step
	} else {
		m = c.fields(v, "slot "+name, slotKeys...)
	}
	if m == nil {
		return
	}
	s := &engine.Slot{Name: name, Pos: k.pos()}
	sd := &slotDecl{s: s, at: k, m: m, flow: d}
	d.slots[name] = sd
	d.fl.Slots = append(d.fl.Slots, s)
	if t := m.get("type"); t.ok() {
		if tn, ok := c.str(t, "type"); ok {
			if st, ok := engine.ParseSlotType(tn); ok {
				s.Type = st
			} else {
				hint := didYouMean(tn, engine.SlotTypeNames())
				if en, ok := slotTypeWords[strings.ToLower(tn)]; ok && hint == "" {
					hint = fmt.Sprintf(" (did you mean %q?)", en)
				}
				c.errN(t, "unknown slot type %q (use %s)%s", tn, strings.Join(engine.SlotTypeNames(), ", "), hint)
			}
		}
	} else if !inline {
		s.Type = engine.SlotText
	}
	if sc := m.get("scope"); sc.ok() {
		if sn, ok := c.str(sc, "scope"); ok {
			if scope, ok := engine.ParseScope(sn); ok {
				s.Scope = scope
			} else {
				c.errN(sc, "unknown scope %q (use flow, conversation or user)", sn)
			}
		}
	}
	if e := m.get("entity"); e.ok() {
		if en, ok := c.label(e, "entity"); ok {
			s.Entity = en
			c.entityRefs = append(c.entityRefs, strAt{en, e})
		}
	}
	if p := m.get("pattern"); p.ok() {
		if s.Type != engine.SlotPattern {
			c.errN(m.key("pattern"), "pattern applies to slots of type pattern (this one is %s)", s.Type)
		}
		s.Pattern = c.regex(p, "pattern")
	} else if s.Type == engine.SlotPattern {
		c.errN(k, "slot %s of type pattern needs a pattern", name)
	}
	if m.has("choices") && s.Type != engine.SlotChoice {
		c.errN(m.key("choices"), "choices apply to slots of type choice (this one is %s)", s.Type)
	} else if !m.has("choices") && s.Type == engine.SlotChoice {
		c.errN(k, "slot %s of type choice needs choices: a list of values, or of {value, label, synonyms} (choices: [rojo, azul])", name)
	}
	if a := m.get("accept"); a.ok() {
		if s.Type != engine.SlotAttachment {
			c.errN(m.key("accept"), "accept applies to slots of type attachment (this one is %s)", s.Type)
		}
		for _, e := range c.strList(a, "accept", false) {
			if e.s != "image" && e.s != "file" {
				c.errN(e.at, "accept: %q is neither image nor file", e.s)
				continue
			}
			s.Accept = append(s.Accept, e.s)
		}
	}
	if r := m.get("retries"); r.ok() {
		s.Retries, _ = c.integer(r, "retries", 1, 100)
	}
}

// allSteps returns every step mapping of a flow, nested ones included, and
// the exhausted handlers of its slots, in document order.
func (c *compiler) allSteps(d *flowDecl) []node {
	var out []node
	var walk func(list []node, depth int)
	walk = func(list []node, depth int) {
		for _, x := range list {
			out = append(out, x)
			m := c.stepMap(x)
			if m == nil || depth > maxDepth {
				continue
			}
			for _, k := range blockKeys {
				if m.has(k) {
					walk(c.block(m.get(k)), depth+1)
				}
			}
		}
	}
	walk(d.steps, 0)
	for _, sd := range d.slots {
		if sd.m != nil && sd.m.node.n != nil && sd.m.has("exhausted") && !isStep(sd) {
			walk(c.block(sd.m.get("exhausted")), 1)
		}
	}
	return out
}

func isStep(sd *slotDecl) bool { return sd.m.has("ask") }

// blockKeys hold nested steps.
var blockKeys = []string{"then", "else", "on_error", "exhausted", "on_none", "on_timeout"}

// block returns the steps of a nested block: a list of steps or one step.
func (c *compiler) block(x node) []node {
	if x.n == nil {
		return nil
	}
	if x.n.Kind == yaml.MappingNode {
		return []node{x}
	}
	l := c.list(x, "a block of steps", false)
	return l
}

// nluFiles names the NLU files of the bot's languages: "nlu/es.yaml and
// nlu/en.yaml".
func (c *compiler) nluFiles() string {
	if len(c.langs) == 0 {
		return "nlu/<lang>.yaml"
	}
	var names []string
	for _, l := range c.langs {
		names = append(names, "nlu/"+l+".yaml")
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// slotTypeWords are the Spanish words designers write for slot types.
var slotTypeWords = map[string]string{
	"texto": "text", "numero": "number", "número": "number", "entero": "integer",
	"booleano": "boolean", "sino": "boolean", "si_no": "boolean", "opcion": "choice", "opción": "choice",
	"opciones": "choice", "correo": "email", "telefono": "phone", "teléfono": "phone", "celular": "phone",
	"fecha": "date", "patron": "pattern", "patrón": "pattern", "ubicacion": "location", "ubicación": "location",
	"lugar": "location", "direccion": "location", "dirección": "location", "adjunto": "attachment",
	"archivo": "attachment", "imagen": "attachment", "foto": "attachment",
	"string": "text", "int": "integer", "bool": "boolean", "float": "number", "enum": "choice",
	"datetime": "date", "time": "date", "file": "attachment", "image": "attachment", "regex": "pattern",
}

// stepKeys are the keys a step may have.
var stepKeys = append([]string{"id", "if", "then", "else", "say", "buttons", "image", "link", "template",
	"ask", "reprompt", "exhausted", "on_none",
	"set", "action", "args", "into", "on_error", "call", "start", "goto",
	"handoff", "priority", "note", "wait", "timeout", "on_timeout", "end"}, slotSpecKeys...)

// stepMap returns the mapping of a step, reporting its unknown keys once.
func (c *compiler) stepMap(x node) *ymap {
	if m, ok := c.stepCache[x.n]; ok {
		return m
	}
	var m *ymap
	if x.n != nil && x.n.Kind == yaml.MappingNode {
		m = c.fields(x, "a step", stepKeys...)
	} else {
		c.wrongType(x, "a step", "a mapping (say:, ask:, action: ...)")
	}
	c.stepCache[x.n] = m
	return m
}

// collectGlobals indexes the conversation- and user-scoped slots of the
// whole bot; a name declared in several flows must agree.
func (c *compiler) collectGlobals() {
	for _, d := range c.flowDecls {
		for _, s := range d.fl.Slots {
			sd := d.slots[s.Name]
			if s.Scope == engine.ScopeFlow {
				continue
			}
			if g, ok := c.globals[s.Name]; ok {
				if g.s.Type != s.Type || g.s.Scope != s.Scope {
					c.errN(sd.at, "slot %q is declared at %s as a %s-scoped %s", s.Name, g.at.pos(), g.s.Scope, g.s.Type)
				}
				continue
			}
			c.globals[s.Name] = sd
		}
	}
	for _, d := range c.flowDecls {
		for _, s := range d.fl.Slots {
			if g, ok := c.globals[s.Name]; ok && s.Scope == engine.ScopeFlow {
				c.errN(d.slots[s.Name].at, "slot %q is declared at %s as %s-scoped; a flow slot cannot share its name", s.Name, g.at.pos(), g.s.Scope)
			}
		}
	}
}

// globalEnv is what every expression can read: the builtins and the
// conversation- and user-scoped slots.
func (c *compiler) globalEnv() engine.Env {
	env := engine.Builtins()
	for name, g := range c.globals {
		env[name] = g.s.Type.ValueType()
	}
	return env
}

// compileSlot compiles the parts of a slot that need the flow's
// environment: its validation, messages and choices.
func (c *compiler) compileSlot(sd *slotDecl, env engine.Env) {
	s, m := sd.s, sd.m
	if v := m.get("validate"); v.ok() {
		s.Validate = c.expr(v, env, engine.Bool, "validate")
		if !m.has("invalid") {
			c.errN(m.key("validate"), "validate needs an invalid: message saying what is wrong")
		}
	}
	if v := m.get("invalid"); v.ok() {
		s.Invalid = c.text(v, env, "invalid")
		if !m.has("validate") && s.Type == engine.SlotText {
			c.warnN(m.key("invalid"), "invalid message without validate: it is said when an answer is not a %s", s.Type)
		}
	}
	if v := m.get("choices"); v.ok() && s.Type == engine.SlotChoice {
		s.Choices = c.choices(v, env, "choices")
	}
}

// compileTriggers compiles what starts a flow.
func (c *compiler) compileTriggers(d *flowDecl, env engine.Env) {
	x := d.m.get("triggers")
	if !x.ok() {
		return
	}
	m := c.fields(x, "triggers", triggerKeys...)
	if m == nil {
		return
	}
	t := &d.fl.Triggers
	for _, in := range c.strList(m.get("intents"), "intents", true) {
		if c.knownIntent(in.s) {
			t.Intents = append(t.Intents, in.s)
		} else if !d.f.lenient {
			c.errN(in.at, "unknown intent %q: add examples for it under intents: in %s%s", in.s, c.nluFiles(), didYouMean(in.s, c.intentNames()))
		}
	}
	for _, k := range c.strList(m.get("keywords"), "keywords", false) {
		if strings.TrimSpace(k.s) == "" {
			c.errN(k.at, "empty keyword")
			continue
		}
		t.Keywords = append(t.Keywords, k.s)
	}
	for _, p := range c.list(m.get("patterns"), "patterns", true) {
		if re := c.regex(p, "pattern"); re != nil {
			t.Patterns = append(t.Patterns, re)
		}
	}
	for _, e := range c.strList(m.get("events"), "events", true) {
		t.Events = append(t.Events, e.s)
	}
	if v := m.get("if"); v.ok() {
		t.Guard = c.expr(v, env, engine.Bool, "trigger condition")
	}
	if t.IsZero() && t.Guard != nil {
		c.errN(m.key("if"), "a trigger condition needs intents, keywords, patterns or events to guard")
	}
}

func (c *compiler) knownIntent(name string) bool {
	if id, ok := strings.CutPrefix(name, KBIntentPrefix); ok {
		_, known := c.kbIDs[id]
		return known
	}
	return c.intents[name] != nil
}

func (c *compiler) intentNames() []string {
	names := sortedKeys(c.intents)
	for id := range c.kbIDs {
		names = append(names, KBIntentPrefix+id)
	}
	return names
}
