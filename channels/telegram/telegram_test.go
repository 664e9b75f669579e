package telegram_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charlabot/charla/channels/channeltest"
	"github.com/charlabot/charla/channels/telegram"
	"github.com/charlabot/charla/engine"
)

const token = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// run starts a polling bot against a fake API until the test ends.
func run(t *testing.T, api *channeltest.TelegramAPI, b *telegram.Bot) {
	t.Helper()
	b.Token, b.Endpoint = token, api.Endpoint()
	if b.PollTimeout == 0 {
		b.PollTimeout = time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

type platform struct {
	api  *channeltest.TelegramAPI
	chat atomic.Int64
}

func (p *platform) Start(t *testing.T, b *channeltest.Bot) {
	p.api = channeltest.NewTelegramAPI(t, token)
	p.chat.Store(5000)
	bot := &telegram.Bot{Handler: b, ChatRate: 100, ChatBurst: 10, GlobalRate: 1000}
	b.Register(telegram.Channel, bot)
	run(t, p.api, bot)
}
func (p *platform) MaxText() int    { return telegram.MaxText }
func (p *platform) Proactive() bool { return true }
func (p *platform) NewUser(t *testing.T, id string) channeltest.User {
	return &tgUser{api: p.api, chat: p.chat.Add(1)}
}

type tgUser struct {
	api   *channeltest.TelegramAPI
	chat  int64
	msgID atomic.Int64
	skip  int
	last  channeltest.Sent
}

func (u *tgUser) ID() string { return telegram.UserID(u.chat) }
func (u *tgUser) Say(_ context.Context, text string) error {
	u.api.Push(fmt.Sprintf(`{"message":{"message_id":%d,"date":1441645532,"chat":{"id":%d,"type":"private"},"from":{"id":%d,"first_name":"Ana","language_code":"es"},"text":%q}}`,
		u.msgID.Add(1), u.chat, u.chat, text))
	return nil
}
func (u *tgUser) Press(_ context.Context, m channeltest.Received, i int) error {
	u.api.Push(fmt.Sprintf(`{"callback_query":{"id":"cb%d-%d","from":{"id":%d,"first_name":"Ana"},"message":{"message_id":%d,"date":1441645532,"chat":{"id":%d,"type":"private"}},"chat_instance":"1","data":%q}}`,
		u.chat, u.msgID.Add(1), u.chat, u.skip, u.chat, u.last.Buttons[i][1]))
	return nil
}
func (u *tgUser) Next(ctx context.Context) (channeltest.Received, error) {
	s, i, err := u.api.Next(ctx, u.chat, u.skip)
	if err != nil {
		return channeltest.Received{}, err
	}
	u.skip, u.last = i+1, s
	r := channeltest.Received{Text: s.Text}
	for _, b := range s.Buttons {
		r.Buttons = append(r.Buttons, b[0])
	}
	return r, nil
}

func TestConformance(t *testing.T) { channeltest.Run(t, &platform{}) }

// recorder is a Handler that records what it is given and answers with
// the channeltest script.
type recorder struct {
	mu  sync.Mutex
	got []engine.Inbound
	bot channeltest.Bot
}

func (r *recorder) Handle(ctx context.Context, in engine.Inbound) (*engine.Turn, error) {
	r.mu.Lock()
	r.got = append(r.got, in)
	r.mu.Unlock()
	if in.Event != "" {
		return &engine.Turn{Messages: []engine.Outbound{{Text: "Bienvenida"}}}, nil
	}
	return r.bot.Handle(ctx, in)
}

func (r *recorder) inbound() []engine.Inbound {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]engine.Inbound(nil), r.got...)
}

