package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
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
