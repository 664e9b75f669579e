package flows

import (
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/charlabot/charla/engine"
)

// actions.yaml: every action a flow may call, with its parameters and the
// fields of its result, so that expressions over results are type-checked.

var actionKeys = []string{"description", "params", "result", "timeout", "retries", "http"}

var httpKeys = []string{"method", "url", "headers", "backoff"}

var envRefRE = regexp.MustCompile(`\$\{([^}]*)\}`)

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (c *compiler) parseActions(f *yfile) {
	if len(f.docs) == 0 {
		return
	}
	root := node{f, f.docs[0]}
	m := c.fields(root, "actions.yaml", "actions")
	if m == nil {
		return
	}
	am := c.mapOf(m.get("actions"), "actions")
	if am == nil {
		return
	}
	for _, p := range am.pairs {
		name, ok := c.ident(p.k, "action")
		if !ok {
			continue
		}
		a := &engine.ActionSpec{Name: name, Pos: p.k.pos()}
		c.actionAt[name] = p.k
		sm := c.fields(p.v, "action "+name, actionKeys...)
		if sm == nil {
			continue
		}
		a.Description = c.optStr(sm.get("description"), "description")
		params := engine.Env{}
		if x := sm.get("params"); x.ok() {
			pm := c.mapOf(x, "params")
			if pm != nil {
				for _, pp := range pm.pairs {
					pname, ok := c.ident(pp.k, "parameter")
					if !ok {
						continue
					}
					par := c.param(pname, pp.v)
					a.Params = append(a.Params, par)
					params[pname] = par.Type
				}
			}
		}
		if x := sm.get("result"); x.ok() {
			a.Result = c.typeSpec(x, 0)
		}
		if x := sm.get("timeout"); x.ok() {
			a.Timeout, _ = c.positiveDuration(x, "timeout")
		}
		if x := sm.get("retries"); x.ok() {
			a.Retries, _ = c.integer(x, "retries", 0, 10)
		}
		if x := sm.get("http"); x.ok() {
			a.HTTP = c.httpSpec(x, params)
		}
		c.prog.Actions = append(c.prog.Actions, a)
	}
}

// param reads a parameter: a type, or {type, required, description}.
func (c *compiler) param(name string, x node) engine.Param {
	p := engine.Param{Name: name, Required: true}
	if x.n.Kind == yaml.MappingNode {
		m := c.mapOf(x, "parameter")
		if m != nil && m.has("type") && isParamSpec(m) {
			c.fields(x, "parameter "+name, "type", "required", "description")
			p.Type = c.typeSpec(m.get("type"), 0)
			if r := m.get("required"); r.ok() {
				p.Required, _ = c.boolean(r, "required")
			}
			return p
		}
	}
	p.Type = c.typeSpec(x, 0)
	return p
}

func isParamSpec(m *ymap) bool {
	for _, p := range m.pairs {
		if !contains([]string{"type", "required", "description"}, p.k.n.Value) {
			return false
		}
	}
	t := m.get("type").n
	return t.Kind == yaml.ScalarNode && contains(typeNames, t.Value)
}

var typeNames = []string{"any", "string", "number", "integer", "boolean", "date", "list", "object"}

// typeSpec reads a type: a name (string, number, integer, boolean, date,
// any, list, object), a mapping of field → type (a closed object), or a
// list of one type (a list of it).
func (c *compiler) typeSpec(x node, depth int) *engine.Type {
	if depth > 20 {
		c.errN(x, "type nested too deep")
		return engine.Any
	}
	switch x.n.Kind {
	case yaml.ScalarNode:
		s := x.n.Value
		switch s {
		case "any":
			return engine.Any
		case "string", "text":
			return engine.String
		case "number":
			return engine.Number
		case "integer":
			return engine.Integer
		case "boolean", "bool":
			return engine.Bool
		case "date":
			return engine.Date
		case "list":
			return engine.ListOf(nil)
		case "object":
			return engine.ObjectOf(nil)
		}
		if t, ok := strings.CutPrefix(s, "list of "); ok {
			return engine.ListOf(c.typeSpec(node{x.f, &yaml.Node{Kind: yaml.ScalarNode, Value: t, Line: x.n.Line, Column: x.n.Column}}, depth+1))
		}
		c.errN(x, "unknown type %q (use %s, a mapping of fields, or a list of one type)%s", s, strings.Join(typeNames, ", "), didYouMean(s, typeNames))
		return engine.Any
	case yaml.SequenceNode:
		if len(x.n.Content) != 1 {
			c.errN(x, "a list type names one element type, as in [string]")
			return engine.ListOf(nil)
		}
		return engine.ListOf(c.typeSpec(node{x.f, deref(x.n.Content[0])}, depth+1))
	case yaml.MappingNode:
		m := c.mapOf(x, "type")
		fields := map[string]*engine.Type{}
		if m != nil {
			for _, p := range m.pairs {
				if name, ok := c.ident(p.k, "field"); ok {
					fields[name] = c.typeSpec(p.v, depth+1)
				}
			}
		}
		return engine.ObjectOf(fields)
	}
	c.wrongType(x, "a type", "a type name, a mapping of fields or a list")
	return engine.Any
}

func (c *compiler) httpSpec(x node, params engine.Env) *engine.HTTPSpec {
	m := c.fields(x, "http", httpKeys...)
	if m == nil {
		return nil
	}
	h := &engine.HTTPSpec{Method: "POST"}
	if v := m.get("method"); v.ok() {
		if s, ok := c.str(v, "method"); ok {
			s = strings.ToUpper(s)
			if !contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, s) {
				c.errN(v, "method must be GET, POST, PUT, PATCH or DELETE")
			}
			h.Method = s
		}
	}
	if v := m.get("url"); v.ok() {
		h.URL = c.template(v, params, "url")
		if h.URL != nil {
			u := h.URL.Source
			if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "${") {
				c.errN(v, "url must start with http://, https:// or ${VARIABLE}")
			}
			c.envRefs(v, u)
		}
	} else {
		c.errN(x, "an HTTP action needs a url")
	}
	if v := m.get("headers"); v.ok() {
		hm := c.mapOf(v, "headers")
		if hm != nil {
			h.Headers = map[string]string{}
			for _, p := range hm.pairs {
				if s, ok := c.str(p.v, "header"); ok {
					h.Headers[p.k.n.Value] = s
					c.envRefs(p.v, s)
				}
			}
		}
	}
	if v := m.get("backoff"); v.ok() {
		h.Backoff, _ = c.positiveDuration(v, "backoff")
	}
	return h
}

// envRefs checks the ${NAME} references of a value.
func (c *compiler) envRefs(x node, s string) {
	for _, m := range envRefRE.FindAllStringSubmatchIndex(s, -1) {
		if name := s[m[2]:m[3]]; !envNameRE.MatchString(name) {
			c.errAt(x.f.offsetPos(x.n, m[0]), "${%s} is not an environment variable name", name)
		}
	}
}
