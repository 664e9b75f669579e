package engine_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charlabot/charla/engine"
)

func TestFormatDate(t *testing.T) {
	bogota := time.FixedZone("COT", -5*3600)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, bogota)
	d := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)    // a date (Wednesday)
	next := time.Date(2027, 1, 6, 0, 0, 0, 0, time.UTC)   // another year
	at := time.Date(2026, 11, 25, 20, 30, 0, 0, time.UTC) // a timestamp: 15:30 in Bogotá
	for _, c := range []struct {
		d          time.Time
		style      string
		es, en, pt string
	}{
		{d, "short", "25/11/2026", "11/25/2026", "25/11/2026"},
		{d, "medium", "25 nov 2026", "Nov 25, 2026", "25 nov 2026"},
		{d, "long", "25 de noviembre", "November 25", "25 de novembro"},
		{next, "long", "6 de enero de 2027", "January 6, 2027", "6 de janeiro de 2027"},
		{d, "weekday", "miércoles 25 de noviembre", "Wednesday, November 25", "quarta-feira 25 de novembro"},
		{d, "full", "miércoles, 25 de noviembre de 2026", "Wednesday, November 25, 2026", "quarta-feira, 25 de novembro de 2026"},
		{at, "time", "15:30", "3:30 PM", "15:30"},
		{at, "datetime", "25 de noviembre, 15:30", "November 25, 3:30 PM", "25 de novembro, 15:30"},
	} {
		for lang, want := range map[string]string{"es": c.es, "en-US": c.en, "pt": c.pt} {
			got, err := engine.FormatDate(c.d, c.style, lang, now)
			if err != nil || got != want {
				t.Errorf("FormatDate(%s, %q, %s) = %q, %v; want %q", c.d, c.style, lang, got, err, want)
			}
		}
	}
	if got, _ := engine.FormatDate(d, "long", "fr", now); got != "2026-11-25" {
		t.Errorf("another language: %q, want the ISO date", got)
	}
	if _, err := engine.FormatDate(d, "largo", "es", now); err == nil {
		t.Error("an unknown style is an error")
	}
}

func TestFormatNumberAndMoney(t *testing.T) {
	for _, c := range []struct {
		x        float64
		decimals int
		es, en   string
	}{
		{129900, -1, "129.900", "129,900"},
		{1234.5, -1, "1.234,5", "1,234.5"},
		{1234.567, -1, "1.234,57", "1,234.57"},
		{-1234567.891, 2, "-1.234.567,89", "-1,234,567.89"},
		{0.004, 2, "0,00", "0.00"},
		{-0.001, -1, "0", "0"},
		{999, 0, "999", "999"},
	} {
		if got := engine.FormatNumber(c.x, c.decimals, "es"); got != c.es {
			t.Errorf("FormatNumber(%v, %d, es) = %q, want %q", c.x, c.decimals, got, c.es)
		}
		if got := engine.FormatNumber(c.x, c.decimals, "en"); got != c.en {
			t.Errorf("FormatNumber(%v, %d, en) = %q, want %q", c.x, c.decimals, got, c.en)
		}
	}
	for _, c := range []struct {
		x      float64
		code   string
		es, en string
	}{
		{129900, "COP", "$ 129.900", "COP 129,900"},
		{129900.4, "COP", "$ 129.900", "COP 129,900"},
		{-5000, "COP", "-$ 5.000", "-COP 5,000"},
		{25.5, "USD", "US$ 25,50", "$25.50"},
		{25.5, "EUR", "25,50 €", "€25.50"},
		{99.9, "BRL", "R$ 99,90", "R$99.90"},
		{1500, "CHF", "CHF 1.500,00", "CHF 1,500.00"},
	} {
		for lang, want := range map[string]string{"es": c.es, "en": c.en} {
			if got, err := engine.FormatMoney(c.x, c.code, lang); err != nil || got != want {
				t.Errorf("FormatMoney(%v, %s, %s) = %q, %v; want %q", c.x, c.code, lang, got, err, want)
			}
		}
	}
	if _, err := engine.FormatMoney(1, "pesos", "es"); err == nil {
		t.Error("a currency that is not a code is an error")
	}
}

