// Package rest is the REST channel and the HTTP API of charla (see
// docs/http-api.md): a turn per POST, the conversation's state and
// transcript, proactive events, and a user's erasure and export.
//
// Every error is a 4xx or 5xx status with a JSON body {"error": "..."};
// internal errors are logged and shown as a generic text.
package rest

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/charlabot/charla/channels"
	"github.com/charlabot/charla/engine"
)

// Channel is the channel name of conversations held over REST.
const Channel = "rest"

// API serves the HTTP API under /api/v1/. Its zero value is not usable:
// Backend is required. Fields must not change once it serves.
type API struct {
	Backend channels.Backend

	// Token, when set, is the bearer token every request must carry
	// (Authorization: Bearer TOKEN). Callers holding it are trusted: the
	// users they name are verified.
	Token string
	// IdentitySecret verifies "user_hash" (see channels.SignUser) when no
	// Token is set.
	IdentitySecret []byte
	// MaxBody limits request bodies (default 64 KiB).
	MaxBody int64
	Logger  *slog.Logger

	once sync.Once
	mux  *http.ServeMux
}

// ServeHTTP serves the API's routes; anything else under /api/ is a JSON 404.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.once.Do(a.routes)
	if p := r.URL.Path; path.Clean(p) != p {
		// ServeMux would redirect an unclean path ("//", "/../") with an HTML body
		WriteError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+p)
		return
	}
	a.mux.ServeHTTP(w, r)
}

func (a *API) routes() {
	m := http.NewServeMux()
	m.HandleFunc("/api/v1/conversations/{id}/messages", a.auth(methods{
		http.MethodPost: a.postMessage,
		http.MethodGet:  a.getTranscript,
	}.serve))
	m.HandleFunc("/api/v1/conversations/{id}", a.auth(methods{http.MethodGet: a.getConversation}.serve))
	m.HandleFunc("/api/v1/events", a.auth(methods{http.MethodPost: a.postEvent}.serve))
	m.HandleFunc("/api/v1/users/{id}", a.auth(methods{http.MethodDelete: a.deleteUser}.serve))
	m.HandleFunc("/api/v1/users/{id}/export", a.auth(methods{http.MethodGet: a.exportUser}.serve))
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	a.mux = m
}

type methods map[string]http.HandlerFunc

func (ms methods) serve(w http.ResponseWriter, r *http.Request) {
	if h, ok := ms[r.Method]; ok {
		h(w, r)
		return
	}
	allow := make([]string, 0, len(ms))
	for m := range ms {
		allow = append(allow, m)
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	WriteError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
}

func (a *API) auth(h http.HandlerFunc) http.HandlerFunc {
	if a.Token == "" {
		return h
	}
	want := []byte("Bearer " + a.Token)
	return func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get("Authorization")
		if got == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="charla"`)
			WriteError(w, http.StatusUnauthorized, "missing bearer token")
			return
		}
		if subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="charla", error="invalid_token"`)
			WriteError(w, http.StatusUnauthorized, "wrong bearer token")
			return
		}
		h(w, r)
	}
}

// MessageRequest is the body of POST /api/v1/conversations/{id}/messages.
type MessageRequest struct {
	Text     string `json:"text"`
	Choice   string `json:"choice"`
	User     string `json:"user"`
	UserHash string `json:"user_hash"`
	Lang     string `json:"lang"`
	ID       string `json:"id"`
}

// MessageResponse is the answer to a message: the turn's replies, what was
// understood, and the conversation's state.
type MessageResponse struct {
	Messages     []Message    `json:"messages"`
	NLU          NLU          `json:"nlu"`
	Conversation Conversation `json:"conversation"`
	Duplicate    bool         `json:"duplicate,omitempty"`
}

// Message is one reply of the bot.
type Message struct {
	Text    string             `json:"text"`
	Choices []engine.OutChoice `json:"choices"`
	Flow    string             `json:"flow"`
	Image   string             `json:"image,omitempty"`
	Link    *engine.OutLink    `json:"link,omitempty"`
	From    string             `json:"from,omitempty"`
}

