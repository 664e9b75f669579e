// Package lexicon is charla's built-in bilingual lexicon of shop-domain
// concepts: the words and phrases shoppers use for an order ("pedido",
// "compra", "encomienda", "parcel"), money ("plata", "lana", "guita"),
// sizes ("talla", "talle", "size"), a refund, a courier, a wallet app, and
// so on, in Spanish dialects and English varieties, each mapped to a
// language-independent concept. The intent classifier adds the concepts of
// a message as features, so that a word a bot's designer never wrote
// ("guita") counts like one they did ("plata").
//
// The lexicon (concepts.txt) was written for charla from general knowledge
// of shop chat; it holds no dataset line.
package lexicon

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/charlabot/charla/nlu/normalize"
)

//go:embed concepts.txt
var source string

// minStem is the shortest stem an entry is also matched by.
const minStem = 4

// shortMessage is the most tokens a message has for the words marked "^"
// to count ("no" is a refusal in "no, gracias", not in "no me llegó").
const shortMessage = 4

// maxPhrase is the longest phrase, in tokens.
const maxPhrase = 6

type entry struct {
	words    []string // folded words
	stems    []string // their stems in the entry's language ("" = exact only)
	lang     string
	concepts []string
}

// Lexicon is the compiled concept table.
type Lexicon struct {
	byPair  map[[2]string][]*entry         // first two folded words → phrases (longest first)
	byStem2 map[[2]string][]*entry         // first folded word and stem of the second → phrases
	byStem  map[string]map[string][]*entry // lang → stem of the first word → phrases
	starts  map[string]bool                // first folded words of byPair and byStem2
	single  map[string][]string            // folded word → concepts
	short   map[string][]string            // folded word → concepts, in short messages only
	own     map[string]map[string][]string // lang → folded word → concepts, in that language only
	stem    map[string]map[string][]string // lang → stem → concepts
	names   []string
	swap    map[string][]string // lang + " " + folded word → words of the same swappable concepts
}

var (
	once sync.Once
	lex  *Lexicon
)

// Default returns the built-in lexicon.
func Default() *Lexicon {
	once.Do(func() { lex = Parse(source) })
	return lex
}

