package entity

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/charlabot/charla/engine"
)

// Monday 23 November 2026, 10:00 UTC.
var now = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func day(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }

// find returns the first entity named name in text.
func find(t *testing.T, x *Extractor, text, name string, expect ...string) (engine.Entity, bool) {
	t.Helper()
	for _, e := range x.Extract(text, now, expect) {
		if e.Entity == name {
			if got := string([]rune(text)[e.Start:e.End]); got != e.Text {
				t.Errorf("%q: %s text %q does not match its offsets (%q)", text, name, e.Text, got)
			}
			return e, true
		}
	}
	return engine.Entity{}, false
}

func mustNew(t *testing.T, lang string, custom []*engine.EntityData, opt Options) *Extractor {
	t.Helper()
	x, err := New(lang, custom, opt)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestBuiltins(t *testing.T) {
	es := mustNew(t, "es", nil, Options{})
	en := mustNew(t, "en", nil, Options{})
	tests := []struct {
		x      *Extractor
		text   string
		entity string
		value  any
		span   string // the entity's text
	}{
		// numbers
		{es, "quiero 3 pares", "number", 3.0, "3"},
		{es, "la talla cuarenta y tres", "number", 43.0, "cuarenta y tres"},
		{es, "veintidós", "number", 22.0, "veintidós"},
		{es, "dos mil quinientos", "number", 2500.0, "dos mil quinientos"},
		{es, "ciento cinco", "number", 105.0, "ciento cinco"},
		{es, "son 50.000", "number", 50000.0, "50.000"},
		{es, "mide 9,5", "number", 9.5, "9,5"},
		{es, "unos 5 mil", "number", 5000.0, "5 mil"},
		{en, "forty-three", "number", 43.0, "forty-three"},
		{en, "one hundred and five", "number", 105.0, "one hundred and five"},
		{en, "1,500 units", "number", 1500.0, "1,500"},
		{en, "12.50", "number", 12.5, "12.50"},
		// money
		{es, "me cobraron $50.000", "money", map[string]any{"amount": 50000.0, "currency": "USD"}, "$50.000"},
		{es, "son 20 dólares", "money", map[string]any{"amount": 20.0, "currency": "USD"}, "20 dólares"},
		{es, "30€", "money", map[string]any{"amount": 30.0, "currency": "EUR"}, "30€"},
		{es, "pagué 45 soles", "money", map[string]any{"amount": 45.0, "currency": "PEN"}, "45 soles"},
		{en, "it was USD 19.99", "money", map[string]any{"amount": 19.99, "currency": "USD"}, "USD 19.99"},
		// email and phone
		{es, "mi correo es Ana.Perez@Mail.com", "email", "ana.perez@mail.com", "Ana.Perez@Mail.com"},
		{es, "llamame al +57 300 123 4567", "phone", "+573001234567", "+57 300 123 4567"},
		{en, "call (555) 123-4567", "phone", "5551234567", "(555) 123-4567"},
		// dates (now: Monday 23 November 2026)
		{es, "llega mañana", "date", day(11, 24), "mañana"},
		{es, "pasado mañana", "date", day(11, 25), "pasado mañana"},
		{es, "hoy no", "date", day(11, 23), "hoy"},
		{es, "ayer", "date", day(11, 22), "ayer"},
		{es, "el viernes", "date", day(11, 27), "el viernes"},
		{es, "el lunes", "date", day(11, 30), "el lunes"},
		{es, "el lunes pasado", "date", day(11, 16), "el lunes pasado"},
		{es, "en 3 días", "date", day(11, 26), "en 3 días"},
		{es, "hace 2 días", "date", day(11, 21), "hace 2 días"},
		{es, "el 15 de diciembre", "date", day(12, 15), "15 de diciembre"},
		{es, "el 05/12", "date", day(12, 5), "05/12"},
		{es, "mañana a las 3 pm", "date", time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC), "mañana a las 3 pm"},
		{en, "next Friday", "date", day(11, 27), "next Friday"},
		{en, "tomorrow at 5pm", "date", time.Date(2026, 11, 24, 17, 0, 0, 0, time.UTC), "tomorrow at 5pm"},
		{en, "on December 3rd", "date", day(12, 3), "December 3rd"},
		{en, "12/05", "date", day(12, 5), "12/05"},
		{en, "3 days ago", "date", day(11, 20), "3 days ago"},
		// order ids
		{es, "mi pedido A1002", "order_id", "A1002", "A1002"},
		{es, "el #b6642 no llega", "order_id", "B6642", "#b6642"},
		{en, "where's my order # C1234?", "order_id", "C1234", "# C1234"},
		// sizes
		{es, "talla 42", "size", 42.0, "42"},
		{es, "quiero la 43", "size", 43.0, "43"},
		{es, "el talle 38.5", "size", 38.5, "38.5"},
		{es, "talla M", "size", "M", "M"},
		{es, "una XL por favor", "size", "XL", "XL"},
		{es, "talla cuarenta y dos", "size", 42.0, "cuarenta y dos"},
		{en, "9.5 US", "size", "US 9.5", "9.5 US"},
		{en, "size US 10", "size", "US 10", "US 10"},
		{en, "a size medium", "size", "M", "medium"},
		{en, "UK 8 please", "size", "UK 8", "UK 8"},
		// booleans
		{es, "sí", "boolean", true, "sí"},
		{es, "si", "boolean", true, "si"},
		{es, "claro", "boolean", true, "claro"},
		{es, "dale", "boolean", true, "dale"},
		{es, "de una", "boolean", true, "de una"},
		{es, "ok", "boolean", true, "ok"},
		{es, "siii", "boolean", true, "siii"},
		{es, "sí, esa es la dirección", "boolean", true, "sí"},
		{es, "sí, gracias", "boolean", true, "sí"},
		{es, "nop", "boolean", false, "nop"},
		{es, "no", "boolean", false, "no"},
		{es, "no gracias", "boolean", false, "no gracias"},
		{es, "nel", "boolean", false, "nel"},
		{es, "para nada", "boolean", false, "para nada"},
		{en, "yes", "boolean", true, "yes"},
		{en, "yep", "boolean", true, "yep"},
		{en, "sure thing", "boolean", true, "sure"},
		{en, "nah", "boolean", false, "nah"},
		{en, "nope", "boolean", false, "nope"},
		{en, "👍", "boolean", true, "👍"},
	}
	for _, tt := range tests {
		e, ok := find(t, tt.x, tt.text, tt.entity)
		if !ok {
			t.Errorf("%s %q: no %s in %v", tt.x.lang, tt.text, tt.entity, tt.x.Extract(tt.text, now, nil))
			continue
		}
		if !reflect.DeepEqual(e.Value, tt.value) || e.Text != tt.span {
			t.Errorf("%s %q: %s = %v (%q), want %v (%q)", tt.x.lang, tt.text, tt.entity, e.Value, e.Text, tt.value, tt.span)
		}
	}
}

