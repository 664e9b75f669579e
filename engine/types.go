package engine

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/types"
)

// Kind is the kind of a value that expressions, slots and action results hold.
type Kind uint8

const (
	KindAny     Kind = iota // anything; not checked
	KindString              // string
	KindNumber              // float64
	KindInteger             // int
	KindBool                // bool
	KindDate                // time.Time
	KindList                // []any
	KindObject              // map[string]any
)

var kindNames = [...]string{"any", "string", "number", "integer", "boolean", "date", "list", "object"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Type describes a value. The canonical Go representation of each kind is
// given next to the Kind constants; [Type.Coerce] turns decoded JSON into it.
//
// An object Type with nil Fields is open (any keys, any values); with Fields it
// is closed, and expressions reading an unknown field fail to compile.
type Type struct {
	Kind   Kind
	Elem   *Type            // the element type of a list (nil: any)
	Fields map[string]*Type // the fields of a closed object
}

// The scalar types.
var (
	Any     = &Type{Kind: KindAny}
	String  = &Type{Kind: KindString}
	Number  = &Type{Kind: KindNumber}
	Integer = &Type{Kind: KindInteger}
	Bool    = &Type{Kind: KindBool}
	Date    = &Type{Kind: KindDate}
)

// ListOf returns the type of a list of elem.
func ListOf(elem *Type) *Type { return &Type{Kind: KindList, Elem: elem} }

// ObjectOf returns a closed object type with the given fields; nil fields give
// an open object.
func ObjectOf(fields map[string]*Type) *Type { return &Type{Kind: KindObject, Fields: fields} }

// String formats the type, e.g. "list of object{id: string, size: integer}".
func (t *Type) String() string {
	if t == nil {
		return "any"
	}
	switch t.Kind {
	case KindList:
		if t.Elem == nil {
			return "list"
		}
		return "list of " + t.Elem.String()
	case KindObject:
		if t.Fields == nil {
			return "object"
		}
		names := make([]string, 0, len(t.Fields))
		for n := range t.Fields {
			names = append(names, n)
		}
		sort.Strings(names)
		var b strings.Builder
		b.WriteString("object{")
		for i, n := range names {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(n + ": " + t.Fields[n].String())
		}
		b.WriteString("}")
		return b.String()
	}
	return t.Kind.String()
}

// ExprType returns the type as expr-lang's checker sees it.
func (t *Type) ExprType() types.Type {
	if t == nil {
		return types.Any
	}
	switch t.Kind {
	case KindString:
		return types.String
	case KindNumber:
		return types.Float64
	case KindInteger:
		return types.Int
	case KindBool:
		return types.Bool
	case KindDate:
		return types.TypeOf(time.Time{})
	case KindList:
		return types.Array(t.Elem.ExprType())
	case KindObject:
		if t.Fields == nil {
			return types.Map{types.Extra: types.Any}
		}
		m := make(types.Map, len(t.Fields))
		for n, f := range t.Fields {
			m[n] = f.ExprType()
		}
		return m
	}
	return types.Any
}

// Coerce converts v, typically decoded from JSON, to the canonical Go
// representation of t: float64 to int for integers, RFC 3339 or YYYY-MM-DD
// strings to time.Time for dates, and so on recursively. A nil v stays nil.
// Unknown object fields are kept; a value of the wrong kind is an error.
func (t *Type) Coerce(v any) (any, error) {
	if v == nil || t == nil {
		return v, nil
	}
	switch t.Kind {
	case KindAny:
		return v, nil
	case KindString:
		switch x := v.(type) {
		case string:
			return x, nil
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		case int:
			return strconv.Itoa(x), nil
		}
	case KindNumber:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int:
			return float64(x), nil
		case int64:
			return float64(x), nil
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				return f, nil
			}
		}
	case KindInteger:
		switch x := v.(type) {
		case int:
			return x, nil
		case int64:
			return int(x), nil
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				return int(x), nil
			}
		case string:
			if n, err := strconv.Atoi(strings.TrimSpace(x)); err == nil {
				return n, nil
			}
		}
	case KindBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case KindDate:
		switch x := v.(type) {
		case time.Time:
			return x, nil
		case string:
			if d, err := ParseDate(x); err == nil {
				return d, nil
			}
		}
	case KindList:
		xs, ok := v.([]any)
		if !ok {
			break
		}
		if t.Elem == nil || t.Elem.Kind == KindAny {
			return xs, nil
		}
		var out []any // a copy only when an element changes
		for i, x := range xs {
			c, err := t.Elem.Coerce(x)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if out == nil && !sameValue(c, x) {
				out = make([]any, len(xs))
				copy(out, xs[:i])
			}
			if out != nil {
				out[i] = c
			}
		}
		if out == nil {
			return xs, nil
		}
		return out, nil
	case KindObject:
		m, ok := v.(map[string]any)
		if !ok {
			break
		}
		if t.Fields == nil {
			return m, nil
		}
		// A copy only when a field changes, or a declared one is missing
		// (it is added as nil).
		var out map[string]any
		for k, ft := range t.Fields {
			x, present := m[k]
			c, err := ft.Coerce(x)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if out == nil && (!present || !sameValue(c, x)) {
				out = make(map[string]any, len(m)+len(t.Fields))
				for k2, x2 := range m {
					out[k2] = x2
				}
			}
			if out != nil {
				out[k] = c
			}
		}
		if out == nil {
			return m, nil
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected %s, got %s", t, describe(v))
}

// ParseDate parses a date as YYYY-MM-DD or RFC 3339.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

func describe(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64, float32, int, int64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "list"
	case map[string]any:
		return "object"
	case time.Time:
		return "date"
	}
	return fmt.Sprintf("%T", v)
}
