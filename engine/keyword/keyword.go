// Package keyword is a small engine.Understander for tests and tiny bots:
// intents are recognised by the words of their examples, entities by the
// bot's regular expressions and lookup lists plus a few built-in readers
// (numbers in digits or words, sizes, yes/no, email). It needs no training,
// answers in microseconds and is fully predictable.
//
// An intent scores 1 minus a little for every word of the message that its
// best example lacks, when the message holds every word of that example
// (at least 0.6); a partial match scores below one half, so it never
// triggers a flow but may be suggested by the fallback.
package keyword

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/charlabot/charla/engine"
)

var _ engine.Understander = (*Understander)(nil)

// Understander is the keyword understander of one program.
type Understander struct {
	langs   map[string]*langData
	def     string
	builtin bool
}

type langData struct {
	intents  []intent
	regexes  []regexEntity
	lookups  []lookup
	phrasesN int
}

type intent struct {
	name     string
	examples [][]string // normalised words
}

type regexEntity struct {
	name string
	re   *regexp.Regexp
}

type lookup struct {
	name   string
	phrase string // normalised
	value  string
}

// New builds the understander of a program: the intents and entities of
// its NLU data per language, and its knowledge-base questions as
// "kb:<article id>" intents.
func New(p *engine.Program) *Understander {
	u := &Understander{langs: map[string]*langData{}, def: p.DefaultLang(), builtin: true}
	for _, d := range p.NLU {
		ld := u.lang(d.Lang)
		for _, in := range d.Intents {
			it := intent{name: in.Name}
			for _, ex := range in.Examples {
				if ws := strings.Fields(engine.Normalize(ex)); len(ws) > 0 {
					it.examples = append(it.examples, ws)
				}
			}
			ld.intents = append(ld.intents, it)
		}
		for _, e := range d.Entities {
			if e.Pattern != nil {
				ld.regexes = append(ld.regexes, regexEntity{e.Name, e.Pattern})
			}
			for _, v := range e.Values {
				for _, s := range append([]string{v.Value}, v.Synonyms...) {
					if n := engine.Normalize(s); n != "" {
						ld.lookups = append(ld.lookups, lookup{e.Name, n, v.Value})
					}
				}
			}
		}
	}
	for _, a := range p.KB {
		for lang, qs := range a.Questions {
			ld := u.lang(lang)
			it := intent{name: engine.KBIntentPrefix + a.ID}
			for _, q := range qs {
				if ws := strings.Fields(engine.Normalize(q)); len(ws) > 0 {
					it.examples = append(it.examples, ws)
				}
			}
			ld.intents = append(ld.intents, it)
		}
	}
	for _, ld := range u.langs {
		// Longer lookups first, so "azul marino" wins over "azul".
		sort.SliceStable(ld.lookups, func(i, j int) bool { return len(ld.lookups[i].phrase) > len(ld.lookups[j].phrase) })
	}
	return u
}

func (u *Understander) lang(l string) *langData {
	ld := u.langs[l]
	if ld == nil {
		ld = &langData{}
		u.langs[l] = ld
	}
	return ld
}

// Understand implements engine.Understander.
func (u *Understander) Understand(_ context.Context, q engine.Query) (*engine.Understanding, error) {
	lang := q.Lang
	if lang == "" {
		lang = u.detect(q.Text)
	}
	res := &engine.Understanding{Lang: lang, Intents: []engine.IntentScore{}, Entities: []engine.Entity{}}
	norm := engine.Normalize(q.Text)
	if norm == "" && strings.TrimSpace(q.Text) == "" {
		return res, nil
	}
	words := strings.Fields(norm)
	if ld := u.langs[lang]; ld != nil {
		res.Intents = score(ld, words)
		res.Entities = entities(ld, q.Text, norm)
	} else if ld := u.langs[""]; ld != nil {
		res.Intents = score(ld, words)
		res.Entities = entities(ld, q.Text, norm)
	}
	if u.builtin {
		res.Entities = append(res.Entities, builtins(q.Text, norm)...)
	}
	return res, nil
}

// detect picks the language whose examples share most words with the text.
func (u *Understander) detect(text string) string {
	words := strings.Fields(engine.Normalize(text))
	best, bestN := u.def, 0
	for l, ld := range u.langs {
		n := 0
		for _, in := range ld.intents {
			for _, ex := range in.examples {
				for _, w := range ex {
					for _, x := range words {
						if w == x {
							n++
						}
					}
				}
			}
		}
		if n > bestN || n == bestN && l == u.def {
			best, bestN = l, n
		}
	}
	return best
}

