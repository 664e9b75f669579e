// Package meta is what charla's connectors to Meta's platforms (WhatsApp
// Cloud API, Messenger) have in common: the webhook receiver with its
// hub.challenge handshake and X-Hub-Signature-256 check, a Graph API client
// whose errors are classified (rate limited, template required, bad
// recipient, ...), a per-number throughput limit, a bounded queue that runs
// each conversation's turns in order without blocking the webhook, a
// de-duplication window for redelivered message ids, the 24-hour
// customer-service window and the debounce that joins a shopper's message
// fragments into one turn.
//
// The connectors themselves are in channels/whatsapp and channels/messenger.
package meta

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// SignatureHeader is the header in which Meta signs every webhook POST.
const SignatureHeader = "X-Hub-Signature-256"

// Sign returns the X-Hub-Signature-256 value of body: "sha256=" and the hex
// HMAC-SHA256 of the raw body made with the app secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// ValidSignature reports whether header is Sign(secret, body), comparing
// in constant time. An empty secret validates nothing.
func ValidSignature(secret, body []byte, header string) bool {
	h, ok := strings.CutPrefix(header, "sha256=")
	if len(secret) == 0 || !ok || len(h) != 2*sha256.Size {
		return false
	}
	var got [sha256.Size]byte
	if _, err := hex.Decode(got[:], []byte(h)); err != nil {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hmac.Equal(m.Sum(nil), got[:])
}

// Handshake answers Meta's subscription check, a GET with hub.mode=subscribe,
// hub.verify_token and hub.challenge: the challenge, as text, when the token
// is verifyToken; 403 otherwise (an empty verifyToken verifies nothing).
func Handshake(w http.ResponseWriter, r *http.Request, verifyToken string) {
	q := r.URL.Query()
	token := q.Get("hub.verify_token")
	if q.Get("hub.mode") != "subscribe" || verifyToken == "" ||
		subtle.ConstantTimeCompare([]byte(token), []byte(verifyToken)) != 1 {
		WriteError(w, http.StatusForbidden, "wrong hub.mode or hub.verify_token")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, q.Get("hub.challenge"))
}

// Errors a webhook's Deliver function returns to choose the answer to Meta.
var (
	// ErrBusy: the queue is full; Meta should redeliver later (503).
	ErrBusy = errors.New("meta: too many turns waiting; redeliver later")
	// ErrPayload: the signed body is not a payload the connector reads (400).
	ErrPayload = errors.New("meta: not a webhook payload of this platform")
)

// Webhook is the HTTP side of a Meta webhook: GET is the verification
// handshake; every POST must carry a valid X-Hub-Signature-256 over its raw
// body, or it is refused with 401 before anything is read from it. A valid
// body goes to Deliver, which must not block on turns: it queues them and
// returns. Meta gets 200 unless Deliver returns [ErrBusy] (503) or
// [ErrPayload] (400).
type Webhook struct {
	AppSecret   []byte
	VerifyToken string
	MaxBody     int64 // bytes (default 1 MiB)
	Deliver     func(body []byte) error
	Logger      *slog.Logger
}

// ServeHTTP handles the handshake and deliveries.
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		Handshake(w, r, h.VerifyToken)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, POST")
		WriteError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
		return
	}
	max := h.MaxBody
	if max <= 0 {
		max = 1 << 20
	}
	sig := r.Header.Get(SignatureHeader)
	if sig == "" {
		WriteError(w, http.StatusUnauthorized, "missing "+SignatureHeader)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		WriteError(w, http.StatusRequestEntityTooLarge, "body too large")
		return
	}
	if !ValidSignature(h.AppSecret, body, sig) {
		WriteError(w, http.StatusUnauthorized, "wrong "+SignatureHeader)
		return
	}
	switch err := h.Deliver(body); {
	case err == nil:
	case errors.Is(err, ErrBusy):
		w.Header().Set("Retry-After", "1")
		WriteError(w, http.StatusServiceUnavailable, "busy; redeliver later")
		return
	case errors.Is(err, ErrPayload):
		WriteError(w, http.StatusBadRequest, err.Error())
		return
	default:
		if h.Logger != nil {
			h.Logger.Error("meta: webhook delivery failed", "err", err)
		}
		WriteError(w, http.StatusInternalServerError, "internal error")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "EVENT_RECEIVED")
}

// WriteError writes {"error": msg} with the status.
func WriteError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
