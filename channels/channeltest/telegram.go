package channeltest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TelegramAPI is a fake Telegram Bot API server on loopback. Point a bot
// at Endpoint(); feed it updates with Push (JSON shaped like the Bot API
// documentation's examples) and read what the bot sent with Next.
type TelegramAPI struct {
	Token string
	srv   *httptest.Server

	mu       sync.Mutex
	cond     *sync.Cond
	updates  []json.RawMessage // by update_id order
	nextID   int
	sent     []Sent
	calls    map[string]int
	fail     map[string][]int // method → retry_after of the next 429s
	offsets  []int            // offsets asked by getUpdates
	callback []string         // answered callback query ids
}

// Sent is a request the bot made to send something.
type Sent struct {
	Method  string
	ChatID  int64
	Text    string // text or caption
	Photo   string
	Buttons [][2]string // label, callback_data
	At      time.Time
}

// NewTelegramAPI starts a fake Bot API server that accepts token.
func NewTelegramAPI(t testing.TB, token string) *TelegramAPI {
	f := &TelegramAPI{Token: token, nextID: 1000, calls: map[string]int{}, fail: map[string][]int{}}
	f.cond = sync.NewCond(&f.mu)
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.mu.Lock()
		f.cond.Broadcast()
		f.mu.Unlock()
		f.srv.CloseClientConnections()
		f.srv.Close()
	})
	return f
}

// Endpoint is the URL pattern for tgbotapi's SetAPIEndpoint.
func (f *TelegramAPI) Endpoint() string { return f.srv.URL + "/bot%s/%s" }

// URL is the server's base URL.
func (f *TelegramAPI) URL() string { return f.srv.URL }

// Push queues an update for getUpdates. An update without "update_id"
// gets the next one. It returns the update_id.
func (f *TelegramAPI) Push(update string) int {
	var m map[string]any
	if err := json.Unmarshal([]byte(update), &m); err != nil {
		panic("channeltest: Push: " + err.Error())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := m["update_id"].(float64)
	if !ok {
		f.nextID++
		id = float64(f.nextID)
		m["update_id"] = id
	}
	b, _ := json.Marshal(m)
	f.updates = append(f.updates, b)
	f.cond.Broadcast()
	return int(id)
}

// Fail429 makes the next call of method fail with 429 Too Many Requests
// and the given retry_after.
func (f *TelegramAPI) Fail429(method string, retryAfter int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[method] = append(f.fail[method], retryAfter)
}

// Calls returns how many times method was called.
func (f *TelegramAPI) Calls(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// Offsets returns the offsets getUpdates was asked for.
func (f *TelegramAPI) Offsets() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.offsets...)
}

// Answered returns the callback query ids answered.
func (f *TelegramAPI) Answered() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.callback...)
}

// Sent returns everything sent so far.
func (f *TelegramAPI) Sent() []Sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Sent(nil), f.sent...)
}

// Next waits for the next message sent to chat after the first skip ones
// and returns it with its index (pass index+1 as skip to read on).
func (f *TelegramAPI) Next(ctx context.Context, chat int64, skip int) (Sent, int, error) {
	stop := context.AfterFunc(ctx, func() {
		f.mu.Lock()
		f.cond.Broadcast()
		f.mu.Unlock()
	})
	defer stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		for i := skip; i < len(f.sent); i++ {
			if f.sent[i].ChatID == chat {
				return f.sent[i], i, nil
			}
		}
		if ctx.Err() != nil {
			return Sent{}, 0, fmt.Errorf("no message to chat %d: %w", chat, ctx.Err())
		}
		f.cond.Wait()
	}
}

