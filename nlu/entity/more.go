package entity

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/nlu/normalize"
)

// Currency words and symbols (folded) and their ISO codes; "$" and
// "pesos" take the extractor's currency.
var currencyWords = map[string]string{
	"usd": "USD", "us$": "USD", "u$s": "USD", "dolar": "USD", "dolares": "USD", "dollar": "USD", "dollars": "USD", "bucks": "USD", "verdes": "USD",
	"eur": "EUR", "€": "EUR", "euro": "EUR", "euros": "EUR",
	"cop": "COP", "mxn": "MXN", "ars": "ARS", "clp": "CLP", "pen": "PEN", "uyu": "UYU", "ves": "VES", "bs": "VES",
	"soles": "PEN", "sol": "PEN", "s/": "PEN", "bolivares": "VES", "quetzales": "GTQ", "gtq": "GTQ",
	"£": "GBP", "gbp": "GBP", "pounds": "GBP", "libras": "GBP", "r$": "BRL", "reales": "BRL", "brl": "BRL",
	"₹": "INR", "inr": "INR", "rs": "INR", "rupees": "INR", "lucas": "LOCAL1000", "luca": "LOCAL1000",
	"$": "LOCAL", "pesos": "PESO", "peso": "PESO", "mil pesos": "PESO",
}

var pesoCurrencies = []string{"COP", "MXN", "ARS", "CLP", "UYU", "DOP", "CUP", "PHP"}

var (
	moneyBeforeRe = regexp.MustCompile(`(us\$|u\$s|r\$|s/|\$|€|£|₹|\b(?:usd|eur|cop|mxn|ars|clp|pen|uyu|gbp|brl|inr|rs)\b)\s?$`)
	moneyAfterRe  = regexp.MustCompile(`^\s?(\$|€|£|(?:dolares|dolar|dollars|dollar|bucks|euros|euro|pesos|peso|soles|bolivares|quetzales|reales|libras|pounds|rupees|lucas|luca|usd|eur|cop|mxn|ars|clp|pen|uyu|gbp|brl|inr|verdes)\b)`)
)

func (x *Extractor) currencyOf(word string) (string, float64) {
	c := currencyWords[word]
	switch c {
	case "LOCAL":
		return x.currency, 1
	case "PESO":
		if slices.Contains(pesoCurrencies, x.currency) {
			return x.currency, 1
		}
		return "", 1
	case "LOCAL1000": // Argentine and Chilean slang: a "luca" is a thousand pesos
		if slices.Contains(pesoCurrencies, x.currency) {
			return x.currency, 1000
		}
		return "", 1000
	}
	return c, 1
}

// money finds amounts with a currency before or after them: "$50.000",
// "USD 20", "20 dólares", "30€", "1.500 pesos", "50 mil pesos".
func (x *Extractor) money(t *text, nums []engine.Entity, taken []span) []engine.Entity {
	var out []engine.Entity
	for _, n := range nums {
		v, _ := n.Value.(float64)
		bs := t.runeToByte(n.Start)
		be := t.runeToByte(n.End)
		if m := matchTail(moneyBeforeRe, t.fs[:bs]); m != nil {
			cur, mul := x.currencyOf(t.fs[m[2]:m[3]])
			s, _ := t.runeSpan(m[0], m[1])
			out = append(out, t.entity(engine.EntityMoney, map[string]any{"amount": v * mul, "currency": cur}, s, n.End))
			continue
		}
		if m := moneyAfterRe.FindStringSubmatchIndex(t.fs[be:]); m != nil {
			cur, mul := x.currencyOf(t.fs[be+m[2] : be+m[3]])
			_, e := t.runeSpan(be+m[0], be+m[1])
			out = append(out, t.entity(engine.EntityMoney, map[string]any{"amount": v * mul, "currency": cur}, n.Start, e))
		}
	}
	return out
}

func (t *text) runeToByte(r int) int {
	i, _ := slices.BinarySearch(t.byteR, int32(r))
	return i
}

