package flows_test

import (
	"testing"
	"time"

	"github.com/charlabot/charla/flows"
)

func TestAgentsAndHandoffSettings(t *testing.T) {
	bot, err := flows.LoadFiles(map[string]string{
		"bot.yaml": `
name: tienda
languages: [es, en]
settings: {default_queue: ventas}
queues:
  ventas: {skills: [ventas], agents: [ana]}
  reclamos: {assign: manual}
agents:
  ana:
    name: Ana Pérez
    skills: [ventas, cambios]
    max_chats: 4
    lang: es
    password: "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
  desk: {token: "${DESK_TOKEN}"}
handoff:
  agent_reminder: 2m
  grace: 90s
  update_every: 30s
  leave: [cancelar, salir]
  csat: encuesta
  canned:
    saludo: {es: "Hola, soy {{ agent }}.", en: "Hi, I'm {{ agent }}."}
    pedido: "¿Tu pedido es el {{ pedido }}?"
  texts:
    queued: {es: "Vas en el lugar {{ position }}.", en: "You're number {{ position }}."}
  webhook:
    url: https://helpdesk.example.com/charla
    secret: ${HELPDESK_SECRET}
    events: [handoff.requested]
`,
		"flows/main.yaml": `
flow: encuesta
slots:
  pedido: {type: text, scope: conversation}
  nota: {type: integer}
steps:
  - ask: nota
    say: "¿Del 1 al 5?"
`,
	})
	if err != nil {
		t.Fatal(err)
	}
	p := bot.Program
	ana := p.Agent("ana")
	if ana == nil || ana.Name != "Ana Pérez" || ana.MaxChats != 4 || ana.Lang != "es" || len(ana.Skills) != 2 || ana.Password == "" {
		t.Fatalf("ana = %+v", ana)
	}
	if d := p.Agent("desk"); d == nil || d.TokenEnv != "DESK_TOKEN" || d.DisplayName() != "desk" {
		t.Fatalf("desk = %+v", d)
	}
	if !p.Queue("reclamos").Manual || p.Queue("ventas").Manual {
		t.Error("assign: manual not read")
	}
	h := p.Handoff
	if h.AgentReminder != 2*time.Minute || h.Grace != 90*time.Second || h.UpdateEvery != 30*time.Second || h.CSAT != "encuesta" || len(h.Leave) != 2 {
		t.Fatalf("handoff = %+v", h)
	}
	if len(h.Canned) != 2 || h.Canned[0].Name != "saludo" {
		t.Fatalf("canned = %+v", h.Canned)
	}
	if s, _ := h.Canned[1].Text.Render("es", "es", map[string]any{"pedido": "A1234"}); s != "¿Tu pedido es el A1234?" {
		t.Errorf("canned pedido = %q", s)
	}
	if s, _ := h.Texts["queued"].Render("en", "es", map[string]any{"position": 3}); s != "You're number 3." {
		t.Errorf("texts.queued = %q", s)
	}
	if w := h.Webhook; w == nil || w.URL != "https://helpdesk.example.com/charla" || w.SecretEnv != "HELPDESK_SECRET" || len(w.Events) != 1 {
		t.Fatalf("webhook = %+v", w)
	}
}
