package flows

import (
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/charlabot/charla/engine"
)

// Expressions, templates, user-facing texts and messages.

var unknownNameRE = regexp.MustCompile(`^unknown name (\w+)`)

// goTypeRE matches the Go type names of expr's messages, which
// goTypeNames turns into the names designers use (docs/flows.md).
var goTypeRE = regexp.MustCompile(`map\[string\]interface \{\}|\[\]interface \{\}|interface \{\}|time\.Time|\bfloat64\b|\bint\b|\bbool\b`)

var goTypeNames = map[string]string{
	"map[string]interface {}": "object", "[]interface {}": "list", "interface {}": "any",
	"time.Time": "date", "float64": "number", "int": "integer", "bool": "boolean",
}

// expr compiles the expression held by scalar x against env. want, when
// not nil, is the type the result must have. Errors are positioned on the
// character of the YAML file where expr found them.
func (c *compiler) expr(x node, env engine.Env, want *engine.Type, what string) *engine.Expr {
	n := deref(x.n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		c.wrongType(x, what, "an expression")
		return nil
	}
	src := n.Value
	if strings.TrimSpace(src) == "" {
		c.errN(x, "%s is empty", what)
		return nil
	}
	e, err := engine.CompileExpr(src, env, want)
	if err != nil {
		c.sourceErr(node{x.f, n}, err, what, env)
		return nil
	}
	e.Pos = x.f.offsetPos(n, 0)
	return e
}

func (c *compiler) sourceErr(x node, err error, what string, env engine.Env) {
	var se *engine.SourceError
	if !errors.As(err, &se) {
		c.errN(x, "%s: %v", what, err)
		return
	}
	msg := se.Msg
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i] // expr adds a snippet of the source; we show positions
	}
	msg = goTypeRE.ReplaceAllStringFunc(msg, func(s string) string { return goTypeNames[s] })
	if m := unknownNameRE.FindStringSubmatch(msg); m != nil && env != nil {
		msg += didYouMean(m[1], sortedKeys(env))
	}
	c.errAt(x.f.offsetPos(x.n, se.Offset), "%s: %s", what, msg)
}

// template compiles a text with {{ }} placeholders held by scalar x.
func (c *compiler) template(x node, env engine.Env, what string) *engine.Template {
	n := deref(x.n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		c.wrongType(x, what, "a text")
		return nil
	}
	c.checkCutText(node{x.f, n}, what)
	t, err := engine.CompileTemplate(n.Value, env)
	if err != nil {
		c.sourceErr(node{x.f, n}, err, what, env)
		c.moreTemplateErrs(node{x.f, n}, n.Value, err, env, what)
		return nil
	}
	t.Pos = x.f.offsetPos(n, 0)
	return t
}

// moreTemplateErrs reports the errors of the placeholders after the one
// that failed ("Hola {{ nombr }}, tu pedido {{ pedid }}" has two): the
// failed placeholder is blanked out, keeping every offset, and the text
// compiled again.
func (c *compiler) moreTemplateErrs(x node, src string, err error, env engine.Env, what string) {
	for range 20 {
		var se *engine.SourceError
		if !errors.As(err, &se) || se.Offset <= 0 || se.Offset > len(src) {
			return
		}
		open := strings.LastIndex(src[:se.Offset], "{{")
		end := strings.Index(src[se.Offset:], "}}")
		if open < 0 || end < 0 {
			return
		}
		end += se.Offset + 2
		src = src[:open] + strings.Repeat(" ", end-open) + src[end:]
		if _, err = engine.CompileTemplate(src, env); err == nil {
			return
		}
		c.sourceErr(x, err, what, env)
	}
}

// checkCutText warns about an unquoted text that YAML cut at " #": "Pedido
// #123 listo" says "Pedido", the rest being read as a comment. A comment
// written right after the text without a space after # is taken for that.
func (c *compiler) checkCutText(x node, what string) {
	n := x.n
	lc := n.LineComment
	if n.Style != 0 || len(lc) < 2 || lc[0] != '#' || lc[1] == ' ' || lc[1] == '#' || lc[1] == '\t' {
		return
	}
	p := x.pos()
	if s := x.f.lineAt(n.Line); s != "" {
		if i := strings.Index(s, " "+lc); i >= 0 {
			p.Col = 1 + utf8.RuneCountInString(s[:i+1])
		}
	}
	c.warnAt(p, "%s ends before %q: YAML reads \" #\" as the start of a comment; put the whole text in quotes to keep it", what, lc)
}