func TestNotEntities(t *testing.T) {
	es := mustNew(t, "es", nil, Options{})
	tests := []struct{ text, entity string }{
		{"si compro hoy, cuándo llega?", "boolean"}, // "si" = if
		{"ok gracias", "boolean"},                   // thanks, not a yes (the datasets' labelling rule)
		{"vale, chao!", "boolean"},                  // a goodbye
		{"ok thanks", "boolean"},                    // thanks
		{"perfecto muchas gracias", "boolean"},
		{"no me llegó el pedido y quiero saber", ""},
		{"tengo 3 hijos", "size"},
		{"el 2x1 no me salió", "number"},
		{"pedido A1002", "number"},
		{"por la mañana", "date"},
		{"llamame 3001234567", "number"},
		{"43", "size"}, // a bare number is a size only when the bot asked for one
	}
	for _, tt := range tests {
		if tt.entity == "" {
			continue
		}
		if e, ok := find(t, es, tt.text, tt.entity); ok {
			t.Errorf("%q: unexpected %s %v (%q)", tt.text, tt.entity, e.Value, e.Text)
		}
	}
}

func TestExpect(t *testing.T) {
	es := mustNew(t, "es", nil, Options{})
	if e, ok := find(t, es, "43", "size", engine.EntitySize); !ok || e.Value != 43.0 {
		t.Errorf("bare 43 with Expect size: %v %v", e, ok)
	}
	if e, ok := find(t, es, "m", "size", engine.EntitySize); !ok || e.Value != "M" {
		t.Errorf("bare m with Expect size: %v %v", e, ok)
	}
	if e, ok := find(t, es, "bueno, pero si", "boolean", engine.EntityBoolean); !ok || e.Value != true {
		t.Errorf("expected boolean: %v %v", e, ok)
	}
	if e, ok := find(t, es, "ok gracias", "boolean", engine.EntityBoolean); ok {
		t.Errorf("ok gracias at a yes/no question: %v", e)
	}
}

