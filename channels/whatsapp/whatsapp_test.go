package whatsapp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/charlabot/charla/channels"
	"github.com/charlabot/charla/channels/channeltest"
	"github.com/charlabot/charla/channels/meta"
	"github.com/charlabot/charla/channels/whatsapp"
	"github.com/charlabot/charla/engine"
)

const (
	token   = "EAAGm0PX4ZCpsBAtestaccesstoken"
	secret  = "a3f1c2e4b5d6978812345678abcdef01"
	verify  = "charla-verify-token"
	phoneID = "106540352242922"
)

type env struct {
	api   *channeltest.GraphAPI
	conn  *whatsapp.Connector
	srv   *httptest.Server
	phone *channeltest.WhatsApp
	rec   *channeltest.Recorder
	clock *channeltest.Clock
	waits *waits
}

type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(_ context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.d = append(w.d, d)
	return nil
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.d)
}

// start runs a connector against a fake Graph API and a recorder, on a
// manual clock, until the test ends.
func start(t *testing.T, tweak func(*whatsapp.Config, *whatsapp.Connector)) *env {
	t.Helper()
	e := &env{api: channeltest.NewGraphAPI(t, token), rec: &channeltest.Recorder{}, clock: channeltest.NewClock(time.Now()), waits: &waits{}}
	cfg := whatsapp.Config{PhoneNumberID: phoneID, AccessToken: token, AppSecret: secret, VerifyToken: verify, GraphURL: e.api.URL()}
	e.conn = whatsapp.New(cfg, e.rec)
	e.conn.Clock, e.conn.Sleep = e.clock, e.waits.sleep
	if tweak != nil {
		tweak(&e.conn.Config, e.conn)
	}
	e.srv = httptest.NewServer(e.conn)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.conn.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		e.srv.Close()
	})
	e.phone = &channeltest.WhatsApp{Webhook: e.srv.URL, AppSecret: secret, PhoneNumberID: phoneID, API: e.api, Now: e.clock.Now}
	return e
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func expect(t *testing.T, ctx context.Context, u *channeltest.WhatsAppUser, text string) channeltest.GraphMessage {
	t.Helper()
	m, err := u.NextRaw(ctx)
	if err != nil {
		t.Fatalf("waiting for %q: %v", text, err)
	}
	if m.Text != text {
		t.Fatalf("got %s %q, want %q", m.Kind, m.Text, text)
	}
	return m
}

// ping sends "ping" and waits for its echo: whatever was delivered before
// it for the same user has been handled by then.
func ping(t *testing.T, ctx context.Context, u *channeltest.WhatsAppUser) {
	t.Helper()
	if err := u.Say(ctx, "ping"); err != nil {
		t.Fatal(err)
	}
	expect(t, ctx, u, "Dijiste: ping")
}

// platform runs the channeltest conformance suite on WhatsApp.
type platform struct {
	api   *channeltest.GraphAPI
	phone *channeltest.WhatsApp
	n     atomic.Int64
}

func (p *platform) Start(t *testing.T, b *channeltest.Bot) {
	p.api = channeltest.NewGraphAPI(t, token)
	conn := whatsapp.New(whatsapp.Config{PhoneNumberID: phoneID, AccessToken: token, AppSecret: secret, VerifyToken: verify, GraphURL: p.api.URL()}, b)
	b.Register(whatsapp.Channel, conn)
	srv := httptest.NewServer(conn)
	t.Cleanup(func() { conn.Shutdown(context.Background()); srv.Close() })
	p.phone = &channeltest.WhatsApp{Webhook: srv.URL, AppSecret: secret, PhoneNumberID: phoneID, API: p.api}
}
func (p *platform) MaxText() int    { return whatsapp.MaxText }
func (p *platform) Proactive() bool { return true }
func (p *platform) NewUser(t *testing.T, id string) channeltest.User {
	return p.phone.User(fmt.Sprintf("5730012%05d", p.n.Add(1)), id)
}

func TestConformance(t *testing.T) { channeltest.Run(t, &platform{}) }

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The fixtures are shaped like the examples of the Cloud API's messages
// webhook reference; their timestamps are of June 2025.
var fixtureTime = time.Unix(1749416383, 0)

