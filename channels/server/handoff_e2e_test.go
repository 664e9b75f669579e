package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/charlabot/charla/channels/server"
)

// poll waits until the JavaScript expression js is true.
func poll(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		screenshot(t, ctx, "failure-"+strings.ReplaceAll(t.Name(), "/", "-"))
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// waitChatText waits until some bubble of the web chat says text.
func waitChatText(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	js := fmt.Sprintf(`[...document.querySelectorAll('.charla-log .charla-msg .charla-text')].some(e => e.textContent === %q)`, text)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		screenshot(t, ctx, "failure-"+strings.ReplaceAll(t.Name(), "/", "-"))
		t.Fatalf("waiting for the chat to show %q: %v\nbubbles: %q", text, err, bubbles(t, ctx))
	}
}

// TestBrowserHandoff: a shopper in the web chat asks for a person; an agent
// signed in at /agent sees the conversation with its transcript and slots,
// answers; the shopper sees the answer; the agent gives the conversation
// back to the bot, which runs csat and then resumes the interrupted flow.
func TestBrowserHandoff(t *testing.T) {
	shopper := browser(t, "es-ES")
	s := start(t, server.Config{Dir: "testdata/soporte"})
	url := s.URL()

	// The shopper, halfway through a size exchange, asks for a person.
	must(t, shopper, "opening the chat", chromedp.Navigate(url+"/"))
	must(t, shopper, "the widget", chromedp.WaitVisible(chromedp.CSS(".charla-input")))
	typeMessage(t, shopper, "quiero cambiar la talla")
	waitBubble(t, shopper, "¿Cuál es tu número de pedido?")
	typeMessage(t, shopper, "A1234")
	waitBubble(t, shopper, "¿Qué talla necesitas?")
	typeMessage(t, shopper, "mejor quiero hablar con un asesor")
	waitChatText(t, shopper, "Te comunico con una persona del equipo. Un momento, por favor.")
	conv := must(t, shopper, "conversation id", chromedp.Evaluate[string](`JSON.parse(localStorage.getItem('charla:' + location.origin)).conversation`))

	// The agent signs in, in another tab.
	agent, cancel := chromedp.NewContext(shopper)
	defer cancel()
	must(t, agent, "a desktop's screen", chromedp.EmulateViewport(1280, 800))
	must(t, agent, "opening the console", chromedp.Navigate(url+"/agent/"))
	must(t, agent, "the sign-in form", chromedp.WaitVisible(chromedp.CSS("#login-agent")))
	if title := must(t, agent, "title", chromedp.Text(chromedp.CSS("#login-form h1"))); title != "Consola de agentes" {
		t.Errorf("Spanish browser, console title %q", title)
	}
	must(t, agent, "agent", chromedp.SendKeys(chromedp.CSS("#login-agent"), "ana"))
	must(t, agent, "wrong password", chromedp.SendKeys(chromedp.CSS("#login-password"), "nope"))
	must(t, agent, "sign in", chromedp.Click(chromedp.CSS("#login-submit")))
	poll(t, agent, "the refusal", `document.getElementById('login-error').textContent === 'Agente o contraseña incorrectos.'`)
	must(t, agent, "clearing", chromedp.Evaluate[string](`document.getElementById('login-password').value = ''`))
	must(t, agent, "password", chromedp.SendKeys(chromedp.CSS("#login-password"), "clave-de-prueba"))
	must(t, agent, "sign in", chromedp.Click(chromedp.CSS("#login-submit")))
	poll(t, agent, "the console", `!document.getElementById('app').hidden`)
	// Ana is available: the conversation comes to her at once.
	item := fmt.Sprintf(`#list-mine .conv-item[data-id=%q]`, conv)
	poll(t, agent, "the conversation in her list", fmt.Sprintf(`!!document.querySelector(%q)`, item))
	poll(t, agent, "the live badge", `document.getElementById('live').textContent === 'en vivo'`)
	poll(t, agent, "ana counted in her queues", `document.querySelector('#queues [data-queue=ventas] .count').textContent === '0 · 1 agentes'`)
	must(t, agent, "opening it", chromedp.Click(chromedp.CSS(item)))
	poll(t, agent, "the transcript", `[...document.querySelectorAll('#transcript .msg .text')].map(e => e.textContent).join('|').includes('quiero cambiar la talla|¿Cuál es tu número de pedido?|A1234|¿Qué talla necesitas?|mejor quiero hablar con un asesor')`)
	poll(t, agent, "the slots", `document.getElementById('slots').textContent.includes('pedidoA1234')`)
	if r := must(t, agent, "reason", chromedp.Text(chromedp.CSS("#reason"))); r != "El cliente pidió hablar con una persona" {
		t.Errorf("reason %q", r)
	}
	if w := must(t, agent, "where", chromedp.Text(chromedp.CSS("#where"))); !strings.Contains(w, "cambio › human") {
		t.Errorf("where %q", w)
	}
	waitChatText(t, shopper, "Hola, te atiende Ana.")

	// A canned reply, completed by hand.
	must(t, agent, "canned reply", chromedp.Evaluate[bool](`(() => { const c = document.getElementById('canned');
		c.value = [...c.options].find(o => o.textContent === 'saludo').value; return c.dispatchEvent(new Event('change')) })()`))
	must(t, agent, "typing", chromedp.SendKeys(chromedp.CSS("#reply-text"), " ¿Qué talla te queda bien?"))
	must(t, agent, "send", chromedp.Click(chromedp.CSS("#reply-send")))
	const reply = "Hola, soy Ana. Ya vi tu conversación. ¿Qué talla te queda bien?"
	waitChatText(t, shopper, reply)
	poll(t, agent, "the reply in the console", fmt.Sprintf(`[...document.querySelectorAll('#transcript .msg.agent .text')].some(e => e.textContent === %q)`, reply))
	if who := must(t, shopper, "who answered", chromedp.Evaluate[string](`[...document.querySelectorAll('.charla-msg')].pop().className`)); !strings.Contains(who, "agent") {
		t.Errorf("the agent's reply shows as %q", who)
	}
	// The shopper answers: the bot stays silent, the agent sees it.
	typeMessage(t, shopper, "la 42 por favor")
	poll(t, agent, "the shopper's answer", `[...document.querySelectorAll('#transcript .msg.user .text')].some(e => e.textContent === 'la 42 por favor')`)
	screenshot(t, agent, "handoff-1-console")

	// Back to the bot, with the satisfaction survey.
	if f := must(t, agent, "the flow chosen", chromedp.Value(chromedp.CSS("#release-flow"))); f != "csat" {
		t.Errorf("the release starts %q by default, want csat", f)
	}
	must(t, agent, "back to the bot", chromedp.Click(chromedp.CSS("#btn-release")))
	waitBubble(t, shopper, "¿Cómo calificarías la atención, del 1 al 5?")
	poll(t, agent, "the conversation leaves her list", fmt.Sprintf(`!document.querySelector(%q)`, item))
	typeMessage(t, shopper, "5")
	waitChatText(t, shopper, "¡Gracias por tu opinión!")
	// ...and the size exchange goes on where it was.
	waitBubble(t, shopper, "¿Qué talla necesitas?")
	typeMessage(t, shopper, "42")
	waitBubble(t, shopper, "Listo: cambio el pedido A1234 a la talla 42.")
	screenshot(t, shopper, "handoff-2-chat")
	c, err := s.Runtime().Conversation(context.Background(), conv)
	if err != nil || c.Status != "bot" || c.Slots["nota"] != nil {
		t.Errorf("conversation after: %+v %v", c, err)
	}
}
