package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ActionFunc is the Go implementation of an action, registered by an
// embedding program (see [Runtime.RegisterAction]). ctx carries the turn's
// deadline (and the action's timeout): a function must return when it ends.
// The result may be any Go value; it is normalised (see [NormalizeValue])
// and coerced to the action's declared result type. An *Error with code
// EUnavailable is retried as the action's Retries allow.
type ActionFunc func(ctx context.Context, call ActionCall) (any, error)

// ActionCall is one call of an action.
type ActionCall struct {
	Name         string
	Args         map[string]any
	Conversation string
	User         string
	Channel      string
	Lang         string
	Verified     bool
	// IdempotencyKey is the same when a turn is run again after a failure
	// (the same message, the same step), and differs otherwise: a service
	// that remembers it never repeats a side effect.
	IdempotencyKey string
	Attempt        int // 1 for the first attempt
}

// doAction runs an Action step.
func (t *turn) doAction(fr *Frame, f *Flow, st *Action) {
	spec := t.p.Action(st.Name)
	args, err := t.evalArgs(st.Args)
	var res any
	if err == nil {
		res, err = t.callAction(spec, st.Name, args, f.Name, fr.Step)
	}
	if err != nil {
		t.event(EvActionError, f.Name, st.Name+": "+err.Error())
		if st.OnError >= 0 {
			fr.Step = st.OnError
			return
		}
		t.fail(f, fr.Step, err)
		return
	}
	if st.Into != "" {
		if err := t.setVar(fr, f, st.Into, res); err != nil {
			t.fail(f, fr.Step, err)
			return
		}
	}
	fr.Step++
}

// callAction calls an action with its retries and deadline, and coerces its result.
func (t *turn) callAction(spec *ActionSpec, name string, args map[string]any, flow string, step int) (any, error) {
	if spec == nil {
		return nil, fmt.Errorf("unknown action %q", name)
	}
	if args == nil {
		args = map[string]any{}
	}
	for _, p := range spec.Params {
		v, ok := args[p.Name]
		if !ok || v == nil {
			if p.Required {
				return nil, fmt.Errorf("missing argument %s", p.Name)
			}
			continue
		}
		cv, err := p.Type.Coerce(v)
		if err != nil {
			return nil, fmt.Errorf("argument %s: %w", p.Name, err)
		}
		args[p.Name] = cv
	}
	t.calls++
	call := ActionCall{Name: spec.Name, Args: args, Conversation: t.s.ID, User: t.s.User, Channel: t.s.Channel,
		Lang: t.s.Lang, Verified: t.s.Verified}
	call.IdempotencyKey = t.idempotencyKey(flow, step)
	fn := t.rt.action(spec.Name)
	goFunc := fn != nil // HTTP actions retry inside httpAction
	if fn == nil && spec.HTTP != nil {
		fn = t.rt.httpAction(spec)
	}
	if fn == nil {
		return nil, fmt.Errorf("action %s has no implementation", spec.Name)
	}
	ctx, cancel := t.actionContext(spec.Timeout)
	defer cancel()
	var res any
	var err error
	backoff := 100 * time.Millisecond
	if spec.HTTP != nil && spec.HTTP.Backoff > 0 {
		backoff = spec.HTTP.Backoff
	}
	t.leaveGate() // others compute while the action runs
	for attempt := 1; ; attempt++ {
		call.Attempt = attempt
		res, err = runAction(ctx, fn, call)
		if err == nil || !goFunc || attempt > spec.Retries || ErrCode(err) != EUnavailable {
			break
		}
		if !sleepCtx(ctx, backoff) {
			break
		}
		backoff *= 2
	}
	t.reenterGate()
	if err != nil {
		return nil, err
	}
	res = NormalizeValue(res)
	if spec.Result != nil {
		if res, err = spec.Result.Coerce(res); err != nil {
			return nil, fmt.Errorf("result: %w", err)
		}
	}
	return res, nil
}

// idempotencyKey identifies an action call by the conversation, the
// message (or the transcript position the turn started at), the step and
// the call's rank in the turn.
func (t *turn) idempotencyKey(flow string, step int) string {
	seq := int64(0)
	if t.prev != nil {
		seq = t.prev.Seq
	}
	b := make([]byte, 0, 64+len(t.s.ID)+len(t.in.ID)+len(flow))
	b = append(append(b, t.s.ID...), 0)
	b = append(append(b, t.in.ID...), 0)
	b = append(strconv.AppendInt(b, seq, 10), 0)
	b = append(append(b, flow...), 0)
	b = append(strconv.AppendInt(b, int64(step), 10), 0)
	b = strconv.AppendInt(b, int64(t.calls), 10)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// actionContext returns the context of an action: the turn's deadline
// (counted from when the turn started to run, not from its arrival),
// shortened by the action's own timeout.
func (t *turn) actionContext(timeout time.Duration) (context.Context, context.CancelFunc) {
	if t.deadline == nil {
		start := t.running
		if start.IsZero() {
			start = time.Now()
		}
		t.deadline, t.cancel = context.WithDeadline(t.ctx, start.Add(t.p.settings.TurnTimeout))
	}
	if timeout > 0 {
		return context.WithTimeout(t.deadline, timeout)
	}
	return t.deadline, func() {}
}

// runAction calls fn, turning a panic into an error and returning when
// ctx ends even if fn does not.
func runAction(ctx context.Context, fn ActionFunc, call ActionCall) (any, error) {
	type result struct {
		v   any
		err error
	}
	ch := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				ch <- result{nil, fmt.Errorf("panic: %v", r)}
			}
		}()
		v, err := fn(ctx, call)
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil && ctx.Err() != nil {
			return nil, &Error{Code: EUnavailable, Message: "timeout", Err: r.err}
		}
		return r.v, r.err
	case <-ctx.Done():
		// Both may be ready when the turn's goroutine ran late (a busy
		// machine): a function that did answer is not a timeout.
		select {
		case r := <-ch:
			if r.err == nil {
				return r.v, nil
			}
		default:
		}
		return nil, &Error{Code: EUnavailable, Message: "timeout", Err: ctx.Err()}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return false
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// maxReply bounds the body of an HTTP action's reply.
const maxReply = 4 << 20

