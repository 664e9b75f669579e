// Package telegram is charla's Telegram connector: long polling with its
// own getUpdates loop (the offset is stored, update ids are de-duplicated,
// the token is never logged) or a webhook that checks Telegram's secret
// token header; inline keyboards for choices answered by callback
// queries; the typing action; and outbound rate limits, per chat and
// global, with a retry after a 429's retry_after.
//
// It uses github.com/go-telegram-bot-api/telegram-bot-api/v5 for the Bot
// API's types and requests, but none of its loops: its GetUpdatesChan logs
// the token on network errors and cannot be cancelled, and its webhook
// helper uses the global ServeMux and checks no secret.
package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/charlabot/charla/channels"
	"github.com/charlabot/charla/engine"
)

// Channel is the channel name of Telegram conversations.
const Channel = "telegram"

// Limits of the Bot API.
const (
	MaxText        = 4096 // characters of a message
	maxCaption     = 1024
	maxButtons     = 8  // choices shown as an inline keyboard (more become a numbered list)
	maxCallbackLen = 64 // bytes of callback_data
)

// Bot is a Telegram bot. Token and Handler are required; the rest has
// useful zero values. Fields must not change once it runs.
type Bot struct {
	Token   string
	Handler engine.Handler

	// Endpoint is the Bot API's URL pattern (tgbotapi.APIEndpoint);
	// tests point it at a fake server: srv.URL + "/bot%s/%s".
	Endpoint string
	Client   *http.Client
	// Offsets keeps the getUpdates offset across restarts (default: in memory).
	Offsets Offsets
	// WebhookSecret is the secret_token given to setWebhook; the webhook
	// refuses requests whose X-Telegram-Bot-Api-Secret-Token differs.
	WebhookSecret string
	// PollTimeout is getUpdates' long-poll timeout (25 s).
	PollTimeout time.Duration
	// GlobalRate and ChatRate limit outbound messages per second (30 and 1,
	// Telegram's guidance), with bursts of GlobalRate and ChatBurst (3).
	GlobalRate, ChatRate float64
	ChatBurst            int
	Logger               *slog.Logger
	// Sleep waits d or until ctx is done (default: a timer); tests replace
	// it so that a retry_after or a backoff takes no wall-clock time.
	Sleep func(ctx context.Context, d time.Duration) error

	once    sync.Once
	api     *tgbotapi.BotAPI
	mu      sync.Mutex
	seen    map[int]struct{} // recent update ids
	order   []int
	global  bucket
	chats   map[int64]*bucket
	choices channels.Choices // long callback values by "#index", and numbered lists
	keys    map[int64][]engine.OutChoice
}

var (
	_ channels.Connector = (*Bot)(nil)
	_ channels.Runner    = (*Bot)(nil)
	_ channels.Buttoner  = (*Bot)(nil)
	_ channels.Typer     = (*Bot)(nil)
	_ channels.Imager    = (*Bot)(nil)
	_ channels.Limiter   = (*Bot)(nil)
)

func (b *Bot) init() {
	b.once.Do(func() {
		ep := b.Endpoint
		if ep == "" {
			ep = tgbotapi.APIEndpoint
		}
		client := b.Client
		if client == nil {
			client = &http.Client{Timeout: 0} // deadlines come from contexts
		}
		// Built by hand rather than with NewBotAPIWithClient, which calls
		// getMe without a context.
		b.api = &tgbotapi.BotAPI{Token: b.Token, Client: ctxClient{client, context.Background()}, Buffer: 100}
		b.api.SetAPIEndpoint(ep)
		if b.Offsets == nil {
			b.Offsets = &MemoryOffsets{}
		}
		b.seen = map[int]struct{}{}
		b.chats = map[int64]*bucket{}
		b.keys = map[int64][]engine.OutChoice{}
		rate := b.GlobalRate
		if rate <= 0 {
			rate = 30
		}
		b.global = bucket{rate: rate, burst: rate}
	})
}

// Name is "telegram".
func (b *Bot) Name() string { return Channel }

// MaxButtons is how many choices become an inline keyboard.
func (b *Bot) MaxButtons() int { return maxButtons }

// MaxText is Telegram's message length limit.
func (b *Bot) MaxText() int { return MaxText }

// Images reports that Telegram shows images.
func (b *Bot) Images() bool { return true }

