package engine

import (
	"unicode"
	"unicode/utf8"
)

// Reading a yes or a no. The answer is what the message starts with — after
// fillers and politeness ("pues sí", "creo que no", "gracias, sí") — not a
// yes word anywhere in it: "¿y ya llegó mi pedido?" holds "ya", and is no
// yes. Three rules on top:
//
//   - a weak yes ("ya", "eso", "bueno", "listo", "seguro", "va") is a yes
//     only alone in its clause ("ya", "eso es", "bueno, pero sí"), not as
//     the adverb or pronoun it also is ("ya llegó", "eso no me sirve");
//   - in a question ("¿…", "…?") a yes or no is the answer only alone in
//     its clause: "¿sí?" is a yes, "¿ya llegó mi pedido?" and "¿no hay
//     otra talla?" are none;
//   - an acknowledgement ("ok", "vale", "dale") gives way to a yes or no in
//     the next clause ("ok, no" is a no).
//
// A yes and a no in the same clause ("sí y no") say neither, and neither
// does "I do not know" ("no sé", "no estoy seguro": see Unsure). The NLU's
// entity extractor (nlu/entity) reads the same way, with these word lists.

var (
	// weakYes are yes words that are a yes only alone in their clause.
	weakYes = map[string]bool{"ya": true, "eso": true, "va": true, "sale": true, "bueno": true,
		"seguro": true, "listo": true, "aja": true, "right": true}
	// yesNoFillers may come before an answer, or with it in its clause:
	// fillers, politeness, greetings.
	yesNoFillers = map[string]bool{
		"pues": true, "este": true, "oye": true, "mira": true, "creo": true, "que": true, "yo": true,
		"la": true, "verdad": true, "hola": true, "buenas": true, "gracias": true, "muchas": true,
		"por": true, "favor": true, "i": true, "think": true, "well": true, "hi": true, "hello": true,
		"hey": true, "thanks": true, "thank": true, "you": true, "please": true, "so": true,
	}
	// yesNoCompanions go with a yes or no in its clause without making it
	// say more ("eso es", "eso mismo", "ya está", "claro que sí").
	yesNoCompanions = map[string]bool{"es": true, "mismo": true, "si": true, "esta": true, "bien": true,
		"todo": true, "senor": true, "senora": true, "it": true, "is": true}
	// Answers of more than one word, by their first word.
	yesPhrases = map[string][]string{"de": {"acuerdo"}, "por": {"supuesto"}, "of": {"course"},
		"esta": {"bien"}, "go": {"ahead"}}
	noPhrases = map[string][]string{"ya": {"no"}, "todavia": {"no"}, "aun": {"no"}, "ahora": {"no"},
		"claro": {"que", "no"}, "por": {"ahora", "no"}, "not": {"yet"}}
)

// unsureAfterNo are what follows a "no" that says "I do not know", not
// "no": "no sé", "no lo sé", "no estoy seguro", "no me acuerdo".
var unsureAfterNo = map[string][]string{
	"se": nil, "sabria": nil, "sabemos": nil, "recuerdo": nil, "idea": nil,
	"lo": {"se"}, "estoy": {"seguro"}, "me": {"acuerdo"}, "tengo": {"idea"},
}

// Unsure reports whether the folded words w0 w1 w2 (of one clause; w1, w2
// may be "") begin an "I do not know" ("no sé", "no lo sé", "no estoy
// segura", "no me acuerdo", "no tengo idea"): at a yes/no question that is
// no answer, not a no.
func Unsure(w0, w1, w2 string) bool {
	if w0 != "no" {
		return false
	}
	rest, ok := unsureAfterNo[w1]
	if !ok {
		return false
	}
	if len(rest) == 0 {
		return true
	}
	if w1 == "estoy" {
		return w2 == "seguro" || w2 == "segura"
	}
	return w2 == rest[0]
}

