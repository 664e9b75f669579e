package flows

import (
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/charlabot/charla/engine"
)

// tests/*.yaml: conversation tests, parsed and checked here, run by the
// runtime (charla test, charla bench). The format is fixed in
// docs/bot-directory.md.

// TestSuite is the tests of one file.
type TestSuite struct {
	File  string // as shown in diagnostics
	Tests []*TestCase
}

// TestCase is one conversation test.
type TestCase struct {
	Name        string
	Description string
	Lang        string    // "" : detect, or the bot's default
	User        string    // "" : a fresh anonymous id
	Verified    bool      // the channel vouches for the user
	Channel     string    // "test" unless given
	Now         time.Time // zero: the runner's fixed date
	Start       *TestStart
	Mocks       map[string][]Mock // action → the results of successive calls
	Turns       []*TestTurn
	Pos         engine.Pos
}

// Exact reports whether every turn expects exact texts for all its replies
// (what charla bench requires).
func (t *TestCase) Exact() bool {
	for _, turn := range t.Turns {
		if !turn.CheckBot {
			return false
		}
		for _, e := range turn.Bot {
			if e.Match != MatchExact {
				return false
			}
		}
	}
	return len(t.Turns) > 0
}

// TestStart puts a test in the middle of a flow.
type TestStart struct {
	Flow    string
	Step    string         // a step id; "" : the flow's first step
	Slots   map[string]any // slot values, coerced to the slots' types
	Profile map[string]any // user-scoped values already in the profile
}

// Mock is a canned result of an action: its result, or an error.
type Mock struct {
	Result any    // coerced to the action's result type
	Error  string // non-empty: the call fails with this message
}

// TurnKind is what a test turn sends.
type TurnKind uint8

const (
	TurnUser   TurnKind = iota // a text message
	TurnChoice                 // a pressed button
	TurnEvent                  // an event, with data
	TurnWait                   // time passes; timers fire
)

func (k TurnKind) String() string {
	return [...]string{"user", "choice", "event", "wait"}[k]
}

// TestTurn is one turn of a test and what is expected after it. Fields
// named Check… say whether the matching expectation was given.
type TestTurn struct {
	Kind   TurnKind
	Text   string // TurnUser
	Choice string // TurnChoice
	Event  string // TurnEvent
	Data   map[string]any
	Wait   time.Duration // TurnWait

	CheckBot     bool
	Bot          []Expectation // one per reply, in order, same count
	Says         string        // "" : unchecked; some reply contains it
	CheckFlow    bool
	Flow         string         // the flow waiting for input ("" = none)
	Slots        map[string]any // nil value: the slot must be unset
	Status       engine.Status  // "" : unchecked
	CheckActions bool
	Actions      []ActionCall // the actions called, in order (args: subset match)
	NoActions    bool
	Pos          engine.Pos
}

// Match is how an expected reply is compared.
type Match uint8

const (
	MatchExact    Match = iota // the whole text
	MatchContains              // a substring
	MatchRegex                 // a regular expression (unanchored)
)

// Expectation is one expected reply.
type Expectation struct {
	Match        Match
	Text         string         // MatchExact, MatchContains
	Regex        *regexp.Regexp // MatchRegex
	CheckChoices bool
	Choices      []string // button labels, exact and in order
	Pos          engine.Pos
}

// ActionCall is an action expected to be called, with a subset of its
// arguments.
type ActionCall struct {
	Name string
	Args map[string]any
}

var testKeys = []string{"name", "description", "lang", "user", "verified", "channel", "now", "start", "mocks", "turns"}

var startKeys = []string{"flow", "step", "slots", "profile"}

var turnInputKeys = []string{"user", "choice", "event", "wait"}

var turnKeys = append(append([]string{}, turnInputKeys...), "data", "bot", "says", "flow", "slots", "status", "actions", "no_actions")

var statuses = []string{string(engine.StatusBot), string(engine.StatusQueued), string(engine.StatusAgent), string(engine.StatusClosed)}

func (c *compiler) parseTests(f *yfile) *TestSuite {
	s := &TestSuite{File: f.path}
	for _, doc := range f.docs {
		m := c.fields(node{f, doc}, "a test file", "tests")
		if m == nil {
			continue
		}
		if !m.has("tests") {
			c.errN(node{f, doc}, "a test file holds a list under tests:")
		}
		for _, x := range c.list(m.get("tests"), "tests", false) {
			if t := c.parseTest(x); t != nil {
				s.Tests = append(s.Tests, t)
			}
		}
	}
	return s
}

