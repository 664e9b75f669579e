package engine

import (
	"encoding/json"
	"reflect"
	"time"
)

// Var is a named value: a slot or a flow variable. Values are held in their
// canonical Go representation (see [Kind]): string, float64, int, bool,
// time.Time, []any, map[string]any, or nil. The runtime never modifies a
// value in place, so values may be shared between copies of a session.
type Var struct {
	Name  string
	Value any
}

// Vars is an ordered set of variables: the order is the order in which they
// were first set, which the runtime uses to undo what followed a correction.
// Flows hold a handful of variables, so a slice beats a map in time and heap.
type Vars []Var

// Get returns the value of name and whether it is set.
func (vs Vars) Get(name string) (any, bool) {
	for i := range vs {
		if vs[i].Name == name {
			return vs[i].Value, true
		}
	}
	return nil, false
}

// Index returns the position of name, or -1.
func (vs Vars) Index(name string) int {
	for i := range vs {
		if vs[i].Name == name {
			return i
		}
	}
	return -1
}

// Set gives name the value v, keeping its position when it is already set.
func (vs *Vars) Set(name string, v any) {
	for i := range *vs {
		if (*vs)[i].Name == name {
			(*vs)[i].Value = v
			return
		}
	}
	*vs = append(*vs, Var{name, v})
}

// Delete removes name.
func (vs *Vars) Delete(name string) {
	if i := vs.Index(name); i >= 0 {
		*vs = append((*vs)[:i], (*vs)[i+1:]...)
	}
}

// Map returns the variables as a map (nil values included).
func (vs Vars) Map() map[string]any {
	m := make(map[string]any, len(vs))
	for _, v := range vs {
		m[v.Name] = v.Value
	}
	return m
}

// Clone returns a copy of vs that can be changed without changing vs.
func (vs Vars) Clone() Vars {
	if vs == nil {
		return nil
	}
	return append(make(Vars, 0, len(vs)), vs...)
}

// NormalizeValue turns any Go value into its canonical representation:
// integers of every size become int, float32 becomes float64, slices and
// maps become []any and map[string]any, json.Number a number, and anything
// else (structs) goes through JSON. Registered Go actions may return what is
// convenient for them; the runtime normalises it before storing it.
func NormalizeValue(v any) any {
	switch x := v.(type) {
	case nil, string, float64, int, bool:
		return v
	case time.Time:
		return x
	case []any:
		var out []any
		for i, e := range x {
			n := NormalizeValue(e)
			if out == nil && !sameValue(n, e) {
				out = make([]any, len(x))
				copy(out, x[:i])
			}
			if out != nil {
				out[i] = n
			}
		}
		if out == nil {
			return x
		}
		return out
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			n := NormalizeValue(e)
			if out == nil && !sameValue(n, e) {
				out = make(map[string]any, len(x))
				for k2, e2 := range x {
					out[k2] = e2
				}
			}
			if out != nil {
				out[k] = n
			}
		}
		if out == nil {
			return x
		}
		return out
	case int8:
		return int(x)
	case int16:
		return int(x)
	case int32:
		return int(x)
	case int64:
		return int(x)
	case uint:
		return int(x)
	case uint8:
		return int(x)
	case uint16:
		return int(x)
	case uint32:
		return int(x)
	case uint64:
		return int(x)
	case float32:
		return float64(x)
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return int(n)
		}
		f, _ := x.Float64()
		return f
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, s := range x {
			out[k] = s
		}
		return out
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		return NormalizeValue(rv.Elem().Interface())
	case reflect.String:
		return rv.String()
	case reflect.Bool:
		return rv.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = NormalizeValue(rv.Index(i).Interface())
		}
		return out
	case reflect.Map:
		if rv.Type().Key().Kind() == reflect.String {
			out := make(map[string]any, rv.Len())
			it := rv.MapRange()
			for it.Next() {
				out[it.Key().String()] = NormalizeValue(it.Value().Interface())
			}
			return out
		}
	}
	// Structs and the rest: through JSON, as an HTTP action's result would be.
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return nil
	}
	return NormalizeValue(out)
}

// sameValue reports whether a normalised value is the very same as before
// (only scalars can be compared cheaply; containers are assumed changed when
// their identity differs).
func sameValue(a, b any) bool {
	switch a.(type) {
	case nil, string, float64, int, bool:
		return a == b
	case time.Time:
		bt, ok := b.(time.Time)
		return ok && a.(time.Time).Equal(bt)
	case []any:
		bs, ok := b.([]any)
		as := a.([]any)
		return ok && len(as) == len(bs) && (len(as) == 0 || &as[0] == &bs[0])
	case map[string]any:
		bm, ok := b.(map[string]any)
		return ok && reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(bm).UnsafePointer()
	}
	return false
}

// ValuesEqual reports whether two canonical values are equal (numbers of
// either representation compare by value).
func ValuesEqual(a, b any) bool {
	switch x := a.(type) {
	case float64:
		switch y := b.(type) {
		case float64:
			return x == y
		case int:
			return x == float64(y)
		}
		return false
	case int:
		switch y := b.(type) {
		case float64:
			return float64(x) == y
		case int:
			return x == y
		}
		return false
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !ValuesEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !ValuesEqual(v, w) {
				return false
			}
		}
		return true
	}
	return a == b
}
