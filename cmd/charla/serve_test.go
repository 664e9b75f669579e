package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server's log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeRunsUntilInterrupted(t *testing.T) {
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"serve", "../../channels/server/testdata/tienda", "--addr", "127.0.0.1:0", "--data", data},
			stdio{in: strings.NewReader(""), out: &logs, err: &logs})
	}()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(logs.String(), `"msg":"serving"`); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the server did not start: %s", logs.String())
		}
	}
	cancel() // SIGINT
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not stop")
	}
	if !strings.Contains(logs.String(), `"msg":"shutting down"`) {
		t.Errorf("no shutdown logged: %s", logs.String())
	}
	if _, err := os.Stat(filepath.Join(data, "charla.db")); err != nil {
		t.Errorf("no charla.db in --data: %v", err)
	}
}

func TestServeBadInvocations(t *testing.T) {
	broken := t.TempDir()
	os.WriteFile(filepath.Join(broken, "bot.yaml"), []byte("name: roto\nlanguages: [es]\n"), 0o644)
	os.MkdirAll(filepath.Join(broken, "flows"), 0o755)
	os.WriteFile(filepath.Join(broken, "flows", "main.yaml"), []byte("flow: main\nsteps:\n  - goto: nowhere\n"), 0o644)
	tests := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"serve"}, 2, "usage: charla serve DIR"},
		{[]string{"serve", "a", "b"}, 2, "usage: charla serve DIR"},
		{[]string{"serve", "x", "--log", "loud"}, 2, "charla serve:"},
		{[]string{"serve", filepath.Join(broken, "missing")}, 1, "charla serve:"},
		{[]string{"serve", broken, "--memory"}, 1, "main.yaml:3:"},
	}
	for _, tt := range tests {
		code, _, errs := runCmd(t, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.err) {
			t.Errorf("charla %s: exit %d, stderr %q; want %d and %q", strings.Join(tt.args, " "), code, errs, tt.code, tt.err)
		}
	}
}