func TestInboundFixtures(t *testing.T) {
	const user = "wa-16505551234"
	tests := []struct {
		fixture string
		want    *engine.Inbound // nil: no turn
		reply   string          // what the shopper gets without a turn
	}{
		{"text.json", &engine.Inbound{Text: "Does it come in another color?"}, ""},
		{"interactive_button_reply.json", &engine.Inbound{Choice: "42"}, ""},
		{"interactive_list_reply.json", &engine.Inbound{Choice: "priority_express"}, ""},
		{"button_quick_reply.json", &engine.Inbound{Choice: "stop_promos"}, ""},
		{"location.json", &engine.Inbound{Location: &engine.Location{Lat: 4.6533, Lon: -74.0836, Name: "Casa", Address: "Avenida Siempre Viva 742, Bogotá"}}, ""},
		{"image.json", &engine.Inbound{Text: "Esta es la talla que me llegó", Attachments: []engine.Attachment{{ID: "1003383421387256", Kind: "image",
			URL: "whatsapp-media:1003383421387256", MIME: "image/jpeg", Caption: "Esta es la talla que me llegó"}}}, ""},
		{"document.json", &engine.Inbound{Text: "Factura", Attachments: []engine.Attachment{{ID: "1261402832244917", Kind: "file",
			URL: "whatsapp-media:1261402832244917", Name: "factura-A1234.pdf", MIME: "application/pdf", Caption: "Factura"}}}, ""},
		{"reaction.json", nil, ""},
		{"sticker.json", nil, "Aún no leo stickers."},
		{"unsupported.json", nil, "Aún no leo stickers."},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			e := start(t, func(c *whatsapp.Config, _ *whatsapp.Connector) { c.Unsupported = "Aún no leo stickers." })
			e.clock.Advance(fixtureTime.Add(5 * time.Second).Sub(e.clock.Now()))
			ctx := testCtx(t)
			code, err := e.phone.Post(ctx, fixture(t, tt.fixture))
			if err != nil || code != 200 {
				t.Fatalf("post: %d %v", code, err)
			}
			u := e.phone.User("16505551234", "Sheena Nelson")
			if tt.reply != "" {
				expect(t, ctx, u, tt.reply)
			}
			if tt.want != nil {
				u.NextRaw(ctx) // the script's answer
			}
			ping(t, ctx, u)
			got := e.rec.Inbound()
			if tt.want == nil {
				if len(got) != 1 {
					t.Fatalf("turns %+v, want only the ping", got[:len(got)-1])
				}
				return
			}
			if len(got) != 2 {
				t.Fatalf("got %d turns, want the message's and the ping's", len(got))
			}
			in := got[0]
			if in.Conversation != user || in.User != user || in.Channel != "whatsapp" || !in.Verified ||
				!strings.HasPrefix(in.ID, "wamid.") || !in.At.Equal(fixtureTime) {
				t.Errorf("envelope %+v", in)
			}
			w := *tt.want
			if in.Text != w.Text || in.Choice != w.Choice || fmt.Sprint(in.Location) != fmt.Sprint(w.Location) ||
				fmt.Sprint(in.Attachments) != fmt.Sprint(w.Attachments) {
				t.Errorf("got %+v\nwant %+v", in, w)
			}
			// a read mark with the typing indicator for the message
			marked := false
			for _, m := range e.api.Sent() {
				if m.Kind == "read" && m.ReadID == in.ID && m.Typing {
					marked = true
				}
			}
			if !marked {
				t.Error("the message was not marked read")
			}
		})
	}
}

