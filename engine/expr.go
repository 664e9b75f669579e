package engine

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"
)

// Env maps the names an expression may read to their types. Expressions are
// compiled against an Env, so that an unknown name or field, or a type
// mismatch, is found when the bot loads rather than in a conversation.
type Env map[string]*Type

// Names every flow expression can read, besides the bot's slots and variables.
// The runtime fills them in on every turn.
const (
	VarUser       = "user"       // object{id, verified, channel}: who is talking
	VarLang       = "lang"       // string: the conversation's language
	VarChannel    = "channel"    // string: the channel of the last message
	VarText       = "text"       // string: the text of the last user message
	VarIntent     = "intent"     // string: the top intent of the last message, "" when none
	VarConfidence = "confidence" // number: the confidence of that intent
	VarEvent      = "event"      // object: the data of the event that started the flow
	VarNow        = "now"        // date: the current time in the bot's time zone
	VarToday      = "today"      // date: today at midnight in the bot's time zone (a date answer's "hoy")
	// VarWaiting names the flow waiting for the shopper's answer (a question
	// or a wait) when the message arrived, "" when none: a trigger guard
	// `waiting == ""` keeps a flow (a "yes" or "no" with nothing asked)
	// from starting as a digression in the middle of another.
	VarWaiting = "waiting"
	// VarSuggestions holds, in the fallback flow, the likeliest intents as
	// buttons: a list of {label, value}; pressing one starts its flow.
	VarSuggestions = "suggestions"
	// VarResumed holds, in the resume flow, the title of the flow the
	// conversation goes back to ("tu cambio de talla").
	VarResumed = "resumed"
	// VarExpected holds, in the invalid flow, what the question expects:
	// its slot's type (number, integer, boolean, choice, email, phone,
	// date, pattern, location, attachment), image or file for an
	// attachment slot that accepts only those, or choice for any question
	// whose buttons answer it (see VarOptions).
	VarExpected = "expected"
	// VarOptions holds, in the invalid flow, the options a question
	// offers as answers, listed in the conversation's language ("43, 44 o
	// 45"; expected is then "choice"), or "" when it offers none or more
	// than five.
	VarOptions = "options"
)

// ChoiceType is the type of a computed button: {label, value}.
var ChoiceType = ObjectOf(map[string]*Type{"label": String, "value": String})

// UserType is the type of the VarUser builtin.
var UserType = ObjectOf(map[string]*Type{
	"id":       String,
	"verified": Bool,
	"channel":  String,
})

// Builtins returns a fresh Env holding the names every expression can read.
func Builtins() Env {
	return Env{
		VarUser:        UserType,
		VarLang:        String,
		VarChannel:     String,
		VarText:        String,
		VarIntent:      String,
		VarConfidence:  Number,
		VarEvent:       ObjectOf(nil),
		VarNow:         Date,
		VarToday:       Date,
		VarWaiting:     String,
		VarSuggestions: ListOf(ChoiceType),
		VarResumed:     String,
		VarExpected:    String,
		VarOptions:     String,
	}
}

// Clone returns a copy of env that can be extended without changing env.
func (env Env) Clone() Env {
	c := make(Env, len(env)+8)
	for k, v := range env {
		c[k] = v
	}
	return c
}

// SourceError is a problem at a byte offset of an expression or template
// source. The flows compiler maps the offset onto the line and column of the
// YAML file that holds the source.
type SourceError struct {
	Offset int
	Msg    string
}

func (e *SourceError) Error() string { return e.Msg }

// Expr is a compiled expression in expr-lang syntax (https://expr-lang.org),
// immutable and safe for concurrent use.
type Expr struct {
	Source string
	Pos    Pos   // where the source starts in the bot's files, if known
	Type   *Type // the type of the result as far as the checker knows it
	prog   *vm.Program
}