func TestOrderPattern(t *testing.T) {
	x := mustNew(t, "es", nil, Options{OrderPattern: `\d{3}-\d{6}`})
	if e, ok := find(t, x, "mi orden es #123-456789", "order_id"); !ok || e.Value != "123-456789" {
		t.Errorf("custom order id: %v %v", e, ok)
	}
	if _, err := New("es", nil, Options{OrderPattern: "("}); err == nil {
		t.Error("a bad pattern must be an error")
	}
}

func TestCurrency(t *testing.T) {
	x := mustNew(t, "es", nil, Options{Currency: "cop"})
	e, _ := find(t, x, "cuesta 120 mil pesos", "money")
	if want := map[string]any{"amount": 120000.0, "currency": "COP"}; !reflect.DeepEqual(e.Value, want) {
		t.Errorf("money = %v, want %v", e.Value, want)
	}
	e, _ = find(t, x, "$25.000", "money")
	if want := map[string]any{"amount": 25000.0, "currency": "COP"}; !reflect.DeepEqual(e.Value, want) {
		t.Errorf("money = %v, want %v", e.Value, want)
	}
}

func TestCustomEntities(t *testing.T) {
	custom := []*engine.EntityData{
		{Name: "product", Fuzzy: true, Values: []engine.EntityValue{
			{Value: "tenis", Synonyms: []string{"zapatillas", "sneakers", "championes", "zapatillas de running"}},
			{Value: "botas", Synonyms: []string{"botines"}},
		}},
		{Name: "color", Values: []engine.EntityValue{{Value: "rojo", Synonyms: []string{"colorado"}}}},
		{Name: "dni", Pattern: regexp.MustCompile(`\b\d{8}[A-Z]\b`)},
	}
	x := mustNew(t, "es", custom, Options{})
	tests := []struct{ text, entity, value, span string }{
		{"quiero cambiar mis zapatillas", "product", "tenis", "zapatillas"},
		{"las zapatilas talla 42", "product", "tenis", "zapatilas"},                 // typo
		{"unas zapatillas de running", "product", "tenis", "zapatillas de running"}, // longest synonym
		{"las Botínes", "product", "botas", "Botínes"},
		{"los championes", "product", "tenis", "championes"},
		{"el colorado", "color", "rojo", "colorado"},
		{"mi DNI es 12345678Z", "dni", "12345678Z", "12345678Z"},
	}
	for _, tt := range tests {
		e, ok := find(t, x, tt.text, tt.entity)
		if !ok || e.Value != tt.value || e.Text != tt.span {
			t.Errorf("%q: %s = %v (%q), want %q (%q)", tt.text, tt.entity, e.Value, e.Text, tt.value, tt.span)
		}
	}
	if _, ok := find(t, x, "el colorad", "color"); ok {
		t.Error("a lookup without fuzzy matching must not accept typos")
	}
}

func TestOffsetsAreCodePoints(t *testing.T) {
	x := mustNew(t, "es", nil, Options{})
	text := "¡Hólá! 😀 mi pedido #A1002, talla 43 para mañana"
	for _, e := range x.Extract(text, now, nil) {
		if got := string([]rune(text)[e.Start:e.End]); got != e.Text {
			t.Errorf("%s: text %q, offsets give %q", e.Entity, e.Text, got)
		}
	}
}

func TestBadInput(t *testing.T) {
	x := mustNew(t, "", nil, Options{})
	inputs := []string{"", " ", "\x00\xff\xfe\xfd", strings.Repeat("43 ", 40000), strings.Repeat("😀", 5000), "مرحبا 你好 hola привет 42",
		"@@@@", "#", "$", "+", "----", "1e309", "99999999999999999999999999999", "mil mil mil millones", "a las", "el"}
	for _, in := range inputs {
		es := x.Extract(in, now, []string{"size", "boolean"})
		for _, e := range es {
			if e.End < e.Start || e.End > utf8.RuneCountInString(strings.ToValidUTF8(in, "\uFFFD"))+1 {
				t.Errorf("%.20q: bad span %v", in, e)
			}
		}
	}
}