func webhook(t *testing.T, b *telegram.Bot, secret, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest("POST", "/telegram", strings.NewReader(body))
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	rec := httptest.NewRecorder()
	b.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func TestWebhookFixtures(t *testing.T) {
	api := channeltest.NewTelegramAPI(t, token)
	h := &recorder{}
	b := &telegram.Bot{Token: token, Endpoint: api.Endpoint(), Handler: h, WebhookSecret: "s3cret", ChatRate: 1000, GlobalRate: 1000}

	for _, name := range []string{"message_text.json", "message_start_deeplink.json", "callback_query.json", "callback_inline_message.json", "message_photo.json", "message_sticker.json"} {
		if code, body := webhook(t, b, "s3cret", fixture(t, name)); code != 200 {
			t.Fatalf("%s: %d %s", name, code, body)
		}
	}
	got := h.inbound()
	if len(got) != 4 {
		t.Fatalf("handled %d updates, want 4 (text, /start, callback, photo): %+v", len(got), got)
	}
	text, start, cb, photo := got[0], got[1], got[2], got[3]
	if text.Conversation != "tg-1111111" || text.User != "tg-1111111" || text.Text != "hola" || !text.Verified || text.Lang != "es" || text.ID != "tg-1111111-1365" || text.Channel != "telegram" {
		t.Errorf("text message: %+v", text)
	}
	if start.Event != engine.EventConversationStart || start.Data["payload"] != "pedido-A1234" || start.Lang != "es" {
		t.Errorf("/start deep link: %+v", start)
	}
	if cb.Choice != "42" || cb.ID != "tg-cb-4382bfdwdsb323b2d9" || cb.Text != "" {
		t.Errorf("callback query: %+v", cb)
	}
	if len(photo.Attachments) != 1 || photo.Attachments[0].ID != "AgADBAADbqcxG-large" || photo.Text != "la etiqueta" {
		t.Errorf("photo: %+v", photo)
	}
	if a := api.Answered(); len(a) != 2 {
		t.Errorf("answered callback queries %v, want both (even the one it could not use)", a)
	}
	// the greeting went out with an inline keyboard
	sent := api.Sent()
	if len(sent) < 1 || sent[0].Text != channeltest.Greeting || len(sent[0].Buttons) != 2 || sent[0].Buttons[1] != [2]string{"Talla 42", "42"} {
		t.Errorf("first reply %+v", sent)
	}
	if api.Calls("sendChatAction") < 4 {
		t.Errorf("typing action sent %d times", api.Calls("sendChatAction"))
	}
}

func TestWebhookRejects(t *testing.T) {
	api := channeltest.NewTelegramAPI(t, token)
	h := &recorder{}
	b := &telegram.Bot{Token: token, Endpoint: api.Endpoint(), Handler: h, WebhookSecret: "s3cret"}
	tests := []struct {
		secret, body string
		status       int
	}{
		{"", fixture(t, "message_text.json"), 401},
		{"wrong", fixture(t, "message_text.json"), 401},
		{"s3cret", `{"update_id":`, 400},
		{"s3cret", `[1,2,3]`, 400},
		{"s3cret", `{"message":{"text":"no update id"}}`, 400},
		{"s3cret", `{"update_id": 5, "message": {"message_id": 1, "text": "no chat"}}`, 200},
	}
	for _, tt := range tests {
		code, body := webhook(t, b, tt.secret, tt.body)
		if code != tt.status || (code != 200 && !strings.Contains(body, `"error"`)) {
			t.Errorf("secret %q body %.30s: %d %s, want %d", tt.secret, tt.body, code, body, tt.status)
		}
	}
	if n := len(h.inbound()); n != 0 {
		t.Errorf("handled %d rejected updates", n)
	}
	var noSecret = &telegram.Bot{Token: token, Endpoint: api.Endpoint(), Handler: h}
	if code, _ := webhook(t, noSecret, "", fixture(t, "message_text.json")); code != 401 {
		t.Errorf("a webhook without a configured secret accepted an update: %d", code)
	}
}

func TestRedeliveredUpdateAnsweredOnce(t *testing.T) {
	api := channeltest.NewTelegramAPI(t, token)
	h := &recorder{}
	b := &telegram.Bot{Token: token, Endpoint: api.Endpoint(), Handler: h, WebhookSecret: "s"}
	for range 3 {
		if code, _ := webhook(t, b, "s", fixture(t, "message_text.json")); code != 200 {
			t.Fatal(code)
		}
	}
	if n := len(h.inbound()); n != 1 {
		t.Errorf("a redelivered update was handled %d times", n)
	}
	if n := len(api.Sent()); n != 1 {
		t.Errorf("a redelivered update was answered %d times", n)
	}
	// after a restart (a new Bot) the runtime's message-id dedupe holds:
	// the duplicate turn is not answered again
	b2 := &telegram.Bot{Token: token, Endpoint: api.Endpoint(), Handler: h, WebhookSecret: "s"}
	webhook(t, b2, "s", fixture(t, "message_text.json"))
	if n := len(api.Sent()); n != 1 {
		t.Errorf("after a restart the redelivered update was answered again (%d sends)", n)
	}
}

func TestPollingStoresOffset(t *testing.T) {
	api := channeltest.NewTelegramAPI(t, token)
	offsets := telegram.FileOffsets(filepath.Join(t.TempDir(), "telegram.offset"))
	h := &recorder{}
	id := api.Push(fixture(t, "message_text.json"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b := &telegram.Bot{Handler: h, Offsets: offsets}
	run(t, api, b)
	if _, _, err := api.Next(ctx, 1111111, 0); err != nil {
		t.Fatal(err)
	}
	for {
		if n, _ := offsets.Load(); n == id+1 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("offset never stored")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// a restarted bot asks from the stored offset
	before := len(api.Offsets())
	b2 := &telegram.Bot{Handler: h, Offsets: offsets}
	run(t, api, b2)
	for len(api.Offsets()) == before {
		time.Sleep(10 * time.Millisecond)
		if ctx.Err() != nil {
			t.Fatal("restarted bot never polled")
		}
	}
	for _, o := range api.Offsets()[before:] {
		if o != id+1 {
			t.Errorf("restarted bot polled from %d, want %d", o, id+1)
		}
	}
	if n := len(h.inbound()); n != 1 {
		t.Errorf("handled %d times", n)
	}
}

func TestRetryAfter429(t *testing.T) {
	api := channeltest.NewTelegramAPI(t, token)
	var slept []time.Duration
	b := &telegram.Bot{Token: token, Endpoint: api.Endpoint(), Handler: &recorder{},
		Sleep: func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return nil }}
	api.Fail429("sendMessage", 1)
	if err := b.Send(context.Background(), engine.Outbound{Conversation: "tg-42", Text: "hola"}); err != nil {
		t.Fatal(err)
	}
	if len(slept) == 0 || slept[len(slept)-1] != time.Second {
		t.Errorf("waits %v, want the last to be retry_after (1s)", slept)
	}
	if n := api.Calls("sendMessage"); n != 2 {
		t.Errorf("sendMessage called %d times, want 2", n)
	}
	if s := api.Sent(); len(s) != 1 || s[0].Text != "hola" || s[0].ChatID != 42 {
		t.Errorf("sent %+v", s)
	}
}

func TestChatRateLimit(t *testing.T) {
	api := channeltest.NewTelegramAPI(t, token)
	b := &telegram.Bot{Token: token, Endpoint: api.Endpoint(), Handler: &recorder{}, ChatRate: 20, ChatBurst: 1}
	for i := range 3 {
		b.Send(context.Background(), engine.Outbound{Conversation: "tg-7", Text: fmt.Sprint(i)})
	}
	s := api.Sent()
	if gap := s[2].At.Sub(s[0].At); gap < 90*time.Millisecond {
		t.Errorf("3 messages to one chat at 20/s with no burst took %v, want >= 100ms", gap)
	}
}

func TestLongChoicesAndNumberedAnswers(t *testing.T) {
	api := channeltest.NewTelegramAPI(t, token)
	h := &recorder{}
	b := &telegram.Bot{Token: token, Endpoint: api.Endpoint(), Handler: h, WebhookSecret: "s", ChatRate: 1000}
	long := strings.Repeat("v", 80)
	b.Send(context.Background(), engine.Outbound{Conversation: "tg-1111111", Text: "¿Cuál?", Choices: []engine.OutChoice{{Label: "Uno", Value: long}, {Label: "Dos", Value: "2x"}}})
	s := api.Sent()[0]
	if s.Buttons[0][1] != "#0" || s.Buttons[1][1] != "#1" {
		t.Fatalf("callback data of long values: %v", s.Buttons)
	}
	webhook(t, b, "s", strings.Replace(fixture(t, "callback_query.json"), `"data": "42"`, `"data": "#0"`, 1))
	if got := h.inbound(); len(got) != 1 || got[0].Choice != long {
		t.Fatalf("pressed #0: %+v", got)
	}
	// a typed "2" answers the keyboard on screen
	b.Send(context.Background(), engine.Outbound{Conversation: "tg-1111111", Text: "¿Talla?", Choices: channeltest.Sizes})
	webhook(t, b, "s", strings.Replace(fixture(t, "message_text.json"), `"text": "hola"`, `"text": "2"`, 1))
	if got := h.inbound(); len(got) != 2 || got[1].Choice != "42" {
		t.Fatalf("typed 2: %+v", got[len(got)-1])
	}
}

func TestTokenNeverLogged(t *testing.T) {
	var logs bytes.Buffer
	// a server that drops every connection: the library's errors carry the URL, token included
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hj, _ := w.(http.Hijacker)
		c, _, _ := hj.Hijack()
		c.Close()
	}))
	defer srv.Close()
	b := &telegram.Bot{Token: token, Endpoint: srv.URL + "/bot%s/%s", Handler: &recorder{}, PollTimeout: time.Second,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	b.Run(ctx)
	err := b.Send(context.Background(), engine.Outbound{Conversation: "tg-1", Text: "x"})
	if err == nil {
		t.Fatal("send to a dead server succeeded")
	}
	if !strings.Contains(logs.String(), "getUpdates failed") {
		t.Fatalf("no error logged: %s", logs.String())
	}
	for _, s := range []string{logs.String(), err.Error()} {
		if strings.Contains(s, token) || strings.Contains(s, "ABC-DEF1234") {
			t.Errorf("the token leaked: %s", s)
		}
	}
}

// FuzzWebhook feeds arbitrary bodies to the webhook: malformed updates are
// refused or ignored, never a panic or a 5xx.
func FuzzWebhook(f *testing.F) {
	for _, name := range []string{"message_text.json", "message_start_deeplink.json", "callback_query.json", "callback_inline_message.json", "message_photo.json", "message_sticker.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"update_id": 1, "callback_query": {"id": "x", "data": "#99", "message": {"message_id": 1, "chat": {"id": 5}}, "from": {"id": 5}}}`))
	f.Add([]byte(`{"update_id": 2, "message": {"message_id": 1, "chat": {"id": 5}, "from": {"id": 5}, "text": "/start"}}`))
	api := channeltest.NewTelegramAPI(f, token)
	h := &recorder{}
	b := &telegram.Bot{Token: token, Endpoint: api.Endpoint(), Handler: h, WebhookSecret: "s", ChatRate: 1e6, GlobalRate: 1e6, ChatBurst: 1e6}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/telegram", bytes.NewReader(body))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "s")
		rec := httptest.NewRecorder()
		b.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
	})
}
