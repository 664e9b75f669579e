package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/charlabot/charla/engine"
)

func TestSchemaNewerIsRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bMeta).Put(kSchema, binary.BigEndian.AppendUint64(nil, SchemaVersion+1))
	})
	s.Close()
	_, err = Open(dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "upgrade charla") {
		t.Fatalf("err = %v", err)
	}
}

func TestMigrationRuns(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Pretend the file is from schema version 0, whose migration renames a bucket.
	s.db.Update(func(tx *bbolt.Tx) error {
		b, _ := tx.CreateBucket([]byte("legacy"))
		b.Put([]byte("k"), []byte("v"))
		return tx.Bucket(bMeta).Put(kSchema, binary.BigEndian.AppendUint64(nil, 0))
	})
	s.Close()
	migrations[0] = func(tx *bbolt.Tx) error { return tx.DeleteBucket([]byte("legacy")) }
	defer delete(migrations, 0)
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket([]byte("legacy")) != nil {
			t.Error("the migration did not run")
		}
		if v := binary.BigEndian.Uint64(tx.Bucket(bMeta).Get(kSchema)); v != SchemaVersion {
			t.Errorf("schema = %d", v)
		}
		return nil
	})
}

func TestBackupWhileServing(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // keep writing while the backup runs
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := "c" + string(rune('a'+i%26))
			s.Commit(ctx, &engine.Commit{Session: &engine.Session{ID: id, Status: engine.StatusBot, Seq: int64(i)},
				Entries: []engine.Entry{{Seq: int64(i), From: "user", Text: "hola"}}})
		}
	}()
	time.Sleep(0) // let the writer start
	var buf bytes.Buffer
	n, err := BackupFile(dir, &buf) // the store holds the file: through the socket
	close(stop)
	<-done
	if err != nil || n == 0 || int64(buf.Len()) != n {
		t.Fatalf("backup: %d bytes, %v", n, err)
	}
	out := filepath.Join(t.TempDir(), "copy.db")
	if err := writeFile(out, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := Verify(out); err != nil {
		t.Fatalf("the copy is not consistent: %v", err)
	}
	// With no process holding the file, the copy is made directly.
	s.Close()
	buf.Reset()
	if n, err := BackupFile(dir, &buf); err != nil || n == 0 {
		t.Fatalf("offline backup: %d, %v", n, err)
	}
}

func FuzzDecodeSession(f *testing.F) {
	f.Add(encodeSession(&engine.Session{ID: "c", Status: engine.StatusBot}))
	f.Add(encodeSession(&engine.Session{ID: "c1", User: "ana", Stack: []engine.Frame{{Flow: "f", Vars: engine.Vars{
		{Name: "x", Value: []any{1, 2.5, "s", map[string]any{"k": time.Unix(5, 0)}}}}}},
		Timers: []engine.Timer{{Kind: engine.TimerWait, Due: time.Unix(9, 0)}}, Recent: []engine.Delivery{{ID: "m", First: 1, Last: 2}},
		Handoff: &engine.HandoffState{Queue: "q"}}))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSession(b)
		if err != nil {
			return
		}
		// What decodes must encode and decode to the same.
		again, err := decodeSession(encodeSession(s))
		if err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
		if !bytes.Equal(encodeSession(again), encodeSession(s)) {
			t.Fatalf("not stable")
		}
	})
}

func FuzzDecodeProfile(f *testing.F) {
	f.Add(encodeProfile(&engine.Profile{ID: "ana", Vars: engine.Vars{{Name: "n", Value: 3}},
		Identities: []engine.Identity{{Channel: "web", Conversation: "c", Seen: time.Unix(1, 0)}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeProfile(b)
	})
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }

// TestEntryCodecKeepsEveryField sets each field of an entry in turn: a
// field added to engine.Entry that the codec forgets fails here.
func TestEntryCodecKeepsEveryField(t *testing.T) {
	typ := reflect.TypeOf(engine.Entry{})
	for i := range typ.NumField() {
		e := engine.Entry{Seq: 3, At: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), From: "bot", Text: "hola"}
		f := reflect.ValueOf(&e).Elem().Field(i)
		if f.IsZero() {
			setNonZero(t, f)
		}
		b, err := encodeEntry(&e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeEntry(b, 3)
		if err != nil {
			t.Fatal(err)
		}
		got.At, e.At = got.At.UTC(), e.At.UTC()
		if gb, _ := json.Marshal(got); string(gb) != string(mustJSON(e)) {
			t.Errorf("field %s lost:\n got  %s\n want %s", typ.Field(i).Name, gb, mustJSON(e))
		}
	}
	// And the first layout, JSON, is still read.
	e := engine.Entry{From: "user", Text: "hola", At: time.Unix(9, 0).UTC()}
	got, err := decodeEntry(mustJSON(e), 5)
	if err != nil || got.Text != "hola" || got.Seq != 5 {
		t.Fatalf("JSON entry: %+v %v", got, err)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
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
		n := reflect.New(v.Type().Elem())
		if n.Elem().Kind() == reflect.Struct && n.Elem().NumField() > 0 {
			setNonZero(t, n.Elem().Field(0))
		}
		v.Set(n)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		if s.Index(0).Kind() == reflect.Struct && s.Index(0).NumField() > 0 {
			setNonZero(t, s.Index(0).Field(0))
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		m.SetMapIndex(reflect.ValueOf("k"), reflect.ValueOf("v").Convert(v.Type().Elem()))
		v.Set(m)
	case reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)))
			return
		}
		if v.NumField() > 0 {
			setNonZero(t, v.Field(0))
		}
	default:
		t.Fatalf("unhandled kind %s", v.Kind())
	}
}

func FuzzDecodeEntry(f *testing.F) {
	b, _ := encodeEntry(&engine.Entry{From: "bot", Text: "hola", Choices: []engine.OutChoice{{Label: "Sí", Value: "yes"}}})
	f.Add(b)
	f.Add(encodeEvent(&engine.Event{Kind: engine.EvCSAT, Value: 5}))
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeEntry(b, 1)
		decodeEvent(b, 1)
	})
}

// TestCacheRefusesStaleFill: a reader that read a record before a commit
// replaced it does not put the old one back in the cache.
func TestCacheRefusesStaleFill(t *testing.T) {
	var c cache[engine.Session]
	c.init(64 * 2)
	old, committed := &engine.Session{ID: "c", Seq: 1}, &engine.Session{ID: "c", Seq: 2}
	got, mark := c.get("c") // a miss: the reader goes to the file
	if got != nil {
		t.Fatal("empty cache")
	}
	c.put("c", committed) // a commit lands meanwhile
	c.fill("c", old, mark)
	if got, _ := c.get("c"); got != committed {
		t.Fatalf("cache holds %+v", got)
	}
	_, mark = c.get("d")
	c.fill("d", &engine.Session{ID: "d"}, mark) // nothing written since: cached
	if got, _ := c.get("d"); got == nil {
		t.Fatal("a fill with no write since was refused")
	}
	_, mark = c.get("e")
	c.clear() // an erase
	c.fill("e", &engine.Session{ID: "e"}, mark)
	if got, _ := c.get("e"); got != nil || len(c.shards[0].m) != 0 {
		t.Fatal("a fill across a clear was kept")
	}
}