func FuzzExtract(f *testing.F) {
	for _, s := range []string{"talla 43", "mañana a las 3pm", "$50.000", "cuarenta y tres", "#A1002", "9.5 US", "sí", "a@b.co", "+57 300 1234567",
		"una mesa para dos", "cada uno", "the blue one", "el 15", "el sábado 28 a las 9", "on the 1st of next month", "el 3 del mes que viene", "15"} {
		f.Add(s)
	}
	// what the pending question expects, by the text's length
	expects := [][]string{{"size", "boolean"}, {"date"}, {"number"}, {"size", "date"}, nil}
	x, _ := New("es", []*engine.EntityData{{Name: "p", Fuzzy: true, Values: []engine.EntityValue{{Value: "tenis", Synonyms: []string{"zapatillas"}}}}}, Options{})
	f.Fuzz(func(t *testing.T, s string) {
		rs := []rune(s)
		for _, e := range x.Extract(s, now, expects[len(s)%len(expects)]) {
			if e.Start < 0 || e.End > len(rs) || e.Start > e.End {
				t.Fatalf("%q: span %d-%d out of %d", s, e.Start, e.End, len(rs))
			}
			if string(rs[e.Start:e.End]) != e.Text {
				t.Fatalf("%q: text %q != offsets", s, e.Text)
			}
		}
	})
}

func ExampleExtractor_Extract() {
	x, _ := New("es", nil, Options{})
	monday := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for _, e := range x.Extract("quiero cambiar el pedido #A1002 por la talla cuarenta y tres, llega mañana?", monday, nil) {
		fmt.Printf("%s %v %q\n", e.Entity, e.Value, e.Text)
	}
	// Output:
	// order_id A1002 "#A1002"
	// number 43 "cuarenta y tres"
	// size 43 "cuarenta y tres"
	// date 2026-11-24 00:00:00 +0000 UTC "mañana"
}

// numbersIn returns the values of the numbers x reads in text.
func numbersIn(x *Extractor, text string, expect []string) []float64 {
	var out []float64
	for _, e := range x.Extract(text, now, expect) {
		if e.Entity == engine.EntityNumber {
			out = append(out, e.Value.(float64))
		}
	}
	return out
}

