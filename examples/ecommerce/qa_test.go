package main

import "testing"

// The conversations of the QA round over REST, with the real NLU and the
// real shop: a shopper who answers out of turn, says "dale" to a list,
// thanks in the middle of a flow and writes "ok gracias" at a yes/no
// question.
func TestConversationsOutOfTurn(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the NLU and serves HTTP")
	}
	m := start(t, t.TempDir())

	// The answer to the question a digression interrupted.
	say(t, m, "qa1", text("quiero cambiar la talla"), "¿De cuál de tus pedidos quieres cambiar la talla?")
	say(t, m, "qa1", choice("A1001"), "Tu pedido A1001 es Runner Pro en talla 42. ¿Qué talla necesitas?")
	r := say(t, m, "qa1", text("y donde esta mi pedido A1002?"), "Tu pedido A1002 va en camino", "¿Quieres que te avise por este chat cuando tu pedido avance?")
	if r.Conversation.Flow != "order_status" {
		t.Fatalf("the digression: %+v", r.Conversation)
	}
	r = say(t, m, "qa1", text("entonces la 43"), "Volviendo a tu cambio de talla…", "Cambio tu Runner Pro talla 42 por la talla 43. ¿Lo confirmo?")
	if r.Conversation.Flow != "size_exchange" || r.Conversation.Slots["size"] != "43" {
		t.Fatalf("back in the exchange: %+v", r.Conversation)
	}
	// "ok gracias" confirms nothing.
	r = say(t, m, "qa1", text("ok gracias"), "¡Con gusto! 😊", "Cambio tu Runner Pro talla 42 por la talla 43. ¿Lo confirmo?")
	if r.Conversation.Flow != "size_exchange" {
		t.Fatalf("after ok gracias: %+v", r.Conversation)
	}

	// Out of stock: "dale" to two sizes, thanks, a digression answered
	// with a new size.
	say(t, m, "qa2", text("quiero cambiar la talla del pedido A1001"), "Tu pedido A1001 es Runner Pro en talla 42. ¿Qué talla necesitas?")
	say(t, m, "qa2", text("la 44"), "No nos queda Runner Pro en talla 44 😕. Las tallas más cercanas que tenemos son: 43, 45. ¿Te sirve alguna?")
	r = say(t, m, "qa2", text("dale"), "¿Cuál prefieres: 43 o 45?")
	if len(r.Messages[0].Choices) != 2 || r.Messages[0].Choices[1].Value != "45" {
		t.Fatalf("which one: %+v", r.Messages[0].Choices)
	}
	say(t, m, "qa2", text("gracias!!"), "¡Con gusto! 😊", "No nos queda Runner Pro en talla 44 😕.")
	say(t, m, "qa2", text("y donde esta mi pedido A1002?"), "Tu pedido A1002 va en camino", "¿Quieres que te avise")
	r = say(t, m, "qa2", text("no, mejor la 45"), "Perfecto. Aquí estoy si necesitas algo más.", "Volviendo a tu cambio de talla…",
		"Cambio tu Runner Pro talla 42 por la talla 45. ¿Lo confirmo?")
	if r.Conversation.Slots["size"] != "45" {
		t.Fatalf("the size carried over: %+v", r.Conversation)
	}

	// "ok thanks" at a yes/no question in English.
	en := func(s string) map[string]any { return map[string]any{"text": s, "user": "ana", "lang": "en"} }
	say(t, m, "qa3", en("where is my order A1002?"), "Your order A1002 is on its way", "Would you like me to let you know")
	r = say(t, m, "qa3", en("ok thanks"), "You're welcome! 😊", "Your order A1002 should arrive on ")
	if r.Conversation.Slots["notifications"] == true {
		t.Fatalf("ok thanks subscribed: %+v", r.Conversation)
	}
}
