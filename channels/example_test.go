package channels_test

import (
	"fmt"

	"github.com/charlabot/charla/channels"
	"github.com/charlabot/charla/engine"
)

// A channel without buttons gets the choices as a numbered list, and the
// shopper's answer, by number or by text, is read as the button.
func ExampleDegrade() {
	out := engine.Outbound{Conversation: "c1", Text: "¿Qué talla buscas?", Choices: []engine.OutChoice{
		{Label: "Talla 40", Value: "40"}, {Label: "Talla 42", Value: "42"},
	}}
	for _, m := range channels.Degrade(out, channels.Capabilities{MaxText: 160}) {
		fmt.Println(m.Text)
	}
	var mem channels.Choices
	mem.Remember("c1", out.Choices)
	in := engine.Inbound{Conversation: "c1", Text: "la 2"}
	fmt.Printf("%q: %v\n", in.Text, mem.Resolve(&in))
	in = engine.Inbound{Conversation: "c1", Text: "2"}
	fmt.Printf("\"2\": %v, choice %s\n", mem.Resolve(&in), in.Choice)
	// Output:
	// ¿Qué talla buscas?
	// 1. Talla 40
	// 2. Talla 42
	// "la 2": false
	// "2": true, choice 42
}

// The shop's backend signs its logged-in customer's id; the web chat and
// the REST API verify it.
func ExampleSignUser() {
	secret := []byte("the CHARLA_IDENTITY_SECRET")
	mac := channels.SignUser(secret, "cust-42")
	fmt.Println(len(mac), channels.VerifyUser(secret, "cust-42", mac), channels.VerifyUser(secret, "cust-43", mac))
	// Output: 64 true false
}