func TestStatusReceipts(t *testing.T) {
	e := start(t, nil)
	e.clock.Advance(fixtureTime.Add(time.Minute).Sub(e.clock.Now()))
	ctx := testCtx(t)
	for _, f := range []string{"status_sent.json", "status_delivered.json", "status_read.json", "status_failed.json"} {
		if code, err := e.phone.Post(ctx, fixture(t, f)); err != nil || code != 200 {
			t.Fatalf("%s: %d %v", f, code, err)
		}
	}
	ping(t, ctx, e.phone.User("16505551234", "Sheena"))
	var got []string
	all := e.rec.Receipts("")
	for _, r := range all {
		if r.Status != engine.ReceiptAccepted {
			got = append(got, fmt.Sprintf("%s %s %s %d", r.Conversation, r.Ref, r.Status, r.At.Unix()))
		}
	}
	failed := all[3]
	want := []string{
		"wa-16505551234 wamid.FAKE000001 sent 1749416390",
		"wa-16505551234 wamid.FAKE000001 delivered 1749416391",
		"wa-16505551234 wamid.FAKE000001 read 1749416395",
		"wa-16505551234 wamid.FAKE000002 failed 1749416399",
	}
	if !slices.Equal(got, want) {
		t.Errorf("receipts\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(failed.Error, "131026") || failed.Channel != "whatsapp" {
		t.Errorf("failed receipt %+v", failed)
	}
}

func TestHandshakeAndSignatures(t *testing.T) {
	e := start(t, nil)
	ctx := testCtx(t)
	resp, err := http.Get(e.srv.URL + "?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=" + verify)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "1158201444" {
		t.Errorf("handshake: %d %q", resp.StatusCode, b)
	}
	resp, _ = http.Get(e.srv.URL + "?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("handshake with a wrong token: %d", resp.StatusCode)
	}
	resp.Body.Close()

	body := fixture(t, "text.json")
	for _, sig := range []string{"", meta.Sign([]byte("not the app secret"), body), "sha256=" + strings.Repeat("0", 64)} {
		if code, err := e.phone.PostSigned(ctx, body, sig); err != nil || code != http.StatusUnauthorized {
			t.Errorf("signature %q: %d %v, want 401", sig, code, err)
		}
	}
	// a tampered body with the original's signature
	if code, _ := e.phone.PostSigned(ctx, []byte(strings.Replace(string(body), "color", "colour", 1)), meta.Sign([]byte(secret), body)); code != 401 {
		t.Errorf("tampered body: %d, want 401", code)
	}
	if n := len(e.rec.Inbound()); n != 0 || e.api.Requests() != 0 {
		t.Fatalf("refused deliveries ran %d turns and %d Graph requests", n, e.api.Requests())
	}
	// the same body, signed, is handled: nothing was remembered of the refused ones
	e.clock.Advance(fixtureTime.Add(time.Second).Sub(e.clock.Now()))
	if code, _ := e.phone.Post(ctx, body); code != 200 {
		t.Fatalf("signed: %d", code)
	}
	expect(t, ctx, e.phone.User("16505551234", ""), "Dijiste: Does it come in another color?")
	if code, _ := e.phone.Post(ctx, []byte(`{"object":"page","entry":[]}`)); code != http.StatusBadRequest {
		t.Errorf("another platform's payload: %d, want 400", code)
	}
}

func TestDuplicates(t *testing.T) {
	e := start(t, nil)
	ctx := testCtx(t)
	u := e.phone.User("5215512345678", "Lupe")
	m1 := u.Message("text", map[string]any{"body": "uno"})
	m2 := u.Message("text", map[string]any{"body": "dos"})
	if err := u.Deliver(ctx, m1); err != nil {
		t.Fatal(err)
	}
	expect(t, ctx, u, "Dijiste: uno")
	// Meta retries a delivery it thinks failed, sometimes with more in it
	if err := u.Deliver(ctx, m1); err != nil {
		t.Fatal(err)
	}
	if err := u.Deliver(ctx, m1, m2); err != nil {
		t.Fatal(err)
	}
	expect(t, ctx, u, "Dijiste: dos")
	ping(t, ctx, u)
	if n := len(e.rec.Inbound()); n != 3 {
		t.Errorf("%d turns, want 3 (uno, dos, ping)", n)
	}
}

func choices(labels ...string) []engine.OutChoice {
	var cs []engine.OutChoice
	for i, l := range labels {
		cs = append(cs, engine.OutChoice{Label: l, Value: fmt.Sprint("v", i)})
	}
	return cs
}

func TestChoicesDegrade(t *testing.T) {
	long := strings.Repeat("Elige bien, por favor. ", 60) // 1,380 characters
	many := make([]string, 12)
	for i := range many {
		many[i] = fmt.Sprint("Opción ", i+1)
	}
	tests := []struct {
		name    string
		out     engine.Outbound
		kinds   []string
		buttons []string
	}{
		{"two buttons", engine.Outbound{Text: "¿Talla?", Choices: choices("Talla 40", "Talla 42")}, []string{"buttons"}, []string{"Talla 40", "Talla 42"}},
		{"three buttons", engine.Outbound{Text: "¿Color?", Choices: choices("Rojo", "Azul", "Negro")}, []string{"buttons"}, []string{"Rojo", "Azul", "Negro"}},
		{"four become a list", engine.Outbound{Text: "¿Talla?", Choices: choices("38", "40", "42", "44")}, []string{"list"}, []string{"38", "40", "42", "44"}},
		{"long labels become a list", engine.Outbound{Text: "¿Qué necesitas?", Choices: choices("Estado de mi pedido", "Cambiar la talla de un pedido")},
			[]string{"list"}, []string{"Estado de mi pedido", "Cambiar la talla de un…"}},
		{"ten rows", engine.Outbound{Text: "¿Cuál?", Choices: choices(many[:10]...)}, []string{"list"}, many[:10]},
		{"more than ten become a numbered text", engine.Outbound{Text: "¿Cuál?", Choices: choices(many...)}, []string{"text"}, nil},
		{"a long text keeps its buttons on the last part", engine.Outbound{Text: strings.TrimSpace(long), Choices: choices("Sí", "No")}, []string{"text", "buttons"}, []string{"Sí", "No"}},
		{"no text", engine.Outbound{Choices: choices("Sí", "No")}, []string{"buttons"}, []string{"Sí", "No"}},
		{"image with caption", engine.Outbound{Text: "Así luce", Image: "https://shop.example/p/42.jpg"}, []string{"image"}, nil},
		{"image and buttons", engine.Outbound{Text: "¿Lo quieres?", Image: "https://shop.example/p/42.jpg", Choices: choices("Sí", "No")}, []string{"image", "buttons"}, []string{"Sí", "No"}},
		{"link", engine.Outbound{Text: "Tu guía:", Link: &engine.OutLink{URL: "https://shop.example/guia/A1234", Label: "Guía"}}, []string{"text"}, nil},
	}
	e := start(t, nil)
	ctx := testCtx(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.rec.SetReply(func(in engine.Inbound) []engine.Outbound {
				if in.Text == "ping" {
					return nil
				}
				return []engine.Outbound{tt.out}
			})
			u := e.phone.User(fmt.Sprint("5491155550", 100+i), "Sofía")
			if err := u.Say(ctx, "hola"); err != nil {
				t.Fatal(err)
			}
			var kinds, buttons []string
			var last channeltest.GraphMessage
			for len(kinds) < len(tt.kinds) {
				m, err := u.NextRaw(ctx)
				if err != nil {
					t.Fatalf("after %v: %v", kinds, err)
				}
				kinds = append(kinds, m.Kind)
				last = m
				if m.Kind == "buttons" && utf8.RuneCountInString(m.Text) > 1024 {
					t.Errorf("a button message body of %d characters", utf8.RuneCountInString(m.Text))
				}
			}
			for _, b := range last.Buttons {
				buttons = append(buttons, b.Title)
			}
			if !slices.Equal(kinds, tt.kinds) || !slices.Equal(buttons, tt.buttons) {
				t.Fatalf("sent %v %q, want %v %q", kinds, buttons, tt.kinds, tt.buttons)
			}
			switch tt.name {
			case "more than ten become a numbered text":
				if !strings.Contains(last.Text, "\n12. Opción 12") {
					t.Errorf("no numbered list in %q", last.Text)
				}
			case "no text":
				if last.Text == "" {
					t.Error("an interactive message without a body")
				}
			case "link":
				if !strings.Contains(last.Text, "Guía: https://shop.example/guia/A1234") {
					t.Errorf("link text %q", last.Text)
				}
			case "image with caption":
				if last.Image != "https://shop.example/p/42.jpg" || last.Text != "Así luce" {
					t.Errorf("image %+v", last)
				}
			case "long labels become a list":
				if last.Buttons[1].Description != "Cambiar la talla de un pedido" {
					t.Errorf("the full label is not the row's description: %+v", last.Buttons[1])
				}
			}
			// the answer to the last choice reaches the bot as a button
			if len(last.Buttons) > 0 {
				if err := u.Press(ctx, channeltest.Received{}, len(last.Buttons)-1); err != nil {
					t.Fatal(err)
				}
				u.NextRaw(ctx)
				got := e.rec.Inbound()
				if in := got[len(got)-1]; in.Choice != tt.out.Choices[len(tt.out.Choices)-1].Value {
					t.Errorf("pressed %+v, want the last choice's value", in)
				}
			}
		})
	}
}

