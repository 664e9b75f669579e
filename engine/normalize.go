package engine

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Normalize folds text for matching: lower case, accents and ñ folded
// ("Sí, mañana" → "si manana"), punctuation as spaces, runs of spaces as one,
// trimmed. It is what keywords, choices and yes/no answers are compared on.
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true // drop leading spaces
	for _, r := range s {
		r = foldRune(r)
		switch {
		case r == utf8.RuneError:
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
			space = false
		case unicode.IsMark(r):
			continue
		case unicode.IsSymbol(r) && r > 0x2000: // emoji and pictographs are words of their own
			if !space {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
			b.WriteByte(' ')
			space = true
		default:
			if !space {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// foldRune lower-cases r and removes its diacritic when it is a Latin letter.
func foldRune(r rune) rune {
	if r < 0x80 {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	r = unicode.ToLower(r)
	switch r {
	case 'á', 'à', 'â', 'ä', 'ã', 'å':
		return 'a'
	case 'é', 'è', 'ê', 'ë':
		return 'e'
	case 'í', 'ì', 'î', 'ï':
		return 'i'
	case 'ó', 'ò', 'ô', 'ö', 'õ':
		return 'o'
	case 'ú', 'ù', 'û', 'ü':
		return 'u'
	case 'ñ':
		return 'n'
	case 'ç':
		return 'c'
	}
	return r
}

// containsPhrase reports whether the normalised text holds the normalised
// phrase as whole words.
func containsPhrase(text, phrase string) bool {
	if phrase == "" {
		return false
	}
	for i := 0; ; {
		j := strings.Index(text[i:], phrase)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(phrase)
		if (j == 0 || text[j-1] == ' ') && (end == len(text) || text[end] == ' ') {
			return true
		}
		i = j + 1
	}
}

var (
	yesWords = map[string]bool{
		"si": true, "sip": true, "sii": true, "siii": true, "claro": true, "dale": true, "ok": true, "okay": true,
		"okey": true, "vale": true, "correcto": true, "exacto": true, "afirmativo": true, "perfecto": true,
		"listo": true, "bueno": true, "porfa": true, "confirmo": true, "confirmar": true, "seguro": true, "va": true,
		"yes": true, "yeah": true, "yep": true, "sure": true, "right": true, "correct": true, "confirm": true,
		"👍": true, "✅": true,
	}
	noWords = map[string]bool{
		"no": true, "nop": true, "nope": true, "nel": true, "negativo": true, "tampoco": true, "nunca": true,
		"nah": true, "cancelar": true, "👎": true, "❌": true,
	}
	// letterWords answer only alone ("y" in "¿y dónde está mi pedido?" is
	// "and").
	letterWords = map[string]bool{"y": true, "s": true, "n": false}
)

// Thanking and closing: an acknowledgement before them ("ok gracias",
// "vale, chao", "ok thanks") is politeness, not a yes (the labelling rule of
// the shop datasets: "ok gracias" is thanks, "dale, chau" a goodbye).
var (
	ackWords = map[string]bool{
		"ok": true, "okay": true, "okey": true, "oki": true, "okis": true, "vale": true, "listo": true,
		"perfecto": true, "dale": true, "sale": true, "va": true, "bueno": true, "joya": true, "genial": true,
		"k": true, "kk": true, "alright": true, "cool": true, "great": true, "perfect": true, "👍": true, "👌": true,
	}
	closingWords = map[string]bool{
		"gracias": true, "grax": true, "graciass": true, "agradezco": true, "agradecido": true, "agradecida": true,
		"thanks": true, "thank": true, "thx": true, "thanx": true, "ty": true, "tysm": true, "cheers": true,
		"chao": true, "chau": true, "adios": true, "bye": true, "goodbye": true, "byebye": true,
	}
)

// AckClosing reports whether a text is an acknowledgement with thanks or a
// goodbye and no real answer: "ok gracias", "vale, chao", "ok thanks",
// "perfecto, muchas gracias" — but not "sí, gracias" nor "no, gracias". At
// a yes/no question it is no answer (the question is asked again).
func AckClosing(text string) bool {
	var sc ynScan
	sc.scan(text)
	return sc.ackClosing()
}

// affirmWords go with a yes in a bare affirmation ("sí, por favor", "claro
// que sí", "de una", "go ahead") without saying anything more.
var affirmWords = map[string]bool{
	"que": true, "por": true, "favor": true, "please": true, "pls": true, "plis": true, "de": true, "una": true,
	"acuerdo": true, "esta": true, "bien": true, "supuesto": true, "of": true, "course": true, "go": true,
	"ahead": true, "sounds": true, "good": true, "obvio": true, "sip": true, "simon": true, "yup": true,
	"alright": true, "oki": true, "okis": true, "sale": true, "me": true, "sirve": true, "works": true,
	"for": true,
}

// BareYes reports whether a text is an affirmation and nothing more: "sí",
// "dale", "ok", "claro que sí", "sí, por favor", "de acuerdo", "yes", "go
// ahead" — not "sí, la 45" nor "ok gracias".
func BareYes(text string) bool {
	n := Normalize(text)
	if n == "" {
		return false
	}
	if yes, ok := letterWords[n]; ok {
		return yes
	}
	switch n {
	case "de acuerdo", "por supuesto", "of course", "esta bien", "go ahead", "de una", "sounds good", "me sirve", "works for me":
		return true
	}
	saw := false
	for _, w := range strings.Fields(n) {
		switch {
		case yesWords[w]:
			saw = true
		case !affirmWords[w]:
			return false
		}
	}
	return saw
}

// noneWords refuse what is offered; noneWith go with them in a refusal
// and say nothing more ("ninguna de las dos", "no me sirve ninguna", "none
// of them", "no, gracias").
var (
	noneWords = map[string]bool{
		"no": true, "nop": true, "nope": true, "nel": true, "nah": true, "ninguna": true, "ninguno": true,
		"ningun": true, "ningunas": true, "ningunos": true, "nada": true, "tampoco": true, "ni": true,
		"none": true, "neither": true, "nothing": true, "not": true, "nor": true, "dont": true, "❌": true, "👎": true,
	}
	noneWith = map[string]bool{
		"de": true, "las": true, "los": true, "la": true, "el": true, "dos": true, "tres": true, "una": true,
		"uno": true, "otra": true, "otro": true, "esas": true, "esos": true, "estas": true, "estos": true,
		"ellas": true, "ellos": true, "opciones": true, "me": true, "sirve": true, "sirven": true,
		"gusta": true, "gustan": true, "convence": true, "convencen": true, "quiero": true, "gracias": true,
		"por": true, "favor": true, "verdad": true, "realmente": true, "pues": true,
		"of": true, "them": true, "these": true, "those": true, "the": true, "one": true, "ones": true,
		"options": true, "works": true, "work": true, "for": true, "i": true, "want": true, "don": true,
		"any": true, "really": true, "thanks": true, "thank": true, "you": true,
		"please": true,
	}
)

// NoneOfThem reports whether a text refuses the options offered and says
// nothing more: "no", "ninguna", "ninguna de las dos", "no me sirve
// ninguna", "no, gracias", "none of them", "neither" — not "no sé", nor
// "no, la 44", nor "no, cancela".
func NoneOfThem(text string) bool {
	n := Normalize(text)
	saw := false
	prev := ""
	for w := range strings.FieldsSeq(n) {
		switch {
		case noneWords[w], w == "t" && prev == "don": // "don't" is "don t"
			saw = true
		case !noneWith[w]:
			return false
		}
		prev = w
	}
	return saw
}

var numberWords = map[string]int{
	"cero": 0, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7,
	"ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14, "quince": 15,
	"dieciseis": 16, "diecisiete": 17, "dieciocho": 18, "diecinueve": 19, "veinte": 20, "veintiuno": 21,
	"veintidos": 22, "veintitres": 23, "veinticuatro": 24, "veinticinco": 25, "veintiseis": 26,
	"veintisiete": 27, "veintiocho": 28, "veintinueve": 29, "treinta": 30, "cuarenta": 40, "cincuenta": 50,
	"sesenta": 60, "setenta": 70, "ochenta": 80, "noventa": 90,
	"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
	"nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
	"sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
	"forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}

// ReadNumber reads the first number in a text: digits ("43", "42.5",
// "42,5", "-3") or Spanish and English words up to 99 ("cuarenta y tres",
// "forty-three"). The second result is the text it was read from.
func ReadNumber(text string) (float64, string, bool) {
	// Digits first.
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c < '0' || c > '9' {
			continue
		}
		if i > 0 && isWordByte(text[i-1]) && !(text[i-1] == '-' || text[i-1] == '+') {
			// a digit glued to letters ("A1234") is not a number of its own
			j := i
			for j < len(text) && text[j] >= '0' && text[j] <= '9' {
				j++
			}
			i = j
			continue
		}
		start := i
		if i > 0 && text[i-1] == '-' && (i == 1 || text[i-2] == ' ') {
			start = i - 1
		}
		j := i
		for j < len(text) && text[j] >= '0' && text[j] <= '9' {
			j++
		}
		if j+1 < len(text) && (text[j] == '.' || text[j] == ',') && text[j+1] >= '0' && text[j+1] <= '9' {
			k := j + 1
			for k < len(text) && text[k] >= '0' && text[k] <= '9' {
				k++
			}
			j = k
		}
		if j < len(text) && isLetterByte(text[j]) {
			i = j
			continue
		}
		lit := text[start:j]
		f, err := strconv.ParseFloat(strings.Replace(lit, ",", ".", 1), 64)
		if err == nil {
			return f, lit, true
		}
		i = j
	}
	// Then words: "cuarenta y tres", "forty-three", "veintitrés".
	words := strings.Fields(Normalize(text))
	for i := 0; i < len(words); i++ {
		n, ok := numberWords[words[i]]
		if !ok {
			continue
		}
		lit := words[i]
		if n >= 20 && n%10 == 0 && i+2 < len(words) && words[i+1] == "y" {
			if u, ok := numberWords[words[i+2]]; ok && u < 10 {
				return float64(n + u), lit + " y " + words[i+2], true
			}
		}
		if n >= 20 && n%10 == 0 && i+1 < len(words) {
			if u, ok := numberWords[words[i+1]]; ok && u > 0 && u < 10 && !isSpanishNumberWord(words[i+1]) {
				return float64(n + u), lit + " " + words[i+1], true
			}
		}
		return float64(n), lit, true
	}
	return 0, "", false
}

func isSpanishNumberWord(w string) bool {
	switch w {
	case "uno", "una", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve":
		return true
	}
	return false
}

func isLetterByte(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 }

func isWordByte(c byte) bool { return isLetterByte(c) || c >= '0' && c <= '9' || c == '_' }

// cleanText makes an inbound text safe to process: valid UTF-8, no control
// characters but newlines and tabs, at most max bytes (cut at a rune).
func cleanText(s string, max int) string {
	ok := utf8.ValidString(s)
	if ok {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
				ok = false
				break
			}
		}
	}
	if !ok {
		s = strings.Map(func(r rune) rune {
			if r == utf8.RuneError || (unicode.IsControl(r) && r != '\n' && r != '\t') {
				return -1
			}
			return r
		}, strings.ToValidUTF8(s, ""))
	}
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}