// NLU is what was understood of a message.
type NLU struct {
	Intent     string               `json:"intent"`
	Confidence float64              `json:"confidence"`
	Intents    []engine.IntentScore `json:"intents"`
	Entities   []engine.Entity      `json:"entities"`
	Lang       string               `json:"lang,omitempty"`
}

// Conversation is engine.Conversation with slots that are never null.
type Conversation engine.Conversation

// MarshalJSON writes slots as {} when there are none.
func (c Conversation) MarshalJSON() ([]byte, error) {
	if c.Slots == nil {
		c.Slots = map[string]any{}
	}
	return json.Marshal(engine.Conversation(c))
}

// Messages converts a turn's replies to their JSON form.
func Messages(outs []engine.Outbound) []Message {
	msgs := make([]Message, len(outs))
	for i, o := range outs {
		ch := o.Choices
		if ch == nil {
			ch = []engine.OutChoice{}
		}
		msgs[i] = Message{Text: o.Text, Choices: ch, Flow: o.Flow, Image: o.Image, Link: o.Link, From: o.From}
	}
	return msgs
}

// NLUOf converts an understanding to its JSON form.
func NLUOf(u *engine.Understanding) NLU {
	n := NLU{Intents: []engine.IntentScore{}, Entities: []engine.Entity{}}
	if u == nil {
		return n
	}
	n.Intent, n.Confidence = u.Top()
	n.Lang = u.Lang
	if u.Intents != nil {
		n.Intents = u.Intents
	}
	if u.Entities != nil {
		n.Entities = u.Entities
	}
	return n
}

func (a *API) postMessage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !channels.ValidID(id) {
		WriteError(w, http.StatusBadRequest, "invalid conversation id")
		return
	}
	var req MessageRequest
	if !a.decode(w, r, &req) {
		return
	}
	switch {
	case req.Text == "" && req.Choice == "":
		WriteError(w, http.StatusBadRequest, `"text" or "choice" is required`)
		return
	case req.Text != "" && req.Choice != "":
		WriteError(w, http.StatusBadRequest, `give "text" or "choice", not both`)
		return
	case req.User != "" && !channels.ValidID(req.User):
		WriteError(w, http.StatusBadRequest, "invalid user id")
		return
	case req.ID != "" && !channels.ValidID(req.ID):
		WriteError(w, http.StatusBadRequest, "invalid message id")
		return
	case len(req.Lang) > 16:
		WriteError(w, http.StatusBadRequest, "invalid lang")
		return
	}
	in := engine.Inbound{
		Conversation: id, User: req.User, Channel: Channel, ID: req.ID,
		Text: req.Text, Choice: req.Choice, Lang: req.Lang, At: time.Now(),
	}
	if req.User != "" {
		switch {
		case a.Token != "":
			in.Verified = true // the caller holds the API token: the shop's backend
		case req.UserHash != "":
			if !channels.VerifyUser(a.IdentitySecret, req.User, req.UserHash) {
				WriteError(w, http.StatusUnauthorized, "user_hash does not match user")
				return
			}
			in.Verified = true
		}
	}
	turn, err := a.Backend.Handle(r.Context(), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if turn == nil {
		turn = &engine.Turn{}
	}
	WriteJSON(w, http.StatusOK, MessageResponse{
		Messages:     Messages(turn.Messages),
		NLU:          NLUOf(turn.Understanding),
		Conversation: Conversation(turn.Conversation),
		Duplicate:    turn.Duplicate,
	})
}

func (a *API) getConversation(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !channels.ValidID(id) {
		WriteError(w, http.StatusBadRequest, "invalid conversation id")
		return
	}
	c, err := a.Backend.Conversation(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, Conversation(c))
}

