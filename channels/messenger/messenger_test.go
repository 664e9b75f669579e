package messenger_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charlabot/charla/channels"
	"github.com/charlabot/charla/channels/channeltest"
	"github.com/charlabot/charla/channels/messenger"
	"github.com/charlabot/charla/channels/meta"
	"github.com/charlabot/charla/engine"
)

const (
	token  = "EAAJZCpagetokenfortests"
	secret = "f00dfacecafe0123456789abcdef0123"
	verify = "charla-verify"
	pageID = "106540352242922"
	psid   = "7294015938473021"
)

type env struct {
	api   *channeltest.GraphAPI
	conn  *messenger.Connector
	srv   *httptest.Server
	page  *channeltest.Messenger
	rec   *channeltest.Recorder
	clock *channeltest.Clock
}

func start(t *testing.T, tweak func(*messenger.Config)) *env {
	t.Helper()
	e := &env{api: channeltest.NewGraphAPI(t, token), rec: &channeltest.Recorder{}, clock: channeltest.NewClock(time.Now())}
	cfg := messenger.Config{PageID: pageID, PageToken: token, AppSecret: secret, VerifyToken: verify, GraphURL: e.api.URL()}
	if tweak != nil {
		tweak(&cfg)
	}
	e.conn = messenger.New(cfg, e.rec)
	e.conn.Clock = e.clock
	e.conn.Sleep = func(context.Context, time.Duration) error { return nil }
	e.srv = httptest.NewServer(e.conn)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.conn.Shutdown(ctx)
		e.srv.Close()
	})
	e.page = &channeltest.Messenger{Webhook: e.srv.URL, AppSecret: secret, PageID: pageID, API: e.api, Now: e.clock.Now}
	return e
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func expect(t *testing.T, ctx context.Context, u *channeltest.MessengerUser, text string) channeltest.GraphMessage {
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

func ping(t *testing.T, ctx context.Context, u *channeltest.MessengerUser) {
	t.Helper()
	if err := u.Say(ctx, "ping"); err != nil {
		t.Fatal(err)
	}
	expect(t, ctx, u, "Dijiste: ping")
}

type platform struct {
	page *channeltest.Messenger
	n    atomic.Int64
}

func (p *platform) Start(t *testing.T, b *channeltest.Bot) {
	api := channeltest.NewGraphAPI(t, token)
	conn := messenger.New(messenger.Config{PageID: pageID, PageToken: token, AppSecret: secret, VerifyToken: verify, GraphURL: api.URL()}, b)
	b.Register(messenger.Channel, conn)
	srv := httptest.NewServer(conn)
	t.Cleanup(func() { conn.Shutdown(context.Background()); srv.Close() })
	p.page = &channeltest.Messenger{Webhook: srv.URL, AppSecret: secret, PageID: pageID, API: api}
}
func (p *platform) MaxText() int    { return messenger.MaxText }
func (p *platform) Proactive() bool { return true }
func (p *platform) NewUser(t *testing.T, id string) channeltest.User {
	return p.page.User(fmt.Sprint(8000000000000000 + p.n.Add(1)))
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

var fixtureTime = time.UnixMilli(1458692752478)

func TestInboundFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		want    *engine.Inbound
		reply   string
	}{
		{"text.json", &engine.Inbound{Text: "hola, ¿tienen la talla 42?"}, ""},
		{"quick_reply.json", &engine.Inbound{Choice: "42"}, ""},
		{"postback.json", &engine.Inbound{Choice: "order_status"}, ""},
		{"image.json", &engine.Inbound{Attachments: []engine.Attachment{{ID: "https://scontent.xx.fbcdn.net/v/t1.15752-9/foto.jpg", Kind: "image", URL: "https://scontent.xx.fbcdn.net/v/t1.15752-9/foto.jpg"}}}, ""},
		{"file.json", &engine.Inbound{Attachments: []engine.Attachment{{ID: "https://cdn.fbsbx.com/v/t59.2708-21/factura.pdf", Kind: "file", URL: "https://cdn.fbsbx.com/v/t59.2708-21/factura.pdf"}}}, ""},
		{"location.json", &engine.Inbound{Location: &engine.Location{Lat: -34.6037, Lon: -58.3816, Name: "Casa"}}, ""},
		{"audio.json", nil, "Todavía no escucho audios."},
		{"reaction.json", nil, ""},
		{"echo.json", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			e := start(t, func(c *messenger.Config) { c.Unsupported = "Todavía no escucho audios." })
			e.clock.Advance(fixtureTime.Add(5 * time.Second).Sub(e.clock.Now()))
			ctx := testCtx(t)
			if code, err := e.page.Post(ctx, fixture(t, tt.fixture)); err != nil || code != 200 {
				t.Fatalf("post: %d %v", code, err)
			}
			u := e.page.User(psid)
			if tt.reply != "" {
				expect(t, ctx, u, tt.reply)
			}
			if tt.want != nil {
				u.NextRaw(ctx)
			}
			ping(t, ctx, u)
			got := e.rec.Inbound()
			if tt.want == nil {
				if len(got) != 1 {
					t.Fatalf("turns %+v, want only the ping", got)
				}
				return
			}
			in := got[0]
			if in.Conversation != "fb-"+psid || in.User != "fb-"+psid || in.Channel != "messenger" || !in.Verified || in.ID == "" || !in.At.Equal(fixtureTime) {
				t.Errorf("envelope %+v", in)
			}
			w := *tt.want
			if in.Text != w.Text || in.Choice != w.Choice || fmt.Sprint(in.Location) != fmt.Sprint(w.Location) || fmt.Sprint(in.Attachments) != fmt.Sprint(w.Attachments) {
				t.Errorf("got %+v\nwant %+v", in, w)
			}
			var actions []string
			for _, m := range e.api.Sent() {
				if m.Kind == "action" {
					actions = append(actions, m.Action)
				}
			}
			if len(actions) < 2 || actions[0] != "mark_seen" || actions[1] != "typing_on" {
				t.Errorf("sender actions %v", actions)
			}
		})
	}
}

