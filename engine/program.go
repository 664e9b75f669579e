package engine

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Program is a compiled bot: its flows as state machines, the slots, actions,
// queues, knowledge base and language data they use, and the settings that
// govern a conversation. A Program is immutable once [Program.Check] has
// succeeded; one Program is shared by every conversation that runs it.
//
// The flows package compiles a bot directory into a Program. A Go developer
// may also build one in code and call Check.
type Program struct {
	Name      string
	Version   string   // identifies this build of the bot (the compiler uses a content hash)
	Languages []string // the bot's languages; the first is the default
	Settings  Settings

	Flows   []*Flow       // in declaration order
	Actions []*ActionSpec // every action a flow may call
	Queues  []*Queue      // hand-off queues
	NLU     []*NLUData    // training data, one per language
	KB      []*Article    // knowledge-base articles answered without a flow

	// System maps each system role to the flow that plays it. The compiler
	// supplies default flows for the roles a bot does not define.
	System map[SystemRole]string

	// Channels holds each channel's configuration as bot.yaml gives it
	// (channel name → settings), for the channel adapters to read; secrets
	// come from the environment, not from here.
	Channels map[string]map[string]any

	// Agents are the people who answer hand-offs in the agent console, and
	// Handoff the settings of that side of the bot.
	Agents  []*AgentSpec
	Handoff HandoffSettings

	flows   map[string]*Flow
	actions map[string]*ActionSpec
	queues  map[string]*Queue
	globals map[string]*Slot // conversation- and user-scoped slots by name
}

// DefaultLang returns the bot's default language ("" when it declares none).
func (p *Program) DefaultLang() string {
	if len(p.Languages) == 0 {
		return ""
	}
	return p.Languages[0]
}

// Flow returns the flow with the given name, or nil.
func (p *Program) Flow(name string) *Flow { return p.flows[name] }

// Action returns the action with the given name, or nil.
func (p *Program) Action(name string) *ActionSpec { return p.actions[name] }

// Queue returns the queue with the given name, or nil.
func (p *Program) Queue(name string) *Queue { return p.queues[name] }

// SystemFlow returns the flow that plays role, or nil.
func (p *Program) SystemFlow(role SystemRole) *Flow { return p.flows[p.System[role]] }

// GlobalSlot returns the conversation- or user-scoped slot with the given name.
func (p *Program) GlobalSlot(name string) *Slot { return p.globals[name] }