// httpAction returns the implementation of an HTTP action: the arguments
// and the conversation as JSON (POST, PUT, PATCH) or as the query (GET,
// DELETE); headers with ${NAME} taken from the environment; an
// Idempotency-Key header; retries with exponential backoff after network
// errors, 5xx and 429 replies; the JSON reply as the result.
func (rt *Runtime) httpAction(spec *ActionSpec) ActionFunc {
	h := spec.HTTP
	return func(ctx context.Context, call ActionCall) (any, error) {
		method := strings.ToUpper(h.Method)
		if method == "" {
			method = http.MethodPost
		}
		// Arguments go into the URL escaped, so that no value can add a
		// path, a query or an ${ENV} reference of its own.
		vars := make(map[string]any, len(call.Args))
		for k, v := range call.Args {
			vars[k] = url.PathEscape(FormatValue(v))
		}
		u := ""
		if h.URL != nil {
			var err error
			if u, err = h.URL.Render(vars); err != nil {
				return nil, fmt.Errorf("url: %w", err)
			}
			u = envRef.ReplaceAllStringFunc(u, func(m string) string { return rt.getenv(m[2 : len(m)-1]) })
		}
		var body []byte
		if method == http.MethodGet || method == http.MethodDelete || method == http.MethodHead {
			q := url.Values{}
			for k, v := range call.Args {
				q.Set(k, FormatValue(v))
			}
			if len(q) > 0 {
				sep := "?"
				if strings.Contains(u, "?") {
					sep = "&"
				}
				u += sep + q.Encode()
			}
		} else {
			var err error
			body, err = json.Marshal(map[string]any{
				"action": call.Name,
				"args":   call.Args,
				"conversation": map[string]any{"id": call.Conversation, "user": call.User, "channel": call.Channel,
					"lang": call.Lang, "verified": call.Verified},
			})
			if err != nil {
				return nil, fmt.Errorf("arguments: %w", err)
			}
		}
		backoff := h.Backoff
		if backoff <= 0 {
			backoff = 200 * time.Millisecond
		}
		var lastErr error
		for attempt := 0; attempt <= spec.Retries; attempt++ {
			if attempt > 0 && !sleepCtx(ctx, backoff) {
				break
			}
			if attempt > 0 {
				backoff *= 2
			}
			res, retry, err := rt.httpOnce(ctx, method, u, body, h, call.IdempotencyKey)
			if err == nil {
				return res, nil
			}
			lastErr = err
			if !retry || ctx.Err() != nil {
				break
			}
		}
		return nil, lastErr
	}
}

// HTTPAction returns the runtime's implementation of an HTTP action (nil
// for an action that is not one), for wrappers such as a test runner that
// records calls before making them.
func (rt *Runtime) HTTPAction(spec *ActionSpec) ActionFunc {
	if spec == nil || spec.HTTP == nil {
		return nil
	}
	return rt.httpAction(spec)
}

// httpOnce makes one attempt; retry says whether another may succeed.
func (rt *Runtime) httpOnce(ctx context.Context, method, u string, body []byte, h *HTTPSpec, key string) (any, bool, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, false, fmt.Errorf("request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "charla")
	req.Header.Set("Idempotency-Key", key)
	for k, v := range h.Headers {
		req.Header.Set(k, envRef.ReplaceAllStringFunc(v, func(m string) string {
			return rt.getenv(m[2 : len(m)-1])
		}))
	}
	resp, err := rt.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, &Error{Code: EUnavailable, Message: "timeout", Err: ctx.Err()}
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may carry what must not be logged
		}
		return nil, true, &Error{Code: EUnavailable, Message: "unreachable", Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxReply+1))
	if err != nil {
		return nil, true, &Error{Code: EUnavailable, Message: "reading the reply", Err: err}
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return nil, true, &Error{Code: EUnavailable, Message: "HTTP " + strconv.Itoa(resp.StatusCode)}
	}
	if resp.StatusCode >= 300 {
		return nil, false, &Error{Code: EInvalid, Message: "HTTP " + strconv.Itoa(resp.StatusCode)}
	}
	if len(data) > maxReply {
		return nil, false, &Error{Code: EInvalid, Message: "reply too large"}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false, &Error{Code: EInvalid, Message: "invalid JSON reply", Err: err}
	}
	return NormalizeValue(v), false, nil
}