func TestReceipts(t *testing.T) {
	e := start(t, nil)
	e.clock.Advance(fixtureTime.Add(time.Minute).Sub(e.clock.Now()))
	ctx := testCtx(t)
	for _, f := range []string{"delivery.json", "read.json"} {
		if code, _ := e.page.Post(ctx, fixture(t, f)); code != 200 {
			t.Fatalf("%s: %d", f, code)
		}
	}
	ping(t, ctx, e.page.User(psid))
	var got []string
	for _, r := range e.rec.Receipts("") {
		if r.Status != engine.ReceiptAccepted {
			got = append(got, fmt.Sprint(r.Conversation, " ", r.Ref, " ", r.Status))
		}
	}
	want := []string{"fb-" + psid + " m_FAKE000001 delivered", "fb-" + psid + " watermark:1458668856253 read"}
	if !slices.Equal(got, want) {
		t.Errorf("receipts %q, want %q", got, want)
	}
}

func TestSignatures(t *testing.T) {
	e := start(t, nil)
	ctx := testCtx(t)
	body := fixture(t, "text.json")
	for _, sig := range []string{"", meta.Sign([]byte("other"), body)} {
		if code, _ := e.page.PostSigned(ctx, body, sig); code != 401 {
			t.Errorf("signature %q: %d", sig, code)
		}
	}
	resp, err := http.Get(e.srv.URL + "?hub.mode=subscribe&hub.verify_token=" + verify + "&hub.challenge=42")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("handshake %v %v", resp, err)
	}
	resp.Body.Close()
	if n := len(e.rec.Inbound()); n != 0 {
		t.Errorf("%d turns from refused posts", n)
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
	many := make([]string, 14)
	for i := range many {
		many[i] = fmt.Sprint("Opción ", i+1)
	}
	tests := []struct {
		name    string
		out     engine.Outbound
		kind    string
		buttons []string
	}{
		{"button template", engine.Outbound{Text: "¿Talla?", Choices: choices("Talla 40", "Talla 42")}, "buttons", []string{"Talla 40", "Talla 42"}},
		{"four become quick replies", engine.Outbound{Text: "¿Talla?", Choices: choices("38", "40", "42", "44")}, "quick_replies", []string{"38", "40", "42", "44"}},
		{"long labels become quick replies", engine.Outbound{Text: "¿Qué necesitas?", Choices: choices("Estado de mi pedido", "Cambiar la talla de un pedido")},
			"quick_replies", []string{"Estado de mi pedido", "Cambiar la talla de…"}},
		{"thirteen quick replies", engine.Outbound{Text: "¿Cuál?", Choices: choices(many[:13]...)}, "quick_replies", many[:13]},
		{"more become a numbered text", engine.Outbound{Text: "¿Cuál?", Choices: choices(many...)}, "text", nil},
		{"a link as a URL button", engine.Outbound{Text: "Tu guía de devolución:", Link: &engine.OutLink{URL: "https://shop.example/guia", Label: "Ver guía"}}, "buttons", []string{"Ver guía"}},
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
			u := e.page.User(fmt.Sprint(9100000000000000 + i))
			u.Say(ctx, "hola")
			m, err := u.NextRaw(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var buttons []string
			for _, b := range m.Buttons {
				buttons = append(buttons, b.Title)
			}
			if m.Kind != tt.kind || !slices.Equal(buttons, tt.buttons) || m.MessagingType != "RESPONSE" {
				t.Fatalf("sent %s %s %q, want %s %q", m.MessagingType, m.Kind, buttons, tt.kind, tt.buttons)
			}
			if tt.kind == "text" && !strings.Contains(m.Text, "14. Opción 14") {
				t.Errorf("no numbered list in %q", m.Text)
			}
			if len(tt.out.Choices) > 0 && len(m.Buttons) > 0 {
				u.Press(ctx, channeltest.Received{}, len(m.Buttons)-1)
				u.NextRaw(ctx)
				got := e.rec.Inbound()
				if in := got[len(got)-1]; in.Choice != tt.out.Choices[len(m.Buttons)-1].Value {
					t.Errorf("pressed %+v", in)
				}
			}
		})
	}
}

