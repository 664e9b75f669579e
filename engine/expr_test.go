package engine

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestCompileExprChecksNamesAndTypes(t *testing.T) {
	env := Builtins()
	env["size"] = Number
	env["o"] = ObjectOf(map[string]*Type{"days_since_delivery": Integer, "size": String})
	tests := []struct {
		src     string
		want    *Type
		errMsg  string
		errOff  int
		outKind Kind
	}{
		{src: "size >= 34 && size <= 48", want: Bool, outKind: KindBool},
		{src: "o.days_since_delivery > 30", want: Bool, outKind: KindBool},
		{src: "o.days > 30", want: Bool, errMsg: "unknown field days", errOff: 2},
		{src: "sise > 3", want: Bool, errMsg: "unknown name sise", errOff: 0},
		{src: "o.size + 1", errMsg: "invalid operation: + (mismatched types string and int)", errOff: 7},
		{src: "o.size", want: Bool, errMsg: "expected bool, but got string", errOff: 0},
		{src: "user.id + ' ' + lang", outKind: KindString},
		{src: "size * 2", want: Integer, outKind: KindInteger},
	}
	for _, tt := range tests {
		e, err := CompileExpr(tt.src, env, tt.want)
		if tt.errMsg != "" {
			var se *SourceError
			if !errors.As(err, &se) {
				t.Errorf("%q: err = %v, want SourceError %q", tt.src, err, tt.errMsg)
				continue
			}
			if se.Msg != tt.errMsg || se.Offset != tt.errOff {
				t.Errorf("%q: err = %q at %d, want %q at %d", tt.src, se.Msg, se.Offset, tt.errMsg, tt.errOff)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.src, err)
			continue
		}
		if e.Type.Kind != tt.outKind {
			t.Errorf("%q: type %s, want %s", tt.src, e.Type, tt.outKind)
		}
	}
}

func TestTemplateRender(t *testing.T) {
	env := Env{"size": Number, "o": ObjectOf(map[string]*Type{"id": String})}
	tm, err := CompileTemplate("Cambio {{ o.id }} a la talla {{ size }} {{ '}}' }}.", env)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tm.Render(map[string]any{"size": 43.0, "o": map[string]any{"id": "X1"}})
	if err != nil || got != "Cambio X1 a la talla 43 }}." {
		t.Fatalf("Render = %q, %v", got, err)
	}
	for src, off := range map[string]int{"hola {{ size ": 5, "a {{ sise }}": 5, "{{}}": 0} {
		_, err := CompileTemplate(src, env)
		var se *SourceError
		if !errors.As(err, &se) || se.Offset != off {
			t.Errorf("%q: err %v, want offset %d", src, err, off)
		}
	}
}

func TestExprRuntimeErrorDoesNotPanic(t *testing.T) {
	e := MustExpr("size >= 34")
	if _, err := e.EvalBool(map[string]any{"size": nil}); err == nil {
		t.Fatal("want an error comparing nil")
	}
}

func TestTypeCoerce(t *testing.T) {
	typ := ObjectOf(map[string]*Type{
		"days": Integer, "when": Date, "items": ListOf(ObjectOf(map[string]*Type{"n": Integer})),
	})
	v, err := typ.Coerce(map[string]any{"days": 5.0, "when": "2026-11-23", "items": []any{map[string]any{"n": 2.0}}, "extra": "x"})
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	if m["days"] != 5 || m["when"] != time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) || m["extra"] != "x" {
		t.Fatalf("Coerce = %#v", m)
	}
	if m["items"].([]any)[0].(map[string]any)["n"] != 2 {
		t.Fatalf("nested = %#v", m["items"])
	}
	if _, err := typ.Coerce(map[string]any{"days": "many"}); err == nil || err.Error() != "days: expected integer, got string" {
		t.Fatalf("err = %v", err)
	}
	// Copy on write: a value already of its type is returned as it is; one
	// that changes is copied, never changed in place.
	in := map[string]any{"days": 5, "when": time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), "items": []any{map[string]any{"n": 2}}}
	same, _ := typ.Coerce(in)
	if reflect.ValueOf(same).UnsafePointer() != reflect.ValueOf(in).UnsafePointer() {
		t.Fatal("a value of the right type was copied")
	}
	in["days"] = 6.0
	changed, _ := typ.Coerce(in)
	if in["days"] != 6.0 || changed.(map[string]any)["days"] != 6 || changed.(map[string]any)["items"].([]any)[0].(map[string]any)["n"] != 2 {
		t.Fatalf("in %v, out %v", in, changed)
	}
	missing, _ := typ.Coerce(map[string]any{"days": 1, "when": nil})
	if m := missing.(map[string]any); len(m) != 3 {
		t.Fatalf("a missing field is added as nil: %v", m)
	}
}

// An unset slot is nil at run time: == and != treat it as a value equal to
// nothing but nil, instead of failing the flow.
func TestEqualityWithUnsetValues(t *testing.T) {
	env := Builtins()
	env["a"] = String
	env["b"] = String
	env["n"] = Integer
	env["o"] = ObjectOf(map[string]*Type{"id": String, "days": Integer})
	vars := map[string]any{"b": "x", "o": map[string]any{}}
	tests := []struct {
		src  string
		want bool
	}{
		{"a == b", false},
		{"a != b", true},
		{"b != a", true},
		{`a == "x"`, false},
		{`"x" != a`, true},
		{"n == 3", false},
		{"n != 3", true},
		{"o.id == b", false},
		{"o.days != 0", true},
		{"a == nil", true},
		{"b == 'x'", true},
		{"'x' == 'x'", true},
	}
	for _, tt := range tests {
		e, err := CompileExpr(tt.src, env, Bool)
		if err != nil {
			t.Errorf("%q: %v", tt.src, err)
			continue
		}
		got, err := e.EvalBool(vars)
		if err != nil || got != tt.want {
			t.Errorf("%q = %v, %v; want %v", tt.src, got, err, tt.want)
		}
	}
	if _, err := CompileExpr("a == 3", env, Bool); err == nil {
		t.Error("comparing a string with a number compiled")
	}
}