func (c *compiler) parseTest(x node) *TestCase {
	m := c.fields(x, "a test", testKeys...)
	if m == nil {
		return nil
	}
	t := &TestCase{Pos: x.pos(), Channel: "test"}
	if v := m.get("name"); v.ok() {
		t.Name, _ = c.str(v, "name")
		t.Pos = v.pos()
	} else {
		c.errN(x, "a test needs a name")
	}
	t.Description = c.optStr(m.get("description"), "description")
	if v := m.get("lang"); v.ok() {
		if t.Lang, _ = c.str(v, "lang"); len(c.langs) > 0 && !contains(c.langs, t.Lang) {
			c.errN(v, "lang: %q is not one of the bot's languages (%s)", t.Lang, strings.Join(c.langs, ", "))
		}
	}
	t.User = c.optStr(m.get("user"), "user")
	if v := m.get("verified"); v.ok() {
		t.Verified, _ = c.boolean(v, "verified")
	}
	if v := m.get("channel"); v.ok() {
		t.Channel, _ = c.str(v, "channel")
	}
	if v := m.get("now"); v.ok() {
		if s, ok := c.str(v, "now"); ok {
			if tm, err := engine.ParseDate(s); err == nil {
				t.Now = tm
			} else {
				c.errN(v, "now: %q is not a time such as 2026-11-23T10:00:00Z", s)
			}
		}
	}
	var startFlow *flowDecl
	if v := m.get("start"); v.ok() {
		startFlow = c.testStart(t, v)
	}
	if v := m.get("mocks"); v.ok() {
		c.testMocks(t, v)
	}
	for _, tx := range c.list(m.get("turns"), "turns", false) {
		if turn := c.testTurn(tx, startFlow); turn != nil {
			t.Turns = append(t.Turns, turn)
		}
	}
	if !m.has("turns") {
		c.errN(x, "test %s has no turns", t.Name)
	}
	return t
}

func (c *compiler) testStart(t *TestCase, x node) *flowDecl {
	m := c.fields(x, "start", startKeys...)
	if m == nil {
		return nil
	}
	st := &TestStart{}
	t.Start = st
	var d *flowDecl
	if v := m.get("flow"); v.ok() {
		if st.Flow, _ = c.str(v, "flow"); st.Flow != "" {
			if d = c.flowByName[st.Flow]; d == nil {
				c.errN(v, "unknown flow %q%s", st.Flow, didYouMean(st.Flow, sortedKeys(c.flowByName)))
			}
		}
	} else if m.has("step") {
		c.errN(m.key("step"), "step needs the flow it belongs to")
	}
	if v := m.get("step"); v.ok() {
		if st.Step, _ = c.str(v, "step"); d != nil && d.fl.StepByID(st.Step) < 0 {
			c.errN(v, "flow %s has no step %q", st.Flow, st.Step)
		}
	}
	if v := m.get("slots"); v.ok() {
		st.Slots = c.slotValues(v, d, false, false)
	}
	if v := m.get("profile"); v.ok() {
		st.Profile = c.slotValues(v, nil, true, false)
	}
	return d
}

// slotValues reads a mapping slot → value, checking the names (slots of
// flow d or global ones; with callers, of any flow, which may have called
// d; only user-scoped ones for a profile) and coercing the values to the
// slots' types.
func (c *compiler) slotValues(x node, d *flowDecl, profile, callers bool) map[string]any {
	m := c.mapOf(x, "slots")
	if m == nil {
		return nil
	}
	out := map[string]any{}
	for _, p := range m.pairs {
		name := p.k.n.Value
		budget := 10000
		v, ok := c.anyValue(p.v, &budget)
		if !ok {
			continue
		}
		var sd *slotDecl
		if d != nil {
			sd = d.slots[name]
		}
		if sd == nil {
			sd = c.globals[name]
		}
		if sd == nil && callers {
			sd = c.findSlot(name)
		}
		switch {
		case sd == nil && profile:
			if c.anySlot(name) {
				c.errN(p.k, "slot %q is flow-scoped, not user-scoped", name)
			} else {
				c.errN(p.k, "no user-scoped slot %q: a profile holds the values of slots with scope: user", name)
			}
			continue
		case profile && sd.s.Scope != engine.ScopeUser:
			c.errN(p.k, "slot %q is %s-scoped, not user-scoped", name, sd.s.Scope)
			continue
		case sd == nil && d != nil:
			c.errN(p.k, "unknown slot %q%s", name, didYouMean(name, append(sortedKeys(d.slots), sortedKeys(c.globals)...)))
			continue
		case sd == nil:
			if sd = c.findSlot(name); sd == nil {
				c.errN(p.k, "unknown slot %q", name)
				continue
			}
		}
		if sd != nil && v != nil {
			cv, err := sd.s.Type.ValueType().Coerce(v)
			if err != nil {
				c.errN(p.v, "slot %s: %v", name, err)
				continue
			}
			v = cv
		}
		out[name] = v
	}
	return out
}