// GlobalSlots returns the conversation- and user-scoped slots, sorted by name.
func (p *Program) GlobalSlots() []*Slot {
	out := make([]*Slot, 0, len(p.globals))
	for _, s := range p.globals {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// NLUFor returns the training data for lang, or nil.
func (p *Program) NLUFor(lang string) *NLUData {
	for _, d := range p.NLU {
		if d.Lang == lang {
			return d
		}
	}
	return nil
}

// Settings govern every conversation of a bot. Zero fields take the defaults
// documented on each field (see [Settings.WithDefaults]).
type Settings struct {
	Threshold     float64       // minimum intent confidence to act on (0.5)
	FallbackLimit int           // consecutive fallbacks before a hand-off (3)
	Retries       int           // attempts at a question before its slot is exhausted (3)
	MaxDepth      int           // flows on the stack at once (8)
	MaxSteps      int           // steps a turn may run without waiting for input (200)
	TurnTimeout   time.Duration // deadline of a turn, actions included (10s)
	ReminderAfter time.Duration // silence before the inactivity reminder (0: none)
	CloseAfter    time.Duration // silence before the conversation is closed (0: never)
	SessionTTL    time.Duration // idle time after which a conversation starts afresh (24h)
	Retention     time.Duration // how long transcripts and profiles are kept (0: forever)
	EventLogTTL   time.Duration // how long event-log entries are kept (90 days)
	Timezone      string        // IANA zone of the bot's dates and business hours ("UTC")
	DefaultQueue  string        // the queue of a hand-off that names none
}

// WithDefaults returns s with every zero field set to its default.
func (s Settings) WithDefaults() Settings {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&s.FallbackLimit, 3)
	def(&s.Retries, 3)
	def(&s.MaxDepth, 8)
	def(&s.MaxSteps, 200)
	if s.Threshold == 0 {
		s.Threshold = 0.5
	}
	if s.TurnTimeout == 0 {
		s.TurnTimeout = 10 * time.Second
	}
	if s.SessionTTL == 0 {
		s.SessionTTL = 24 * time.Hour
	}
	if s.EventLogTTL == 0 {
		s.EventLogTTL = 90 * 24 * time.Hour
	}
	if s.Timezone == "" {
		s.Timezone = "UTC"
	}
	return s
}

// SystemRole names a job that some flow must do in every bot.
type SystemRole string

const (
	SysFallback   SystemRole = "fallback"   // the message was not understood
	SysCancel     SystemRole = "cancel"     // the shopper wants to stop what they are doing
	SysHelp       SystemRole = "help"       // the shopper asks what the bot can do
	SysHuman      SystemRole = "human"      // the shopper asks for a person
	SysResume     SystemRole = "resume"     // back to an interrupted flow after a digression
	SysInactivity SystemRole = "inactivity" // the shopper has been silent for a while
	SysError      SystemRole = "error"      // something failed: an action, an expression, a loop
	// SysInvalid says what a question expects when the answer cannot be
	// read as its slot's type ("grande" for a number); the question is
	// asked again after it. It reads [VarExpected].
	SysInvalid SystemRole = "invalid"
)

// SystemRoles lists every role, in a fixed order.
var SystemRoles = []SystemRole{SysFallback, SysCancel, SysHelp, SysHuman, SysResume, SysInactivity, SysError, SysInvalid}

// Flow is one dialog: a state machine whose states are its steps. Execution
// starts at Steps[0] and falls through to the next step unless a step moves
// elsewhere (see [Branch], [Goto]); running past the last step ends the flow.
type Flow struct {
	Name        string
	Description string
	Title       Text // how the bot names the flow to shoppers ("tu cambio de talla"), for resume messages
	Triggers    Triggers
	Slots       []*Slot // the slots the flow declares, whatever their scope
	Steps       []Step
	// Interruptible flows let the shopper digress to another flow while they
	// wait for input, and come back afterwards. Most flows are.
	Interruptible bool
	// Leave makes a digression end the flow instead of coming back to it:
	// a survey or an "anything else?" the shopper answered by moving on.
	Leave bool
	// Aside marks a short reply that fits anywhere (thanks, "are you a
	// bot?"): triggered at a question — of any flow, interruptible or not —
	// it runs without leaving it or counting as a try, and the question is
	// asked again right after it, without the resume flow.
	Aside  bool
	System bool // a default system flow supplied by the compiler
	Pos    Pos

	slots map[string]*Slot
	asks  map[string]int // slot name → index of the first Ask step for it
}

// Slot returns the slot the flow declares with the given name, or nil.
func (f *Flow) Slot(name string) *Slot { return f.slots[name] }

// AskIndex returns the index of the first step that asks for slot, or -1.
func (f *Flow) AskIndex(slot string) int {
	if i, ok := f.asks[slot]; ok {
		return i
	}
	return -1
}

// StepByID returns the index of the step with the given ID, or -1.
func (f *Flow) StepByID(id string) int {
	for i, s := range f.Steps {
		if s.Meta().ID == id {
			return i
		}
	}
	return -1
}

// Triggers say when a flow starts by itself.
type Triggers struct {
	Intents  []string         // any of these intents, above the bot's threshold
	Keywords []string         // any of these words or phrases, matched on normalised text
	Patterns []*regexp.Regexp // any of these regular expressions on the raw text
	Events   []string         // any of these events (conversation_start, order_shipped, ...)
	Guard    *Expr            // and then only when this condition holds
}

// IsZero reports whether nothing triggers the flow (it can only be called or started).
func (t *Triggers) IsZero() bool {
	return len(t.Intents) == 0 && len(t.Keywords) == 0 && len(t.Patterns) == 0 && len(t.Events) == 0
}

// EventConversationStart is the event of a conversation's first message.
const EventConversationStart = "conversation_start"

// SlotType is what kind of answer a slot takes.
type SlotType uint8

const (
	SlotText       SlotType = iota // any text
	SlotNumber                     // a number: digits or words ("cuarenta y tres")
	SlotInteger                    // a whole number
	SlotBoolean                    // yes or no, in the shopper's words
	SlotChoice                     // one of a list of values, or their synonyms
	SlotEmail                      // an email address
	SlotPhone                      // a phone number
	SlotDate                       // a date, possibly relative ("mañana")
	SlotPattern                    // text matching a regular expression
	SlotLocation                   // a shared location or an address
	SlotAttachment                 // an image or a file
)

var slotTypeNames = [...]string{"text", "number", "integer", "boolean", "choice", "email", "phone", "date", "pattern", "location", "attachment"}

func (t SlotType) String() string {
	if int(t) < len(slotTypeNames) {
		return slotTypeNames[t]
	}
	return fmt.Sprintf("SlotType(%d)", t)
}

// ParseSlotType returns the slot type with the given name.
func ParseSlotType(name string) (SlotType, bool) {
	for i, n := range slotTypeNames {
		if n == name {
			return SlotType(i), true
		}
	}
	return 0, false
}

// SlotTypeNames lists the names of the slot types.
func SlotTypeNames() []string { return append([]string(nil), slotTypeNames[:]...) }

// LocationType is the value type of a location slot.
var LocationType = ObjectOf(map[string]*Type{
	"lat": Number, "lon": Number, "name": String, "address": String,
})

// AttachmentType is the value type of an attachment slot.
var AttachmentType = ObjectOf(map[string]*Type{
	"id": String, "kind": String, "url": String, "name": String,
	"mime": String, "caption": String, "size": Integer,
})

// ValueType returns the type of the values a slot of this type holds.
func (t SlotType) ValueType() *Type {
	switch t {
	case SlotNumber:
		return Number
	case SlotInteger:
		return Integer
	case SlotBoolean:
		return Bool
	case SlotDate:
		return Date
	case SlotLocation:
		return LocationType
	case SlotAttachment:
		return AttachmentType
	}
	return String
}

// Scope is how long a slot's value lives.
type Scope uint8

const (
	ScopeFlow         Scope = iota // until the flow ends
	ScopeConversation              // until the conversation ends
	ScopeUser                      // in the user's profile, across conversations
)

var scopeNames = [...]string{"flow", "conversation", "user"}

func (s Scope) String() string {
	if int(s) < len(scopeNames) {
		return scopeNames[s]
	}
	return fmt.Sprintf("Scope(%d)", s)
}

// ParseScope returns the scope with the given name.
func ParseScope(name string) (Scope, bool) {
	for i, n := range scopeNames {
		if n == name {
			return Scope(i), true
		}
	}
	return 0, false
}

// Slot is a named value a flow collects from the shopper.
type Slot struct {
	Name   string
	Type   SlotType
	Scope  Scope
	Entity string // the entity that fills the slot; "" takes the type's built-in one

	Pattern *regexp.Regexp // what a pattern slot accepts
	Choices []Choice       // what a choice slot accepts
	Accept  []string       // what an attachment slot accepts: "image", "file" (empty: both)

	// Validate, when set, must hold for a value to be accepted; it reads the
	// candidate value under the slot's own name. Invalid says why not.
	Validate *Expr
	Invalid  Text
	Retries  int // attempts before the slot is exhausted (0: the bot's setting)

	Pos Pos
}

// Choice is one of the values a shopper may pick, shown as a button.
type Choice struct {
	Value    string
	Label    Text     // what the button says (empty: the value)
	Synonyms []string // other ways of saying it
}

// Message is what a say step or a question shows: one text chosen among its
// variants, with optional buttons, an image and a link.
type Message struct {
	Variants    []Text   // one is said; variants make a bot sound less mechanical
	Choices     []Choice // buttons or quick replies
	ChoicesFrom *Expr    // buttons computed at run time: a list of strings or of {label, value}
	Image       *Template
	Link        *Link
	// Template is the approved template sent instead when the channel
	// refuses free-form messages (WhatsApp outside the 24-hour window).
	Template *MessageTemplate
	Pos      Pos
}

// MessageTemplate names a template approved by the platform, its language
// ("" : the conversation's) and the values of its placeholders, in order.
type MessageTemplate struct {
	Name   string
	Lang   string
	Params []*Template
	Pos    Pos
}

// Link is a link shown with a message.
type Link struct {
	URL   *Template
	Label Text
}

// Step is a state of a flow. The concrete types are [Say], [Ask], [Set],
// [Branch], [Goto], [Call], [Start], [Action], [Handoff], [Wait] and [End].
type Step interface {
	Meta() *StepMeta
}

// StepMeta is what every step carries.
type StepMeta struct {
	ID  string // the designer's name for the step, if any
	Pos Pos
}

// Meta returns m; it makes every step type that embeds StepMeta a Step.
func (m *StepMeta) Meta() *StepMeta { return m }

// Target values that are not step indices.
const (
	// Default means "what the runtime does when the designer said nothing":
	// for an action error or an exhausted slot, the error or fallback system flow.
	Default = -1
)

// Say sends a message and goes on.
type Say struct {
	StepMeta
	Message *Message
}

// Ask waits for the value of a slot, unless it is already filled. The
// prompt is said when the step is reached; Reprompt (or else Prompt) when
// the flow resumes after a digression or an invalid answer. After the slot's
// retries the flow moves to Exhausted. A refusal of the options the
// question offers ("no", "ninguna", "none of them") moves it to OnNone.
type Ask struct {
	StepMeta
	Slot      string
	Prompt    *Message
	Reprompt  *Message
	Exhausted int // a step index, or Default
	// OnNone is the step a refusal of the question's options goes to; 0
	// (no step before the question is ever its target): none, the runtime
	// shows the options again with the way out, as a try of the question.
	OnNone int
}

// Set assigns values to slots or flow variables.
type Set struct {
	StepMeta
	Assign []Assign
}

// Assign gives Name the value of Value; a nil Value clears it.
type Assign struct {
	Name  string
	Value *Expr
	Pos   Pos
}

// Branch goes on when Cond holds, and moves to Else otherwise.
type Branch struct {
	StepMeta
	Cond *Expr
	Else int // a step index; len(Steps) ends the flow
}

// Goto moves to another step of the same flow.
type Goto struct {
	StepMeta
	Target int // a step index; len(Steps) ends the flow
}

// Call runs another flow as a sub-flow and comes back to the next step when
// it ends. Args fill slots of the called flow.
type Call struct {
	StepMeta
	Flow string
	Args []Assign
}

// Start replaces the current flow with another one (no return).
type Start struct {
	StepMeta
	Flow string
	Args []Assign
}

// Action calls a named action (see [ActionSpec]) with arguments, stores its
// result in the flow variable Into (if set) and goes on; on failure it moves
// to OnError.
type Action struct {
	StepMeta
	Name    string
	Args    []Assign
	Into    string
	OnError int // a step index, or Default
}

// Handoff passes the conversation to a person in a queue. The flow is
// suspended; when the agent gives the conversation back, it goes on with the
// next step (unless the agent starts another flow).
type Handoff struct {
	StepMeta
	Queue    string    // "" uses the bot's default queue
	Priority int       // higher is served first
	Note     *Template // the reason the agent sees
}

// Wait waits for one of Events, or for Timeout to pass, without blocking a
// turn: the conversation is parked and resumed by the event or the timer.
// With no events it is a pause of Timeout. The event's data is stored in
// Into. When the timeout fires, the flow moves to OnTimeout.
type Wait struct {
	StepMeta
	Events    []string
	Timeout   time.Duration
	Into      string
	OnTimeout int // a step index; Default goes on with the next step
}

// End ends the flow with an outcome, recorded for analytics. A sub-flow that
// ends returns to its caller.
type End struct {
	StepMeta
	Outcome Outcome
}

// Outcome is how a flow ended, for analytics.
type Outcome string

const (
	OutcomeNone      Outcome = ""          // ended without saying
	OutcomeResolved  Outcome = "resolved"  // the shopper got what they came for
	OutcomeAbandoned Outcome = "abandoned" // the shopper left or cancelled
	OutcomeEscalated Outcome = "escalated" // handed to a person
)

// ParseOutcome returns the outcome with the given name.
func ParseOutcome(s string) (Outcome, bool) {
	switch o := Outcome(s); o {
	case OutcomeResolved, OutcomeAbandoned, OutcomeEscalated:
		return o, true
	}
	return "", false
}

// ActionSpec declares an action flows may call: an HTTP call, or a Go
// function the embedding program registers under Name.
type ActionSpec struct {
	Name        string
	Description string
	Params      []Param
	Result      *Type     // the type of the result (usually an object); nil: any
	HTTP        *HTTPSpec // nil: a Go function
	Timeout     time.Duration
	Retries     int // extra attempts after a failure that may be transient
	Pos         Pos
}

// Param is an argument of an action.
type Param struct {
	Name     string
	Type     *Type
	Required bool
}

// HTTPSpec says how to call an HTTP action. The arguments and the
// conversation's context are POSTed as JSON (or sent as the query of a GET);
// the JSON reply is the result.
type HTTPSpec struct {
	Method  string
	URL     *Template         // placeholders read the arguments
	Headers map[string]string // values may name environment variables as ${NAME}
	Backoff time.Duration     // first delay between retries, doubled each time
}

// Queue is a queue of conversations waiting for a person.
type Queue struct {
	Name       string
	Title      Text
	Priority   int
	Skills     []string
	Agents     []string
	Hours      *Hours
	MaxWait    time.Duration // time to wait for an agent before the fallback
	AfterHours Text          // said when the queue is closed
	Fallback   string        // the queue tried when nobody answers in MaxWait ("" : leave a message)
	Manual     bool          // agents claim its conversations by hand (no automatic assignment)
	Pos        Pos
}

// Hours are the business hours of a queue.
type Hours struct {
	Timezone string
	Days     [7][]TimeRange // indexed by time.Weekday
}

// TimeRange is a span of a day, in minutes from midnight.
type TimeRange struct{ From, To int }

// Open reports whether t falls within the hours.
func (h *Hours) Open(t time.Time) bool {
	if h == nil {
		return true
	}
	if loc, err := time.LoadLocation(h.Timezone); err == nil {
		t = t.In(loc)
	}
	m := t.Hour()*60 + t.Minute()
	for _, r := range h.Days[t.Weekday()] {
		if m >= r.From && m < r.To {
			return true
		}
	}
	return false
}

// NLUData is a bot's training data for one language.
type NLUData struct {
	Lang     string
	Intents  []*IntentData
	Entities []*EntityData
}

// IntentData is an intent and the examples that teach it.
type IntentData struct {
	Name     string
	Examples []string
	Pos      Pos
}

// EntityData declares a designer's entity: a regular expression, or a lookup
// list of values with synonyms.
type EntityData struct {
	Name    string
	Pattern *regexp.Regexp // a regex entity
	Values  []EntityValue  // a lookup entity
	Fuzzy   bool           // lookups tolerate typos
	Pos     Pos
}

// EntityValue is a canonical value of a lookup entity and its synonyms.
type EntityValue struct {
	Value    string
	Synonyms []string
}

// Article is a knowledge-base entry: questions it answers, and the answer.
type Article struct {
	ID        string
	Title     Text
	Questions map[string][]string // by language
	Answer    *Message
	Pos       Pos
}

// Check verifies that the program is consistent — every flow, slot, action,
// queue and step reference resolves; targets are in range; names are unique
// — and indexes it. It must be called once before the program is run; it
// reports every problem it finds.
func (p *Program) Check() error {
	var errs checkErrors
	p.flows = make(map[string]*Flow, len(p.Flows))
	p.actions = make(map[string]*ActionSpec, len(p.Actions))
	p.queues = make(map[string]*Queue, len(p.Queues))
	p.globals = make(map[string]*Slot)

	if len(p.Languages) == 0 {
		errs.add(Pos{}, "the program declares no language")
	}
	for _, a := range p.Actions {
		if _, dup := p.actions[a.Name]; dup {
			errs.add(a.Pos, "action %q declared twice", a.Name)
		}
		p.actions[a.Name] = a
	}
	for _, q := range p.Queues {
		if _, dup := p.queues[q.Name]; dup {
			errs.add(q.Pos, "queue %q declared twice", q.Name)
		}
		p.queues[q.Name] = q
	}
	for _, f := range p.Flows {
		if f.Name == "" {
			errs.add(f.Pos, "a flow has no name")
		}
		if _, dup := p.flows[f.Name]; dup {
			errs.add(f.Pos, "flow %q declared twice", f.Name)
		}
		p.flows[f.Name] = f
		f.slots = make(map[string]*Slot, len(f.Slots))
		for _, s := range f.Slots {
			if _, dup := f.slots[s.Name]; dup {
				errs.add(s.Pos, "slot %q declared twice in flow %q", s.Name, f.Name)
			}
			f.slots[s.Name] = s
			if s.Scope != ScopeFlow {
				if g, ok := p.globals[s.Name]; ok && (g.Type != s.Type || g.Scope != s.Scope) {
					errs.add(s.Pos, "slot %q is declared elsewhere as a %s-scoped %s", s.Name, g.Scope, g.Type)
				} else if !ok {
					p.globals[s.Name] = s
				}
			}
		}
	}
	for _, role := range SystemRoles {
		if name, ok := p.System[role]; ok && p.flows[name] == nil {
			errs.add(Pos{}, "system role %s names unknown flow %q", role, name)
		}
	}
	if p.Settings.DefaultQueue != "" && p.queues[p.Settings.DefaultQueue] == nil {
		errs.add(Pos{}, "default queue %q is not declared", p.Settings.DefaultQueue)
	}
	p.checkHandoff(&errs)
	for _, f := range p.Flows {
		p.checkFlow(f, &errs)
	}
	return errs.err()
}

func (p *Program) checkFlow(f *Flow, errs *checkErrors) {
	f.asks = make(map[string]int)
	n := len(f.Steps)
	target := func(s Step, what string, t int, allowDefault bool) {
		if (t == Default && allowDefault) || (t >= 0 && t <= n) {
			return
		}
		errs.add(s.Meta().Pos, "flow %q: %s target %d out of range", f.Name, what, t)
	}
	flowRef := func(s Step, name string) {
		if p.flows[name] == nil {
			errs.add(s.Meta().Pos, "flow %q: unknown flow %q", f.Name, name)
		}
	}
	slotRef := func(s Step, name string) {
		if f.slots[name] == nil && p.globals[name] == nil {
			errs.add(s.Meta().Pos, "flow %q: unknown slot %q", f.Name, name)
		}
	}
	ids := map[string]bool{}
	for i, s := range f.Steps {
		if s == nil {
			errs.add(f.Pos, "flow %q: step %d is nil", f.Name, i)
			continue
		}
		if id := s.Meta().ID; id != "" {
			if ids[id] {
				errs.add(s.Meta().Pos, "flow %q: step id %q used twice", f.Name, id)
			}
			ids[id] = true
		}
		switch s := s.(type) {
		case *Say:
			if s.Message == nil {
				errs.add(s.Pos, "flow %q: say step without a message", f.Name)
			}
		case *Ask:
			slotRef(s, s.Slot)
			if _, seen := f.asks[s.Slot]; !seen {
				f.asks[s.Slot] = i
			}
			target(s, "exhausted", s.Exhausted, true)
			if s.OnNone != 0 {
				target(s, "on_none", s.OnNone, false)
			}
		case *Set:
			for _, a := range s.Assign {
				if a.Name == "" {
					errs.add(a.Pos, "flow %q: assignment without a name", f.Name)
				}
			}
		case *Branch:
			if s.Cond == nil {
				errs.add(s.Pos, "flow %q: branch without a condition", f.Name)
			}
			target(s, "else", s.Else, false)
		case *Goto:
			target(s, "goto", s.Target, false)
		case *Call:
			flowRef(s, s.Flow)
		case *Start:
			flowRef(s, s.Flow)
		case *Action:
			if p.actions[s.Name] == nil {
				errs.add(s.Pos, "flow %q: unknown action %q", f.Name, s.Name)
			}
			target(s, "on_error", s.OnError, true)
		case *Handoff:
			if s.Queue != "" && p.queues[s.Queue] == nil {
				errs.add(s.Pos, "flow %q: unknown queue %q", f.Name, s.Queue)
			}
		case *Wait:
			if len(s.Events) == 0 && s.Timeout <= 0 {
				errs.add(s.Pos, "flow %q: wait without events or timeout", f.Name)
			}
			target(s, "on_timeout", s.OnTimeout, true)
		case *End:
		default:
			errs.add(s.Meta().Pos, "flow %q: unknown step type %T", f.Name, s)
		}
	}
}

type checkErrors []string

func (e *checkErrors) add(pos Pos, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if pos.IsValid() {
		msg = pos.String() + ": " + msg
	}
	*e = append(*e, msg)
}

func (e checkErrors) err() error {
	if len(e) == 0 {
		return nil
	}
	return &Error{Code: EInvalid, Message: "invalid program:\n\t" + strings.Join(e, "\n\t")}
}