func TestNumberedAnswer(t *testing.T) {
	many := make([]string, 11)
	for i := range many {
		many[i] = fmt.Sprint("Talla ", 34+i)
	}
	e := start(t, nil)
	e.rec.SetReply(func(in engine.Inbound) []engine.Outbound {
		if in.Choice != "" {
			return []engine.Outbound{{Text: "Elegiste " + in.Choice}}
		}
		return []engine.Outbound{{Text: "¿Qué talla?", Choices: choices(many...)}}
	})
	ctx := testCtx(t)
	u := e.phone.User("5511987654321", "João")
	u.Say(ctx, "tallas")
	u.NextRaw(ctx)
	u.Say(ctx, "3")
	expect(t, ctx, u, "Elegiste v2")
	u.Say(ctx, "tallas")
	u.NextRaw(ctx)
	u.Say(ctx, "talla 44")
	expect(t, ctx, u, "Elegiste v10")
}

func TestOutsideWindow(t *testing.T) {
	e := start(t, nil)
	ctx := testCtx(t)
	u := e.phone.User("573015550001", "Ana")
	ping(t, ctx, u) // the window opens
	tmpl := &engine.OutTemplate{Name: "shipping_update", Params: []string{"A1234", "Servientrega"}}
	shipped := engine.Outbound{Conversation: u.ID(), Text: "Tu pedido A1234 va en camino con Servientrega.", Template: tmpl}

	// within 24 hours: free-form, even with a template
	if err := e.conn.Send(ctx, shipped); err != nil {
		t.Fatal(err)
	}
	expect(t, ctx, u, shipped.Text)

	e.clock.Advance(25 * time.Hour)
	if err := e.conn.Send(ctx, shipped); err != nil {
		t.Fatal(err)
	}
	m, err := u.NextRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != "template" || m.Template.Name != "shipping_update" || m.Template.Lang != "es" ||
		!slices.Equal(m.Template.Params, []string{"A1234", "Servientrega"}) {
		t.Fatalf("sent %+v %+v, want the template", m, m.Template)
	}
	rs := e.rec.Receipts(engine.ReceiptAccepted)
	if last := rs[len(rs)-1]; last.Form != "template" || last.Template != "shipping_update" || last.Ref != m.ID {
		t.Errorf("receipt %+v, want the template recorded", last)
	}

	// no template: refused, clearly, and nothing sent
	before := len(e.api.Sent())
	err = e.conn.Send(ctx, engine.Outbound{Conversation: u.ID(), Text: "¿Sigues ahí?"})
	if !errors.Is(err, channels.ErrTemplateRequired) || engine.ErrCode(err) != engine.EConflict {
		t.Fatalf("err %v, want ErrTemplateRequired", err)
	}
	if len(e.api.Sent()) != before {
		t.Error("something was sent")
	}
	if rs := e.rec.Receipts(engine.ReceiptFailed); len(rs) != 1 || !strings.Contains(rs[0].Error, "template") {
		t.Errorf("failed receipts %+v", rs)
	}

	// the shopper writes again: free-form again
	ping(t, ctx, u)
}