func (b *Bot) logger() *slog.Logger {
	if b.Logger != nil {
		return b.Logger
	}
	return slog.Default()
}

// ctxClient gives the library's requests a context.
type ctxClient struct {
	c   *http.Client
	ctx context.Context
}

func (c ctxClient) Do(r *http.Request) (*http.Response, error) { return c.c.Do(r.WithContext(c.ctx)) }

// redact removes the token from an error's text (the library's URLs hold it).
func (b *Bot) redact(err error) error {
	if err == nil || b.Token == "" || !strings.Contains(err.Error(), b.Token) {
		return err
	}
	return &redacted{msg: strings.ReplaceAll(err.Error(), b.Token, "<token>"), err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// request makes one Bot API call with ctx, retrying after a 429 (up to
// three times) as retry_after says.
func (b *Bot) request(ctx context.Context, c tgbotapi.Chattable) (*tgbotapi.APIResponse, error) {
	b.init()
	api := *b.api // a shallow copy whose client carries ctx
	api.Client = ctxClient{b.api.Client.(ctxClient).c, ctx}
	for attempt := 0; ; attempt++ {
		resp, err := api.Request(c)
		var te *tgbotapi.Error
		if errors.As(err, &te) && te.Code == http.StatusTooManyRequests && attempt < 3 {
			wait := time.Duration(max(te.RetryAfter, 1)) * time.Second
			b.logger().Warn("telegram: rate limited", "retry_after", wait)
			if err := b.sleep(ctx, wait); err != nil {
				return nil, err
			}
			continue
		}
		return resp, b.redact(err)
	}
}

func (b *Bot) sleep(ctx context.Context, d time.Duration) error {
	if b.Sleep != nil {
		return b.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run polls getUpdates until ctx is done, handling updates chat by chat
// (each chat's updates in order, chats in parallel) and storing the offset
// after each batch. It must not run while a webhook is set.
func (b *Bot) Run(ctx context.Context) error {
	b.init()
	offset, err := b.Offsets.Load()
	if err != nil {
		return fmt.Errorf("telegram: reading the offset: %w", err)
	}
	timeout := b.PollTimeout
	if timeout <= 0 {
		timeout = 25 * time.Second
	}
	backoff := time.Second
	for ctx.Err() == nil {
		cfg := tgbotapi.NewUpdate(offset)
		cfg.Timeout = int(timeout / time.Second)
		cfg.AllowedUpdates = []string{"message", "callback_query"}
		pctx, cancel := context.WithTimeout(ctx, timeout+10*time.Second)
		resp, err := b.request(pctx, cfg)
		cancel()
		if ctx.Err() != nil {
			break
		}
		var updates []tgbotapi.Update
		if err == nil {
			err = json.Unmarshal(resp.Result, &updates)
		}
		if err != nil {
			b.logger().Error("telegram: getUpdates failed", "err", err, "retry_in", backoff)
			if b.sleep(ctx, backoff) != nil {
				break
			}
			backoff = min(backoff*2, time.Minute)
			continue
		}
		backoff = time.Second
		if len(updates) == 0 {
			continue
		}
		// a batch in progress finishes even when ctx ends (graceful shutdown)
		b.handleBatch(context.WithoutCancel(ctx), updates)
		offset = updates[len(updates)-1].UpdateID + 1
		if err := b.Offsets.Save(offset); err != nil {
			b.logger().Error("telegram: storing the offset", "err", err)
		}
	}
	return nil
}

func (b *Bot) handleBatch(ctx context.Context, updates []tgbotapi.Update) {
	byChat := map[int64][]tgbotapi.Update{}
	var order []int64
	for _, u := range updates {
		id := chatOf(u)
		if _, ok := byChat[id]; !ok {
			order = append(order, id)
		}
		byChat[id] = append(byChat[id], u)
	}
	var wg sync.WaitGroup
	for _, id := range order {
		wg.Go(func() {
			for _, u := range byChat[id] {
				b.Update(ctx, u)
			}
		})
	}
	wg.Wait()
}

func chatOf(u tgbotapi.Update) int64 {
	switch {
	case u.Message != nil && u.Message.Chat != nil:
		return u.Message.Chat.ID
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil && u.CallbackQuery.Message.Chat != nil:
		return u.CallbackQuery.Message.Chat.ID
	}
	return 0
}

// firstTime records an update id and reports whether it is new.
func (b *Bot) firstTime(id int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, dup := b.seen[id]; dup {
		return false
	}
	b.seen[id] = struct{}{}
	b.order = append(b.order, id)
	if len(b.order) > 4096 {
		delete(b.seen, b.order[0])
		b.order = b.order[1:]
	}
	return true
}

// ServeHTTP is the webhook: it checks the secret token, reads one update
// and handles it before answering 200 (Telegram redelivers on failure; a
// redelivered update is answered once).
func (b *Bot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.init()
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
		return
	}
	got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
	if b.WebhookSecret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(b.WebhookSecret)) != 1 {
		writeError(w, http.StatusUnauthorized, "wrong or missing X-Telegram-Bot-Api-Secret-Token")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "update too large")
		return
	}
	var u tgbotapi.Update
	if err := json.Unmarshal(body, &u); err != nil || u.UpdateID == 0 {
		writeError(w, http.StatusBadRequest, "not a Telegram update")
		return
	}
	if err := b.Update(r.Context(), u); err != nil && errors.Is(err, errRetry) {
		writeError(w, http.StatusServiceUnavailable, "try again")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte("{}\n"))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

var errRetry = errors.New("telegram: the turn could not be stored; redeliver")

// Update handles one update: a message or a pressed inline button. Other
// kinds, malformed updates and redeliveries are ignored.
func (b *Bot) Update(ctx context.Context, u tgbotapi.Update) error {
	b.init()
	if !b.firstTime(u.UpdateID) {
		return nil // redelivered: answered the first time
	}
	in, ok := b.inbound(ctx, u)
	if !ok {
		return nil
	}
	chat := chatOf(u)
	b.Typing(ctx, ConversationID(chat))
	turn, err := b.Handler.Handle(ctx, in)
	if err != nil {
		code := engine.ErrCode(err)
		if code == engine.EInternal {
			b.logger().Error("telegram: turn failed", "conversation", in.Conversation, "err", err)
		}
		b.forget(u.UpdateID)
		text := engine.ErrMessage(err)
		if code == engine.EInternal || code == engine.EUnavailable {
			text = polite(in.Lang)
		}
		b.Send(ctx, engine.Outbound{Conversation: in.Conversation, Text: text})
		if code == engine.EUnavailable {
			return errRetry
		}
		return nil
	}
	if turn.Duplicate {
		return nil // answered the first time
	}
	for _, m := range turn.Messages {
		m.Conversation = in.Conversation
		if err := b.Send(ctx, m); err != nil {
			b.logger().Error("telegram: sending a reply failed", "conversation", in.Conversation, "err", err)
			return err
		}
	}
	return nil
}

func (b *Bot) forget(id int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.seen, id)
}

func polite(lang string) string {
	if lang == "en" {
		return "Sorry, something went wrong. Shall we try again?"
	}
	return "Lo siento, tuve un problema. ¿Lo intentamos de nuevo?"
}

// ConversationID is the conversation of a Telegram chat.
func ConversationID(chat int64) string { return "tg-" + strconv.FormatInt(chat, 10) }

// UserID is the charla user of a Telegram user: Telegram vouches for it.
func UserID(user int64) string { return "tg-" + strconv.FormatInt(user, 10) }

func chatID(conversation string) (int64, bool) {
	id, err := strconv.ParseInt(strings.TrimPrefix(conversation, "tg-"), 10, 64)
	return id, err == nil && strings.HasPrefix(conversation, "tg-")
}

func langOf(u *tgbotapi.User) string {
	if u == nil || len(u.LanguageCode) < 2 {
		return ""
	}
	return strings.ToLower(u.LanguageCode[:2])
}

// inbound turns an update into a message for the runtime.
func (b *Bot) inbound(ctx context.Context, u tgbotapi.Update) (engine.Inbound, bool) {
	switch {
	case u.Message != nil:
		m := u.Message
		if m.Chat == nil || m.From == nil {
			return engine.Inbound{}, false
		}
		in := engine.Inbound{
			Conversation: ConversationID(m.Chat.ID), User: UserID(m.From.ID), Channel: Channel,
			ID: fmt.Sprintf("tg-%d-%d", m.Chat.ID, m.MessageID), Lang: langOf(m.From), Verified: true,
			At: time.Unix(int64(m.Date), 0),
		}
		switch {
		case m.IsCommand() && m.Command() == "start":
			in.Event = engine.EventConversationStart
			in.Data = map[string]any{"channel": Channel}
			if p := m.CommandArguments(); p != "" {
				in.Data["payload"] = p // a deep link: t.me/bot?start=PAYLOAD
			}
		case m.Text != "":
			in.Text = m.Text
			b.choices.Resolve(&in)
		case len(m.Photo) > 0:
			p := m.Photo[len(m.Photo)-1] // the largest size
			in.Text = m.Caption
			in.Attachments = []engine.Attachment{{ID: p.FileID, Kind: "image", URL: "telegram-file:" + p.FileID, Size: p.FileSize, MIME: "image/jpeg", Caption: m.Caption}}
		case m.Document != nil:
			d := m.Document
			kind := "file"
			if strings.HasPrefix(d.MimeType, "image/") {
				kind = "image"
			}
			in.Text = m.Caption
			in.Attachments = []engine.Attachment{{ID: d.FileID, Kind: kind, URL: "telegram-file:" + d.FileID, Name: d.FileName, MIME: d.MimeType, Size: d.FileSize, Caption: m.Caption}}
		case m.Location != nil:
			in.Location = &engine.Location{Lat: m.Location.Latitude, Lon: m.Location.Longitude}
		default:
			return engine.Inbound{}, false // stickers, joins, ...: nothing to say
		}
		return in, true
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		if q.ID != "" { // stop the button's spinner whatever happens next
			b.request(ctx, tgbotapi.NewCallback(q.ID, ""))
		}
		if q.Message == nil || q.Message.Chat == nil || q.From == nil {
			return engine.Inbound{}, false
		}
		chat := q.Message.Chat.ID
		value, ok := b.callbackValue(chat, q.Data)
		if !ok {
			return engine.Inbound{}, false
		}
		b.choices.Remember(ConversationID(chat), nil)
		// the keyboard has been answered: remove it
		b.request(ctx, tgbotapi.NewEditMessageReplyMarkup(chat, q.Message.MessageID, tgbotapi.InlineKeyboardMarkup{InlineKeyboard: [][]tgbotapi.InlineKeyboardButton{}}))
		return engine.Inbound{
			Conversation: ConversationID(chat), User: UserID(q.From.ID), Channel: Channel,
			ID: "tg-cb-" + q.ID, Choice: value, Lang: langOf(q.From), Verified: true,
		}, true
	}
	return engine.Inbound{}, false
}

// callbackValue returns the choice value of a button's callback_data:
// the value itself, or "#N" for the N-th choice of the chat's last
// keyboard when the value was too long for callback_data.
func (b *Bot) callbackValue(chat int64, data string) (string, bool) {
	if data == "" {
		return "", false
	}
	if !strings.HasPrefix(data, "#") {
		return data, true
	}
	n, err := strconv.Atoi(data[1:])
	b.mu.Lock()
	defer b.mu.Unlock()
	keys := b.keys[chat]
	if err != nil || n < 0 || n >= len(keys) {
		return "", false
	}
	return keys[n].Value, true
}

// Send delivers a message to the chat of out.Conversation, degraded to
// what Telegram shows: an inline keyboard for up to 8 choices, parts of at
// most 4096 characters, a photo for an image.
func (b *Bot) Send(ctx context.Context, out engine.Outbound) error {
	b.init()
	chat, ok := chatID(out.Conversation)
	if !ok {
		return engine.Errorf(engine.EInvalid, "not a Telegram conversation: %q", out.Conversation)
	}
	if out.Link != nil {
		out.Text = strings.TrimSpace(out.Text + "\n" + out.Link.URL)
		out.Link = nil
	}
	if len(out.Choices) > 0 {
		// a typed answer ("2", "talla 42") to a keyboard or numbered list works too
		b.choices.Remember(out.Conversation, out.Choices)
	} else if out.Text != "" {
		b.choices.Remember(out.Conversation, nil) // the question has moved on
	}
	for _, m := range channels.Degrade(out, channels.CapabilitiesOf(b)) {
		if err := b.wait(ctx, chat); err != nil {
			return err
		}
		var c tgbotapi.Chattable
		switch {
		case m.Image != "" && len([]rune(m.Text)) <= maxCaption && len(m.Choices) == 0:
			p := tgbotapi.NewPhoto(chat, tgbotapi.FileURL(m.Image))
			p.Caption = m.Text
			c = p
		case m.Image != "":
			if _, err := b.request(ctx, tgbotapi.NewPhoto(chat, tgbotapi.FileURL(m.Image))); err != nil {
				return err
			}
			if err := b.wait(ctx, chat); err != nil {
				return err
			}
			c = b.textMessage(chat, m)
		default:
			c = b.textMessage(chat, m)
		}
		if _, err := b.request(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

func (b *Bot) textMessage(chat int64, m engine.Outbound) tgbotapi.MessageConfig {
	msg := tgbotapi.NewMessage(chat, m.Text)
	if len(m.Choices) == 0 {
		return msg
	}
	rows := make([][]tgbotapi.InlineKeyboardButton, len(m.Choices))
	long := false
	for _, c := range m.Choices {
		if len(c.Value) > maxCallbackLen || strings.HasPrefix(c.Value, "#") {
			long = true
		}
	}
	for i, c := range m.Choices {
		data := c.Value
		if long {
			data = "#" + strconv.Itoa(i)
		}
		rows[i] = tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData(c.Label, data))
	}
	if long {
		b.mu.Lock()
		b.keys[chat] = append([]engine.OutChoice(nil), m.Choices...)
		b.mu.Unlock()
	}
	msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(rows...)
	return msg
}

// Typing shows "typing…" in the chat (Telegram shows it for 5 seconds or
// until the next message).
func (b *Bot) Typing(ctx context.Context, conversation string) error {
	chat, ok := chatID(conversation)
	if !ok {
		return nil
	}
	_, err := b.request(ctx, tgbotapi.NewChatAction(chat, tgbotapi.ChatTyping))
	return err
}

// wait takes a token from the global and the chat's rate limits.
func (b *Bot) wait(ctx context.Context, chat int64) error {
	now := time.Now()
	b.mu.Lock()
	cb := b.chats[chat]
	if cb == nil {
		rate := b.ChatRate
		if rate <= 0 {
			rate = 1
		}
		burst := float64(b.ChatBurst)
		if burst <= 0 {
			burst = 3
		}
		cb = &bucket{rate: rate, burst: burst}
		if len(b.chats) > 100_000 {
			clear(b.chats)
		}
		b.chats[chat] = cb
	}
	d := max(b.global.reserve(now), cb.reserve(now))
	b.mu.Unlock()
	if d <= 0 {
		return nil
	}
	return b.sleep(ctx, d)
}

// bucket is a token bucket whose reservations may go into debt: reserve
// takes a token and returns how long to wait before using it.
type bucket struct {
	rate, burst float64
	tokens      float64
	last        time.Time
}

func (k *bucket) reserve(now time.Time) time.Duration {
	if k.last.IsZero() {
		k.tokens = k.burst
	} else {
		k.tokens = min(k.burst, k.tokens+now.Sub(k.last).Seconds()*k.rate)
	}
	k.last = now
	k.tokens--
	if k.tokens >= 0 {
		return 0
	}
	return time.Duration(-k.tokens / k.rate * float64(time.Second))
}

// Offsets keeps the getUpdates offset.
type Offsets interface {
	Load() (int, error)
	Save(offset int) error
}

// MemoryOffsets keeps the offset in memory.
type MemoryOffsets struct {
	mu sync.Mutex
	n  int
}

func (m *MemoryOffsets) Load() (int, error) { m.mu.Lock(); defer m.mu.Unlock(); return m.n, nil }
func (m *MemoryOffsets) Save(n int) error   { m.mu.Lock(); defer m.mu.Unlock(); m.n = n; return nil }

// FileOffsets keeps the offset in a file, replaced atomically.
type FileOffsets string

// Load reads the offset (0 when the file does not exist).
func (f FileOffsets) Load() (int, error) {
	b, err := os.ReadFile(string(f))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// Save writes the offset.
func (f FileOffsets) Save(n int) error {
	tmp := string(f) + ".tmp"
	if err := os.MkdirAll(filepath.Dir(string(f)), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(n)+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, string(f))
}
