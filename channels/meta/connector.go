package meta

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charlabot/charla/channels"
	"github.com/charlabot/charla/engine"
)

// Env reads a connector's configuration from environment variables.
type Env func(string) string

// First returns the first of keys that is set, trimmed.
func (e Env) First(keys ...string) string {
	for _, k := range keys {
		if v := strings.TrimSpace(e(k)); v != "" {
			return v
		}
	}
	return ""
}

// Rate reads a positive number of messages per second (0 when unset).
func (e Env) Rate(key string) (float64, error) {
	v := e.First(key)
	if v == "" {
		return 0, nil
	}
	r, err := strconv.ParseFloat(v, 64)
	if err != nil || r <= 0 {
		return 0, fmt.Errorf("%s: want a positive number of messages per second, got %q", key, v)
	}
	return r, nil
}

// Duration reads a duration such as 1.5s (0 when unset).
func (e Env) Duration(key string) (time.Duration, error) {
	v := e.First(key)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s: want a duration such as 1.5s, got %q", key, v)
	}
	return d, nil
}

// Missing reports the names whose values are empty, given as name, value
// pairs: "whatsapp: missing WHATSAPP_ACCESS_TOKEN, ...", or nil.
func Missing(channel string, pairs ...string) error {
	var missing []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			missing = append(missing, pairs[i])
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%s: missing %s", channel, strings.Join(missing, ", "))
}

// Truncate cuts s to max characters, ending with "…" when cut.
func Truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:max-1])) + "…"
}

// Receipts hands a channel's receipts to a recorder (the runtime), stamped
// with the channel and the time. A nil To drops them.
type Receipts struct {
	To      engine.ReceiptRecorder
	Channel string
	Clock   Clock
	Logger  *slog.Logger
}

// Record records r; failures are logged.
func (rs *Receipts) Record(ctx context.Context, r engine.Receipt) {
	r.Channel = rs.Channel
	if r.At.IsZero() {
		r.At = clockOr(rs.Clock).Now()
	}
	if rs.To == nil {
		return
	}
	if err := rs.To.RecordReceipt(ctx, r); err != nil && rs.Logger != nil {
		rs.Logger.Warn(rs.Channel+": recording a receipt failed", "conversation", r.Conversation, "ref", r.Ref, "err", err)
	}
}

// SendError maps an error of a send to the engine's vocabulary: a
// *GraphError asking for a template comes back as is (the connector
// switches to the template), an unreachable recipient is EInvalid (after
// a failed receipt is recorded), rate limits that outlasted the retries
// and network failures are EUnavailable, the rest EInternal (a refused
// token is logged with hint, which names the setting to check).
func (rs *Receipts) SendError(ctx context.Context, conv string, err error, hint string) error {
	var ge *GraphError
	if !errors.As(err, &ge) {
		return &engine.Error{Code: engine.EUnavailable, Message: rs.Channel + " is unreachable", Err: err}
	}
	switch ge.Kind() {
	case TemplateRequired:
		return ge
	case BadRecipient:
		rs.Record(ctx, engine.Receipt{Conversation: conv, Status: engine.ReceiptFailed, Error: ge.Error()})
		return &engine.Error{Code: engine.EInvalid, Message: "the recipient cannot receive " + rs.Channel + " messages now", Err: ge}
	case RateLimited, Transient:
		return &engine.Error{Code: engine.EUnavailable, Message: rs.Channel + " is busy; try again later", Err: ge}
	case Unauthorized:
		if rs.Logger != nil {
			rs.Logger.Error(rs.Channel+": the access token was refused; check "+hint, "err", ge)
		}
	}
	return &engine.Error{Code: engine.EInternal, Err: fmt.Errorf("%s: %w", rs.Channel, ge)}
}

// Refuse records a message refused for the closed window and returns
// channels.ErrTemplateRequired.
func (rs *Receipts) Refuse(ctx context.Context, conv string) error {
	rs.Record(ctx, engine.Receipt{Conversation: conv, Status: engine.ReceiptFailed, Error: channels.ErrTemplateRequired.Message})
	return channels.ErrTemplateRequired
}