// CompileExpr compiles src against env. When env is nil names are not
// checked (useful for programs built in Go). When want is not nil the result
// must have that type; numbers are converted between integer and number.
// Errors are *SourceError.
func CompileExpr(src string, env Env, want *Type) (*Expr, error) {
	// $env would hand the whole environment to a flow: a map the runtime
	// reuses from turn to turn, and a way around the checked names.
	if i := strings.Index(src, "$env"); i >= 0 {
		return nil, &SourceError{Offset: i, Msg: "$env is not available: name the values you need"}
	}
	locale := &localeArgs{}
	opts := []expr.Option{expr.DisableBuiltin("now"), nilSafeEquality, expr.Patch(nilSafeEq{}), expr.Patch(locale)}
	opts = append(opts, formatFuncs...)
	if env != nil {
		m := make(types.Map, len(env))
		for k, t := range env {
			m[k] = t.ExprType()
		}
		opts = append(opts, expr.Env(m))
	} else {
		// A map env (of unchecked names) lets the VM read variables straight
		// from the runtime's map instead of through reflection.
		opts = append(opts, expr.Env(map[string]any{}), expr.AllowUndefinedVariables())
	}
	if want != nil {
		switch want.Kind {
		case KindBool:
			opts = append(opts, expr.AsBool())
		case KindNumber:
			opts = append(opts, expr.AsFloat64())
		case KindInteger:
			opts = append(opts, expr.AsInt())
		case KindString:
			opts = append(opts, expr.AsKind(reflect.String))
		}
	}
	p, err := expr.Compile(src, opts...)
	if locale.err != nil { // more precise than what the checker says of the same call
		return nil, &SourceError{Offset: byteOffset(src, locale.at), Msg: locale.err.Error()}
	}
	if err != nil {
		return nil, sourceError(src, err)
	}
	e := &Expr{Source: src, prog: p, Type: typeOfReflect(p.Node().Type())}
	if want != nil {
		if want.Kind != KindAny && want.Kind != KindBool && want.Kind != KindNumber &&
			want.Kind != KindInteger && want.Kind != KindString &&
			e.Type.Kind != KindAny && e.Type.Kind != want.Kind {
			return nil, &SourceError{Msg: fmt.Sprintf("expected %s, but got %s", want, e.Type)}
		}
		if want.Kind != KindAny {
			e.Type = want
		}
	}
	return e, nil
}

// MustExpr is CompileExpr without an Env, panicking on error. It is meant
// for programs written in Go, whose expressions are constants.
func MustExpr(src string) *Expr {
	e, err := CompileExpr(src, nil, nil)
	if err != nil {
		panic("engine.MustExpr(" + strconv.Quote(src) + "): " + err.Error())
	}
	return e
}

// An unset slot or result field is nil at run time although its type is
// known (string, integer). expr compiles == and != between two strings or
// two integers to opcodes that assume both values are there, so
// `verified_order != order` would fail while verified_order is unset.
// nilSafeEq wraps one side of such a comparison in an identity function
// typed any, so the comparison is the general one: an unset value equals
// nothing but nil.
type nilSafeEq struct{}

const nilSafeFunc = "__nilsafe"

var nilSafeEquality = expr.Function(nilSafeFunc, func(p ...any) (any, error) { return p[0], nil }, new(func(any) any))

func (nilSafeEq) Visit(node *ast.Node) {
	b, ok := (*node).(*ast.BinaryNode)
	if !ok || (b.Operator != "==" && b.Operator != "!=") {
		return
	}
	l, r := b.Left.Type(), b.Right.Type()
	if l == nil || r == nil || l.Kind() != r.Kind() || (l.Kind() != reflect.String && l.Kind() != reflect.Int) {
		return
	}
	side := &b.Left
	if _, lit := b.Left.(*ast.StringNode); lit {
		side = &b.Right
	} else if _, lit := b.Left.(*ast.IntegerNode); lit {
		side = &b.Right
	}
	switch (*side).(type) {
	case *ast.StringNode, *ast.IntegerNode:
		return // two constants
	}
	*side = &ast.CallNode{Callee: &ast.IdentifierNode{Value: nilSafeFunc}, Arguments: []ast.Node{*side}}
}

var vmPool = sync.Pool{New: func() any { return new(vm.VM) }}

// Eval evaluates the expression with the given variables.
func (e *Expr) Eval(vars map[string]any) (v any, err error) {
	m := vmPool.Get().(*vm.VM)
	defer func() {
		if r := recover(); r != nil { // expr recovers most panics; never let one escape
			err = fmt.Errorf("%s: %v", e.Source, r)
		}
		vmPool.Put(m)
	}()
	v, err = m.Run(e.prog, vars)
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("%s: %s", e.Source, fe.Message)
		}
		return nil, fmt.Errorf("%s: %w", e.Source, err)
	}
	return v, nil
}

// EvalBool evaluates a condition. A result that is not a bool is an error.
func (e *Expr) EvalBool(vars map[string]any) (bool, error) {
	v, err := e.Eval(vars)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%s: expected a boolean, got %s", e.Source, describe(v))
	}
	return b, nil
}

func sourceError(src string, err error) *SourceError {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return &SourceError{Msg: err.Error()}
	}
	msg := fe.Message
	if fe.Line == 0 { // no location (e.g. a wrong result type)
		return &SourceError{Msg: msg}
	}
	// expr reports a 1-based line and a 0-based column counted in runes.
	off := 0
	for line := 1; line < fe.Line; line++ {
		i := strings.IndexByte(src[off:], '\n')
		if i < 0 {
			break
		}
		off += i + 1
	}
	for col := 0; col < fe.Column && off < len(src); col++ {
		_, size := utf8.DecodeRuneInString(src[off:])
		off += size
	}
	return &SourceError{Offset: off, Msg: msg}
}