func TestReEngagementFallback(t *testing.T) {
	e := start(t, nil)
	ctx := testCtx(t)
	tmpl := &engine.OutTemplate{Name: "order_ready", Lang: "es_MX", Params: []string{"B2002"}}

	// after a restart the window is unknown: WhatsApp refuses the text at once
	u := e.phone.User("5215550000002", "Luis")
	e.api.CloseWindow(u.WaID(), true)
	if err := e.conn.Send(ctx, engine.Outbound{Conversation: u.ID(), Text: "Tu pedido B2002 está listo.", Template: tmpl}); err != nil {
		t.Fatal(err)
	}
	m, _ := u.NextRaw(ctx)
	if m.Kind != "template" || m.Template.Lang != "es_MX" {
		t.Fatalf("sent %+v, want the template after 131047", m)
	}
	// now known to be closed: the next one goes straight to the template
	n := e.api.Requests()
	e.conn.Send(ctx, engine.Outbound{Conversation: u.ID(), Text: "Recuérdalo", Template: tmpl})
	if m, _ := u.NextRaw(ctx); m.Kind != "template" || e.api.Requests() != n+1 {
		t.Errorf("sent %s in %d requests", m.Kind, e.api.Requests()-n)
	}

	// ... or accepts it and reports the failure in a status callback
	v := e.phone.User("5215550000003", "Marta")
	if err := e.conn.Send(ctx, engine.Outbound{Conversation: v.ID(), Text: "Tu pedido B2003 está listo.", Template: tmpl}); err != nil {
		t.Fatal(err)
	}
	first, _ := v.NextRaw(ctx)
	if first.Kind != "text" {
		t.Fatalf("sent %s first", first.Kind)
	}
	if err := e.phone.Status(ctx, v.WaID(), first.ID, "failed", 131047); err != nil {
		t.Fatal(err)
	}
	if m, _ := v.NextRaw(ctx); m.Kind != "template" || m.Template.Name != "order_ready" {
		t.Fatalf("after the failed status: %+v", m)
	}
}

