package flows

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/charlabot/charla/engine"
)

// compiler holds the state of one compilation: the program being built,
// the names declared so far, and the diagnostics.
type compiler struct {
	diags   ErrorList
	perFile map[string]int // diagnostics reported per file
	prog    *engine.Program
	langs   []string
	bot     botDecl

	actionAt   map[string]node            // action name → its key in actions.yaml
	nluByLang  map[string]*engine.NLUData //
	intents    map[string]map[string]node // intent → language → its key
	entities   map[string]bool            // entities declared in NLU files
	entityRefs []strAt                    // entities slots name, checked at the end
	kbIDs      map[string]node
	kb         []kbArticle

	flowDecls  []*flowDecl
	flowByName map[string]*flowDecl
	globals    map[string]*slotDecl
	stepCache  map[*yaml.Node]*ymap
	synth      map[*engine.Flow][]bool // steps added by the compiler, per flow
}

func newCompiler() *compiler {
	return &compiler{
		prog:       &engine.Program{},
		bot:        botDecl{system: map[engine.SystemRole]strAt{}, queueAt: map[string]node{}, fallback: map[string]strAt{}},
		actionAt:   map[string]node{},
		nluByLang:  map[string]*engine.NLUData{},
		intents:    map[string]map[string]node{},
		entities:   map[string]bool{},
		kbIDs:      map[string]node{},
		flowByName: map[string]*flowDecl{},
		globals:    map[string]*slotDecl{},
		stepCache:  map[*yaml.Node]*ymap{},
		synth:      map[*engine.Flow][]bool{},
	}
}

func (c *compiler) actionByName(name string) *engine.ActionSpec {
	for _, a := range c.prog.Actions {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// compile runs the stages: parse every file, declare names, compile flows
// against their typed environments, analyse them, parse the tests, and
// assemble and check the program.
func (c *compiler) compile(srcs []source) *Bot {
	b := &Bot{}
	files := map[string]*yfile{}
	var order []string
	for _, s := range srcs {
		before := len(c.diags)
		files[s.rel] = c.parseYAML(s.path, s.data)
		if len(files[s.rel].docs) == 0 && len(c.diags) == before && s.rel != "bot.yaml" {
			c.warnAt(engine.Pos{File: s.path, Line: 1, Col: 1}, "empty file (or only comments): nothing in it is read")
		}
		order = append(order, s.rel)
		b.Files = append(b.Files, s.path)
	}
	c.prog.Version = version(srcs)
	if f := files["bot.yaml"]; f != nil {
		c.parseBot(f)
	}
	if f := files["actions.yaml"]; f != nil {
		c.parseActions(f)
		seen := map[string]bool{}
		for _, a := range c.prog.Actions {
			if seen[a.Name] {
				c.errAt(a.Pos, "action %q declared twice", a.Name)
			}
			seen[a.Name] = true
		}
	}
	c.checkQueues()
	for _, rel := range order {
		if strings.HasPrefix(rel, "nlu/") {
			c.parseNLU(files[rel], rel)
		}
	}
	for _, rel := range order {
		if strings.HasPrefix(rel, "kb/") {
			c.parseKB(files[rel])
		}
	}
	c.checkIntentLanguages()
	for _, rel := range order {
		if strings.HasPrefix(rel, "flows/") {
			c.parseFlowFile(files[rel])
		}
	}
	c.addSystemFlows()
	c.collectGlobals()
	for _, d := range c.flowDecls {
		c.compileFlow(d)
		c.prog.Flows = append(c.prog.Flows, d.fl)
	}
	for _, d := range c.flowDecls {
		c.analyse(d)
	}
	c.checkEntities()
	c.compileKB()
	c.checkHandoff()
	for _, rel := range order {
		if strings.HasPrefix(rel, "tests/") {
			if s := c.parseTests(files[rel]); s != nil {
				b.Tests = append(b.Tests, s)
			}
		}
	}
	c.checkTestNames(b.Tests)
	if c.diags.Err() == nil {
		if err := c.prog.Check(); err != nil {
			// The compiler checks all this itself, with positions; a
			// failure here is a compiler bug, reported rather than hidden.
			c.errAt(engine.Pos{File: srcs0(srcs)}, "internal error: %v", err)
		} else {
			b.Program = c.prog
		}
	}
	c.diags.Sort()
	b.Diagnostics = c.diags
	return b
}

func srcs0(srcs []source) string {
	if len(srcs) == 0 {
		return "bot.yaml"
	}
	return srcs[0].path
}

// checkIntentLanguages warns about intents taught in some of the bot's
// languages but not in the others.
func (c *compiler) checkIntentLanguages() {
	if len(c.nluByLang) > 0 && c.bot.f != nil {
		for _, l := range c.langs {
			if c.nluByLang[l] == nil {
				c.warnAt(engine.Pos{File: c.bot.f.path, Line: 1, Col: 1}, "no NLU data for %s: add nlu/%s.yaml, or intents will not be recognised in %s", l, l, l)
			}
		}
	}
	if len(c.nluByLang) < 2 {
		return
	}
	for name, byLang := range c.intents {
		for _, l := range c.langs {
			if _, ok := byLang[l]; ok || c.nluByLang[l] == nil {
				continue
			}
			for _, other := range c.langs {
				if at, ok := byLang[other]; ok {
					c.warnN(at, "intent %s has no examples in %s", name, l)
					break
				}
			}
		}
	}
}

func (c *compiler) checkEntities() {
	for _, r := range c.entityRefs {
		if !c.entities[r.s] && !contains(BuiltinEntities, r.s) {
			known := append(sortedKeys(c.entities), BuiltinEntities...)
			c.errN(r.at, "unknown entity %q: declare it under entities: in %s or use a built-in one (%s)%s", r.s, c.nluFiles(), strings.Join(BuiltinEntities, ", "), didYouMean(r.s, known))
		}
	}
}
