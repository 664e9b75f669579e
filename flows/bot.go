package flows

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones are checked at load, whatever the machine has

	"github.com/charlabot/charla/engine"
)

// bot.yaml: name, languages, settings, queues, system roles, channels.

var botKeys = []string{"name", "description", "languages", "settings", "queues", "agents", "handoff", "system", "channels"}

var settingsKeys = []string{"nlu_threshold", "fallback_limit", "retries", "max_depth", "max_steps",
	"turn_timeout", "reminder_after", "close_after", "session_ttl", "retention", "event_log_ttl",
	"timezone", "default_queue"}

var queueKeys = []string{"title", "priority", "skills", "agents", "hours", "max_wait", "after_hours", "fallback", "assign"}

var langRE = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$`)

// botDecl is what bot.yaml declares beyond the program's own fields.
type botDecl struct {
	f        *yfile
	system   map[engine.SystemRole]strAt // role → flow, as the bot maps it
	queueAt  map[string]node             // queue name → its key, for positions
	fallback map[string]strAt            // queue → its fallback queue
	defQueue strAt
	handoff  handoffDecl // agents: and handoff: (handoff.go)
}

func (c *compiler) parseBot(f *yfile) {
	if len(f.docs) == 0 {
		if len(f.src) > 0 && len(c.diags) > 0 {
			return // a syntax error was reported
		}
		c.errAt(engine.Pos{File: f.path, Line: 1, Col: 1}, "bot.yaml is empty: it needs at least a name and languages")
		return
	}
	if len(f.docs) > 1 {
		c.errAt(f.pos(f.docs[1]), "bot.yaml holds one document")
	}
	root := node{f, f.docs[0]}
	m := c.fields(root, "bot.yaml", botKeys...)
	if m == nil {
		return
	}
	p := c.prog
	if x := m.get("name"); x.ok() {
		p.Name, _ = c.str(x, "name")
	} else {
		c.errN(root, "bot.yaml needs a name")
	}
	if x := m.get("languages"); x.ok() {
		for _, l := range c.strList(x, "languages", false) {
			switch {
			case !langRE.MatchString(l.s):
				c.errN(l.at, "language %q is not a language code such as es or en", l.s)
			case contains(p.Languages, l.s):
				c.errN(l.at, "language %q listed twice", l.s)
			default:
				p.Languages = append(p.Languages, l.s)
			}
		}
		if len(p.Languages) == 0 {
			c.errN(x, "languages: list at least one language (the first is the default)")
		}
	} else {
		c.errN(root, "bot.yaml needs languages, e.g. languages: [es, en] (the first is the default)")
	}
	c.langs = p.Languages
	c.bot.f = f
	if x := m.get("settings"); x.ok() {
		c.parseSettings(x)
	}
	if x := m.get("queues"); x.ok() {
		c.parseQueues(x)
	}
	if x := m.get("agents"); x.ok() {
		c.parseAgents(x)
	}
	if x := m.get("handoff"); x.ok() {
		c.parseHandoff(x)
	}
	if x := m.get("system"); x.ok() {
		sm := c.fields(x, "system", roleNames()...)
		if sm != nil {
			for _, pr := range sm.pairs {
				if s, ok := c.ident(pr.v, "system flow"); ok {
					c.bot.system[engine.SystemRole(pr.k.n.Value)] = strAt{s, pr.v}
				}
			}
		}
	}
	if x := m.get("channels"); x.ok() {
		cm := c.mapOf(x, "channels")
		if cm != nil {
			p.Channels = map[string]map[string]any{}
			for _, pr := range cm.pairs {
				budget := 10000
				v, ok := c.anyValue(pr.v, &budget)
				if !ok {
					continue
				}
				switch v := v.(type) {
				case map[string]any:
					p.Channels[pr.k.n.Value] = v
				case nil:
					p.Channels[pr.k.n.Value] = map[string]any{}
				default:
					c.wrongType(pr.v, "channel "+pr.k.n.Value, "a mapping")
				}
			}
		}
	}
}

func roleNames() []string {
	out := make([]string, len(engine.SystemRoles))
	for i, r := range engine.SystemRoles {
		out[i] = string(r)
	}
	return out
}

func (c *compiler) parseSettings(x node) {
	m := c.fields(x, "settings", settingsKeys...)
	if m == nil {
		return
	}
	s := &c.prog.Settings
	for _, p := range m.pairs {
		k, v := p.k.n.Value, p.v
		var ok bool
		switch k {
		case "nlu_threshold":
			if s.Threshold, ok = c.number(v, k); ok && (s.Threshold <= 0 || s.Threshold > 1) {
				c.errN(v, "nlu_threshold must be above 0 and at most 1")
			}
		case "fallback_limit":
			s.FallbackLimit, _ = c.integer(v, k, 1, 100)
		case "retries":
			s.Retries, _ = c.integer(v, k, 1, 100)
		case "max_depth":
			s.MaxDepth, _ = c.integer(v, k, 1, 100)
		case "max_steps":
			s.MaxSteps, _ = c.integer(v, k, 1, 100000)
		case "turn_timeout":
			s.TurnTimeout, _ = c.positiveDuration(v, k)
		case "reminder_after":
			s.ReminderAfter, _ = c.positiveDuration(v, k)
		case "close_after":
			s.CloseAfter, _ = c.positiveDuration(v, k)
		case "session_ttl":
			s.SessionTTL, _ = c.positiveDuration(v, k)
		case "retention":
			s.Retention, _ = c.positiveDuration(v, k)
		case "event_log_ttl":
			s.EventLogTTL, _ = c.positiveDuration(v, k)
		case "timezone":
			if tz, ok := c.str(v, k); ok {
				if _, err := time.LoadLocation(tz); err != nil || tz == "" {
					c.errN(v, "unknown time zone %q (use an IANA name such as America/Bogota)", tz)
				} else {
					s.Timezone = tz
				}
			}
		case "default_queue":
			if q, ok := c.str(v, k); ok {
				s.DefaultQueue = q
				c.bot.defQueue = strAt{q, v}
			}
		}
	}
	if s.ReminderAfter > 0 && s.CloseAfter > 0 && s.CloseAfter <= s.ReminderAfter {
		c.errN(m.get("close_after"), "close_after must be longer than reminder_after")
	}
}

func (c *compiler) positiveDuration(x node, what string) (time.Duration, bool) {
	d, ok := c.duration(x, what)
	if ok && d <= 0 {
		c.errN(x, "%s must be longer than zero", what)
		return 0, false
	}
	return d, ok
}

func (c *compiler) parseQueues(x node) {
	m := c.mapOf(x, "queues")
	if m == nil {
		return
	}
	for _, p := range m.pairs {
		name, ok := c.label(p.k, "queue")
		if !ok {
			continue
		}
		q := &engine.Queue{Name: name, Pos: p.k.pos()}
		c.bot.queueAt[name] = p.k
		qm := c.fields(p.v, "queue "+name, queueKeys...)
		if qm == nil {
			continue
		}
		for _, qp := range qm.pairs {
			k, v := qp.k.n.Value, qp.v
			switch k {
			case "title":
				q.Title = c.text(v, nil, "title")
			case "priority":
				q.Priority, _ = c.integer(v, k, -1000, 1000)
			case "skills":
				for _, s := range c.strList(v, k, true) {
					q.Skills = append(q.Skills, s.s)
				}
			case "agents":
				for _, s := range c.strList(v, k, false) {
					q.Agents = append(q.Agents, s.s)
					c.bot.handoff.queueAgents = append(c.bot.handoff.queueAgents, s)
				}
			case "hours":
				q.Hours = c.hours(v)
			case "max_wait":
				q.MaxWait, _ = c.positiveDuration(v, k)
			case "after_hours":
				q.AfterHours = c.text(v, nil, "after_hours")
			case "fallback":
				if s, ok := c.label(v, k); ok {
					q.Fallback = s
					c.bot.fallback[name] = strAt{s, v}
				}
			case "assign":
				if s, ok := c.str(v, k); ok {
					switch s {
					case "auto":
					case "manual":
						q.Manual = true
					default:
						c.errN(v, "assign must be auto (to the least-loaded available agent) or manual (agents claim)")
					}
				}
			}
		}
		c.prog.Queues = append(c.prog.Queues, q)
	}
}

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

var rangeRE = regexp.MustCompile(`^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$`)

// hours reads business hours: a time zone and, per day or range of days
// (mon-fri), one or more spans "09:00-18:00", or "closed".
func (c *compiler) hours(x node) *engine.Hours {
	m := c.mapOf(x, "hours")
	if m == nil {
		return nil
	}
	h := &engine.Hours{Timezone: c.prog.Settings.Timezone}
	var set [7]bool
	for _, p := range m.pairs {
		k := strings.ToLower(p.k.n.Value)
		if k == "timezone" {
			if tz, ok := c.str(p.v, "timezone"); ok {
				if _, err := time.LoadLocation(tz); err != nil {
					c.errN(p.v, "unknown time zone %q (use an IANA name such as America/Bogota)", tz)
				}
				h.Timezone = tz
			}
			continue
		}
		days, ok := dayRange(k)
		if !ok {
			c.errN(p.k, "hours: %q is not a day (mon, tue, ... sun) or a range of days (mon-fri)", p.k.n.Value)
			continue
		}
		var spans []engine.TimeRange
		for _, s := range c.strList(p.v, "hours", false) {
			if strings.EqualFold(s.s, "closed") {
				continue
			}
			r := rangeRE.FindStringSubmatch(s.s)
			if r == nil {
				c.errN(s.at, "hours: %q is not a span such as 09:00-18:00", s.s)
				continue
			}
			num := func(i int) int { n, _ := strconv.Atoi(r[i]); return n }
			from, to := num(1)*60+num(2), num(3)*60+num(4)
			if num(2) > 59 || num(4) > 59 || from > 24*60 || to > 24*60 || from >= to {
				c.errN(s.at, "hours: %q is not a span of one day (from must come before to, at most 24:00)", s.s)
				continue
			}
			spans = append(spans, engine.TimeRange{From: from, To: to})
		}
		for _, d := range days {
			if set[d] {
				c.errN(p.k, "hours: %s is given twice", dayNames[d])
			}
			set[d] = true
			h.Days[d] = append(h.Days[d], spans...)
		}
	}
	if h.Timezone == "" {
		h.Timezone = "UTC"
	}
	return h
}

func dayRange(k string) ([]int, bool) {
	idx := func(s string) int {
		for i, d := range dayNames {
			if d == s {
				return i
			}
		}
		return -1
	}
	if a, b, ok := strings.Cut(k, "-"); ok {
		i, j := idx(strings.TrimSpace(a)), idx(strings.TrimSpace(b))
		if i < 0 || j < 0 {
			return nil, false
		}
		var out []int
		for d := i; ; d = (d + 1) % 7 {
			out = append(out, d)
			if d == j {
				break
			}
		}
		return out, true
	}
	if i := idx(k); i >= 0 {
		return []int{i}, true
	}
	return nil, false
}

// checkQueues resolves the queue names bot.yaml uses.
func (c *compiler) checkQueues() {
	names := c.queueNames()
	for q, fb := range c.bot.fallback {
		if fb.s == q {
			c.errN(fb.at, "queue %q cannot fall back to itself", q)
		} else if _, ok := c.bot.queueAt[fb.s]; !ok {
			c.errN(fb.at, "unknown queue %q%s", fb.s, didYouMean(fb.s, names))
		}
	}
	if d := c.bot.defQueue; d.s != "" {
		if _, ok := c.bot.queueAt[d.s]; !ok {
			c.errN(d.at, "unknown queue %q%s", d.s, didYouMean(d.s, names))
			c.prog.Settings.DefaultQueue = ""
		}
	}
	seen := map[string]bool{}
	for _, q := range c.prog.Queues {
		if seen[q.Name] {
			c.errAt(q.Pos, "queue %q declared twice", q.Name)
		}
		seen[q.Name] = true
	}
}

func (c *compiler) queueNames() []string { return sortedKeys(c.bot.queueAt) }