func TestRateLimited(t *testing.T) {
	e := start(t, nil)
	ctx := testCtx(t)
	u := e.phone.User("573015550009", "Pablo")
	e.api.Fail(2, http.StatusTooManyRequests, 130429, "Rate limit hit")
	if err := u.Say(ctx, "hola"); err != nil {
		t.Fatal(err)
	}
	m, err := u.Next(ctx)
	if err != nil || m.Text != channeltest.Greeting {
		t.Fatalf("got %+v %v, want the greeting after the retries", m, err)
	}
	if w := e.waits.all(); !slices.Equal(w, []time.Duration{time.Second, 2 * time.Second}) {
		t.Errorf("waited %v, want an exponential backoff", w)
	}

	// past the retries: the send fails as unavailable, the next works
	e.api.Fail(5, http.StatusBadRequest, 131056, "(Business Account, Consumer Account) pair rate limit hit")
	err = e.conn.Send(ctx, engine.Outbound{Conversation: u.ID(), Text: "uno"})
	if engine.ErrCode(err) != engine.EUnavailable {
		t.Errorf("err %v, want unavailable", err)
	}
	ping(t, ctx, u)
}

func TestUnreachableNumber(t *testing.T) {
	e := start(t, nil)
	ctx := testCtx(t)
	u := e.phone.User("573015550010", "Rita")
	ping(t, ctx, u)
	e.api.Unreachable(u.WaID())
	err := e.conn.Send(ctx, engine.Outbound{Conversation: u.ID(), Text: "¿Sigues ahí?"})
	if engine.ErrCode(err) != engine.EInvalid {
		t.Fatalf("err %v, want invalid", err)
	}
	if rs := e.rec.Receipts(engine.ReceiptFailed); len(rs) != 1 || !strings.Contains(rs[0].Error, "131026") {
		t.Errorf("failed receipts %+v", rs)
	}
	if err := e.conn.Send(ctx, engine.Outbound{Conversation: "tg-1", Text: "x"}); engine.ErrCode(err) != engine.EInvalid {
		t.Errorf("another channel's conversation: %v", err)
	}
}