// TestOneIsNotAlwaysANumber: "un", "una", "one" are the number 1 only when
// nothing is counted after them or what is counted is a quantity noun; a
// determiner before any other noun is a number only as the answer to a
// number question with no other number; a pronoun never is.
func TestOneIsNotAlwaysANumber(t *testing.T) {
	x := mustNew(t, "", nil, Options{})
	asked := []string{engine.EntityNumber}
	tests := []struct {
		text   string
		expect []string
		want   []float64 // nil: no number
	}{
		// a number: alone, at the end, before a word that is no noun, or a quantity noun
		{"una", nil, []float64{1}},
		{"uno", nil, []float64{1}},
		{"solo una", nil, []float64{1}},
		{"para uno", nil, []float64{1}},
		{"una persona", nil, []float64{1}},
		{"mesa para una persona", nil, []float64{1}},
		{"un adulto y dos niños", nil, []float64{1, 2}},
		{"una, por favor", nil, []float64{1}},
		{"una por favor", nil, []float64{1}},
		{"una sola", nil, []float64{1}},
		{"una sola persona", nil, []float64{1}},
		{"una más", nil, []float64{1}},
		{"una o dos", nil, []float64{1, 2}},
		{"una para mí", nil, []float64{1}},
		{"quiero uno rojo", nil, []float64{1}},
		{"uno de esos", nil, []float64{1}},
		{"a la una", nil, []float64{1}},
		{"cuarenta y una", nil, []float64{41}},
		{"treinta y un", nil, []float64{31}},
		{"cuarenta y una mesas", nil, []float64{41}},
		{"treinta y un días", nil, []float64{31}},
		{"dos y un zapato", nil, []float64{2}},
		{"veintiuna", nil, []float64{21}},
		{"un millón", nil, []float64{1e6}},
		{"una noche", nil, []float64{1}},
		{"cuesta un dólar", nil, []float64{1}},
		{"one", nil, []float64{1}},
		{"just one", nil, []float64{1}},
		{"table for one", nil, []float64{1}},
		{"one person", nil, []float64{1}},
		{"one more", nil, []float64{1}},
		{"one of them", nil, []float64{1}},
		{"one or two", nil, []float64{1, 2}},
		{"a hundred", nil, []float64{100}},
		{"forty-one", nil, []float64{41}},
		{"twenty one guests", nil, []float64{21}},
		// a determiner: no number
		{"quiero reservar una mesa", nil, nil},
		{"una mesa para esta noche", nil, nil},
		{"tengo un código", nil, nil},
		{"un poco", nil, nil},
		{"una pregunta", nil, nil},
		{"una vez", nil, nil},
		{"una sola mesa", nil, nil},
		{"una más barata", nil, nil},
		{"una mesa para dos", nil, []float64{2}},
		{"un 10% de descuento", nil, []float64{10}},
		{"one table for four", nil, []float64{4}},
		{"a table for two", nil, []float64{2}},
		{"I have a question", nil, nil},
		{"an hour", nil, nil},
		// a pronoun: never a number
		{"cada uno", nil, nil},
		{"cada una", asked, nil},
		{"the blue one", nil, nil},
		{"this one", asked, nil},
		{"which one?", nil, nil},
		{"no one", nil, nil},
		{"the other one", nil, nil},
		{"this is one", nil, []float64{1}},
		{"that's just one", nil, []float64{1}},
		{"una x favor", nil, []float64{1}},
		// the answer to a number question
		{"una camisa", asked, []float64{1}},
		{"un adulto", asked, []float64{1}},
		{"one table", asked, []float64{1}},
		{"una mesa para dos", asked, []float64{2}},
		{"una", asked, []float64{1}},
		// a later question's number (the pending one asks a date) does not count
		{"mañana, una mesa en la terraza", []string{engine.EntityDate, engine.EntityNumber}, nil},
	}
	for _, tt := range tests {
		if got := numbersIn(x, tt.text, tt.expect); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q (expect %v): numbers %v, want %v", tt.text, tt.expect, got, tt.want)
		}
	}
}

