package entity

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

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
//
// A day of the month without its month is read by [text.daysOfMonth];
// expectDay tells that the bot asked for a date.
func (x *Extractor) dates(t *text, now time.Time, taken []span, expectDay bool) []engine.Entity {
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
	if digits {
		for _, dm := range t.daysOfMonth(today, expectDay) {
			add(t.runeToByte(dm.start), t.runeToByte(dm.end), dm.date)
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

// A day of the month said without its month ("el 15", "the 15th") is the
// next such day: this month's when it has not passed (today included),
// else the next month's — the next month that has it: "el 31" said on
// 5 November (30 days) or on 31 October's next day is 31 December, "el
// 30" in February is 30 March. With "de este mes"/"this month" it is this
// month's even if it has passed, with "del mes que viene"/"next month"
// next month's (no date when that month lacks the day).
//
// It is always read with a cue that it is a date: "el día 15", "día 3",
// a weekday before it ("el sábado 15", "Saturday the 15th": the day of the
// month wins over the weekday), a month after it ("el 15 de este mes",
// "el 3 del mes que viene", "the 15th of next month", "the 2nd next
// month"), or "on the" before an ordinal ("on the 15th"). Without a cue it
// is a date only when the bot asked for one: "el 15", "para el 3", "del 15
// al 20", "the 15th", "on the 15", "15th", and a message that is only a
// day ("15"); otherwise "el 15" stays a number (a size, a quantity).
type dayOfMonth struct {
	start, end int // rune span
	date       time.Time
}

var (
	// dayCues stand right before a day of the month ("el 15", "the 15th").
	dayCues = setOf("el del al the on")
	// monthAfter are the words after a day that name its month: this
	// month (0) or the next (1).
	monthAfter = []struct {
		words []string
		month int
	}{
		{strings.Fields("de este mes"), 0}, {strings.Fields("este mes"), 0},
		{strings.Fields("del mes que viene"), 1}, {strings.Fields("del proximo mes"), 1}, {strings.Fields("del mes proximo"), 1},
		{strings.Fields("del mes entrante"), 1}, {strings.Fields("del siguiente mes"), 1}, {strings.Fields("del mes siguiente"), 1},
		{strings.Fields("del otro mes"), 1}, {strings.Fields("el mes que viene"), 1}, {strings.Fields("el proximo mes"), 1},
		{strings.Fields("of this month"), 0}, {strings.Fields("this month"), 0},
		{strings.Fields("of next month"), 1}, {strings.Fields("next month"), 1},
	}
)

// dayNumber reads a day of the month written in digits, with an ordinal
// ending or not: "15", "15th", "1st", "1ro", "1º".
func dayNumber(w string) (d int, ordinal bool) {
	i := 0
	for i < len(w) && i < 3 && w[i] >= '0' && w[i] <= '9' {
		d = d*10 + int(w[i]-'0')
		i++
	}
	if i == 0 || i > 2 || d < 1 || d > 31 {
		return 0, false
	}
	switch w[i:] {
	case "":
		return d, false
	case "st", "nd", "rd", "th", "ro", "ero", "o", "º":
		return d, true
	}
	return 0, false
}

// daysOfMonth finds the days of the month said without their month (see
// [dayOfMonth]); today is now's midnight.
func (t *text) daysOfMonth(today time.Time, expected bool) []dayOfMonth {
	var out []dayOfMonth
	ws := t.words
	joined := func(a, b int) bool { return !t.punctBetween(ws[a].end, ws[b].start) } // words a < b with only spaces between
	for k, w := range ws {
		if w.s[0] < '0' || w.s[0] > '9' {
			continue
		}
		d, ordinal := dayNumber(w.s)
		if d == 0 || !t.standsAlone(w.start, w.end) {
			continue
		}
		start, end := w.start, w.end
		if end < len(t.fold) && (t.fold[end] == '°' || t.fold[end] == 'º') {
			end, ordinal = end+1, true
		}
		// what comes before: "el día", "día", "el", "on the", a weekday
		cue, strong := "", false
		p := k - 1
		if p >= 0 && ws[p].s == "dia" && joined(p, k) {
			start, strong, p = ws[p].start, true, p-1
			if p >= 0 && ws[p].s == "el" && joined(p, p+1) {
				start, p = ws[p].start, p-1
			}
		} else if p >= 0 && dayCues[ws[p].s] && joined(p, k) {
			cue, start, p = ws[p].s, ws[p].start, p-1
			if cue == "the" && p >= 0 && ws[p].s == "on" && joined(p, p+1) {
				cue, start, p = "on the", ws[p].start, p-1
			}
		}
		if p >= 0 && joined(p, p+1) {
			if _, ok := weekdays[ws[p].s]; ok {
				start, strong, p = ws[p].start, true, p-1
				if p >= 0 && (ws[p].s == "el" || ws[p].s == "on") && joined(p, p+1) {
					start = ws[p].start
				}
			}
		}
		if cue == "on the" && ordinal {
			strong = true
		}
		// what comes after: the month
		month := -1
		for _, ma := range monthAfter {
			n := k + len(ma.words)
			if n >= len(ws) {
				continue
			}
			ok := true
			for i, mw := range ma.words {
				if ws[k+1+i].s != mw || !joined(k+i, k+1+i) {
					ok = false
					break
				}
			}
			if ok {
				month, end, strong = ma.month, ws[n].end, true
				break
			}
		}
		alone := len(ws) == 1
		if !strong && !(expected && (cue != "" || ordinal || alone)) {
			continue
		}
		if date, ok := nextDay(today, d, month); ok {
			out = append(out, dayOfMonth{start, end, date})
		}
	}
	return out
}

// standsAlone reports whether the runes start to end are set apart from
// what is around them: by spaces, the text's ends, or punctuation that
// does not join numbers ("15.", "(15)", but not "$15", "15%", "15:30",
// "15.5", "15/3").
func (t *text) standsAlone(start, end int) bool {
	if start > 0 {
		switch t.fold[start-1] {
		case ' ', '(', '¿', '¡', '"', '\'', ',':
		default:
			return false
		}
	}
	if end < len(t.fold) {
		switch t.fold[end] {
		case ' ', ')', '?', '!', '"', '\'', ';', '°', 'º':
		case '.', ',':
			return end+1 == len(t.fold) || !unicode.IsDigit(t.fold[end+1])
		default:
			return false
		}
	}
	return true
}

// nextDay returns the date of day d: in today's month (month 0), the next
// (1), or the next such day (-1; see [dayOfMonth]).
func nextDay(today time.Time, d, month int) (time.Time, bool) {
	y, m := today.Year(), today.Month()
	daysIn := func(y int, m time.Month) int { return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day() }
	switch month {
	case 0, 1:
		m += time.Month(month)
		if daysIn(y, m) < d {
			return time.Time{}, false
		}
	default:
		if d < today.Day() {
			m++
		}
		for daysIn(y, m) < d {
			m++
		}
	}
	return time.Date(y, m, d, 0, 0, 0, 0, today.Location()), true
}