func TestDebounceJoinsFragments(t *testing.T) {
	e := start(t, func(c *whatsapp.Config, _ *whatsapp.Connector) { c.Debounce = 1500 * time.Millisecond })
	ctx := testCtx(t)
	u := e.phone.User("573015550020", "Camila")
	var ids []string
	for _, text := range []string{"hola", "quiero cambiar", "la talla"} {
		id, err := u.Send(ctx, "text", map[string]any{"body": text})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		e.clock.Advance(time.Second)
	}
	if n := len(e.rec.Inbound()); n != 0 {
		t.Fatalf("%d turns before the shopper paused", n)
	}
	e.clock.Advance(500 * time.Millisecond)
	expect(t, ctx, u, "Dijiste: hola\nquiero cambiar\nla talla")
	in := e.rec.Inbound()[0]
	if in.ID != ids[0] || !slices.Equal(in.Fragments, ids[1:]) {
		t.Errorf("id %s fragments %v, want %s %v", in.ID, in.Fragments, ids[0], ids[1:])
	}
	// the last fragment is the one marked read
	var read []string
	for _, m := range e.api.Sent() {
		if m.Kind == "read" {
			read = append(read, m.ReadID)
		}
	}
	if !slices.Equal(read, ids[2:]) {
		t.Errorf("marked read %v, want only the last fragment", read)
	}

	// a redelivered fragment is not answered again
	m := u.Message("text", map[string]any{"body": "quiero cambiar"})
	m["id"] = ids[1]
	if err := u.Deliver(ctx, m); err != nil {
		t.Fatal(err)
	}
	// a pressed button hands over the burst before it, in order
	u.Say(ctx, "hola")
	e.clock.Advance(1500 * time.Millisecond)
	expect(t, ctx, u, channeltest.Greeting)
	u.Say(ctx, "perdón")
	u.Press(ctx, channeltest.Received{}, 1)
	expect(t, ctx, u, "Dijiste: perdón")
	expect(t, ctx, u, "Talla 42 anotada.")
	if e.clock.Pending() != 0 {
		t.Errorf("%d timers left", e.clock.Pending())
	}
	if n := len(e.rec.Inbound()); n != 4 {
		t.Errorf("%d turns, want 4", n)
	}
}

func TestBusyQueueLosesNothing(t *testing.T) {
	release := make(chan struct{})
	e := start(t, func(_ *whatsapp.Config, c *whatsapp.Connector) { c.Queue = &meta.Queue{Max: 2} })
	e.rec.SetReply(func(in engine.Inbound) []engine.Outbound {
		<-release
		return []engine.Outbound{{Text: "ok " + in.Text}}
	})
	ctx := testCtx(t)
	u := e.phone.User("573015550030", "Tomás")
	m1, m2, m3 := u.Message("text", map[string]any{"body": "1"}), u.Message("text", map[string]any{"body": "2"}), u.Message("text", map[string]any{"body": "3"})
	if err := u.Deliver(ctx, m1, m2); err != nil {
		t.Fatal(err)
	}
	body := e.phone.Envelope(u.WaID(), "Tomás", []map[string]any{m3}, nil)
	if code, _ := e.phone.Post(ctx, body); code != http.StatusServiceUnavailable {
		t.Fatalf("a full queue answered %d, want 503", code)
	}
	close(release)
	expect(t, ctx, u, "ok 1")
	expect(t, ctx, u, "ok 2")
	// Meta redelivers the refused one, which was not remembered as seen
	for {
		code, err := e.phone.Post(ctx, body)
		if err != nil {
			t.Fatal(err)
		}
		if code == 200 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the queue never drained")
		}
	}
	expect(t, ctx, u, "ok 3")
}