// YesNoFiller reports whether a folded word may come before a yes or no
// answer, or with it, without being part of what it says: a filler ("pues",
// "mmm", "creo que"), a greeting or politeness ("gracias", "por favor"), an
// emoji that is no yes or no.
func YesNoFiller(w string) bool {
	if yesNoFillers[w] || interjection(w) {
		return true
	}
	r, n := utf8.DecodeRuneInString(w)
	return n == len(w) && r > 0x2000 && unicode.IsSymbol(r) && !yesWords[w] && !noWords[w]
}

// WeakYes reports whether a folded word is a yes only alone in its clause
// ("ya", "eso", "bueno", "listo": "ya llegó" is no yes).
func WeakYes(w string) bool { return weakYes[w] }

// YesNoCompanion reports whether a folded word may go with a yes or no in
// its clause without making it say more ("eso es", "claro que sí", "sí,
// gracias").
func YesNoCompanion(w string) bool { return yesNoCompanions[w] || YesNoFiller(w) }

// interjection reports a hesitation: "mmm" (or "m", squeezed), "hmm", "eh",
// "ahh", "umm".
func interjection(w string) bool {
	if len(w) == 0 || len(w) > 6 {
		return false
	}
	hm := false
	for i := 0; i < len(w); i++ {
		switch w[i] {
		case 'h', 'm':
			hm = true
		case 'a', 'e', 'o', 'u':
		default:
			return false
		}
	}
	return hm
}

// ynScan is a message read for a yes or no: its first words, folded, each
// with its clause, and which clauses are questions. It lives on the
// caller's stack: reading allocates nothing.
type ynScan struct {
	buf [ynBuf]byte
	nb  int
	w   [ynWords]struct {
		s, e   uint16
		clause uint8
	}
	nw int
	q  [ynWords + 1]bool // clause i is a question
	nc int               // the clause being read
}

const (
	ynBuf   = 256 // bytes of folded words read
	ynWords = 24  // words read: an answer comes first
)

func (sc *ynScan) word(i int) string {
	if i < 0 || i >= sc.nw {
		return ""
	}
	return string(sc.buf[sc.w[i].s:sc.w[i].e]) // only compared and looked up: kept on the stack
}

