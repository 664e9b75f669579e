package main

import (
	"strings"
	"testing"
)

// The reference shop bot's conversation tests run with the rest of the
// suite, so `go test ./...` (and CI) fails when one of them does.
func TestShopBotConversations(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the shop bot's NLU")
	}
	code, out, errs := runCharla(t, "test", "../../examples/ecommerce")
	if code != 0 || !strings.HasSuffix(out, " passed, 0 failed\n") {
		t.Fatalf("charla test examples/ecommerce: exit %d\n%s%s", code, out, errs)
	}
}

// TestSmallBotsConversations runs the conversation tests of the other bots
// of the repository, so that they keep passing as the runtime changes.
func TestSmallBotsConversations(t *testing.T) {
	for _, dir := range []string{"../../examples/hello", "../../flows/testdata/valid/shop", "../../flows/testdata/orders", "../../flows/testdata/booking"} {
		code, out, errs := runCharla(t, "test", dir)
		if code != 0 || !strings.HasSuffix(out, " passed, 0 failed\n") {
			t.Errorf("charla test %s: exit %d\n%s%s", dir, code, out, errs)
		}
	}
}