// anySlot reports whether some flow declares a slot of that name.
func (c *compiler) anySlot(name string) bool { return c.findSlot(name) != nil }

// findSlot returns the first slot of that name any flow declares.
func (c *compiler) findSlot(name string) *slotDecl {
	for _, d := range c.flowDecls {
		if sd := d.slots[name]; sd != nil {
			return sd
		}
	}
	return nil
}

func (c *compiler) testMocks(t *TestCase, x node) {
	m := c.mapOf(x, "mocks")
	if m == nil {
		return
	}
	t.Mocks = map[string][]Mock{}
	for _, p := range m.pairs {
		name := p.k.n.Value
		spec := c.actionByName(name)
		if spec == nil {
			c.errN(p.k, "unknown action %q%s", name, didYouMean(name, sortedKeys(c.actionAt)))
			continue
		}
		items := []node{p.v}
		if p.v.n.Kind == yaml.SequenceNode {
			items = c.list(p.v, "mocks", false)
		}
		for _, it := range items {
			mm := c.fields(it, "a mock", "result", "error")
			if mm == nil {
				continue
			}
			var mock Mock
			switch {
			case mm.has("result") && mm.has("error"):
				c.errN(it, "a mock gives a result or an error, not both")
			case mm.has("error"):
				if mock.Error, _ = c.str(mm.get("error"), "error"); mock.Error == "" {
					c.errN(mm.get("error"), "error: give the failure's message")
				}
			case mm.has("result"):
				budget := 100000
				v, ok := c.anyValue(mm.get("result"), &budget)
				if !ok {
					continue
				}
				if spec.Result != nil {
					cv, err := spec.Result.Coerce(v)
					if err != nil {
						c.errN(mm.get("result"), "result of %s: %v", name, err)
						continue
					}
					v = cv
				}
				mock.Result = v
			default:
				c.errN(it, "a mock needs a result or an error")
			}
			t.Mocks[name] = append(t.Mocks[name], mock)
		}
	}
}

func (c *compiler) testTurn(x node, startFlow *flowDecl) *TestTurn {
	m := c.fields(x, "a turn", turnKeys...)
	if m == nil {
		return nil
	}
	turn := &TestTurn{Pos: x.pos()}
	var inputs []string
	for _, k := range turnInputKeys {
		if m.has(k) {
			inputs = append(inputs, k)
		}
	}
	switch len(inputs) {
	case 0:
		c.errN(x, "a turn needs one of user, choice, event or wait")
	case 1:
	default:
		c.errN(m.key(inputs[1]), "a turn has one of user, choice, event or wait, not both %s and %s", inputs[0], inputs[1])
	}
	if v := m.get("user"); v.ok() {
		turn.Kind = TurnUser
		if isNull(v.n) {
			turn.Text = ""
		} else {
			turn.Text, _ = c.str(v, "user")
		}
		turn.Pos = m.key("user").pos()
	}
	if v := m.get("choice"); v.ok() {
		turn.Kind = TurnChoice
		turn.Choice, _ = c.str(v, "choice")
		turn.Pos = m.key("choice").pos()
	}
	if v := m.get("event"); v.ok() {
		turn.Kind = TurnEvent
		turn.Event, _ = c.label(v, "event")
		turn.Pos = m.key("event").pos()
	}
	if v := m.get("data"); v.ok() {
		if turn.Kind != TurnEvent || len(inputs) == 0 {
			c.errN(m.key("data"), "data goes with an event")
		}
		budget := 100000
		if d, ok := c.anyValue(v, &budget); ok {
			if dm, ok := d.(map[string]any); ok {
				turn.Data = dm
			} else if d != nil {
				c.wrongType(v, "data", "a mapping")
			}
		}
	}
	if v := m.get("wait"); v.ok() {
		turn.Kind = TurnWait
		turn.Wait, _ = c.positiveDuration(v, "wait")
		turn.Pos = m.key("wait").pos()
	}
	if v := m.get("bot"); v.ok() {
		turn.CheckBot = true
		if v.n.Kind == yaml.SequenceNode {
			for _, e := range c.list(v, "bot", false) {
				if ex, ok := c.expectation(e); ok {
					turn.Bot = append(turn.Bot, ex)
				}
			}
		} else if ex, ok := c.expectation(v); ok {
			turn.Bot = []Expectation{ex}
		}
	}
	if v := m.get("says"); v.ok() {
		if turn.Says, _ = c.str(v, "says"); turn.Says == "" {
			c.errN(v, "says: give a text some reply must contain")
		}
	}
	var waiting *flowDecl
	if v := m.get("flow"); v.ok() {
		turn.CheckFlow = true
		if !isNull(v.n) {
			if turn.Flow, _ = c.str(v, "flow"); turn.Flow != "" {
				if waiting = c.flowByName[turn.Flow]; waiting == nil {
					c.errN(v, "unknown flow %q%s", turn.Flow, didYouMean(turn.Flow, sortedKeys(c.flowByName)))
				}
			}
		}
	}
	if v := m.get("slots"); v.ok() {
		if waiting == nil {
			waiting = startFlow
		}
		turn.Slots = c.slotValues(v, waiting, false, true)
	}
	if v := m.get("status"); v.ok() {
		if s, ok := c.str(v, "status"); ok {
			if !contains(statuses, s) {
				c.errN(v, "status: %q is not one of %s", s, strings.Join(statuses, ", "))
			}
			turn.Status = engine.Status(s)
		}
	}
	if v := m.get("actions"); v.ok() {
		turn.CheckActions = true
		for _, a := range c.list(v, "actions", false) {
			am := c.fields(a, "an expected action", "name", "args")
			if am == nil {
				continue
			}
			call := ActionCall{}
			if call.Name, _ = c.str(am.get("name"), "name"); call.Name != "" {
				spec := c.actionByName(call.Name)
				if spec == nil {
					c.errN(am.get("name"), "unknown action %q%s", call.Name, didYouMean(call.Name, sortedKeys(c.actionAt)))
				}
				if x := am.get("args"); x.ok() {
					budget := 10000
					if d, ok := c.anyValue(x, &budget); ok {
						if dm, ok := d.(map[string]any); ok {
							call.Args = dm
							if spec != nil {
								c.checkArgNames(x, spec)
							}
						} else if d != nil {
							c.wrongType(x, "args", "a mapping")
						}
					}
				}
			}
			turn.Actions = append(turn.Actions, call)
		}
	}
	if v := m.get("no_actions"); v.ok() {
		turn.NoActions, _ = c.boolean(v, "no_actions")
		if turn.NoActions && len(turn.Actions) > 0 {
			c.errN(v, "no_actions contradicts actions")
		}
	}
	return turn
}