// scan reads text's first words and clauses.
func (sc *ynScan) scan(text string) {
	start := -1 // start in buf of the word being read
	end := func() {
		if start >= 0 {
			sc.add(start, sc.nb)
			start = -1
		}
	}
	for _, r := range text {
		if sc.nw == ynWords {
			return
		}
		r = foldRune(r)
		switch {
		case r == utf8.RuneError || unicode.IsMark(r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if sc.nb+utf8.RuneLen(r) > ynBuf {
				end()
				return
			}
			if start < 0 {
				start = sc.nb
			}
			sc.nb += utf8.EncodeRune(sc.buf[sc.nb:], r)
		case r == '?' || r == '¿' || r == ',' || r == '.' || r == ';' || r == ':' || r == '!' || r == '¡' || r == '\n' || r == '…':
			end()
			if r == '?' {
				sc.q[sc.nc] = true
			}
			if sc.nw > 0 && sc.w[sc.nw-1].clause == uint8(sc.nc) && sc.nc < ynWords {
				sc.nc++
			}
			if r == '¿' {
				sc.q[sc.nc] = true
			}
		case unicode.IsSymbol(r) && r > 0x2000: // an emoji is a word of its own
			end()
			if sc.nb+utf8.RuneLen(r) > ynBuf {
				return
			}
			s := sc.nb
			sc.nb += utf8.EncodeRune(sc.buf[sc.nb:], r)
			sc.add(s, sc.nb)
		default:
			end()
		}
	}
	end()
}

func (sc *ynScan) add(s, e int) {
	if sc.nw < ynWords {
		sc.w[sc.nw].s, sc.w[sc.nw].e, sc.w[sc.nw].clause = uint16(s), uint16(e), uint8(sc.nc)
		sc.nw++
	}
}

// phraseAt returns the answer that starts at word i: how many words it
// takes (0: none) and whether it is a yes.
func (sc *ynScan) phraseAt(i int) (n int, yes bool) {
	w := sc.word(i)
	if rest, ok := noPhrases[w]; ok && sc.follows(i, rest) {
		return 1 + len(rest), false
	}
	if noWords[w] {
		return 1, false
	}
	if rest, ok := yesPhrases[w]; ok && sc.follows(i, rest) {
		return 1 + len(rest), true
	}
	if yesWords[w] || weakYes[w] {
		return 1, true
	}
	return 0, false
}

// sameClause returns the word k after word i if it is in word i's clause,
// else "".
func (sc *ynScan) sameClause(i, k int) string {
	j := i + k
	if j >= sc.nw || sc.w[j].clause != sc.w[i].clause {
		return ""
	}
	return sc.word(j)
}

// follows reports whether the words after word i are rest, in its clause.
func (sc *ynScan) follows(i int, rest []string) bool {
	for k, r := range rest {
		j := i + 1 + k
		if j >= sc.nw || sc.w[j].clause != sc.w[i].clause || sc.word(j) != r {
			return false
		}
	}
	return true
}

// alone reports whether the answer at words [i, i+n) is all its clause
// says, besides companions.
func (sc *ynScan) alone(i, n int) bool {
	c := sc.w[i].clause
	for j := 0; j < sc.nw; j++ {
		if sc.w[j].clause != c || (j >= i && j < i+n) {
			continue
		}
		if !YesNoCompanion(sc.word(j)) {
			return false
		}
	}
	return true
}

// contradicted reports whether the clause of the answer at words [i,
// i+n) also says the opposite ("sí y no").
func (sc *ynScan) contradicted(i, n int, yes bool) bool {
	c := sc.w[i].clause
	for j := i + n; j < sc.nw && sc.w[j].clause == c; j++ {
		if m, y := sc.phraseAt(j); m > 0 && y != yes && !weakYes[sc.word(j)] {
			return true
		}
	}
	return false
}

// ackClosing is AckClosing of the words read (the first ynWords: thanks
// come in short messages).
func (sc *ynScan) ackClosing() bool {
	var ack, closing bool
	for i := 0; i < sc.nw; i++ {
		w := sc.word(i)
		switch {
		case closingWords[w]:
			closing = true
		case ackWords[w]:
			ack = true
		case yesWords[w] || noWords[w]:
			return false // a real yes or no: "sí, gracias", "no gracias"
		}
	}
	return ack && closing
}

// ReadYesNo reads a yes or no answer in Spanish or English ("sí", "claro
// que sí", "no, gracias", "yes please", "pues sí", "creo que no", "¿sí?").
// The answer is what the message starts with, after fillers and
// politeness; a weak yes ("ya", "eso", "bueno") and any answer in a
// question count only alone in their clause, so "¿y ya llegó mi pedido?",
// "¿ya llegó?" and "eso no me sirve" say neither. ok is false when the
// text says neither or both ("sí y no"), or only acknowledges with thanks
// or a goodbye ("ok gracias": see AckClosing).
func ReadYesNo(text string) (yes, ok bool) {
	var sc ynScan
	sc.scan(text)
	if sc.nw == 0 {
		return false, false
	}
	if sc.nw == 1 {
		if yes, ok := letterWords[sc.word(0)]; ok {
			return yes, true
		}
	}
	if sc.ackClosing() {
		return false, false
	}
	tentative, have := false, false // an acknowledgement: "ok", "vale"
	for i := 0; i < sc.nw; {
		n, v := sc.phraseAt(i)
		if n == 0 {
			if !YesNoFiller(sc.word(i)) {
				break
			}
			i++
			continue
		}
		if (weakYes[sc.word(i)] || sc.q[sc.w[i].clause]) && !sc.alone(i, n) {
			break // "ya llegó", "¿no hay otra?": not the answer
		}
		if sc.contradicted(i, n, v) {
			return false, false
		}
		if !v && Unsure(sc.word(i), sc.sameClause(i, 1), sc.sameClause(i, 2)) {
			return false, false // "no sé": no answer
		}
		if v && ackWords[sc.word(i)] && n == 1 {
			tentative, have = true, true // "ok, no": the no is the answer
			i++
			continue
		}
		return v, true
	}
	return tentative, have
}
