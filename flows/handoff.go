package flows

import (
	"regexp"
	"strings"

	"github.com/charlabot/charla/engine"
)

// bot.yaml's people side: agents: (who answers hand-offs in the agent
// console) and handoff: (timeouts, leave commands, csat, canned replies,
// texts, the help-desk webhook). See docs/handoff.md.

var agentKeys = []string{"name", "skills", "max_chats", "lang", "password", "token"}

var handoffKeys = []string{"agent_reminder", "grace", "update_every", "leave", "csat", "canned", "texts", "webhook"}

var webhookKeys = []string{"url", "secret", "events"}

// HandoffTexts are the names of the texts the hand-off desk says to
// shoppers, which handoff: texts: may override.
var HandoffTexts = []string{"queued", "position", "next", "no_agents", "assigned", "after_hours",
	"offer_message", "leave_message", "message_taken", "transferred", "timeout", "button_message", "button_bot"}

// WebhookEvents are the events the help-desk webhook sends.
var WebhookEvents = []string{"handoff.requested", "message.customer", "conversation.closed"}

// handoffDecl is what bot.yaml's people side leaves for after the flows
// are compiled.
type handoffDecl struct {
	agents      map[string]node // agent id → its key
	queueAgents []strAt         // agents named by queues
	csat        strAt
	canned      []pair
}

var bcryptRE = regexp.MustCompile(`^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$`)

var tokenRefRE = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)

func (c *compiler) parseAgents(x node) {
	m := c.mapOf(x, "agents")
	if m == nil {
		return
	}
	c.bot.handoff.agents = map[string]node{}
	for _, p := range m.pairs {
		id, ok := c.label(p.k, "agent")
		if !ok {
			continue
		}
		a := &engine.AgentSpec{ID: id, Pos: p.k.pos()}
		c.bot.handoff.agents[id] = p.k
		am := c.fields(p.v, "agent "+id, agentKeys...)
		if am == nil {
			continue
		}
		for _, ap := range am.pairs {
			k, v := ap.k.n.Value, ap.v
			switch k {
			case "name":
				a.Name, _ = c.str(v, k)
			case "skills":
				for _, s := range c.strList(v, k, true) {
					a.Skills = append(a.Skills, s.s)
				}
			case "max_chats":
				a.MaxChats, _ = c.integer(v, k, 1, 100)
			case "lang":
				if l, ok := c.str(v, k); ok {
					if !contains(c.langs, l) && l != "es" && l != "en" {
						c.errN(v, "lang %q: the console speaks es and en", l)
					} else {
						a.Lang = l
					}
				}
			case "password":
				if s, ok := c.str(v, k); ok {
					if !bcryptRE.MatchString(s) {
						c.errN(v, "password must be a bcrypt hash such as $2a$10$… (make one with: charla agent-password), never the password itself")
					} else {
						a.Password = s
					}
				}
			case "token":
				if s, ok := c.str(v, k); ok {
					if m := tokenRefRE.FindStringSubmatch(s); m != nil {
						a.TokenEnv = m[1]
					} else {
						c.errN(v, "token must name an environment variable, as ${AGENT_TOKEN}: secrets never go in bot.yaml")
					}
				}
			}
		}
		if a.Password == "" && a.TokenEnv == "" && !am.has("password") && !am.has("token") {
			c.warnN(p.k, "agent %s cannot sign in: give them a password (a bcrypt hash) or a token", id)
		}
		c.prog.Agents = append(c.prog.Agents, a)
	}
}

func (c *compiler) parseHandoff(x node) {
	m := c.fields(x, "handoff", handoffKeys...)
	if m == nil {
		return
	}
	h := &c.prog.Handoff
	for _, p := range m.pairs {
		k, v := p.k.n.Value, p.v
		switch k {
		case "agent_reminder":
			h.AgentReminder, _ = c.positiveDuration(v, k)
		case "grace":
			h.Grace, _ = c.positiveDuration(v, k)
		case "update_every":
			h.UpdateEvery, _ = c.positiveDuration(v, k)
		case "leave":
			for _, s := range c.strList(v, k, false) {
				if engine.Normalize(s.s) == "" {
					c.errN(s.at, "leave: %q has no words", s.s)
					continue
				}
				h.Leave = append(h.Leave, s.s)
			}
		case "csat":
			if s, ok := c.ident(v, k); ok {
				h.CSAT = s
				c.bot.handoff.csat = strAt{s, v}
			}
		case "canned":
			if cm := c.mapOf(v, "canned"); cm != nil {
				c.bot.handoff.canned = cm.pairs // compiled once the slots are known
			}
		case "texts":
			c.handoffTexts(v)
		case "webhook":
			c.webhook(v)
		}
	}
}

