package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestAgentPassword(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"agent-password"}, stdio{in: strings.NewReader("una clave larga\n"), out: &out, err: &errb})
	hash := strings.TrimSpace(out.String())
	if code != 0 || bcrypt.CompareHashAndPassword([]byte(hash), []byte("una clave larga")) != nil || !strings.HasPrefix(hash, "$2a$10$") {
		t.Fatalf("code %d, hash %q, stderr %q", code, hash, errb.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"agent-password"}, stdio{in: strings.NewReader("corta\n"), out: &out, err: &errb}); code != 1 || !strings.Contains(errb.String(), "at least 8") {
		t.Errorf("a short password: %d %q", code, errb.String())
	}
	if code := run(context.Background(), []string{"agent-password"}, stdio{in: strings.NewReader(""), out: &out, err: &errb}); code != 2 {
		t.Errorf("no password: %d", code)
	}
	if code := run(context.Background(), []string{"agent-password", "x"}, stdio{in: strings.NewReader("x"), out: &out, err: &errb}); code != 2 {
		t.Errorf("an argument: %d", code)
	}
}