// Sizes. Letter sizes are canonical upper case ("M", "XL"); numeric sizes
// are float64 (European shoe sizes and numeric clothing sizes as written:
// 42, 38.5); sizes in another system are strings with the system first:
// "US 9.5", "UK 8", so a flow can tell and convert them.
var (
	letterSizes = map[string]string{"xxs": "XXS", "xs": "XS", "s": "S", "m": "M", "l": "L", "xl": "XL", "xxl": "XXL", "xxxl": "XXXL",
		"2xl": "XXL", "3xl": "XXXL", "small": "S", "medium": "M", "large": "L", "chica": "S", "chico": "S", "pequena": "S", "pequeno": "S",
		"mediana": "M", "mediano": "M", "grande": "L", "extra grande": "XL", "extra large": "XL", "x-large": "XL", "extra small": "XS"}
	sizeCueRe   = regexp.MustCompile(`\b(?:talla|tallas|talle|talles|size|sizes|numero|nro|n°|num|calzo|calzado|uso|la|el|una|un|en)\s*$`)
	strongCueRe = regexp.MustCompile(`\b(?:talla|tallas|talle|talles|size|sizes|numero|nro|num|calzo|uso)\s*$`)
	systemRe    = regexp.MustCompile(`^\s?(us|uk|eu|eur|europea|europeo|mx|ar|br|cm)\b`)
	systemPreRe = regexp.MustCompile(`\b(us|uk|eu)\s?$`)
	letterRe    = regexp.MustCompile(`\b(xxxl|xxl|xxs|xl|xs|2xl|3xl|extra grande|extra large|extra small|x-large|small|medium|large|chica|chico|pequena|pequeno|mediana|mediano|grande|s|m|l)\b`)
	// letterFirst holds the first word of each of letterRe's sizes.
	letterFirst = setOf("xxxl xxl xxs xl xs 2xl 3xl extra x small medium large chica chico pequena pequeno mediana mediano grande s m l")
)

func setOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

func (x *Extractor) sizes(t *text, nums []engine.Entity, expected bool) []engine.Entity {
	var out []engine.Entity
	for _, n := range nums {
		v, _ := n.Value.(float64)
		bs, be := t.runeToByte(n.Start), t.runeToByte(n.End)
		before := t.fs[:bs]
		if m := systemRe.FindStringSubmatchIndex(t.fs[be:]); m != nil && v > 0 && v < 60 {
			sys := strings.ToUpper(t.fs[be+m[2] : be+m[3]])
			_, e := t.runeSpan(be+m[0], be+m[1])
			out = append(out, t.entity(engine.EntitySize, sizeValue(sys, v), n.Start, e))
			continue
		}
		if m := matchTail(systemPreRe, before); m != nil && v > 0 && v < 60 {
			s, _ := t.runeSpan(m[0], m[1])
			out = append(out, t.entity(engine.EntitySize, sizeValue(strings.ToUpper(before[m[2]:m[3]]), v), s, n.End))
			continue
		}
		strong := matchTail(strongCueRe, before) != nil
		plausible := v >= 16 && v <= 52 && v == float64(int(v*2))/2 // children's to large adult shoe sizes, halves allowed
		if strong && v > 0 && v < 60 || plausible && (expected || matchTail(sizeCueRe, before) != nil) {
			out = append(out, t.entity(engine.EntitySize, v, n.Start, n.End))
		}
	}
	if !hasASCIIWord(t.fs, letterFirst) {
		return out
	}
	for _, m := range letterRe.FindAllStringSubmatchIndex(t.fs, -1) {
		w := t.fs[m[2]:m[3]]
		s, e := t.runeSpan(m[2], m[3])
		before := t.fs[:m[0]]
		cue := matchTail(strongCueRe, before) != nil
		single := len(w) <= 4 && !strings.Contains(w, " ")
		switch {
		case cue, expected && single:
		case single && len(w) >= 2 && w != "l" && isUpperWord(t.orig[s:e]):
			// "XL", "XS" written in capitals
		case len(w) == 1 && isUpperWord(t.orig[s:e]) && matchTail(sizeCueRe, before) != nil:
			// "la M"
		default:
			continue
		}
		out = append(out, t.entity(engine.EntitySize, letterSizes[w], s, e))
	}
	return out
}

func sizeValue(system string, v float64) any {
	switch system {
	case "EU", "EUR", "EUROPEA", "EUROPEO":
		return v
	}
	return system + " " + strconv.FormatFloat(v, 'f', -1, 64)
}

func isUpperWord(rs []rune) bool {
	for _, r := range rs {
		if unicode.IsLetter(r) && !unicode.IsUpper(r) {
			return false
		}
	}
	return true
}

// Yes and no as people write them (folded, squeezed).
var (
	yesWords = []string{"si", "sip", "sep", "simon", "sii", "claro", "claro que si", "dale", "de una", "ok", "oki", "okey", "okay", "okis", "vale", "sale", "va", "obvio",
		"por supuesto", "correcto", "exacto", "afirmativo", "listo", "perfecto", "aja", "eso", "asi es", "efectivamente", "seguro", "bueno", "buenisimo",
		"yes", "yep", "yeah", "yea", "yup", "ya", "sure", "of course", "correct", "right", "absolutely", "definitely", "affirmative", "k", "kk", "alright", "👍", "👌", "✅"}
	noWords = []string{"no", "nop", "nope", "nel", "nah", "naa", "na", "noo", "para nada", "negativo", "tampoco", "ni a palos", "ni loco", "ni loca", "de ninguna manera",
		"no way", "never", "not really", "nunca", "jamas", "no gracias", "no thanks", "👎", "❌",
		"ya no", "todavia no", "aun no", "ahora no", "por ahora no", "claro que no", "not yet", "not now"}
	// the two groups, no first, each indexed by the phrases' first word
	boolGroups = [2]boolGroup{newBoolGroup(noWords, "no", false), newBoolGroup(yesWords, "si", true)}
)