func TestOutsideWindow(t *testing.T) {
	e := start(t, func(c *messenger.Config) { c.Tag = "POST_PURCHASE_UPDATE" })
	ctx := testCtx(t)
	u := e.page.User(psid)
	ping(t, ctx, u)
	shipped := engine.Outbound{Conversation: u.ID(), Text: "Tu pedido A1234 va en camino.", Template: &engine.OutTemplate{Name: "shipping_update"}}
	if err := e.conn.Send(ctx, shipped); err != nil {
		t.Fatal(err)
	}
	if m := expect(t, ctx, u, shipped.Text); m.MessagingType != "UPDATE" {
		t.Errorf("within the window: %s", m.MessagingType)
	}
	e.clock.Advance(25 * time.Hour)
	if err := e.conn.Send(ctx, shipped); err != nil {
		t.Fatal(err)
	}
	if m := expect(t, ctx, u, shipped.Text); m.MessagingType != "MESSAGE_TAG" || m.Tag != "POST_PURCHASE_UPDATE" {
		t.Errorf("outside the window: %s %s", m.MessagingType, m.Tag)
	}
	err := e.conn.Send(ctx, engine.Outbound{Conversation: u.ID(), Text: "¿Sigues ahí?"})
	if !errors.Is(err, channels.ErrTemplateRequired) {
		t.Errorf("no template: %v", err)
	}

	// unknown window, refused by Messenger: sent again with the tag
	v := e.page.User("5550001")
	e.api.CloseWindow(v.PSID(), true)
	shipped.Conversation = v.ID()
	if err := e.conn.Send(ctx, shipped); err != nil {
		t.Fatal(err)
	}
	if m := expect(t, ctx, v, shipped.Text); m.MessagingType != "MESSAGE_TAG" {
		t.Errorf("after 2018278: %s", m.MessagingType)
	}
}

func TestRateLimitedAndUnreachable(t *testing.T) {
	e := start(t, nil)
	ctx := testCtx(t)
	u := e.page.User(psid)
	e.api.Fail(2, http.StatusBadRequest, 613, "Calls to this api have exceeded the rate limit.")
	ping(t, ctx, u)
	e.api.Unreachable(u.PSID())
	if err := e.conn.Send(ctx, engine.Outbound{Conversation: u.ID(), Text: "hola"}); engine.ErrCode(err) != engine.EInvalid {
		t.Errorf("unreachable: %v", err)
	}
}

func TestDebounce(t *testing.T) {
	e := start(t, func(c *messenger.Config) { c.Debounce = time.Second })
	ctx := testCtx(t)
	u := e.page.User(psid)
	u.Say(ctx, "hola")
	u.Say(ctx, "quiero cambiar")
	e.clock.Advance(time.Second)
	expect(t, ctx, u, "Dijiste: hola\nquiero cambiar")
	if in := e.rec.Inbound()[0]; len(in.Fragments) != 1 {
		t.Errorf("fragments %v", in.Fragments)
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{"MESSENGER_PAGE_ID": pageID, "MESSENGER_PAGE_TOKEN": "t", "META_APP_SECRET": "s", "META_VERIFY_TOKEN": "v", "MESSENGER_TAG": "POST_PURCHASE_UPDATE"}
	cfg, ok, err := messenger.ConfigFromEnv(func(k string) string { return env[k] })
	if !ok || err != nil || cfg.Tag != "POST_PURCHASE_UPDATE" || cfg.AppSecret != "s" {
		t.Errorf("%+v %v %v", cfg, ok, err)
	}
	delete(env, "META_VERIFY_TOKEN")
	if _, _, err := messenger.ConfigFromEnv(func(k string) string { return env[k] }); err == nil {
		t.Error("missing verify token accepted")
	}
}

func TestDuplicates(t *testing.T) {
	e := start(t, nil)
	ctx := testCtx(t)
	u := e.page.User(psid)
	ev := u.Event("message", map[string]any{"mid": "m_dup1", "text": "uno"})
	for range 3 { // Meta redelivers
		if err := u.Deliver(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	expect(t, ctx, u, "Dijiste: uno")
	ping(t, ctx, u)
	if n := len(e.rec.Inbound()); n != 2 {
		t.Errorf("%d turns, want 2", n)
	}
}
