package engine

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
)

// Locale-aware formatting for expressions: format_date, format_money and
// format_number write values the shopper's way, in the conversation's
// language. The compiler passes them the turn's `lang` (and `now`) as
// hidden arguments, so they read the values of the turn they run in, are
// typed like any function, and neither block nor keep state.
//
//	format_date(d)              "25 de noviembre" / "November 25" (style long)
//	format_date(d, "short")     "25/11/2026" / "11/25/2026"
//	format_money(129900, "COP") "$ 129.900" / "COP 129,900"
//	format_number(1234.5)       "1.234,5" / "1,234.5"
const (
	fnFormatDate   = "format_date"
	fnFormatMoney  = "format_money"
	fnFormatNumber = "format_number"
)

// DateStyles are the styles format_date knows.
var DateStyles = []string{"short", "medium", "long", "weekday", "full", "time", "datetime"}

var (
	formatFuncs = []expr.Option{
		expr.Function(fnFormatDate, func(p ...any) (any, error) {
			var d time.Time
			switch x := p[0].(type) {
			case nil:
				return "", nil // unset, as {{ }} prints it
			case time.Time:
				d = x
			case string: // a field typed any that holds a date
				var err error
				if d, err = ParseDate(x); err != nil {
					return nil, fmt.Errorf("format_date: %q is not a date", x)
				}
			default:
				return nil, fmt.Errorf("format_date: %s is not a date", describe(x))
			}
			now, _ := p[3].(time.Time)
			return FormatDate(d, p[1].(string), str(p[2]), now)
		}, new(func(time.Time, string, string, time.Time) string)),
		expr.Function(fnFormatMoney, func(p ...any) (any, error) {
			x, ok, err := toFloat(fnFormatMoney, p[0])
			if !ok {
				return "", err
			}
			return FormatMoney(x, p[1].(string), str(p[2]))
		}, new(func(float64, string, string) string)), // an integer is taken as a number
		expr.Function(fnFormatNumber, func(p ...any) (any, error) {
			x, ok, err := toFloat(fnFormatNumber, p[0])
			if !ok {
				return "", err
			}
			decimals := p[1].(int) // -1: as needed (the compiler's default)
			if decimals < -1 || decimals > 10 {
				return nil, fmt.Errorf("format_number: %d decimals (0 to 10)", decimals)
			}
			return FormatNumber(x, decimals, str(p[2])), nil
		}, new(func(float64, int, string) string)),
	}
)

func str(v any) string { s, _ := v.(string); return s }

// toFloat reads a number argument: nil (unset) is not one, and no error;
// another type is an error.
func toFloat(fn string, v any) (float64, bool, error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case float64:
		return x, true, nil
	case int:
		return float64(x), true, nil
	}
	return 0, false, fmt.Errorf("%s: %s is not a number", fn, describe(v))
}

// localeArgs is the patch that hands the formatting functions the turn's
// language (and clock): it appends the identifiers `lang` (and `now`) to
// their calls, after the arguments the designer wrote, and gives
// format_date its default style. It also checks literal styles and
// currencies, so a typo is found when the bot loads.
//
// It is a "repeatable" patch (Reset, ShouldRepeat) only so that expr runs
// it last, after its last pass of type checking: that pass types each call
// as written and, the type being kept, the final check would not look at
// the arguments again (an unknown name in them would go unreported). The
// patch forgets the type of the calls it changes.
type localeArgs struct {
	done map[*ast.CallNode]bool
	err  error
	at   int // rune offset of err in the source
}

func (v *localeArgs) Reset()             {}
func (v *localeArgs) ShouldRepeat() bool { return false }

