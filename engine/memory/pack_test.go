package memory

import (
	"reflect"
	"testing"
	"time"

	"github.com/charlabot/charla/engine"
)

// TestPackKeepsEveryField sets each field of an entry in turn and checks
// that the compact form gives it back: a field added to engine.Entry and
// forgotten by pack fails here.
func TestPackKeepsEveryField(t *testing.T) {
	typ := reflect.TypeOf(engine.Entry{})
	for i := range typ.NumField() {
		e := engine.Entry{Seq: 3, At: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), From: "bot", Text: "hola"}
		f := reflect.ValueOf(&e).Elem().Field(i)
		if f.IsZero() {
			setNonZero(t, f)
		}
		p := pack(&e)
		if got := p.unpack(); !reflect.DeepEqual(got, e) {
			t.Errorf("field %s lost:\n got  %+v\n want %+v", typ.Field(i).Name, got, e)
		}
	}
}

func setNonZero(t *testing.T, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(7)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		m.SetMapIndex(reflect.ValueOf("k"), reflect.ValueOf("v").Convert(v.Type().Elem()))
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2020, 1, 1, 0, 0, 0, 0, time.FixedZone("X", 3600))))
			return
		}
		t.Fatalf("unhandled struct %s", v.Type())
	default:
		t.Fatalf("unhandled kind %s", v.Kind())
	}
}