func (f *TelegramAPI) reply(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(map[string]any{"ok": true, "result": v})
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

func (f *TelegramAPI) replyError(w http.ResponseWriter, code int, desc string, retryAfter int) {
	resp := map[string]any{"ok": false, "error_code": code, "description": desc}
	if retryAfter > 0 {
		resp["parameters"] = map[string]any{"retry_after": retryAfter}
	}
	b, _ := json.Marshal(resp)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}

func (f *TelegramAPI) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) != 2 || parts[0] != "bot"+f.Token {
		f.replyError(w, http.StatusUnauthorized, "Unauthorized", 0)
		return
	}
	method := parts[1]
	if err := r.ParseForm(); err != nil {
		f.replyError(w, http.StatusBadRequest, "Bad Request: "+err.Error(), 0)
		return
	}
	f.mu.Lock()
	f.calls[method]++
	if q := f.fail[method]; len(q) > 0 {
		f.fail[method] = q[1:]
		f.mu.Unlock()
		f.replyError(w, http.StatusTooManyRequests, "Too Many Requests: retry after "+strconv.Itoa(q[0]), q[0])
		return
	}
	f.mu.Unlock()
	chat, _ := strconv.ParseInt(r.Form.Get("chat_id"), 10, 64)
	switch method {
	case "getMe":
		f.reply(w, map[string]any{"id": 777, "is_bot": true, "first_name": "Charla", "username": "charla_test_bot"})
	case "getUpdates":
		f.getUpdates(w, r)
	case "sendMessage", "sendPhoto":
		s := Sent{Method: method, ChatID: chat, Text: r.Form.Get("text"), Photo: r.Form.Get("photo"), At: time.Now()}
		if method == "sendPhoto" {
			s.Text = r.Form.Get("caption")
		}
		if rm := r.Form.Get("reply_markup"); rm != "" {
			var kb struct {
				InlineKeyboard [][]struct {
					Text         string `json:"text"`
					CallbackData string `json:"callback_data"`
				} `json:"inline_keyboard"`
			}
			json.Unmarshal([]byte(rm), &kb)
			for _, row := range kb.InlineKeyboard {
				for _, b := range row {
					s.Buttons = append(s.Buttons, [2]string{b.Text, b.CallbackData})
				}
			}
		}
		f.mu.Lock()
		f.sent = append(f.sent, s)
		n := len(f.sent)
		f.cond.Broadcast()
		f.mu.Unlock()
		f.reply(w, map[string]any{"message_id": n, "date": time.Now().Unix(), "chat": map[string]any{"id": chat, "type": "private"}, "text": s.Text})
	case "answerCallbackQuery":
		f.mu.Lock()
		f.callback = append(f.callback, r.Form.Get("callback_query_id"))
		f.mu.Unlock()
		f.reply(w, true)
	case "sendChatAction", "editMessageReplyMarkup", "setWebhook", "deleteWebhook":
		f.reply(w, true)
	default:
		f.replyError(w, http.StatusNotFound, "Not Found: method "+method, 0)
	}
}

func (f *TelegramAPI) getUpdates(w http.ResponseWriter, r *http.Request) {
	offset, _ := strconv.Atoi(r.Form.Get("offset"))
	timeout, _ := strconv.Atoi(r.Form.Get("timeout"))
	deadline := time.Now().Add(time.Duration(timeout) * time.Second)
	stop := context.AfterFunc(r.Context(), func() {
		f.mu.Lock()
		f.cond.Broadcast()
		f.mu.Unlock()
	})
	defer stop()
	timer := time.AfterFunc(time.Until(deadline), func() {
		f.mu.Lock()
		f.cond.Broadcast()
		f.mu.Unlock()
	})
	defer timer.Stop()
	f.mu.Lock()
	f.offsets = append(f.offsets, offset)
	for {
		var out []json.RawMessage
		for _, u := range f.updates {
			var h struct {
				UpdateID int `json:"update_id"`
			}
			json.Unmarshal(u, &h)
			if h.UpdateID >= offset {
				out = append(out, u)
			}
		}
		if len(out) > 0 || time.Now().After(deadline) || r.Context().Err() != nil {
			f.mu.Unlock()
			if out == nil {
				out = []json.RawMessage{}
			}
			f.reply(w, out)
			return
		}
		f.cond.Wait()
	}
}