var handoffTextEnv = engine.Env{"queue": engine.String, "position": engine.Integer, "wait": engine.String, "agent": engine.String, "leave": engine.String}

func (c *compiler) handoffTexts(x node) {
	m := c.mapOf(x, "texts")
	if m == nil {
		return
	}
	h := &c.prog.Handoff
	h.Texts = map[string]engine.Text{}
	for _, p := range m.pairs {
		name := p.k.n.Value
		if !contains(HandoffTexts, name) {
			c.errN(p.k, "unknown hand-off text %q (the texts are %s)%s", name, strings.Join(HandoffTexts, ", "), didYouMean(name, HandoffTexts))
			continue
		}
		if t := c.text(p.v, handoffTextEnv, "texts."+name); t != nil {
			h.Texts[name] = t
		}
	}
}

func (c *compiler) webhook(x node) {
	m := c.fields(x, "webhook", webhookKeys...)
	if m == nil {
		return
	}
	w := &engine.WebhookSpec{Pos: x.pos()}
	if v := m.get("url"); v.ok() {
		if u, ok := c.str(v, "url"); ok {
			if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "${") {
				c.errN(v, "url must start with http://, https:// or ${VARIABLE}")
			}
			c.envRefs(v, u)
			w.URL = u
		}
	} else {
		c.errN(x, "webhook needs a url")
	}
	if v := m.get("secret"); v.ok() {
		if s, ok := c.str(v, "secret"); ok {
			if mm := tokenRefRE.FindStringSubmatch(s); mm != nil {
				w.SecretEnv = mm[1]
			} else {
				c.errN(v, "secret must name an environment variable, as ${HELPDESK_SECRET}: secrets never go in bot.yaml")
			}
		}
	} else {
		c.errN(x, "webhook needs a secret, as ${HELPDESK_SECRET}: its events are signed with it")
	}
	if v := m.get("events"); v.ok() {
		for _, s := range c.strList(v, "events", false) {
			if !contains(WebhookEvents, s.s) {
				c.errN(s.at, "unknown webhook event %q (the events are %s)%s", s.s, strings.Join(WebhookEvents, ", "), didYouMean(s.s, WebhookEvents))
				continue
			}
			w.Events = append(w.Events, s.s)
		}
	}
	c.prog.Handoff.Webhook = w
}

// checkHandoff resolves what the people side names, once the flows and
// their slots are known.
func (c *compiler) checkHandoff() {
	hd := &c.bot.handoff
	if hd.agents != nil {
		ids := sortedKeys(hd.agents)
		for _, r := range hd.queueAgents {
			if _, ok := hd.agents[r.s]; !ok {
				c.errN(r.at, "unknown agent %q: declare it under agents:%s", r.s, didYouMean(r.s, ids))
			}
		}
	}
	if cs := hd.csat; cs.s != "" {
		if _, ok := c.flowByName[cs.s]; !ok {
			c.errN(cs.at, "csat: unknown flow %q%s", cs.s, didYouMean(cs.s, sortedKeys(c.flowByName)))
			c.prog.Handoff.CSAT = ""
		}
	}
	if len(hd.canned) > 0 {
		env := c.globalEnv()
		env["agent"] = engine.String
		for _, p := range hd.canned {
			name, ok := c.label(p.k, "canned reply")
			if !ok {
				continue
			}
			if t := c.text(p.v, env, "canned "+name); t != nil {
				c.prog.Handoff.Canned = append(c.prog.Handoff.Canned, engine.CannedReply{Name: name, Text: t, Pos: p.k.pos()})
			}
		}
	}
}
