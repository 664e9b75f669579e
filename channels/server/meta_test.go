package server_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charlabot/charla/channels/channeltest"
	"github.com/charlabot/charla/channels/server"
)

const metaBotYAML = `name: tienda_wa
languages: [es, en]
channels:
  whatsapp: {debounce: 0}
`

const metaFlows = `flows:
  - flow: welcome
    triggers: {keywords: [hola]}
    steps:
      - say: "¿Qué talla buscas?"
        buttons:
          - {value: "40", label: "Talla 40"}
          - {value: "42", label: "Talla 42"}
      - say: "Anotada."
        end: resolved
  - flow: envio
    triggers: {events: [order_shipped]}
    steps:
      - say: "Tu pedido {{ event.order }} va en camino."
        template: {name: shipping_update, params: ["{{ event.order }}"]}
        end: resolved
`

// WhatsApp and Messenger mounted by the server from the environment, driven
// through signed webhooks against a fake Graph API: a conversation, a
// proactive message inside the window, then one refused for the window and
// sent as the flow's template, receipts on the transcript.
func TestWhatsAppAndMessenger(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "flows"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "bot.yaml"), []byte(metaBotYAML), 0o644)
	os.WriteFile(filepath.Join(dir, "flows", "main.yaml"), []byte(metaFlows), 0o644)
	api := channeltest.NewGraphAPI(t, "wa-token")
	phone := &channeltest.WhatsApp{AppSecret: "app-secret", PhoneNumberID: "106540352242922", API: api}
	page := &channeltest.Messenger{AppSecret: "app-secret", PageID: "99887766", API: api}
	vars := phone.Env()
	maps.Copy(vars, page.Env())
	s := start(t, server.Config{Dir: dir, Getenv: env(vars)})
	phone.Webhook, page.Webhook = s.URL()+"/webhooks/whatsapp", s.URL()+"/webhooks/messenger"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	ana := phone.User("573001112233", "Ana")
	if err := ana.Say(ctx, "hola"); err != nil {
		t.Fatal(err)
	}
	m, err := ana.Next(ctx)
	if err != nil || m.Text != "¿Qué talla buscas?" || strings.Join(m.Buttons, "|") != "Talla 40|Talla 42" {
		t.Fatalf("greeting %+v %v", m, err)
	}
	if m, _ := ana.Next(ctx); m.Text != "Anotada." {
		t.Fatalf("second reply %+v", m)
	}

	code, v := do(t, "POST", s.URL()+"/api/v1/events", "", `{"user":"wa-573001112233","event":"order_shipped","data":{"order":"A1234"}}`)
	if code != 200 || v["status"] != "delivered" {
		t.Fatalf("event: %d %v", code, v)
	}
	if m, _ := ana.Next(ctx); m.Text != "Tu pedido A1234 va en camino." {
		t.Fatalf("proactive %+v", m)
	}

	// WhatsApp says the window closed: the flow's template goes instead
	api.CloseWindow(ana.WaID(), true)
	code, v = do(t, "POST", s.URL()+"/api/v1/events", "", `{"user":"wa-573001112233","event":"order_shipped","data":{"order":"B2002"}}`)
	if code != 200 || v["status"] != "delivered" {
		t.Fatalf("event: %d %v", code, v)
	}
	if m, _ := ana.Next(ctx); m.Text != "[template shipping_update: B2002]" {
		t.Fatalf("out of the window: %+v", m)
	}

	// the transcript has the receipts: the forms the messages took
	code, tr := doList(t, s.URL()+"/api/v1/conversations/wa-573001112233/messages?receipts=true")
	if code != 200 {
		t.Fatalf("transcript: %d", code)
	}
	var forms []string
	for _, e := range tr {
		if e["from"] == "status" {
			r := e["receipt"].(map[string]any)
			forms = append(forms, r["status"].(string)+" "+r["form"].(string))
		}
	}
	if got := strings.Join(forms, ","); got != "accepted text,accepted template" {
		t.Errorf("receipts %q", got)
	}

	// Messenger on the same server
	leo := page.User("4455667788")
	if err := leo.Say(ctx, "hola"); err != nil {
		t.Fatal(err)
	}
	if m, err := leo.Next(ctx); err != nil || strings.Join(m.Buttons, "|") != "Talla 40|Talla 42" {
		t.Fatalf("messenger greeting %+v %v", m, err)
	}
	if code, _ := page.PostSigned(ctx, []byte(`{"object":"page"}`), "sha256=00"); code != 401 {
		t.Errorf("forged messenger post: %d", code)
	}
}

// doList GETs a JSON array.
func doList(t *testing.T, url string) (int, []map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v []map[string]any
	json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}