// Parse compiles a lexicon in the format of concepts.txt.
func Parse(src string) *Lexicon {
	l := &Lexicon{byPair: map[[2]string][]*entry{}, byStem2: map[[2]string][]*entry{}, byStem: map[string]map[string][]*entry{}, starts: map[string]bool{}, single: map[string][]string{}, short: map[string][]string{}, own: map[string]map[string][]string{}, stem: map[string]map[string][]string{}}
	type key struct{ lang, phrase string }
	merged := map[key]*entry{}
	var order []key
	type pending struct {
		fold, lang, concept string
		short, own          bool
	}
	var respelled []pending
	concept := ""
	swappable := false
	swapWords := map[string][]string{} // lang + " " + concept → single words
	var swapOrder []string
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#':
			continue
		case line[0] == '[':
			head := strings.Fields(strings.Trim(line, "[]"))
			concept, swappable = head[0], len(head) > 1 && head[1] == "swap"
			l.names = append(l.names, concept)
			continue
		}
		lang, list, ok := strings.Cut(line, ":")
		if !ok || concept == "" {
			continue
		}
		lang = strings.TrimSpace(lang)
		for _, item := range strings.Split(list, ",") {
			item = strings.TrimSpace(item)
			short := strings.HasPrefix(item, "^")
			own := strings.HasPrefix(item, "!")
			exact := short || own || strings.HasPrefix(item, "=")
			item = strings.TrimLeft(item, "=^!")
			toks := normalize.Tokens(item, lang)
			if len(toks) == 0 {
				continue
			}
			if len(toks) == 1 && toks[0].Fold != normalize.Fold(normalize.Clean(item)) {
				// the normaliser spells it as another word ("nop" → "no",
				// "okis" → "ok"): when that word has an entry of its own,
				// that entry decides (see below)
				respelled = append(respelled, pending{toks[0].Fold, lang, concept, short, own})
				continue
			}
			if swappable && len(toks) == 1 && toks[0].Kind == normalize.Word {
				k := lang + " " + concept
				if swapWords[k] == nil {
					swapOrder = append(swapOrder, k)
				}
				swapWords[k] = append(swapWords[k], toks[0].Fold)
			}
			if short || own {
				m := l.short
				if own {
					if l.own[lang] == nil {
						l.own[lang] = map[string][]string{}
					}
					m = l.own[lang]
				}
				k := toks[0].Fold
				if len(toks) == 1 && !slices.Contains(m[k], concept) {
					m[k] = append(m[k], concept)
				}
				continue
			}
			e := &entry{lang: lang}
			for _, t := range toks {
				e.words = append(e.words, t.Fold)
				st := ""
				if !exact && t.Kind == normalize.Word && utf8.RuneCountInString(t.Fold) >= 5 && len(t.Stem) >= minStem {
					st = t.Stem
				}
				e.stems = append(e.stems, st)
			}
			k := key{lang, strings.Join(e.words, " ") + "|" + strings.Join(e.stems, " ")}
			if old := merged[k]; old != nil {
				if !slices.Contains(old.concepts, concept) {
					old.concepts = append(old.concepts, concept)
				}
				continue
			}
			e.concepts = []string{concept}
			merged[k] = e
			order = append(order, k)
		}
	}
	for _, k := range order {
		e := merged[k]
		if len(e.words) > maxPhrase {
			continue
		}
		if len(e.words) > 1 {
			k := [2]string{e.words[0], e.words[1]}
			l.byPair[k] = append(l.byPair[k], e)
			if e.stems[1] != "" {
				k := [2]string{e.words[0], e.stems[1]}
				l.byStem2[k] = append(l.byStem2[k], e)
			}
			l.starts[e.words[0]] = true
			if st := e.stems[0]; st != "" {
				if l.byStem[e.lang] == nil {
					l.byStem[e.lang] = map[string][]*entry{}
				}
				l.byStem[e.lang][st] = append(l.byStem[e.lang][st], e)
			}
			continue
		}
		w := e.words[0]
		for _, c := range e.concepts {
			if !slices.Contains(l.single[w], c) {
				l.single[w] = append(l.single[w], c)
			}
		}
		st := e.stems[0]
		if st == "" {
			continue
		}
		m := l.stem[e.lang]
		if m == nil {
			m = map[string][]string{}
			l.stem[e.lang] = m
		}
		for _, c := range e.concepts {
			if !slices.Contains(m[st], c) {
				m[st] = append(m[st], c)
			}
		}
	}
	for _, p := range respelled {
		if _, ok := l.single[p.fold]; ok {
			continue
		}
		if _, ok := l.short[p.fold]; ok {
			continue
		}
		if _, ok := l.own[p.lang][p.fold]; ok {
			continue
		}
		switch {
		case p.short:
			l.short[p.fold] = append(l.short[p.fold], p.concept)
		case p.own:
			if l.own[p.lang] == nil {
				l.own[p.lang] = map[string][]string{}
			}
			l.own[p.lang][p.fold] = append(l.own[p.lang][p.fold], p.concept)
		default:
			l.single[p.fold] = append(l.single[p.fold], p.concept)
		}
	}
	l.swap = map[string][]string{}
	for _, k := range swapOrder {
		lang, _, _ := strings.Cut(k, " ")
		ws := swapWords[k]
		for _, w := range ws {
			for _, o := range ws {
				if o != w && !slices.Contains(l.swap[lang+" "+w], o) {
					l.swap[lang+" "+w] = append(l.swap[lang+" "+w], o)
				}
			}
		}
	}
	longestFirst := func(es []*entry) {
		slices.SortStableFunc(es, func(a, b *entry) int { return len(b.words) - len(a.words) })
	}
	for _, m := range []map[[2]string][]*entry{l.byPair, l.byStem2} {
		for _, es := range m {
			longestFirst(es)
		}
	}
	for _, m := range l.byStem {
		for _, es := range m {
			longestFirst(es)
		}
	}
	return l
}

// Alternatives returns the words of lang that can stand for the folded word
// w in a sentence: the other words of the concepts marked "swap" (an order
// is a "pedido", a "compra" or an "encomienda"), for augmenting training
// examples. The slice must not be modified.
func (l *Lexicon) Alternatives(w, lang string) []string { return l.swap[lang+" "+w] }

// Fingerprint identifies the built-in lexicon's content, so that models
// trained with another version of it are not taken from a cache.
func Fingerprint() string {
	h := sha256.Sum256([]byte(source + commonES + commonEN))
	return hex.EncodeToString(h[:8])
}