func (v *localeArgs) Visit(node *ast.Node) {
	call, ok := (*node).(*ast.CallNode)
	if !ok || v.done[call] {
		return
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok {
		return
	}
	ident := func(name string) ast.Node {
		n := &ast.IdentifierNode{Value: name}
		n.SetLocation(call.Location())
		return n
	}
	arity := func(lo, hi int, usage string) bool {
		if n := len(call.Arguments); n < lo || n > hi {
			if v.err == nil {
				v.err, v.at = fmt.Errorf("%s takes %s", id.Value, usage), call.Location().From
			}
			return false
		}
		return true
	}
	switch id.Value {
	case fnFormatDate:
		if !arity(1, 2, "a date and, optionally, a style (format_date(d, \"short\"))") {
			return
		}
		if len(call.Arguments) == 1 {
			s := &ast.StringNode{Value: "long"}
			s.SetLocation(call.Location())
			call.Arguments = append(call.Arguments, s)
		}
		if len(call.Arguments) == 2 {
			v.literal(call.Arguments[1], func(s string) error {
				if !contains(DateStyles, s) {
					return fmt.Errorf("format_date: unknown style %q (%s)", s, strings.Join(DateStyles, ", "))
				}
				return nil
			})
			call.Arguments = append(call.Arguments, ident(VarLang), ident(VarNow))
		}
	case fnFormatMoney:
		if !arity(2, 2, "an amount and a currency code (format_money(total, \"COP\"))") {
			return
		}
		if len(call.Arguments) == 2 {
			v.literal(call.Arguments[1], func(s string) error { return checkCurrency(s) })
			call.Arguments = append(call.Arguments, ident(VarLang))
		}
	case fnFormatNumber:
		if !arity(1, 2, "a number and, optionally, how many decimals (format_number(n, 2))") {
			return
		}
		if len(call.Arguments) == 1 {
			d := &ast.IntegerNode{Value: -1}
			d.SetLocation(call.Location())
			call.Arguments = append(call.Arguments, d)
		}
		call.Arguments = append(call.Arguments, ident(VarLang))
	default:
		return
	}
	// The checker's first pass typed the call as it was written; forget it,
	// so that the final pass checks the call as it is now.
	call.SetType(nil)
	if v.done == nil {
		v.done = map[*ast.CallNode]bool{}
	}
	v.done[call] = true
}

// literal checks an argument written as a string literal.
func (v *localeArgs) literal(n ast.Node, check func(string) error) {
	s, ok := n.(*ast.StringNode)
	if !ok || v.err != nil {
		return
	}
	if err := check(s.Value); err != nil {
		v.err, v.at = err, n.Location().From
	}
}

// byteOffset converts a rune offset of src into a byte offset.
func byteOffset(src string, runes int) int {
	off := 0
	for i := 0; i < runes && off < len(src); i++ {
		_, size := utf8.DecodeRuneInString(src[off:])
		off += size
	}
	return off
}

// localeOf reduces a language tag to the conventions format_* know: "es",
// "en", "pt", or "" (others: ISO dates, plain numbers).
func localeOf(lang string) string {
	if len(lang) >= 2 {
		switch strings.ToLower(lang[:2]) {
		case "es":
			return "es"
		case "en":
			return "en"
		case "pt":
			return "pt"
		}
	}
	return ""
}

var (
	monthsES   = [...]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}
	monthsPT   = [...]string{"janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro"}
	weekdaysES = [...]string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"}
	weekdaysPT = [...]string{"domingo", "segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado"}
)

// FormatDate writes a date in a style (see DateStyles) the way a speaker
// of lang reads it. long and weekday leave out the year of now. A
// timestamp with a time of day is first moved to now's zone (the bot's);
// a date alone (midnight) is kept as it is.
func FormatDate(d time.Time, style, lang string, now time.Time) (string, error) {
	if !contains(DateStyles, style) {
		return "", fmt.Errorf("format_date: unknown style %q (%s)", style, strings.Join(DateStyles, ", "))
	}
	if !now.IsZero() && (d.Hour() != 0 || d.Minute() != 0 || d.Second() != 0) {
		d = d.In(now.Location())
	}
	day, month, year := d.Day(), d.Month(), d.Year()
	sameYear := !now.IsZero() && now.Year() == year
	loc := localeOf(lang)
	switch loc {
	case "es", "pt":
		months, weekdays, of := monthsES, weekdaysES, " de "
		if loc == "pt" {
			months, weekdays = monthsPT, weekdaysPT
		}
		m, wd := months[month-1], weekdays[d.Weekday()]
		yearPart := ""
		if !sameYear {
			yearPart = of + strconv.Itoa(year)
		}
		switch style {
		case "short":
			return fmt.Sprintf("%02d/%02d/%d", day, month, year), nil
		case "medium":
			return fmt.Sprintf("%d %s %d", day, m[:3], year), nil
		case "long":
			return strconv.Itoa(day) + of + m + yearPart, nil
		case "weekday":
			return wd + " " + strconv.Itoa(day) + of + m + yearPart, nil
		case "full":
			return wd + ", " + strconv.Itoa(day) + of + m + of + strconv.Itoa(year), nil
		case "time":
			return d.Format("15:04"), nil
		case "datetime":
			return strconv.Itoa(day) + of + m + yearPart + ", " + d.Format("15:04"), nil
		}
	case "en":
		yearPart := ""
		if !sameYear {
			yearPart = ", " + strconv.Itoa(year)
		}
		switch style {
		case "short":
			return d.Format("01/02/2006"), nil
		case "medium":
			return d.Format("Jan 2, 2006"), nil
		case "long":
			return d.Format("January 2") + yearPart, nil
		case "weekday":
			return d.Format("Monday, January 2") + yearPart, nil
		case "full":
			return d.Format("Monday, January 2, 2006"), nil
		case "time":
			return d.Format("3:04 PM"), nil
		case "datetime":
			return d.Format("January 2") + yearPart + ", " + d.Format("3:04 PM"), nil
		}
	}
	switch style {
	case "time":
		return d.Format("15:04"), nil
	case "datetime":
		return d.Format("2006-01-02 15:04"), nil
	}
	return d.Format(time.DateOnly), nil
}