func score(ld *langData, words []string) []engine.IntentScore {
	if len(words) == 0 {
		return []engine.IntentScore{}
	}
	has := func(w string) bool {
		for _, x := range words {
			if x == w {
				return true
			}
		}
		return false
	}
	var out []engine.IntentScore
	for _, in := range ld.intents {
		best := 0.0
		for _, ex := range in.examples {
			m := 0
			for _, w := range ex {
				if has(w) {
					m++
				}
			}
			if m == 0 {
				continue
			}
			var s float64
			if m == len(ex) {
				s = 0.6 + 0.4*float64(m)/float64(max(len(words), m))
			} else {
				s = 0.45 * float64(m) / float64(len(ex))
			}
			best = max(best, s)
		}
		if best > 0 {
			out = append(out, engine.IntentScore{Intent: in.name, Confidence: best})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Confidence > out[j].Confidence })
	if out == nil {
		out = []engine.IntentScore{}
	}
	return out
}

func entities(ld *langData, text, norm string) []engine.Entity {
	var out []engine.Entity
	for _, r := range ld.regexes {
		for _, loc := range r.re.FindAllStringIndex(text, 8) {
			out = append(out, entity(r.name, text[loc[0]:loc[1]], text, loc[0], loc[1]))
		}
	}
	taken := make([]bool, len(norm))
	for _, l := range ld.lookups {
		for i := 0; ; {
			j := strings.Index(norm[i:], l.phrase)
			if j < 0 {
				break
			}
			j += i
			end := j + len(l.phrase)
			i = j + 1
			if (j > 0 && norm[j-1] != ' ') || (end < len(norm) && norm[end] != ' ') || taken[j] {
				continue
			}
			for k := j; k < end; k++ {
				taken[k] = true
			}
			out = append(out, engine.Entity{Entity: l.name, Value: l.value, Text: l.phrase})
			break
		}
	}
	return out
}

// entity builds an entity found at byte offsets [b, e) of text.
func entity(name string, value any, text string, b, e int) engine.Entity {
	return engine.Entity{Entity: name, Value: value, Text: text[b:e],
		Start: utf8.RuneCountInString(text[:b]), End: utf8.RuneCountInString(text[:e])}
}

var (
	emailRE  = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	numberRE = regexp.MustCompile(`(?:^|[^\w.,])(-?\d+(?:[.,]\d+)?)(?:$|[^\w])`)
	sizeRE   = regexp.MustCompile(`(?i)\b(?:talla|size|la|el|numero|número|n°|nro\.?|calzo|uso)\s+(\d{1,2}(?:[.,]5)?)\b`)
)

// builtins reads numbers, sizes, yes/no and emails.
func builtins(text, norm string) []engine.Entity {
	var out []engine.Entity
	// The regular expressions run only on texts that may hold what they find.
	if strings.ContainsAny(text, "0123456789") {
		for _, m := range numberRE.FindAllStringSubmatchIndex(text, 8) {
			lit := text[m[2]:m[3]]
			if f, _, ok := engine.ReadNumber(lit); ok {
				out = append(out, entity(engine.EntityNumber, f, text, m[2], m[3]))
			}
		}
		if len(text) > 3 {
			for _, m := range sizeRE.FindAllStringSubmatchIndex(text, 4) {
				if f, _, ok := engine.ReadNumber(text[m[2]:m[3]]); ok {
					out = append(out, entity(engine.EntitySize, f, text, m[2], m[3]))
				}
			}
		}
	} else if f, lit, ok := engine.ReadNumber(norm); ok {
		out = append(out, engine.Entity{Entity: engine.EntityNumber, Value: f, Text: lit})
	}
	if strings.IndexByte(text, '@') >= 0 {
		for _, loc := range emailRE.FindAllStringIndex(text, 4) {
			out = append(out, entity(engine.EntityEmail, text[loc[0]:loc[1]], text, loc[0], loc[1]))
		}
	}
	if yes, ok := engine.ReadYesNo(text); ok { // the raw text: its clauses and question marks count
		out = append(out, engine.Entity{Entity: engine.EntityBoolean, Value: yes, Text: norm})
	}
	return out
}