// Concepts returns the names of the lexicon's concepts.
func (l *Lexicon) Concepts() []string { return l.names }

// Known reports whether the folded word w is a word of the lexicon.
func (l *Lexicon) Known(w string) bool { _, ok := l.single[w]; return ok }

// Words returns the lexicon's single words (folded), sorted.
func (l *Lexicon) Words() []string {
	out := make([]string, 0, len(l.single))
	for w := range l.single {
		out = append(out, w)
	}
	slices.Sort(out)
	return out
}

// Match returns the concepts of tokens (normalised in lang), in order of
// appearance; a concept may repeat. The longest phrase starting at a token
// wins; a single word matches on its folded form, else on its stem in lang,
// else (in Spanish) without its diminutive ("puntitos" → "puntos").
func (l *Lexicon) Match(toks []normalize.Token, lang string) []string {
	var out []string
	l.Spans(toks, lang, func(_, _ int, cs []string) { out = append(out, cs...) })
	return out
}

// Spans calls f, in order, with the tokens [start, end) of every match of
// [Lexicon.Match] and its concepts (which f must not modify).
func (l *Lexicon) Spans(toks []normalize.Token, lang string, f func(start, end int, concepts []string)) {
	short := len(toks) <= shortMessage
	own := l.own[lang]
	for i := 0; i < len(toks); {
		t := toks[i]
		if n, cs := l.phrase(toks[i:], lang); n > 0 {
			f(i, i+n, cs)
			i += n
			continue
		}
		i++
		if cs, ok := l.single[t.Fold]; ok {
			f(i-1, i, cs)
			continue
		}
		if cs, ok := l.short[t.Fold]; ok && short {
			f(i-1, i, cs)
			continue
		}
		if cs, ok := own[t.Fold]; ok {
			f(i-1, i, cs)
			continue
		}
		if t.Kind != normalize.Word {
			continue
		}
		if m := l.stem[lang]; m != nil && len(t.Stem) >= minStem {
			if cs, ok := m[t.Stem]; ok {
				f(i-1, i, cs)
				continue
			}
		}
		if lang == "es" {
			if b := undiminish(t.Fold); b != "" {
				if cs := l.single[b]; len(cs) > 0 {
					f(i-1, i, cs)
				}
			}
		}
	}
}

// phrase returns the length and concepts of the longest phrase that starts
// toks (0 when none does).
func (l *Lexicon) phrase(toks []normalize.Token, lang string) (int, []string) {
	best, n := (*entry)(nil), 0
	try := func(es []*entry) {
		for _, e := range es {
			if len(e.words) <= n {
				return
			}
			if l.matches(e, toks, lang) {
				best, n = e, len(e.words)
				return
			}
		}
	}
	if len(toks) < 2 {
		return 0, nil
	}
	if l.starts[toks[0].Fold] {
		try(l.byPair[[2]string{toks[0].Fold, toks[1].Fold}])
		if toks[1].Stem != toks[1].Fold {
			try(l.byStem2[[2]string{toks[0].Fold, toks[1].Stem}])
		}
	}
	if toks[0].Kind == normalize.Word && len(toks[0].Stem) >= minStem {
		try(l.byStem[lang][toks[0].Stem])
	}
	if best == nil {
		return 0, nil
	}
	return n, best.concepts
}

// undiminish returns the base of a Spanish diminutive ("puntitos" →
// "puntos", "ratito" → "rato", "cafecito" → "cafe"), or "".
func undiminish(w string) string {
	for _, d := range [...]struct{ suf, base string }{
		{"citos", "s"}, {"citas", "s"}, {"cito", ""}, {"cita", ""},
		{"itos", "os"}, {"itas", "as"}, {"ito", "o"}, {"ita", "a"},
	} {
		if len(w) > len(d.suf)+2 && strings.HasSuffix(w, d.suf) {
			return w[:len(w)-len(d.suf)] + d.base
		}
	}
	return ""
}

// matches reports whether the phrase e starts toks.
func (l *Lexicon) matches(e *entry, toks []normalize.Token, lang string) bool {
	if len(toks) < len(e.words) {
		return false
	}
	for j, w := range e.words {
		t := toks[j]
		if t.Fold == w || (e.stems[j] != "" && e.lang == lang && t.Stem == e.stems[j]) {
			continue
		}
		return false
	}
	return true
}