func (c *compiler) checkArgNames(x node, spec *engine.ActionSpec) {
	m := c.mapOf(x, "args")
	names := make([]string, len(spec.Params))
	for i, p := range spec.Params {
		names[i] = p.Name
	}
	for _, p := range m.pairs {
		if !contains(names, p.k.n.Value) {
			c.errN(p.k, "action %s has no parameter %q%s", spec.Name, p.k.n.Value, didYouMean(p.k.n.Value, names))
		}
	}
}

func (c *compiler) expectation(x node) (Expectation, bool) {
	ex := Expectation{Pos: x.pos()}
	if x.n.Kind == yaml.ScalarNode {
		s, ok := c.str(x, "bot")
		ex.Text = s
		return ex, ok
	}
	m := c.fields(x, "an expected reply", "text", "contains", "regex", "choices")
	if m == nil {
		return ex, false
	}
	var kinds []string
	for _, k := range []string{"text", "contains", "regex"} {
		if m.has(k) {
			kinds = append(kinds, k)
		}
	}
	switch {
	case len(kinds) > 1:
		c.errN(m.key(kinds[1]), "an expected reply has one of text, contains or regex")
		return ex, false
	case m.has("text"):
		ex.Text, _ = c.str(m.get("text"), "text")
	case m.has("contains"):
		ex.Match = MatchContains
		ex.Text, _ = c.str(m.get("contains"), "contains")
	case m.has("regex"):
		ex.Match = MatchRegex
		if ex.Regex = c.regex(m.get("regex"), "regex"); ex.Regex == nil {
			return ex, false
		}
	case !m.has("choices"):
		c.errN(x, "an expected reply needs text, contains, regex or choices")
		return ex, false
	default:
		ex.Match = MatchContains // only the choices are checked
	}
	if v := m.get("choices"); v.ok() {
		ex.CheckChoices = true
		ex.Choices = []string{}
		for _, s := range c.strList(v, "choices", false) {
			ex.Choices = append(ex.Choices, s.s)
		}
	}
	return ex, true
}

func (c *compiler) checkTestNames(suites []*TestSuite) {
	seen := map[string]engine.Pos{}
	for _, s := range suites {
		for _, t := range s.Tests {
			if t.Name == "" {
				continue
			}
			if prev, dup := seen[t.Name]; dup {
				c.errAt(t.Pos, "test %q declared twice (first at %s)", t.Name, prev)
				continue
			}
			seen[t.Name] = t.Pos
		}
	}
}