func typeOfReflect(t reflect.Type) *Type {
	if t == nil {
		return Any
	}
	switch t.Kind() {
	case reflect.String:
		return String
	case reflect.Bool:
		return Bool
	case reflect.Float32, reflect.Float64:
		return Number
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return Integer
	case reflect.Slice, reflect.Array:
		return ListOf(typeOfReflect(t.Elem()))
	case reflect.Map:
		return ObjectOf(nil)
	case reflect.Struct:
		if t == reflect.TypeOf(time.Time{}) {
			return Date
		}
	}
	return Any
}

// Template is a text with {{ expression }} placeholders, compiled once.
type Template struct {
	Source string
	Pos    Pos
	parts  []tmplPart
}

type tmplPart struct {
	lit  string
	expr *Expr
}

// CompileTemplate compiles src, whose placeholders are compiled against env
// (nil: unchecked). Errors are *SourceError with offsets into src.
func CompileTemplate(src string, env Env) (*Template, error) {
	t := &Template{Source: src}
	rest, base := src, 0
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" {
				t.parts = append(t.parts, tmplPart{lit: rest})
			}
			return t, nil
		}
		if i > 0 {
			t.parts = append(t.parts, tmplPart{lit: rest[:i]})
		}
		start := i + 2
		end := closingBraces(rest[start:])
		if end < 0 {
			return nil, &SourceError{Offset: base + i, Msg: "unclosed {{ in text"}
		}
		code := rest[start : start+end]
		if strings.TrimSpace(code) == "" {
			return nil, &SourceError{Offset: base + i, Msg: "empty {{ }} in text"}
		}
		e, err := CompileExpr(code, env, nil)
		if err != nil {
			se := err.(*SourceError)
			return nil, &SourceError{Offset: base + start + se.Offset, Msg: se.Msg}
		}
		t.parts = append(t.parts, tmplPart{expr: e})
		next := start + end + 2
		rest, base = rest[next:], base+next
	}
}

// closingBraces returns the index of the "}}" that closes a placeholder,
// skipping string literals, or -1.
func closingBraces(s string) int {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			return i
		}
	}
	return -1
}

// MustTemplate is CompileTemplate without an Env, panicking on error.
func MustTemplate(src string) *Template {
	t, err := CompileTemplate(src, nil)
	if err != nil {
		panic("engine.MustTemplate(" + strconv.Quote(src) + "): " + err.Error())
	}
	return t
}

// Static reports whether the template has no placeholders.
func (t *Template) Static() bool {
	for _, p := range t.parts {
		if p.expr != nil {
			return false
		}
	}
	return true
}

// Exprs returns the template's placeholders in order.
func (t *Template) Exprs() []*Expr {
	var out []*Expr
	for _, p := range t.parts {
		if p.expr != nil {
			out = append(out, p.expr)
		}
	}
	return out
}

// Render fills in the placeholders.
func (t *Template) Render(vars map[string]any) (string, error) {
	if len(t.parts) == 1 && t.parts[0].expr == nil {
		return t.parts[0].lit, nil
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.expr == nil {
			b.WriteString(p.lit)
			continue
		}
		v, err := p.expr.Eval(vars)
		if err != nil {
			return "", err
		}
		b.WriteString(FormatValue(v))
	}
	return b.String(), nil
}

// FormatValue formats a value for a user: numbers without needless decimals,
// dates as YYYY-MM-DD, lists joined by ", ", nothing for nil.
func FormatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 {
			return x.Format(time.DateOnly)
		}
		return x.Format("2006-01-02 15:04")
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = FormatValue(e)
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}

// Text is a user-facing text: a template per language. The key "" holds a
// text that serves every language.
type Text map[string]*Template

// Lit returns a Text that says s in every language. s may hold placeholders
// (unchecked); it panics if they do not compile.
func Lit(s string) Text { return Text{"": MustTemplate(s)} }

// Pick returns the template for lang, else the one for every language, else
// the one for fallback (the bot's default language), else nil.
func (t Text) Pick(lang, fallback string) *Template {
	if tm, ok := t[lang]; ok {
		return tm
	}
	if tm, ok := t[""]; ok {
		return tm
	}
	return t[fallback]
}

// Render renders the text in lang (see Pick); an empty Text renders "".
func (t Text) Render(lang, fallback string, vars map[string]any) (string, error) {
	tm := t.Pick(lang, fallback)
	if tm == nil {
		return "", nil
	}
	return tm.Render(vars)
}
