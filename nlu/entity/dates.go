package entity

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/charlabot/charla/engine"
)

var weekdays = map[string]time.Weekday{
	"domingo": time.Sunday, "lunes": time.Monday, "martes": time.Tuesday, "miercoles": time.Wednesday,
	"jueves": time.Thursday, "viernes": time.Friday, "sabado": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

var months = map[string]time.Month{
	"enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7, "agosto": 8,
	"septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
	"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
	"september": 9, "october": 10, "november": 11, "december": 12,
	"ene": 1, "feb": 2, "mar": 3, "abr": 4, "jun": 6, "jul": 7, "ago": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dic": 12,
	"jan": 1, "aug": 8, "dec": 12,
}

// Day words, as offsets from today; need lists words one of which every
// match contains as a whole word (a text with none skips the expression).
var dayWords = []struct {
	re   *regexp.Regexp
	need map[string]bool
	days int
}{
	{regexp.MustCompile(`\b(?:pasado manana|day after tomorrow)\b`), setOf("manana tomorrow"), 2},
	{regexp.MustCompile(`\b(?:anteayer|antier|antes de ayer|day before yesterday)\b`), setOf("anteayer antier ayer yesterday"), -2},
	{regexp.MustCompile(`\b(?:hoy|today|tonight|esta noche)\b`), setOf("hoy today tonight noche"), 0},
	{regexp.MustCompile(`\b(?:manana|tomorrow|tmrw|tmr)\b`), setOf("manana tomorrow tmrw tmr"), 1},
	{regexp.MustCompile(`\b(?:ayer|yesterday)\b`), setOf("ayer yesterday"), -1},
	{regexp.MustCompile(`\b(?:la (?:proxima|otra) semana|la semana (?:que viene|entrante|proxima)|next week)\b`), setOf("semana week"), 7},
	{regexp.MustCompile(`\b(?:la semana pasada|last week)\b`), setOf("semana week"), -7},
}

// Words one of which every match of an expression below contains as a
// whole word (a run of ASCII word characters, what \b knows), or, for
// months, at the end of one ("15marzo").
var (
	dateUnitWords = setOf("dia dias semana semanas day days week weeks") // inDaysRe, agoRe
	weekdayWords  = setOf("domingo lunes martes miercoles jueves viernes sabado sunday monday tuesday wednesday thursday friday saturday")
	monthWords    = setOf("enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre january february march april may june july august september october november december jan feb mar apr jun jul aug sep sept oct nov dec")
)

var (
	weekdayRe  = regexp.MustCompile(`\b(?:(?:el|este|the|this|on|next|el proximo|proximo|last|el pasado)\s+)?(domingo|lunes|martes|miercoles|jueves|viernes|sabado|sunday|monday|tuesday|wednesday|thursday|friday|saturday)(?:\s+(que viene|pasado|proximo|entrante))?\b`)
	inDaysRe   = regexp.MustCompile(`\b(?:en|dentro de|in)\s+(\d{1,3}|un|una|dos|tres|cuatro|cinco|seis|siete|ocho|diez|quince|a|one|two|three|four|five|six|seven|ten)\s+(dias?|semanas?|days?|weeks?)\b`)
	agoRe      = regexp.MustCompile(`\b(?:hace\s+(\d{1,3}|un|una|dos|tres|cuatro|cinco|seis|siete|ocho|diez|quince)\s+(dias?|semanas?)|(\d{1,3}|a|one|two|three|four|five|six|seven|ten)\s+(days?|weeks?)\s+ago)\b`)
	numericRe  = regexp.MustCompile(`\b(\d{4})-(\d{1,2})-(\d{1,2})\b|\b(\d{1,2})[/\-](\d{1,2})(?:[/\-](\d{2,4}))?\b`)
	dayMonthRe = regexp.MustCompile(`\b(\d{1,2})\s*(?:de\s+)?(enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre|january|february|march|april|may|june|july|august|september|october|november|december)(?:\s+(?:de\s+|del\s+)?(\d{4}))?\b`)
	monthDayRe = regexp.MustCompile(`\b(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?\b`)
	morningRe  = regexp.MustCompile(`\b(?:la|las|esta|de)\s+$`)
	timeRe     = regexp.MustCompile(`^\s*,?\s*((?:a las|a la|at|las|por la|en la)\s*)?(\d{1,2})(?:[:h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.|hs|hrs)?\b`)
)

var smallCount = map[string]int{"un": 1, "una": 1, "a": 1, "one": 1, "dos": 2, "two": 2, "tres": 3, "three": 3, "cuatro": 4, "four": 4,
	"cinco": 5, "five": 5, "seis": 6, "six": 6, "siete": 7, "seven": 7, "ocho": 8, "diez": 10, "ten": 10, "quince": 15}

func count(s string) int {
	if n, ok := smallCount[s]; ok {
		return n
	}
	n, _ := strconv.Atoi(s)
	return n
}

func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// dates finds dates relative to now: day words, weekdays (the next one,
// or the last one with "pasado"/"last"), "en 3 días", "hace 2 días",
// numeric dates (day first in Spanish, month first in English when it
// fits), "15 de marzo", "March 15", and a time of day after a date word
// ("mañana a las 3 pm"). The value is a time.Time in now's location.
func (x *Extractor) dates(t *text, now time.Time, taken []span) []engine.Entity {
	today := midnight(now)
	var out []engine.Entity
	add := func(b0, b1 int, d time.Time) {
		s, e := t.runeSpan(b0, b1)
		if overlaps(taken, s, e) || overlaps(spans(out), s, e) {
			return
		}
		// a time of day right after the date
		if m := timeRe.FindStringSubmatchIndex(t.fs[b1:]); m != nil {
			if h, mi, ok := readClock(t.fs[b1:], m); ok {
				d = time.Date(d.Year(), d.Month(), d.Day(), h, mi, 0, 0, d.Location())
				_, e = t.runeSpan(b0, b1+m[1])
			}
		}
		out = append(out, t.entity(engine.EntityDate, d, s, e))
	}
	fs := t.fs
	digits := t.digits > 0
	// numericRe: a digit, and "-" or "/"
	var numeric [][]int
	if digits && strings.ContainsAny(fs, "-/") {
		numeric = numericRe.FindAllStringSubmatchIndex(fs, -1)
	}
	for _, m := range numeric {
		g := func(i int) string {
			if m[2*i] < 0 {
				return ""
			}
			return t.fs[m[2*i]:m[2*i+1]]
		}
		var y, mo, d int
		if g(1) != "" {
			y, mo, d = atoi(g(1)), atoi(g(2)), atoi(g(3))
		} else {
			a, b := atoi(g(4)), atoi(g(5))
			d, mo = a, b
			if x.lang == "en" && a <= 12 && b > 12 || (x.lang == "en" && a <= 12 && b <= 12) {
				d, mo = b, a
			}
			y = now.Year()
			if g(6) != "" {
				y = atoi(g(6))
				if y < 100 {
					y += 2000
				}
			}
		}
		if mo < 1 || mo > 12 || d < 1 || d > 31 {
			continue
		}
		add(m[0], m[1], time.Date(y, time.Month(mo), d, 0, 0, 0, 0, now.Location()))
	}
	var dayMonth, monthDay [][]int
	if digits && hasASCIIWordEnding(fs, monthWords) {
		dayMonth = dayMonthRe.FindAllStringSubmatchIndex(fs, -1)
		monthDay = monthDayRe.FindAllStringSubmatchIndex(fs, -1)
	}
	for _, m := range dayMonth {
		d, mo := atoi(t.fs[m[2]:m[3]]), months[t.fs[m[4]:m[5]]]
		y := now.Year()
		if m[6] >= 0 {
			y = atoi(t.fs[m[6]:m[7]])
		}
		if d >= 1 && d <= 31 {
			add(m[0], m[1], time.Date(y, mo, d, 0, 0, 0, 0, now.Location()))
		}
	}
	for _, m := range monthDay {
		mo, d := months[t.fs[m[2]:m[3]]], atoi(t.fs[m[4]:m[5]])
		y := now.Year()
		if m[6] >= 0 {
			y = atoi(t.fs[m[6]:m[7]])
		}
		if d >= 1 && d <= 31 {
			add(m[0], m[1], time.Date(y, mo, d, 0, 0, 0, 0, now.Location()))
		}
	}
	for _, dw := range dayWords {
		if !hasASCIIWord(fs, dw.need) {
			continue
		}
		for _, m := range dw.re.FindAllStringIndex(t.fs, -1) {
			if dw.days == 1 && matchTail(morningRe, t.fs[:m[0]]) != nil {
				continue // "por la mañana": in the morning
			}
			add(m[0], m[1], today.AddDate(0, 0, dw.days))
		}
	}
	var inDays, ago [][]int
	if hasASCIIWord(fs, dateUnitWords) {
		inDays = inDaysRe.FindAllStringSubmatchIndex(fs, -1)
		ago = agoRe.FindAllStringSubmatchIndex(fs, -1)
	}
	for _, m := range inDays {
		n, unit := count(t.fs[m[2]:m[3]]), t.fs[m[4]:m[5]]
		if unit[0] == 's' || unit[0] == 'w' {
			n *= 7
		}
		add(m[0], m[1], today.AddDate(0, 0, n))
	}
	for _, m := range ago {
		var n int
		var unit string
		if m[2] >= 0 {
			n, unit = count(t.fs[m[2]:m[3]]), t.fs[m[4]:m[5]]
		} else {
			n, unit = count(t.fs[m[6]:m[7]]), t.fs[m[8]:m[9]]
		}
		if unit[0] == 's' || unit[0] == 'w' {
			n *= 7
		}
		add(m[0], m[1], today.AddDate(0, 0, -n))
	}
	var weekday [][]int
	if hasASCIIWord(fs, weekdayWords) {
		weekday = weekdayRe.FindAllStringSubmatchIndex(fs, -1)
	}
	for _, m := range weekday {
		wd := weekdays[t.fs[m[2]:m[3]]]
		mod := t.fs[m[0]:m[2]]
		past := (m[4] >= 0 && t.fs[m[4]:m[5]] == "pasado") || mod == "last " || mod == "el pasado "
		diff := (int(wd) - int(today.Weekday()) + 7) % 7
		if past {
			if diff = (int(today.Weekday()) - int(wd) + 7) % 7; diff == 0 {
				diff = 7
			}
			diff = -diff
		} else if diff == 0 && mod != "este " && mod != "this " {
			diff = 7
		}
		add(m[0], m[1], today.AddDate(0, 0, diff))
	}
	return out
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// readClock reads "a las 3 pm", "15:30", "at 5pm" from a time match; a bare
// number is a time only after "a las"/"at".
func readClock(s string, m []int) (int, int, bool) {
	h := atoi(s[m[4]:m[5]])
	mi := 0
	if m[6] >= 0 {
		mi = atoi(s[m[6]:m[7]])
	}
	marker := m[8] >= 0
	if !marker && m[6] < 0 && m[2] < 0 {
		return 0, 0, false
	}
	if marker {
		switch s[m[8]] {
		case 'p':
			if h < 12 {
				h += 12
			}
		case 'a':
			if h == 12 {
				h = 0
			}
		}
	}
	if h > 23 || mi > 59 {
		return 0, 0, false
	}
	return h, mi, true
}