// TestFormatFunctionsInExpressions: the functions are typed and checked
// when an expression compiles, and read the language of the turn they run
// in (the environment's lang), not of the one that compiled them.
func TestFormatFunctionsInExpressions(t *testing.T) {
	env := engine.Builtins()
	env["total"] = engine.Number
	env["qty"] = engine.Integer
	env["deadline"] = engine.Date
	env["o"] = engine.ObjectOf(nil) // fields of any type
	tm, err := engine.CompileTemplate(`{{ format_money(total, "COP") }} · {{ format_number(qty) }} · {{ format_date(deadline) }} · {{ format_date(deadline, "short") }} · {{ format_number(total / 3, 1) }}`, env)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]any{
		engine.VarLang: "es", engine.VarNow: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
		"total": 129900.0, "qty": 1200, "deadline": time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC),
	}
	for lang, want := range map[string]string{
		"es": "$ 129.900 · 1.200 · 3 de diciembre · 03/12/2026 · 43.300,0",
		"en": "COP 129,900 · 1,200 · December 3 · 12/03/2026 · 43,300.0",
	} {
		vars[engine.VarLang] = lang
		if got, err := tm.Render(vars); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", lang, got, err, want)
		}
	}
	vars[engine.VarLang] = "en"
	delete(vars, "deadline") // unset: nothing, as {{ deadline }} would print
	if got, _ := tm.Render(vars); !strings.HasSuffix(got, "1,200 ·  ·  · 43,300.0") {
		t.Errorf("unset date: %q", got)
	}
	// Checked when the bot loads.
	for src, want := range map[string]string{
		`format_date(deadline, "largo")`:      `unknown style "largo"`,
		`format_money(total, "pesos")`:        `"pesos" is not a currency code`,
		`format_money(total)`:                 "format_money takes an amount and a currency code",
		`format_date(deadline, "long", "en")`: "format_date takes a date and, optionally, a style",
		`format_date(total)`:                  "cannot use float64 as argument",
		`format_number("12")`:                 "cannot use string as argument",
		`format_date(dedline)`:                "unknown name dedline",
	} {
		_, err := engine.CompileExpr(src, env, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want an error with %q", src, err, want)
		}
	}
	// A style that is not a literal is checked when it runs; so is a value
	// of a field typed any.
	e, err := engine.CompileExpr(`format_date(o.when, o.style)`, env, engine.String)
	if err != nil {
		t.Fatal(err)
	}
	vars["o"] = map[string]any{"when": "2026-12-24", "style": "long"}
	if v, err := e.Eval(vars); err != nil || v != "December 24" {
		t.Errorf("from an object: %v, %v", v, err)
	}
	vars["o"] = map[string]any{"when": 42.0, "style": "long"}
	if _, err := e.Eval(vars); err == nil {
		t.Error("a number is not a date")
	}
	vars["o"] = map[string]any{"when": "2026-12-24", "style": "largo"}
	if _, err := e.Eval(vars); err == nil {
		t.Error("an unknown style at run time is an error")
	}
	// Programs built in Go (unchecked expressions) get the same.
	if got, err := engine.MustTemplate(`{{ format_money(total, "USD") }}`).Render(vars); err != nil || got != "$129,900.00" {
		t.Errorf("unchecked: %q, %v", got, err)
	}
}

func ExampleFormatMoney() {
	for _, lang := range []string{"es", "en"} {
		s, _ := engine.FormatMoney(129900, "COP", lang)
		fmt.Println(s)
	}
	// Output:
	// $ 129.900
	// COP 129,900
}

func ExampleFormatDate() {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	d := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	for _, lang := range []string{"es", "en"} {
		long, _ := engine.FormatDate(d, "long", lang, now)
		full, _ := engine.FormatDate(d, "full", lang, now)
		fmt.Println(long, "|", full)
	}
	// Output:
	// 25 de noviembre | miércoles, 25 de noviembre de 2026
	// November 25 | Wednesday, November 25, 2026
}
