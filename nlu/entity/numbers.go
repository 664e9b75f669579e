package entity

import (
	"math"
	"strconv"
	"strings"
)

// Number words of Spanish and English (accents folded, lower case).
var unitWords = map[string]float64{
	"cero": 0, "uno": 1, "una": 1, "un": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9,
	"diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14, "quince": 15, "dieciseis": 16, "diecisiete": 17, "dieciocho": 18, "diecinueve": 19,
	"veinte": 20, "veintiuno": 21, "veintiun": 21, "veintiuna": 21, "veintidos": 22, "veintitres": 23, "veinticuatro": 24, "veinticinco": 25,
	"veintiseis": 26, "veintisiete": 27, "veintiocho": 28, "veintinueve": 29,
	"treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80, "noventa": 90,
	"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
	"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
	"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}

var hundredWords = map[string]float64{
	"cien": 100, "ciento": 100, "doscientos": 200, "doscientas": 200, "trescientos": 300, "trescientas": 300,
	"cuatrocientos": 400, "cuatrocientas": 400, "quinientos": 500, "quinientas": 500, "seiscientos": 600, "seiscientas": 600,
	"setecientos": 700, "setecientas": 700, "ochocientos": 800, "ochocientas": 800, "novecientos": 900, "novecientas": 900,
}

var scaleWords = map[string]float64{
	"mil": 1e3, "thousand": 1e3, "millon": 1e6, "millones": 1e6, "million": 1e6, "millions": 1e6,
}

// articles read as one only before a scale ("un millón", "a hundred").
var articleOne = map[string]bool{"un": true, "una": true, "a": true}

// A one that is also a determiner or a pronoun ("una mesa", "the blue
// one", "cada uno") is not always a quantity. [oneRole] tells which it is
// from the words around it:
//
//   - a pronoun is never a number: "one" after a determiner ("the blue
//     one", "this one", "which one", "no one") and "uno"/"una"/"un" after
//     "cada" ("cada uno");
//   - "un", "una" and "one" are the number 1 when nothing is counted after
//     them: alone or at the end of the phrase ("una", "solo una", "para
//     uno", "just one", "una, por favor"), before a word that goes on
//     without a noun ("una para mí", "one of them", "una o dos"), or
//     before a quantity noun ("una persona", "un adulto", "one guest"),
//     modifiers between them skipped ("una sola", "one more person");
//   - before any other word they are determiners ("una mesa", "un código",
//     "one table"): not a number, unless the pending question asks for a
//     number and the message holds no other one, so "una camisa" answers
//     "¿Cuántas quieres?" while "una mesa para dos" answers 2;
//   - "uno" is a number everywhere else; English "a"/"an" never are, except
//     before a scale ("a hundred").
type role int

const (
	roleCount   role = iota // a quantity: the number 1
	roleArticle             // a determiner before a noun
	rolePronoun             // stands for a thing: never a number
)

var (
	oneDeterminers = setOf("un una one")
	// countNouns are the quantity nouns a one counts: people, units, and
	// units of time and of money.
	countNouns = setOf("persona personas adulto adulta adultos adultas nino nina ninos ninas nene nena bebe comensal comensales invitado invitada invitados huesped huespedes pax cubierto cubiertos unidad unidades " +
		"minuto hora dia noche semana mes ano dolar euro peso sol libra luca " +
		"person persons people adult adults child children kid kids baby guest guests diner diners unit units " +
		"minute hour day night week month year dollar euro pound buck")
	// phraseGoesOn are words after a one that leave it a number: the
	// phrase goes on without a noun.
	phraseGoesOn = setOf("para por de del y o u con sin en a al que porfa porfi porfis porfavor xfa x favor gracias pues nomas no si ya tambien igual menos nada " +
		"for of and or with to at in on please pls plz thanks thank only too")
	// oneModifiers may stand between a one and what it counts.
	oneModifiers = setOf("sola solo solita solito mas single more")
	// pronounBefore are the words that make "one" a pronoun ("the blue one").
	pronounBefore = setOf("the this that which another other each every any no some what whichever")
	// notAdjective are words between a determiner and "one" that leave it
	// a number ("this is one", "that's just one").
	notAdjective = setOf("is s was are be just exactly")
)

// oneRole tells what the one at word k of t is (see [role]).
func (t *text) oneRole(k int) role {
	ws := t.words
	w := ws[k].s
	if k > 0 && ws[k-1].s == "cada" {
		return rolePronoun
	}
	// "this one", "the blue one" (one adjective between), not "this is one"
	if w == "one" && k > 0 && (pronounBefore[ws[k-1].s] ||
		k > 1 && pronounBefore[ws[k-2].s] && !phraseGoesOn[ws[k-1].s] && !notAdjective[ws[k-1].s]) {
		return rolePronoun
	}
	if w == "uno" {
		return roleCount
	}
	for n := k + 1; ; n++ {
		if n == len(ws) || t.punctBetween(ws[n-1].end, ws[n].start) {
			return roleCount
		}
		next := ws[n].s
		switch {
		case oneModifiers[next]:
			continue
		case countNouns[next], phraseGoesOn[next], isNumberWord(next):
			return roleCount
		}
		return roleArticle
	}
}

// punctBetween reports whether the folded text has something other than
// spaces between rune offsets i and j ("una, por favor").
func (t *text) punctBetween(i, j int) bool {
	for ; i < j; i++ {
		if t.fold[i] != ' ' {
			return true
		}
	}
	return false
}

// word is a word of the folded text with its rune offsets.
type word struct {
	s          string
	start, end int
}

// numberRun is a number written in words: its value and the words it spans.
type numberRun struct {
	value    float64
	from, to int // word indices, to exclusive
}

// wordNumbers finds numbers written in words ("cuarenta y tres",
// "forty-three", "dos mil quinientos", "one hundred and five").
func wordNumbers(ws []word) []numberRun {
	var out []numberRun
	for i := 0; i < len(ws); {
		v, j := readWordNumber(ws, i)
		if j > i {
			out = append(out, numberRun{v, i, j})
			i = j
			continue
		}
		i++
	}
	return out
}

// isTens reports whether v ends in tens from 20 to 90 (40, 1030): a
// Spanish number that "y" and a unit may follow.
func isTens(v float64) bool {
	m := math.Mod(v, 100)
	return m >= 20 && math.Mod(m, 10) == 0
}

func isNumberWord(w string) bool {
	_, a := unitWords[w]
	_, b := hundredWords[w]
	_, c := scaleWords[w]
	return a || b || c || w == "hundred" || w == "hundreds"
}

// readWordNumber reads a number starting at word i; it returns i when
// there is none.
func readWordNumber(ws []word, i int) (float64, int) {
	total, cur := 0.0, 0.0
	j, end := i, i
	lastUnit := false // the last word was 1–9 (so "dos tres" is two numbers)
	any := false
	for j < len(ws) {
		w := ws[j].s
		switch {
		case articleOne[w] && !any:
			if j+1 < len(ws) && (scaleWords[ws[j+1].s] > 0 || ws[j+1].s == "hundred") {
				cur, any, j = 1, true, j+1
				continue
			}
			if w == "a" {
				return 0, i
			}
			v := unitWords[w]
			cur, any, lastUnit = v, true, true
			j++
			end = j
		case unitWords[w] > 0 || w == "cero" || w == "zero":
			v := unitWords[w]
			if any && (lastUnit || (v >= 10 && math.Mod(cur, 100) != 0)) {
				return total + cur, end
			}
			// "y un" ends a number unless it follows tens ("cuarenta y una
			// mesas" is 41, "dos y un zapato" 2 and an article)
			if articleOne[w] && j+1 < len(ws) && scaleWords[ws[j+1].s] == 0 && ws[j+1].s != "hundred" && any &&
				!(j > 0 && ws[j-1].s == "y" && isTens(cur)) {
				return total + cur, end
			}
			cur += v
			lastUnit = v < 10 || math.Mod(v, 10) != 0
			any = true
			j++
			end = j
		case hundredWords[w] > 0:
			if any && math.Mod(cur, 1000) != 0 {
				return total + cur, end
			}
			cur += hundredWords[w]
			any, lastUnit = true, false
			j++
			end = j
		case w == "hundred" || w == "hundreds":
			if !any {
				return 0, i
			}
			cur = max(cur, 1) * 100
			lastUnit = false
			j++
			end = j
		case scaleWords[w] > 0:
			if !any && w != "mil" {
				return 0, i
			}
			total += max(cur, 1) * scaleWords[w]
			cur, any, lastUnit = 0, true, false
			j++
			end = j
		case (w == "y" || w == "and") && any && j+1 < len(ws) && isNumberWord(ws[j+1].s):
			j++
		default:
			if !any {
				return 0, i
			}
			return total + cur, end
		}
	}
	if !any {
		return 0, i
	}
	return total + cur, end
}

// parseDigits reads a number written with digits, guessing which of "."
// and "," separates thousands: "50.000" and "1,500" are thousands, "12.50"
// and "9,5" are decimals, "1.234,56" and "1,234.56" both 1234.56.
func parseDigits(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	dots, commas := strings.Count(s, "."), strings.Count(s, ",")
	lastDot, lastComma := strings.LastIndex(s, "."), strings.LastIndex(s, ",")
	grouped := func(sep string) bool { // every group after the first has 3 digits
		parts := strings.Split(s, sep)
		for _, p := range parts[1:] {
			if len(p) != 3 {
				return false
			}
		}
		return len(parts[0]) >= 1 && len(parts[0]) <= 3
	}
	var clean string
	switch {
	case dots > 0 && commas > 0:
		if lastComma > lastDot { // 1.234,56
			clean = strings.ReplaceAll(s[:lastComma], ".", "") + "." + s[lastComma+1:]
		} else { // 1,234.56
			clean = strings.ReplaceAll(s, ",", "")
		}
	case dots > 1 || (dots == 1 && grouped(".")):
		if !grouped(".") {
			return 0, false
		}
		clean = strings.ReplaceAll(s, ".", "")
	case commas > 1 || (commas == 1 && grouped(",")):
		if !grouped(",") {
			return 0, false
		}
		clean = strings.ReplaceAll(s, ",", "")
	case commas == 1:
		clean = strings.Replace(s, ",", ".", 1)
	default:
		clean = s
	}
	v, err := strconv.ParseFloat(clean, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}