// FormatNumber writes a number with the thousands and decimal separators
// of lang: decimals places (negative: as many as needed, at most two).
func FormatNumber(x float64, decimals int, lang string) string {
	thousands, point := separators(lang)
	return groupNumber(x, decimals, thousands, point)
}

func separators(lang string) (thousands, point string) {
	switch localeOf(lang) {
	case "en":
		return ",", "."
	case "es", "pt":
		return ".", ","
	}
	return "", "."
}

func groupNumber(x float64, decimals int, thousands, point string) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	trim := decimals < 0
	if trim {
		decimals = 2
	}
	s := strconv.FormatFloat(math.Abs(x), 'f', decimals, 64)
	whole, frac, _ := strings.Cut(s, ".")
	if trim {
		frac = strings.TrimRight(frac, "0")
	}
	var b strings.Builder
	if x < 0 && strings.Trim(s, "0.") != "" {
		b.WriteByte('-')
	}
	for i := range len(whole) {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(thousands)
		}
		b.WriteByte(whole[i])
	}
	if frac != "" {
		b.WriteString(point)
		b.WriteString(frac)
	}
	return b.String()
}

// currency is how an amount in a currency is written.
type currency struct {
	decimals int
	es, en   string // the symbol before the amount ("$ ", "US$ ", "$"); "" : the code
	suffix   string // a symbol after the amount instead (" €" in Spanish)
}

var currencies = map[string]currency{
	"COP": {decimals: 0, es: "$ "},
	"CLP": {decimals: 0, es: "$ "},
	"ARS": {decimals: 2, es: "$ "},
	"MXN": {decimals: 2, es: "$ "},
	"UYU": {decimals: 2, es: "$ "},
	"USD": {decimals: 2, es: "US$ ", en: "$"},
	"EUR": {decimals: 2, en: "€", suffix: " €"},
	"GBP": {decimals: 2, es: "£ ", en: "£"},
	"BRL": {decimals: 2, es: "R$ ", en: "R$"},
	"PEN": {decimals: 2, es: "S/ "},
	"JPY": {decimals: 0, en: "¥"},
}

func checkCurrency(code string) error {
	if len(code) != 3 || strings.ToUpper(code) != code || strings.ContainsFunc(code, func(r rune) bool { return r < 'A' || r > 'Z' }) {
		return fmt.Errorf("format_money: %q is not a currency code (three capital letters: COP, USD, EUR…)", code)
	}
	return nil
}

// FormatMoney writes an amount of a currency (an ISO 4217 code) the way a
// speaker of lang reads it: "$ 129.900" (es, COP), "COP 129,900" (en),
// "US$ 25,50" (es, USD), "$25.50" (en, USD), "25,50 €" (es, EUR).
func FormatMoney(x float64, code, lang string) (string, error) {
	if err := checkCurrency(code); err != nil {
		return "", err
	}
	c, ok := currencies[code]
	if !ok {
		c = currency{decimals: 2}
	}
	loc := localeOf(lang)
	amount := FormatNumber(math.Abs(x), c.decimals, lang)
	sign := ""
	if x < 0 && strings.Trim(amount, "0.,") != "" {
		sign = "-"
	}
	switch {
	case loc == "en" && c.en != "":
		return sign + c.en + amount, nil
	case loc != "en" && loc != "" && c.suffix != "":
		return sign + amount + c.suffix, nil
	case (loc == "es" || loc == "pt") && c.es != "":
		return sign + c.es + amount, nil
	}
	return sign + code + " " + amount, nil
}