// boolGroup is the phrases of one answer, by their first word; bare is the
// one word that also matches with every letter repeat squeezed ("sii",
// "noo").
type boolGroup struct {
	byFirst map[string][][]string
	bare    string
	v       bool
}

func newBoolGroup(phrases []string, bare string, v bool) boolGroup {
	g := boolGroup{byFirst: map[string][][]string{}, bare: bare, v: v}
	for _, p := range phrases {
		parts := strings.Fields(p)
		g.byFirst[parts[0]] = append(g.byFirst[parts[0]], parts)
	}
	return g
}

// longest returns how many words of the longest phrase of g start at
// ws[i], or 0.
func (g *boolGroup) longest(ws []boolWord, i int) int {
	best := 0
	for _, parts := range g.byFirst[ws[i].s] {
		if len(parts) <= best || i+len(parts) > len(ws) {
			continue
		}
		ok := true
		for k, p := range parts[1:] {
			if ws[i+1+k].s != p {
				ok = false
				break
			}
		}
		if ok {
			best = len(parts)
		}
	}
	if best == 0 && collapsedIs(ws[i].s, g.bare) {
		best = 1
	}
	return best
}

// boolWord is a squeezed folded word, or an emoji, with its rune span.
type boolWord struct {
	s          string
	start, end int
}

// booleans reads a yes or a no as the answer the message starts with,
// after fillers and politeness ("sí, esa es", "nop", "de una", "pues sí",
// "gracias, no"), by the engine's rules (see engine.ReadYesNo): a weak yes
// ("ya", "eso", "bueno") and any answer in a question ("¿sí?") count only
// alone in their clause — "¿y ya llegó mi pedido?" and "¿ya llegó?" hold
// no yes; an acknowledgement ("ok", "vale") gives way to a yes or no in the
// next clause ("ok, no"); a yes and a no in one clause say neither. A yes
// not expected (no yes/no question pending) counts only as the first word,
// and "si" without accent followed by more words is read as "if", not
// "yes".
func (x *Extractor) booleans(t *text, expected bool) []engine.Entity {
	if len(t.words) == 0 && len(t.fold) == 0 {
		return nil
	}
	ws := t.bw[:0]
	for i, s := range t.squeezed() {
		ws = append(ws, boolWord{s, t.words[i].start, t.words[i].end})
	}
	if t.emoji { // emoji count as words for yes/no
		for i, r := range t.fold {
			if normalize.IsEmoji(r) {
				ws = append(ws, boolWord{string(r), i, i + 1})
			}
		}
		slices.SortFunc(ws, func(a, b boolWord) int { return a.start - b.start })
	}
	t.bw = ws
	if ackClosing(ws) {
		return nil // "ok gracias": thanks, not a yes
	}
	var cl clauses
	cl.read(t, ws)
	ws = ws[:cl.n]
	var tentative []engine.Entity // an acknowledgement: "ok", "vale"
	for i := 0; i < len(ws); {
		found := false
		for g := range boolGroups {
			group := &boolGroups[g]
			best := group.longest(ws, i)
			if best == 0 {
				continue
			}
			first, last := ws[i], ws[i+best-1]
			if group.v && first.s == "si" && t.orig[first.start] != 'í' && t.orig[first.start+1] != 'í' && t.orig[first.start+1] != 'Í' &&
				!expected && i+best < len(ws) && !hasPunctAfter(t, last.end) {
				continue // "si compro hoy…": if, not yes
			}
			if group.v && !expected && i > 0 {
				continue
			}
			if (group.v && best == 1 && engine.WeakYes(first.s) || cl.q[cl.c[i]]) && !cl.alone(ws, i, best) {
				return tentative // "ya llegó", "¿no hay otra?": not the answer
			}
			if cl.contradicted(ws, i, best, group.v) {
				return nil // "sí y no"
			}
			if !group.v && engine.Unsure(first.s, cl.after(ws, i, 1), cl.after(ws, i, 2)) {
				return nil // "no sé": no answer
			}
			e := []engine.Entity{t.entity(engine.EntityBoolean, group.v, first.start, last.end)}
			if group.v && best == 1 && ackWords[first.s] {
				tentative, found = e, true // "ok, no": the no is the answer
				i += best
				break
			}
			return e
		}
		if !found {
			if !engine.YesNoFiller(ws[i].s) {
				break
			}
			i++
		}
	}
	return tentative
}