// TestDayOfMonth: a day without its month is the next such day; a bare
// "el 15" is one only when a date is expected.
func TestDayOfMonth(t *testing.T) {
	es := mustNew(t, "es", nil, Options{})
	en := mustNew(t, "en", nil, Options{})
	date := []string{engine.EntityDate}
	at := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 10, 0, 0, 0, time.UTC) }
	midnight := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	nov23 := now // Monday 23 November 2026
	tests := []struct {
		x      *Extractor
		now    time.Time
		text   string
		expect []string
		want   time.Time // zero: no date
		span   string
	}{
		// a date is expected
		{es, nov23, "el 15", date, midnight(2026, 12, 15), "el 15"},
		{es, nov23, "el 23", date, midnight(2026, 11, 23), "el 23"}, // today has not passed
		{es, nov23, "el 24", date, midnight(2026, 11, 24), "el 24"},
		{es, nov23, "para el 3", date, midnight(2026, 12, 3), "el 3"},
		{es, nov23, "el 30", date, midnight(2026, 11, 30), "el 30"},
		{es, nov23, "el 15", date, midnight(2026, 12, 15), "el 15"},
		{es, nov23, "15", date, midnight(2026, 12, 15), "15"},
		{es, nov23, "el 15 a las 8 pm", date, time.Date(2026, 12, 15, 20, 0, 0, 0, time.UTC), "el 15 a las 8 pm"},
		{es, nov23, "del 15 al 20", date, midnight(2026, 12, 15), "del 15"},
		{es, nov23, "el 1º", date, midnight(2026, 12, 1), "el 1º"},
		{en, nov23, "the 15th", date, midnight(2026, 12, 15), "the 15th"},
		{en, nov23, "on the 1st", date, midnight(2026, 12, 1), "on the 1st"},
		{en, nov23, "15th", date, midnight(2026, 12, 15), "15th"},
		{en, nov23, "on the 24", date, midnight(2026, 11, 24), "on the 24"},
		// month ends: the next month that has the day
		{es, nov23, "el 31", date, midnight(2026, 12, 31), "el 31"},            // November has 30
		{es, at(2026, 11, 5), "el 31", date, midnight(2026, 12, 31), "el 31"},  // not passed, but November has no 31st
		{es, at(2027, 1, 31), "el 31", date, midnight(2027, 1, 31), "el 31"},   // today
		{es, at(2027, 2, 1), "el 31", date, midnight(2027, 3, 31), "el 31"},    // February has no 31st
		{es, at(2027, 2, 10), "el 29", date, midnight(2027, 3, 29), "el 29"},   // nor a 29th in 2027
		{es, at(2028, 2, 10), "el 29", date, midnight(2028, 2, 29), "el 29"},   // but in 2028
		{es, at(2026, 12, 20), "el 5", date, midnight(2027, 1, 5), "el 5"},     // next year
		{es, at(2026, 4, 30), "el 31", date, midnight(2026, 5, 31), "el 31"},   // April has 30
		{es, at(2026, 1, 31), "el 30", date, midnight(2026, 3, 30), "el 30"},   // February has no 30th
		{es, at(2026, 12, 31), "el 31", date, midnight(2026, 12, 31), "el 31"}, // today
		{es, at(2026, 12, 31), "el 30", date, midnight(2027, 1, 30), "el 30"},  // next year
		{es, nov23, "el 31 de este mes", nil, time.Time{}, ""},                 // November has no 31st
		{es, nov23, "el 31 del mes que viene", nil, midnight(2026, 12, 31), "el 31 del mes que viene"},
		// with a cue it is a date when none is expected
		{es, nov23, "el día 15", nil, midnight(2026, 12, 15), "el día 15"},
		{es, nov23, "reservar para el 15 de este mes", nil, midnight(2026, 11, 15), "el 15 de este mes"}, // said: this month's
		{es, nov23, "el 3 del mes que viene", nil, midnight(2026, 12, 3), "el 3 del mes que viene"},
		{es, nov23, "el 3 del próximo mes", nil, midnight(2026, 12, 3), "el 3 del próximo mes"},
		{es, nov23, "el sábado 28", nil, midnight(2026, 11, 28), "el sábado 28"},
		{es, nov23, "una mesa para el viernes 4 a las 9", nil, time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC), "el viernes 4 a las 9"},
		{en, nov23, "book a table for two on the 15th", nil, midnight(2026, 12, 15), "on the 15th"},
		{en, nov23, "the 15th of next month", nil, midnight(2026, 12, 15), "the 15th of next month"},
		{en, nov23, "Saturday the 28th", nil, midnight(2026, 11, 28), "Saturday the 28th"},
		// no date: none expected and no cue, or not a day
		{es, nov23, "el 15", nil, time.Time{}, ""},
		{es, nov23, "15", nil, time.Time{}, ""},
		{en, nov23, "the 15th", nil, time.Time{}, ""},
		{es, nov23, "la 43", date, time.Time{}, ""},
		{es, nov23, "el 32", date, time.Time{}, ""},
		{es, nov23, "el 0", date, time.Time{}, ""},
		{es, nov23, "el 15%", date, time.Time{}, ""},
		{es, nov23, "$15", date, time.Time{}, ""},
		{es, nov23, "el 15.5", date, time.Time{}, ""},
		{es, nov23, "el #15", date, time.Time{}, ""},
		{es, nov23, "el 115", date, time.Time{}, ""},
		// a size expected before the date: the size question's "el 20"
		{es, nov23, "el 20", []string{engine.EntitySize, engine.EntityDate}, time.Time{}, ""},
		{es, nov23, "el 20", []string{engine.EntityDate, engine.EntitySize}, midnight(2026, 12, 20), "el 20"},
	}
	for _, tt := range tests {
		var got engine.Entity
		for _, e := range tt.x.Extract(tt.text, tt.now, tt.expect) {
			if e.Entity == engine.EntityDate {
				got = e
				break
			}
		}
		var v time.Time
		if got.Value != nil {
			v = got.Value.(time.Time)
		}
		if !v.Equal(tt.want) || (tt.span != "" && got.Text != tt.span) {
			t.Errorf("%s %q on %s (expect %v): date %v %q, want %v %q", tt.x.lang, tt.text, tt.now.Format("2006-01-02"), tt.expect, v, got.Text, tt.want, tt.span)
		}
	}
}