func (a *API) getTranscript(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !channels.ValidID(id) {
		WriteError(w, http.StatusBadRequest, "invalid conversation id")
		return
	}
	var after int64
	var limit int
	if s := r.URL.Query().Get("after"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 {
			WriteError(w, http.StatusBadRequest, `"after" must be a sequence number (an integer >= 0)`)
			return
		}
		after = v
	}
	if s := r.URL.Query().Get("limit"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			WriteError(w, http.StatusBadRequest, `"limit" must be an integer >= 0`)
			return
		}
		limit = v
	}
	receipts := false
	if s := r.URL.Query().Get("receipts"); s != "" {
		v, err := strconv.ParseBool(s)
		if err != nil {
			WriteError(w, http.StatusBadRequest, `"receipts" must be true or false`)
			return
		}
		receipts = v
	}
	entries, err := a.Backend.Transcript(r.Context(), id, after, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// The contract's transcript holds what was said (user, bot, agent);
	// delivery receipts are asked for explicitly.
	out := make([]channels.Entry, 0, len(entries))
	for _, e := range entries {
		if e.From != engine.FromStatus || receipts {
			out = append(out, e)
		}
	}
	WriteJSON(w, http.StatusOK, out)
}

// EventRequest is the body of POST /api/v1/events.
type EventRequest struct {
	User  string         `json:"user"`
	Event string         `json:"event"`
	Data  map[string]any `json:"data"`
}

func (a *API) postEvent(w http.ResponseWriter, r *http.Request) {
	var req EventRequest
	if !a.decode(w, r, &req) {
		return
	}
	switch {
	case !channels.ValidID(req.User):
		WriteError(w, http.StatusBadRequest, `"user" is required: a user id`)
		return
	case !channels.ValidID(req.Event):
		WriteError(w, http.StatusBadRequest, `"event" is required: an event name`)
		return
	}
	d, err := a.Backend.Trigger(r.Context(), req.User, req.Event, req.Data)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if d.Messages == nil {
		d.Messages = []engine.Outbound{}
	}
	status := http.StatusOK
	if d.Status == channels.Queued {
		status = http.StatusAccepted
	}
	WriteJSON(w, status, struct {
		channels.Delivery
		Messages []Message `json:"messages"`
	}{d, Messages(d.Messages)})
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !channels.ValidID(id) {
		WriteError(w, http.StatusBadRequest, "invalid user id")
		return
	}
	if err := a.Backend.EraseUser(r.Context(), id); err != nil {
		a.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"user": id, "erased": true})
}

func (a *API) exportUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !channels.ValidID(id) {
		WriteError(w, http.StatusBadRequest, "invalid user id")
		return
	}
	v, err := a.Backend.ExportUser(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="charla-user-`+id+`.json"`)
	WriteJSON(w, http.StatusOK, v)
}

func (a *API) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	// The body is read as JSON whatever its Content-Type says: curl -d
	// sends JSON labelled as a form.
	max := a.MaxBody
	if max <= 0 {
		max = 64 << 10
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, max))
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			WriteError(w, http.StatusRequestEntityTooLarge, "the body is larger than "+strconv.FormatInt(max, 10)+" bytes")
			return false
		}
		WriteError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return false
	}
	if dec.More() {
		WriteError(w, http.StatusBadRequest, "invalid JSON body: more than one value")
		return false
	}
	return true
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := engine.ErrCode(err)
	status := StatusOf(code)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		status = http.StatusServiceUnavailable
	}
	if status >= 500 {
		a.logger().ErrorContext(r.Context(), "api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	msg := engine.ErrMessage(err)
	if status == http.StatusServiceUnavailable && code == engine.EInternal {
		msg = "the bot is not available now; try again"
	}
	WriteError(w, status, msg)
}

func (a *API) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

// StatusOf maps an application error code to an HTTP status.
func StatusOf(code engine.ErrorCode) int {
	switch code {
	case engine.EInvalid:
		return http.StatusBadRequest
	case engine.ENotFound:
		return http.StatusNotFound
	case engine.EConflict:
		return http.StatusConflict
	case engine.EUnauthorized:
		return http.StatusUnauthorized
	case engine.EUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// WriteError writes {"error": msg} with the given status.
func WriteError(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, map[string]string{"error": msg})
}
