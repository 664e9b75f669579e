package flows

import (
	"path"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/charlabot/charla/engine"
)

// nlu/<lang>.yaml (intents and entities) and kb/*.yaml (articles).

// BuiltinEntities are the entities the NLU extracts without training data;
// a slot may name them, and an NLU file may redefine one (its pattern, say).
var BuiltinEntities = []string{
	engine.EntityNumber, engine.EntityMoney, engine.EntityEmail, engine.EntityPhone,
	engine.EntityDate, engine.EntityOrderID, engine.EntitySize, engine.EntityBoolean,
}

// KBIntentPrefix prefixes the intent the NLU learns from a KB article's
// questions: "kb:" + the article's id.
const KBIntentPrefix = "kb:"

var entityKeys = []string{"regex", "lookup", "fuzzy"}

func (c *compiler) parseNLU(f *yfile, rel string) {
	lang := strings.TrimSuffix(path.Base(rel), path.Ext(rel))
	filePos := engine.Pos{File: f.path, Line: 1, Col: 1}
	if len(c.langs) > 0 && !contains(c.langs, lang) {
		c.errAt(filePos, "%s is not one of the bot's languages (%s): name NLU files after a language, as in nlu/es.yaml", lang, strings.Join(c.langs, ", "))
		return
	}
	if c.nluByLang[lang] != nil {
		c.errAt(filePos, "a second NLU file for %s", lang)
		return
	}
	d := &engine.NLUData{Lang: lang}
	c.nluByLang[lang] = d
	c.prog.NLU = append(c.prog.NLU, d)
	if len(f.docs) == 0 {
		return
	}
	m := c.fields(node{f, f.docs[0]}, "an NLU file", "intents", "entities")
	if m == nil {
		return
	}
	seenExample := map[string]string{} // normalised example → intent
	if im := c.mapOf(m.get("intents"), "intents"); im != nil {
		for _, p := range im.pairs {
			name, ok := c.label(p.k, "intent")
			if !ok {
				continue
			}
			if strings.HasPrefix(name, KBIntentPrefix) {
				c.errN(p.k, "intent names starting with %q are reserved for KB articles", KBIntentPrefix)
				continue
			}
			in := &engine.IntentData{Name: name, Pos: p.k.pos()}
			for _, ex := range c.list(p.v, "examples of "+name, false) {
				s, ok := c.str(ex, "example")
				if !ok {
					continue
				}
				if strings.TrimSpace(s) == "" {
					c.errN(ex, "empty example")
					continue
				}
				key := strings.ToLower(strings.Join(strings.Fields(s), " "))
				if other, dup := seenExample[key]; dup {
					if other == name {
						c.warnN(ex, "example %q listed twice in intent %s", s, name)
					} else {
						c.warnN(ex, "example %q is also an example of intent %s", s, other)
					}
					continue
				}
				seenExample[key] = name
				in.Examples = append(in.Examples, s)
			}
			if len(in.Examples) == 0 && (isNull(p.v.n) || deref(p.v.n).Kind == yaml.SequenceNode) {
				c.errN(p.k, "intent %s has no examples", name)
			}
			d.Intents = append(d.Intents, in)
			if c.intents[name] == nil {
				c.intents[name] = map[string]node{}
			}
			c.intents[name][lang] = p.k
		}
	}
	if em := c.mapOf(m.get("entities"), "entities"); em != nil {
		for _, p := range em.pairs {
			name, ok := c.label(p.k, "entity")
			if !ok {
				continue
			}
			e := &engine.EntityData{Name: name, Pos: p.k.pos()}
			sm := c.fields(p.v, "entity "+name, entityKeys...)
			if sm == nil {
				continue
			}
			switch {
			case sm.has("regex") && sm.has("lookup"):
				c.errN(p.k, "entity %s: give either regex or lookup, not both", name)
			case sm.has("regex"):
				e.Pattern = c.regex(sm.get("regex"), "regex")
			case sm.has("lookup"):
				e.Values = c.lookup(sm.get("lookup"))
			default:
				c.errN(p.k, "entity %s needs a regex or a lookup list", name)
			}
			if x := sm.get("fuzzy"); x.ok() {
				e.Fuzzy, _ = c.boolean(x, "fuzzy")
				if e.Pattern != nil {
					c.errN(x, "fuzzy applies to lookup entities only")
				}
			}
			d.Entities = append(d.Entities, e)
			c.entities[name] = true
		}
	}
}

// regex compiles a regular expression (Go RE2 syntax).
func (c *compiler) regex(x node, what string) *regexp.Regexp {
	s, ok := c.str(x, what)
	if !ok {
		return nil
	}
	if s == "" {
		c.errN(x, "%s is empty", what)
		return nil
	}
	re, err := regexp.Compile(s)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "error parsing regexp: ")
		c.errN(x, "%s: bad regular expression: %s", what, msg)
		return nil
	}
	return re
}

