package flows_test

import (
	"testing"
	"time"

	"github.com/charlabot/charla/flows"
)

// TestTestsParsed checks the Go form of tests/*.yaml that the runtime runs.
func TestTestsParsed(t *testing.T) {
	bot, err := flows.LoadDir("testdata/valid/shop")
	if err != nil {
		t.Fatal(err)
	}
	tc := bot.Test("bench_size_exchange")
	if tc == nil || !tc.Exact() || tc.Lang != "es" || tc.User != "ana" || !tc.Verified || tc.Channel != "test" {
		t.Fatalf("bench test = %+v", tc)
	}
	if !tc.Now.Equal(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("now = %v", tc.Now)
	}
	mock := tc.Mocks["get_order"][0].Result.(map[string]any)
	if mock["size"] != 42 || mock["nearest_sizes"].([]any)[0] != 41 {
		t.Errorf("mock = %#v", mock)
	}
	if m := tc.Mocks["create_exchange"]; len(m) != 2 || m[1].Error != "conflict" {
		t.Errorf("create_exchange mocks = %+v", m)
	}
	if first := tc.Turns[0]; len(first.Bot) != 2 || !first.Bot[1].CheckChoices || first.Bot[1].Choices[1] != "Estado de mi pedido" {
		t.Errorf("turn 1 = %+v", first)
	}
	turn := tc.Turns[3]
	if turn.Kind != flows.TurnUser || turn.Text != "43" || turn.Slots["size"] != 43.0 || turn.Slots["order"] != "A1001" {
		t.Errorf("turn 4 = %+v", turn)
	}
	if last := tc.Turns[4]; !last.CheckFlow || last.Flow != "" || last.Status != "bot" || len(last.Bot) != 1 {
		t.Errorf("turn 5 = %+v", last)
	}
	mid := bot.Test("from_the_middle")
	if mid.Exact() || mid.Start.Flow != "order_status" || mid.Start.Slots["order"] != "A1002" || mid.Start.Profile["email"] != "ana@example.com" {
		t.Fatalf("from_the_middle = %+v %+v", mid, mid.Start)
	}
	choice, wait, ev, hola := mid.Turns[0], mid.Turns[1], mid.Turns[2], mid.Turns[3]
	if choice.Kind != flows.TurnChoice || choice.Choice != "yes" || !choice.CheckBot || len(choice.Bot) != 0 || choice.Flow != "order_status" {
		t.Errorf("choice turn = %+v", choice)
	}
	if wait.Kind != flows.TurnWait || wait.Wait != time.Minute || !wait.NoActions || wait.CheckFlow {
		t.Errorf("wait turn = %+v", wait)
	}
	if ev.Kind != flows.TurnEvent || ev.Event != "order_shipped" || ev.Data["order"] != "A1002" || ev.Says != "salió" ||
		len(ev.Bot) != 1 || ev.Bot[0].Match != flows.MatchContains || !ev.CheckFlow || ev.Flow != "" {
		t.Errorf("event turn = %+v", ev)
	}
	if len(hola.Bot) != 2 || hola.Bot[0].Regex == nil || !hola.Bot[1].CheckChoices || hola.Bot[1].Choices[1] != "Estado de mi pedido" {
		t.Errorf("last turn = %+v", hola)
	}
}
