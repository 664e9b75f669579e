package main

import (
	"context"
	"encoding/xml"
	"flag"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/memory"
	"github.com/charlabot/charla/flows"
)

func init() {
	register(&command{
		name:    "test",
		usage:   "test DIR [--run REGEX] [--junit FILE] [-v]",
		summary: "run the bot's conversation tests (DIR/tests/*.yaml)",
		run:     runTest,
	})
}

func runTest(ctx context.Context, args []string, io stdio) int {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.err)
	runRE := fs.String("run", "", "run only the tests whose name matches this regular expression")
	junit := fs.String("junit", "", "also write the results as JUnit XML to this file")
	verbose := fs.Bool("v", false, "list every test, not only the failures")
	which := fs.String("understander", "auto", "auto (the trained NLU when the bot has training data, else keywords), nlu or keyword")
	fs.Usage = func() {
		fmt.Fprintln(io.err, "usage: charla test DIR [--run REGEX] [--junit FILE] [-v]")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	var filter *regexp.Regexp
	if *runRE != "" {
		if filter, err = regexp.Compile(*runRE); err != nil {
			fmt.Fprintf(io.err, "charla test: --run: %v\n", err)
			return 2
		}
	}
	bot, code := openBot(pos[0], "test", io)
	if bot == nil {
		return code
	}
	u, kind, err := understanderFor(bot.Program, *which)
	if err != nil {
		fmt.Fprintf(io.err, "charla test: %v\n", err)
		return 1
	}
	if *verbose {
		fmt.Fprintf(io.out, "understander: %s\n", kind)
	}
	var results []caseResult
	for _, suite := range bot.Tests {
		for _, tc := range suite.Tests {
			if filter != nil && !filter.MatchString(tc.Name) {
				continue
			}
			r := runCase(ctx, bot.Program, u, tc)
			r.file = suite.File
			results = append(results, r)
			switch {
			case len(r.failures) > 0:
				fmt.Fprintf(io.out, "FAIL %s (%s)\n", tc.Name, tc.Pos)
				for _, f := range r.failures {
					fmt.Fprintln(io.out, indent(f, "    "))
				}
			case *verbose:
				fmt.Fprintf(io.out, "ok   %s (%s)\n", tc.Name, r.took.Round(time.Microsecond))
			}
		}
	}
	passed, failed := 0, 0
	for _, r := range results {
		if len(r.failures) == 0 {
			passed++
		} else {
			failed++
		}
	}
	if *junit != "" {
		if err := writeJUnit(*junit, bot.Program.Name, results); err != nil {
			fmt.Fprintf(io.err, "charla test: --junit: %v\n", err)
			return 1
		}
	}
	fmt.Fprintf(io.out, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

// loadBot compiles a bot directory, printing its errors; a nil bot comes
// with the exit code.
// openBot compiles the bot in dir, printing its diagnostics — warnings
// too, so that a text cut short or a file not read shows in chat and test
// as in validate — on stderr.
func openBot(dir, cmd string, io stdio) (*flows.Bot, int) {
	bot, err := flows.LoadDir(dir)
	if bot != nil {
		for _, d := range bot.Diagnostics {
			fmt.Fprintln(io.err, d)
		}
	}
	if err != nil {
		var list flows.ErrorList
		if ok := asErrorList(err, &list); ok {
			if bot == nil {
				for _, d := range list {
					fmt.Fprintln(io.err, d)
				}
			}
			if bot != nil && bot.Program != nil {
				return bot, 0 // warnings only
			}
		} else {
			fmt.Fprintf(io.err, "charla %s: %v\n", cmd, err)
		}
		return nil, 1
	}
	return bot, 0
}

func asErrorList(err error, list *flows.ErrorList) bool {
	l, ok := err.(flows.ErrorList)
	if ok {
		*list = l
	}
	return ok
}

func indent(s, pre string) string {
	return pre + strings.ReplaceAll(s, "\n", "\n"+pre)
}

// caseResult is the outcome of one test.
type caseResult struct {
	name     string
	file     string
	failures []string
	took     time.Duration
}

// runCase plays one conversation test on a fresh in-memory runtime.
func runCase(ctx context.Context, prog *engine.Program, u engine.Understander, tc *flows.TestCase) caseResult {
	res := caseResult{name: tc.Name}
	start := time.Now()
	defer func() { res.took = time.Since(start) }()
	fail := func(format string, args ...any) { res.failures = append(res.failures, fmt.Sprintf(format, args...)) }

	clock := &testClock{t: testEpoch}
	if !tc.Now.IsZero() {
		clock.t = tc.Now
	}
	rec := &recorder{}
	log := &actionLog{}
	var rt *engine.Runtime
	channel := tc.Channel
	if channel == "" {
		channel = "test"
	}
	rt, err := engine.NewRuntime(prog, engine.Options{
		Store:        memory.New(),
		Understander: u,
		Now:          clock.Now,
		Actions:      mockActions(prog, tc, func() *engine.Runtime { return rt }, log),
		Senders:      map[string]engine.Sender{channel: rec},
	})
	if err != nil {
		fail("%v", err)
		return res
	}
	conv := "test:" + tc.Name
	if err := seed(ctx, rt, conv, tc); err != nil {
		fail("start: %v", err)
		return res
	}
	if why := seedErrors(ctx, rt); why != "" {
		// The start's replies are not checked, but a start that failed
		// would have the turns run against the error flow's aftermath.
		fail("start: %s", why)
		return res
	}
	if _, missing := log.take(); len(missing) > 0 {
		fail("start: action %s has no mock and no implementation", strings.Join(missing, ", "))
		return res
	}
	rec.take()
	for i, turn := range tc.Turns {
		where := fmt.Sprintf("turn %d (%s) %s", i+1, turn.Pos, describeTurn(turn))
		var msgs []engine.Outbound
		var state engine.Conversation
		if turn.Kind == flows.TurnWait {
			clock.Add(turn.Wait)
			if _, err := rt.FireTimers(ctx); err != nil {
				fail("%s:\n  timers: %v", where, err)
				return res
			}
			c, err := rt.Conversation(ctx, conv)
			if err != nil {
				fail("%s:\n  %v", where, err)
				return res
			}
			state = *c
		} else {
			tr, err := rt.Handle(ctx, inbound(conv, tc, turn, fmt.Sprintf("t%d", i+1)))
			if err != nil {
				fail("%s:\n  error: %v", where, err)
				return res
			}
			msgs, state = tr.Messages, tr.Conversation
		}
		msgs = append(msgs, rec.take()...)
		calls, missing := log.take()
		if len(turn.Slots) > 0 {
			state.Slots = withCallers(ctx, rt, conv, state.Slots)
		}
		var diffs []string
		for _, name := range missing {
			diffs = append(diffs, fmt.Sprintf("action %s has no mock and no implementation", name))
		}
		diffs = append(diffs, checkTurn(turn, msgs, state, calls)...)
		if len(diffs) > 0 {
			fail("%s:\n%s", where, indent(strings.Join(diffs, "\n"), "  "))
		}
	}
	return res
}

// seedErrors returns the errors logged while a test's start ran its flow
// to its first wait ("" when none): a start at a step that reads a
// variable an earlier step would have set fails there (an action that
// fails is not an error of the test: its on_error is the flow's).
func seedErrors(ctx context.Context, rt *engine.Runtime) string {
	evs, err := rt.Events(ctx, 0, 100)
	if err != nil {
		return err.Error()
	}
	var why []string
	for _, e := range evs {
		if e.Kind == engine.EvError {
			if strings.HasPrefix(e.Detail, e.Flow+" ") {
				why = append(why, e.Detail)
			} else {
				why = append(why, fmt.Sprintf("%s: %s", e.Flow, e.Detail))
			}
		}
	}
	return strings.Join(why, "; ")
}

// withCallers adds to the slots a conversation shows (the waiting flow's,
// the conversation's and the user's) those of the flows below it on the
// stack, top first: after `call: datos`, a test still reads the calling
// flow's slots.
func withCallers(ctx context.Context, rt *engine.Runtime, conv string, slots map[string]any) map[string]any {
	s, err := rt.Session(ctx, conv)
	if err != nil || s == nil || len(s.Stack) < 2 {
		return slots
	}
	out := make(map[string]any, len(slots))
	for k, v := range slots {
		out[k] = v
	}
	for i := len(s.Stack) - 1; i >= 0; i-- {
		for _, v := range s.Stack[i].Vars {
			if _, ok := out[v.Name]; !ok {
				out[v.Name] = v.Value
			}
		}
	}
	return out
}

func describeTurn(t *flows.TestTurn) string {
	switch t.Kind {
	case flows.TurnUser:
		return fmt.Sprintf("user: %q", t.Text)
	case flows.TurnChoice:
		return fmt.Sprintf("choice: %q", t.Choice)
	case flows.TurnEvent:
		return fmt.Sprintf("event: %s", t.Event)
	}
	return fmt.Sprintf("wait: %s", t.Wait)
}

// checkTurn compares what a turn did with what the test expects, and
// returns the differences as readable lines.
func checkTurn(turn *flows.TestTurn, msgs []engine.Outbound, c engine.Conversation, calls []engine.ActionCall) []string {
	var d []string
	if turn.CheckBot {
		if len(msgs) != len(turn.Bot) {
			d = append(d, fmt.Sprintf("bot: want %d replies, got %d:", len(turn.Bot), len(msgs)))
			for i, e := range turn.Bot {
				d = append(d, fmt.Sprintf("  want %d: %s", i+1, describeExpectation(e)))
			}
			for i, m := range msgs {
				d = append(d, fmt.Sprintf("  got  %d: %q%s", i+1, m.Text, describeChoices(m.Choices)))
			}
		} else {
			for i, e := range turn.Bot {
				if why := matchReply(e, msgs[i]); why != "" {
					d = append(d, fmt.Sprintf("reply %d: %s\n  want %s\n  got  %q%s", i+1, why, describeExpectation(e), msgs[i].Text, describeChoices(msgs[i].Choices)))
				}
			}
		}
	}
	if turn.Says != "" {
		found := false
		for _, m := range msgs {
			if strings.Contains(m.Text, turn.Says) {
				found = true
			}
		}
		if !found {
			var got []string
			for _, m := range msgs {
				got = append(got, fmt.Sprintf("%q", m.Text))
			}
			d = append(d, fmt.Sprintf("says: no reply contains %q; got %s", turn.Says, orNothing(strings.Join(got, ", "))))
		}
	}
	if turn.CheckFlow && c.Flow != turn.Flow {
		d = append(d, fmt.Sprintf("flow: want %q, got %q", turn.Flow, c.Flow))
	}
	if turn.Status != "" && c.Status != turn.Status {
		d = append(d, fmt.Sprintf("status: want %s, got %s", turn.Status, c.Status))
	}
	names := make([]string, 0, len(turn.Slots))
	for k := range turn.Slots {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		want := turn.Slots[k]
		got, ok := c.Slots[k]
		switch {
		case want == nil && ok && got != nil:
			d = append(d, fmt.Sprintf("slot %s: want unset, got %s", k, showValue(got)))
		case want != nil && !ok:
			d = append(d, fmt.Sprintf("slot %s: want %s, got unset", k, showValue(want)))
		case want != nil && !matchValue(want, got):
			d = append(d, fmt.Sprintf("slot %s: want %s, got %s", k, showValue(want), showValue(got)))
		}
	}
	if turn.NoActions && len(calls) > 0 {
		d = append(d, fmt.Sprintf("no_actions: %d called: %s", len(calls), describeCalls(calls)))
	}
	if turn.CheckActions {
		ok := len(calls) == len(turn.Actions)
		for i := 0; ok && i < len(calls); i++ {
			w := turn.Actions[i]
			if calls[i].Name != w.Name {
				ok = false
				break
			}
			for k, v := range w.Args {
				if !matchValue(v, calls[i].Args[k]) {
					ok = false
				}
			}
		}
		if !ok {
			var want []string
			for _, a := range turn.Actions {
				want = append(want, fmt.Sprintf("%s%s", a.Name, showValue(a.Args)))
			}
			d = append(d, fmt.Sprintf("actions:\n  want %s\n  got  %s", orNothing(strings.Join(want, ", ")), orNothing(describeCalls(calls))))
		}
	}
	return d
}

func orNothing(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

func describeCalls(calls []engine.ActionCall) string {
	var s []string
	for _, c := range calls {
		s = append(s, fmt.Sprintf("%s%s", c.Name, showValue(c.Args)))
	}
	return strings.Join(s, ", ")
}

func describeExpectation(e flows.Expectation) string {
	var s string
	switch e.Match {
	case flows.MatchContains:
		s = fmt.Sprintf("a reply containing %q", e.Text)
	case flows.MatchRegex:
		s = fmt.Sprintf("a reply matching /%s/", e.Regex)
	default:
		s = fmt.Sprintf("%q", e.Text)
	}
	if e.CheckChoices {
		s += fmt.Sprintf(" with buttons %q", e.Choices)
	}
	return s
}

func describeChoices(cs []engine.OutChoice) string {
	if len(cs) == 0 {
		return ""
	}
	labels := make([]string, len(cs))
	for i, c := range cs {
		labels[i] = c.Label
	}
	return fmt.Sprintf(" with buttons %q", labels)
}

// matchReply says why a reply does not meet an expectation ("" when it does).
func matchReply(e flows.Expectation, m engine.Outbound) string {
	switch e.Match {
	case flows.MatchContains:
		if !strings.Contains(m.Text, e.Text) {
			return "does not contain the text"
		}
	case flows.MatchRegex:
		if e.Regex == nil || !e.Regex.MatchString(m.Text) {
			return "does not match"
		}
	default:
		if m.Text != e.Text {
			return "differs"
		}
	}
	if e.CheckChoices {
		labels := make([]string, len(m.Choices))
		for i, c := range m.Choices {
			labels[i] = c.Label
		}
		if !reflect.DeepEqual(labels, e.Choices) && !(len(labels) == 0 && len(e.Choices) == 0) {
			return "other buttons"
		}
	}
	return ""
}

// matchValue compares an expected value from a test file with a value of
// the conversation: numbers by value, dates with their written form,
// objects by the keys the test names.
func matchValue(want, got any) bool {
	if engine.ValuesEqual(want, got) {
		return true
	}
	switch w := want.(type) {
	case string:
		switch g := got.(type) {
		case time.Time:
			if d, err := engine.ParseDate(w); err == nil {
				return d.Equal(g) || d.Format(time.DateOnly) == g.Format(time.DateOnly) && len(w) == len(time.DateOnly)
			}
			return engine.FormatValue(g) == w
		}
	case time.Time:
		if g, ok := got.(time.Time); ok {
			return w.Equal(g)
		}
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if !matchValue(v, g[k]) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !matchValue(w[i], g[i]) {
				return false
			}
		}
		return true
	case nil:
		return got == nil
	}
	return false
}

func showValue(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case time.Time:
		return engine.FormatValue(x)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+": "+showValue(x[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		var parts []string
		for _, e := range x {
			parts = append(parts, showValue(e))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case nil:
		return "null"
	}
	return fmt.Sprint(v)
}

// JUnit XML, as CI systems read it.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func writeJUnit(path, bot string, results []caseResult) error {
	s := junitSuite{Name: bot, Tests: len(results)}
	var total time.Duration
	for _, r := range results {
		total += r.took
		c := junitCase{Name: r.name, Classname: r.file, Time: fmt.Sprintf("%.3f", r.took.Seconds())}
		if len(r.failures) > 0 {
			s.Failures++
			first, _, _ := strings.Cut(r.failures[0], "\n")
			c.Failure = &junitFailure{Message: first, Text: strings.Join(r.failures, "\n")}
		}
		s.Cases = append(s.Cases, c)
	}
	s.Time = fmt.Sprintf("%.3f", total.Seconds())
	b, err := xml.MarshalIndent(junitSuites{Suites: []junitSuite{s}}, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append([]byte(xml.Header), append(b, '\n')...))
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