// lookup reads a lookup list: a mapping value → synonyms, or a list of
// values (strings or {value, synonyms}).
func (c *compiler) lookup(x node) []engine.EntityValue {
	var out []engine.EntityValue
	seen := map[string]bool{}
	add := func(at node, v engine.EntityValue) {
		if seen[v.Value] {
			c.errN(at, "lookup value %q listed twice", v.Value)
		}
		seen[v.Value] = true
		out = append(out, v)
	}
	switch x.n.Kind {
	case yaml.MappingNode:
		m := c.mapOf(x, "lookup")
		for _, p := range m.pairs {
			v := engine.EntityValue{Value: p.k.n.Value}
			for _, s := range c.strList(p.v, "synonyms", false) {
				v.Synonyms = append(v.Synonyms, s.s)
			}
			add(p.k, v)
		}
	case yaml.SequenceNode:
		for _, e := range c.list(x, "lookup", false) {
			if e.n.Kind == yaml.MappingNode {
				m := c.fields(e, "a lookup value", "value", "synonyms")
				if m == nil {
					continue
				}
				v := engine.EntityValue{}
				if v.Value, _ = c.str(m.get("value"), "value"); v.Value == "" {
					continue
				}
				for _, s := range c.strList(m.get("synonyms"), "synonyms", false) {
					v.Synonyms = append(v.Synonyms, s.s)
				}
				add(e, v)
				continue
			}
			if s, ok := c.str(e, "lookup value"); ok {
				add(e, engine.EntityValue{Value: s})
			}
		}
	default:
		c.wrongType(x, "lookup", "a mapping of value to synonyms, or a list of values")
	}
	if len(out) == 0 {
		c.errN(x, "the lookup list is empty")
	}
	return out
}

// kbArticle is an article waiting for its answer to be compiled, once the
// slots its templates may read are known.
type kbArticle struct {
	a *engine.Article
	m *ymap
}

var articleKeys = []string{"id", "title", "questions", "answer", "buttons", "image", "link"}

func (c *compiler) parseKB(f *yfile) {
	for _, doc := range f.docs {
		m := c.fields(node{f, doc}, "a KB file", "articles")
		if m == nil {
			continue
		}
		for _, e := range c.list(m.get("articles"), "articles", false) {
			am := c.fields(e, "an article", articleKeys...)
			if am == nil {
				continue
			}
			a := &engine.Article{Pos: e.pos(), Questions: map[string][]string{}}
			if x := am.get("id"); x.ok() {
				if id, ok := c.label(x, "article id"); ok {
					a.ID = id
					if prev, dup := c.kbIDs[id]; dup {
						c.errN(x, "article %q declared twice (first at %s)", id, prev.pos())
					} else {
						c.kbIDs[id] = x
					}
				}
			} else {
				c.errN(e, "an article needs an id")
			}
			if x := am.get("questions"); x.ok() {
				if x.n.Kind == yaml.SequenceNode && len(c.langs) > 0 {
					for _, q := range c.strList(x, "questions", false) {
						a.Questions[c.langs[0]] = append(a.Questions[c.langs[0]], q.s)
					}
				} else if qm := c.mapOf(x, "questions"); qm != nil {
					for _, p := range qm.pairs {
						lang := p.k.n.Value
						if len(c.langs) > 0 && !contains(c.langs, lang) {
							c.errN(p.k, "questions: %q is not one of the bot's languages (%s)", lang, strings.Join(c.langs, ", "))
							continue
						}
						for _, q := range c.strList(p.v, "questions", false) {
							a.Questions[lang] = append(a.Questions[lang], q.s)
						}
					}
				}
				for _, l := range c.langs {
					if len(a.Questions[l]) == 0 {
						c.warnN(x, "article %s has no questions in %s", a.ID, l)
					}
				}
			} else {
				c.errN(e, "article %s needs questions", a.ID)
			}
			if !am.has("answer") {
				c.errN(e, "article %s needs an answer", a.ID)
			}
			c.kb = append(c.kb, kbArticle{a, am})
			c.prog.KB = append(c.prog.KB, a)
		}
	}
}

// compileKB compiles the titles and answers of the articles.
func (c *compiler) compileKB() {
	env := c.globalEnv()
	for _, k := range c.kb {
		if x := k.m.get("title"); x.ok() {
			k.a.Title = c.text(x, env, "title")
		}
		if k.m.has("answer") {
			k.a.Answer = c.message(k.m, "answer", env)
		}
	}
}
