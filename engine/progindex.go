package engine

import (
	"strings"
	"time"
)

// loaded is a Program with the indexes the runtime needs, built once when
// the program is loaded and shared, like the Program, by every turn.
type loaded struct {
	*Program
	version     string
	settings    Settings
	loc         *time.Location
	intentFlows map[string][]*Flow // intent → flows it triggers
	eventFlows  map[string][]*Flow // event → flows it triggers
	keywords    []keywordTrigger   // normalised keyword → flow, longest first
	patterned   []*Flow            // flows with pattern triggers
	articles    map[string]*Article
	roleOf      map[string]SystemRole // flow name → the system role it plays
	userSlots   bool                  // some slot is user-scoped
	titles      map[string]string     // flow name → intent that triggers it (for suggestions)
	globals     []*Slot               // conversation- and user-scoped slots
}

type keywordTrigger struct {
	phrase string
	flow   *Flow
}

func load(p *Program, version string) *loaded {
	l := &loaded{
		Program:     p,
		version:     version,
		settings:    p.Settings.WithDefaults(),
		intentFlows: map[string][]*Flow{},
		eventFlows:  map[string][]*Flow{},
		articles:    map[string]*Article{},
		roleOf:      map[string]SystemRole{},
		titles:      map[string]string{},
	}
	l.loc = time.UTC
	if loc, err := time.LoadLocation(l.settings.Timezone); err == nil {
		l.loc = loc
	}
	for role, name := range p.System {
		l.roleOf[name] = role
	}
	for _, f := range p.Flows {
		for _, in := range f.Triggers.Intents {
			l.intentFlows[in] = append(l.intentFlows[in], f)
			if _, ok := l.titles[f.Name]; !ok {
				l.titles[f.Name] = in
			}
		}
		for _, ev := range f.Triggers.Events {
			l.eventFlows[ev] = append(l.eventFlows[ev], f)
		}
		for _, kw := range f.Triggers.Keywords {
			if n := Normalize(kw); n != "" {
				l.keywords = append(l.keywords, keywordTrigger{n, f})
			}
		}
		if len(f.Triggers.Patterns) > 0 {
			l.patterned = append(l.patterned, f)
		}
		for _, s := range f.Slots {
			if s.Scope == ScopeUser {
				l.userSlots = true
			}
		}
	}
	// Longer phrases first: "cambiar la talla" beats "cambiar".
	for i := 1; i < len(l.keywords); i++ {
		for j := i; j > 0 && len(l.keywords[j].phrase) > len(l.keywords[j-1].phrase); j-- {
			l.keywords[j], l.keywords[j-1] = l.keywords[j-1], l.keywords[j]
		}
	}
	l.globals = p.GlobalSlots()
	for _, a := range p.KB {
		l.articles[a.ID] = a
	}
	return l
}

// slot returns the definition of a slot as seen from flow f: its own, or a
// conversation- or user-scoped one.
func (l *loaded) slot(f *Flow, name string) *Slot {
	if f != nil {
		if s := f.Slot(name); s != nil {
			return s
		}
	}
	return l.GlobalSlot(name)
}

// articleFor returns the article of a "kb:<id>" intent.
func (l *loaded) articleFor(intent string) *Article {
	id, ok := strings.CutPrefix(intent, KBIntentPrefix)
	if !ok {
		return nil
	}
	return l.articles[id]
}

// KBIntentPrefix prefixes the intents under which an Understander reports
// knowledge-base questions: "kb:<article id>".
const KBIntentPrefix = "kb:"