func TestFailingTurn(t *testing.T) {
	e := start(t, nil)
	ctx := testCtx(t)
	u := e.phone.User("573015550040", "Eva")
	var calls atomic.Int32
	e.conn.Handler = engine.HandlerFunc(func(ctx context.Context, in engine.Inbound) (*engine.Turn, error) {
		if calls.Add(1) < 3 {
			return nil, &engine.Error{Code: engine.EUnavailable, Message: "the store is unavailable"}
		}
		return &engine.Turn{Messages: []engine.Outbound{{Text: "recuperado"}}}, nil
	})
	u.Say(ctx, "hola")
	expect(t, ctx, u, "recuperado")
	if w := e.waits.all(); !slices.Equal(w, []time.Duration{time.Second, 2 * time.Second}) {
		t.Errorf("waits %v", w)
	}
}

func TestMedia(t *testing.T) {
	e := start(t, nil)
	e.api.AddMedia("1003383421387256", "image/jpeg", []byte("\xff\xd8\xff jpeg"))
	r, info, err := e.conn.Media(testCtx(t), whatsapp.MediaURL("1003383421387256"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, _ := io.ReadAll(r)
	if string(b) != "\xff\xd8\xff jpeg" || info.MIME != "image/jpeg" {
		t.Errorf("got %q %+v", b, info)
	}
	if _, _, err := e.conn.Media(testCtx(t), "999"); err == nil {
		t.Error("an unknown media id was found")
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		"WHATSAPP_PHONE_NUMBER_ID": "106540352242922", "WHATSAPP_ACCESS_TOKEN": "tok",
		"META_APP_SECRET": "s", "WHATSAPP_VERIFY_TOKEN": "v", "WHATSAPP_DEBOUNCE": "1.5s", "WHATSAPP_RATE": "20",
		"META_GRAPH_URL": "http://127.0.0.1:9",
	}
	cfg, ok, err := whatsapp.ConfigFromEnv(func(k string) string { return env[k] })
	if !ok || err != nil || cfg.AppSecret != "s" || cfg.Debounce != 1500*time.Millisecond || cfg.Rate != 20 || cfg.GraphURL != "http://127.0.0.1:9" {
		t.Errorf("got %+v %v %v", cfg, ok, err)
	}
	delete(env, "WHATSAPP_ACCESS_TOKEN")
	if _, ok, err := whatsapp.ConfigFromEnv(func(k string) string { return env[k] }); !ok || err == nil || !strings.Contains(err.Error(), "WHATSAPP_ACCESS_TOKEN") {
		t.Errorf("missing token: %v %v", ok, err)
	}
	env["WHATSAPP_ACCESS_TOKEN"], env["WHATSAPP_DEBOUNCE"] = "tok", "soon"
	if _, _, err := whatsapp.ConfigFromEnv(func(k string) string { return env[k] }); err == nil {
		t.Error("a bad duration was accepted")
	}
	if _, ok, _ := whatsapp.ConfigFromEnv(func(string) string { return "" }); ok {
		t.Error("configured without a phone number id")
	}
}

// What the runtime sends while it handles a turn (a hand-off's place in the
// queue) reaches the shopper after the turn's own replies.
func TestSendDuringTurnComesAfterReplies(t *testing.T) {
	e := start(t, nil)
	ctx := testCtx(t)
	u := e.phone.User("573015550050", "Nora")
	e.conn.Handler = engine.HandlerFunc(func(ctx context.Context, in engine.Inbound) (*engine.Turn, error) {
		if err := e.conn.Send(ctx, engine.Outbound{Conversation: in.Conversation, Text: "Estás en el lugar 1 de la fila."}); err != nil {
			t.Error(err)
		}
		return &engine.Turn{Messages: []engine.Outbound{{Text: "Te comunico con una persona."}}}, nil
	})
	u.Say(ctx, "quiero hablar con alguien")
	expect(t, ctx, u, "Te comunico con una persona.")
	expect(t, ctx, u, "Estás en el lugar 1 de la fila.")
	// outside a turn it goes at once, and its errors reach the caller
	e.api.Unreachable(u.WaID())
	if err := e.conn.Send(ctx, engine.Outbound{Conversation: u.ID(), Text: "¿Sigues ahí?"}); engine.ErrCode(err) != engine.EInvalid {
		t.Errorf("err %v", err)
	}
}