// text compiles a user-facing text: a string for every language, or a
// mapping language → string that must hold exactly the bot's languages.
func (c *compiler) text(x node, env engine.Env, what string) engine.Text {
	n := deref(x.n)
	if n == nil || isNull(n) {
		c.errN(x, "%s is empty", what)
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if t := c.template(x, env, what); t != nil {
			return engine.Text{"": t}
		}
		return nil
	case yaml.MappingNode:
		if unquotedBraces(n) {
			s := x.f.lineAt(n.Line)
			i := byteIndex(s, n.Column-1)
			c.errN(x, "%s: a text that starts with {{ must be in quotes: %s", what, yamlQuote(stripComment(strings.TrimSpace(s[i:]))))
			return nil
		}
		m := c.mapOf(node{x.f, n}, what)
		if m == nil {
			return nil
		}
		out := engine.Text{}
		given := map[string]bool{} // languages whose text did not compile
		for _, p := range m.pairs {
			lang := p.k.n.Value
			if len(c.langs) > 0 && !contains(c.langs, lang) {
				if x.f.lenient {
					continue
				}
				c.errN(p.k, "%s: %q is not one of the bot's languages (%s)", what, lang, strings.Join(c.langs, ", "))
				continue
			}
			if t := c.template(p.v, env, what); t != nil {
				out[lang] = t
			} else {
				given[lang] = true // its own error says what is wrong
			}
		}
		var missing []string
		for _, l := range c.langs {
			if _, ok := out[l]; !ok && !given[l] {
				missing = append(missing, l)
			}
		}
		if len(missing) > 0 {
			if x.f.lenient {
				// the compiler's own defaults: borrow the first text given
				var first *engine.Template
				for _, p := range m.pairs {
					if t := out[p.k.n.Value]; t != nil {
						first = t
						break
					}
				}
				if first == nil && len(m.pairs) > 0 {
					first = c.template(m.pairs[0].v, env, what)
				}
				for _, l := range missing {
					if first != nil {
						out[l] = first
					}
				}
			} else if len(m.pairs) > 0 {
				c.errN(x, "%s: missing translation for %s", what, strings.Join(missing, ", "))
			}
		}
		if len(out) == 0 && !x.f.lenient && len(m.pairs) == 0 {
			c.errN(x, "%s is empty", what)
		}
		return out
	}
	c.wrongType(x, what, "a text or a mapping of language to text")
	return nil
}

// unquotedBraces reports whether a mapping is YAML's reading of an
// unquoted text that starts with a placeholder: {{ name }} is a mapping
// whose only key is a mapping.
func unquotedBraces(n *yaml.Node) bool {
	return n.Style&yaml.FlowStyle != 0 && len(n.Content) == 2 && deref(n.Content[0]).Kind == yaml.MappingNode
}

// byteIndex returns the byte offset of the rune at index col of s.
func byteIndex(s string, col int) int {
	for i := range s {
		if col == 0 {
			return i
		}
		col--
	}
	return len(s)
}

// variants compiles one text or a list of alternative texts.
func (c *compiler) variants(x node, env engine.Env, what string) []engine.Text {
	n := deref(x.n)
	if n != nil && n.Kind == yaml.SequenceNode {
		if len(n.Content) == 0 {
			c.errN(x, "%s: the list of variants is empty", what)
		}
		var out []engine.Text
		for _, e := range n.Content {
			if t := c.text(node{x.f, deref(e)}, env, what); t != nil {
				out = append(out, t)
			}
		}
		return out
	}
	if t := c.text(x, env, what); t != nil {
		return []engine.Text{t}
	}
	return nil
}

// messageKeys are the keys of a step (or of a KB article) that make up the
// message it shows.
var messageKeys = []string{"say", "buttons", "image", "link", "template"}

// message compiles the message keys of m (say is given as textKey). It
// returns nil when m has none of them.
func (c *compiler) message(m *ymap, textKey string, env engine.Env) *engine.Message {
	if !m.has(textKey) && !m.has("buttons") && !m.has("image") && !m.has("link") && !m.has("template") {
		return nil
	}
	msg := &engine.Message{Pos: m.pos()}
	if m.has(textKey) {
		msg.Pos = m.key(textKey).pos()
		msg.Variants = c.variants(m.get(textKey), env, textKey)
	} else if m.has("buttons") {
		c.errN(m.key("buttons"), "buttons need a %s: text to go with them", textKey)
	}
	if b := m.get("buttons"); b.ok() {
		if n := b.n; n.Kind == yaml.ScalarNode {
			e := c.expr(b, env, nil, "buttons")
			if e != nil {
				if k := e.Type.Kind; k != engine.KindList && k != engine.KindAny {
					c.errN(b, "buttons: the expression must give a list of texts or of {label, value}, not %s", e.Type)
				} else if el := e.Type.Elem; k == engine.KindList && el != nil && el.Kind != engine.KindAny && el.Kind != engine.KindString && el.Kind != engine.KindObject {
					c.errN(b, "buttons: the expression must give a list of texts or of {label, value}, not %s", e.Type)
				}
				msg.ChoicesFrom = e
			}
		} else {
			msg.Choices = c.choices(b, env, "buttons")
		}
	}
	if im := m.get("image"); im.ok() {
		msg.Image = c.template(im, env, "image")
	}
	if l := m.get("link"); l.ok() {
		msg.Link = c.link(l, env)
	}
	if t := m.get("template"); t.ok() {
		if !m.has(textKey) {
			c.errN(m.key("template"), "template: needs a %s: text, which is sent within the 24-hour window", textKey)
		}
		msg.Template = c.msgTemplate(t, env)
	}
	return msg
}