// maxAnswerWords bounds the words read for a yes or no: the answer comes
// first.
const maxAnswerWords = 32

// clauses are the clauses of a message's first words: c[i] is word i's
// clause, q[k] whether clause k is a question ("¿…", "…?").
type clauses struct {
	c [maxAnswerWords]uint8
	q [maxAnswerWords + 1]bool
	n int // words read
}

func isClausePunct(r rune) bool {
	switch r {
	case '?', '¿', ',', '.', ';', ':', '!', '¡', '\n', '…':
		return true
	}
	return false
}

// after returns the word k after word i when it is in word i's clause,
// else "".
func (cl *clauses) after(ws []boolWord, i, k int) string {
	j := i + k
	if j >= cl.n || j >= len(ws) || cl.c[j] != cl.c[i] {
		return ""
	}
	return ws[j].s
}

func (cl *clauses) read(t *text, ws []boolWord) {
	cl.n = min(len(ws), maxAnswerWords)
	k, from := 0, 0
	mark := func(to int) {
		for _, r := range t.fold[from:to] {
			if !isClausePunct(r) {
				continue
			}
			if r == '?' {
				cl.q[k] = true
			}
			if k < maxAnswerWords {
				k++
			}
			if r == '¿' {
				cl.q[k] = true
			}
		}
	}
	for i := 0; i < cl.n; i++ {
		if ws[i].start > from {
			mark(ws[i].start)
		}
		cl.c[i] = uint8(k)
		from = max(from, ws[i].end)
	}
	if from < len(t.fold) {
		mark(len(t.fold))
	}
}

// alone reports whether the answer at words [i, i+n) is all its clause
// says, besides companions ("eso es", "claro que sí", "sí, gracias").
func (cl *clauses) alone(ws []boolWord, i, n int) bool {
	for j := 0; j < cl.n; j++ {
		if cl.c[j] == cl.c[i] && (j < i || j >= i+n) && !engine.YesNoCompanion(ws[j].s) {
			return false
		}
	}
	return true
}

// contradicted reports whether the clause of the answer at words [i, i+n)
// also says the opposite ("sí y no").
func (cl *clauses) contradicted(ws []boolWord, i, n int, v bool) bool {
	for j := i + n; j < cl.n && cl.c[j] == cl.c[i]; j++ {
		for g := range boolGroups {
			if boolGroups[g].v != v && boolGroups[g].longest(ws, j) > 0 && !engine.WeakYes(ws[j].s) {
				return true
			}
		}
	}
	return false
}

// An acknowledgement before thanks or a goodbye ("ok gracias", "dale,
// chau", "ok thanks") is politeness, not a yes: the labelling rule of the
// shop datasets ("ok gracias" is thanks, "dale, chau" a goodbye). A real
// yes or no keeps its meaning ("sí, gracias", "no gracias").
var (
	ackWords = map[string]bool{"ok": true, "okay": true, "okey": true, "oki": true, "okis": true, "vale": true,
		"listo": true, "perfecto": true, "dale": true, "sale": true, "va": true, "bueno": true, "buenisimo": true,
		"joya": true, "genial": true, "k": true, "kk": true, "alright": true, "cool": true, "great": true,
		"perfect": true, "👍": true, "👌": true}
	closingWords = map[string]bool{"gracias": true, "grax": true, "agradezco": true, "agradecido": true,
		"agradecida": true, "thanks": true, "thank": true, "thx": true, "thanx": true, "ty": true, "tysm": true,
		"cheers": true, "chao": true, "chau": true, "adios": true, "bye": true, "goodbye": true}
)

// ackClosing reports whether the words hold an acknowledgement and thanks
// or a goodbye, and no other yes or no.
func ackClosing(ws []boolWord) bool {
	var ack, closing bool
	for i, w := range ws {
		switch {
		case closingWords[w.s]:
			closing = true
		case ackWords[w.s]:
			ack = true
		default:
			for g := range boolGroups {
				if boolGroups[g].longest(ws, i) > 0 {
					return false
				}
			}
		}
	}
	return ack && closing
}

// collapsedIs reports whether s with every letter repeat squeezed is want:
// "siii" and "noo" are "si" and "no".
func collapsedIs(s, want string) bool {
	var prev rune
	j := 0
	for _, r := range s {
		if r == prev {
			continue
		}
		prev = r
		if j >= len(want) || rune(want[j]) != r {
			return false
		}
		j++
	}
	return j == len(want)
}

func hasPunctAfter(t *text, i int) bool {
	for i < len(t.fold) && t.fold[i] == ' ' {
		i++
	}
	return i < len(t.fold) && (t.fold[i] == ',' || t.fold[i] == '.' || t.fold[i] == '!' || t.fold[i] == ';')
}