var (
	templateName = regexp.MustCompile(`^[a-z0-9_]{1,512}$`)
	templateLang = regexp.MustCompile(`^[a-z]{2,3}(_[A-Z]{2})?$`)
)

// msgTemplate compiles the approved template (WhatsApp) sent instead of a
// message outside the 24-hour customer-service window: a name, or
// {name, lang, params} where params are texts with placeholders.
func (c *compiler) msgTemplate(x node, env engine.Env) *engine.MessageTemplate {
	t := &engine.MessageTemplate{Pos: x.pos()}
	var name node
	if n := deref(x.n); n != nil && n.Kind == yaml.ScalarNode {
		name = x
	} else {
		m := c.fields(x, "a template", "name", "lang", "params")
		if m == nil {
			return nil
		}
		if !m.has("name") {
			c.errN(x, "a template needs a name")
			return nil
		}
		name = m.get("name")
		if l := m.get("lang"); l.ok() {
			if s, ok := c.str(l, "template lang"); ok {
				if !templateLang.MatchString(s) {
					c.errN(l, "template lang %q: want a WhatsApp language code such as es, es_MX, pt_BR or en_US", s)
				}
				t.Lang = s
			}
		}
		for _, p := range c.list(m.get("params"), "template params", true) {
			if tm := c.template(p, env, "template param"); tm != nil {
				t.Params = append(t.Params, tm)
			}
		}
	}
	s, ok := c.str(name, "template name")
	if !ok {
		return nil
	}
	if !templateName.MatchString(s) {
		c.errN(name, "template name %q: an approved template's name has only lowercase letters, digits and underscores", s)
	}
	t.Name = s
	return t
}

func (c *compiler) link(x node, env engine.Env) *engine.Link {
	if x.n.Kind == yaml.ScalarNode {
		u := c.template(x, env, "link")
		if u == nil {
			return nil
		}
		return &engine.Link{URL: u}
	}
	m := c.fields(x, "a link", "url", "label")
	if m == nil {
		return nil
	}
	l := &engine.Link{}
	if !m.has("url") {
		c.errN(x, "a link needs a url")
	} else {
		l.URL = c.template(m.get("url"), env, "link url")
	}
	if m.has("label") {
		l.Label = c.text(m.get("label"), env, "link label")
	}
	if l.URL == nil {
		return nil
	}
	return l
}

// choices compiles a static list of buttons or of a choice slot's values:
// each a string, or {value, label, synonyms}.
func (c *compiler) choices(x node, env engine.Env, what string) []engine.Choice {
	var out []engine.Choice
	seen := map[string]bool{}
	for _, e := range c.list(x, what, false) {
		var ch engine.Choice
		switch e.n.Kind {
		case yaml.ScalarNode:
			s, ok := c.str(e, what)
			if !ok {
				continue
			}
			ch.Value = s
		case yaml.MappingNode:
			m := c.fields(e, "a "+strings.TrimSuffix(what, "s"), "value", "label", "synonyms")
			if m == nil {
				continue
			}
			if m.has("label") {
				ch.Label = c.text(m.get("label"), env, "label")
			}
			switch {
			case m.has("value"):
				ch.Value, _ = c.str(m.get("value"), "value")
			case m.get("label").ok() && m.get("label").n.Kind == yaml.ScalarNode:
				ch.Value = m.get("label").n.Value
				ch.Label = nil
			default:
				c.errN(e, "%s: a choice needs a value", what)
				continue
			}
			for _, s := range c.strList(m.get("synonyms"), "synonyms", false) {
				ch.Synonyms = append(ch.Synonyms, s.s)
			}
		default:
			c.wrongType(e, what, "a text or a mapping with value and label")
			continue
		}
		if seen[ch.Value] {
			c.errN(e, "%s: value %q listed twice", what, ch.Value)
		}
		seen[ch.Value] = true
		out = append(out, ch)
	}
	if n := deref(x.n); len(out) == 0 && x.ok() && (isNull(n) || n.Kind == yaml.SequenceNode && len(n.Content) == 0) {
		c.errN(x, "%s: the list is empty", what)
	}
	return out
}
