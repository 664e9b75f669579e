package meta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Graph API defaults.
const (
	DefaultGraphURL = "https://graph.facebook.com"
	DefaultVersion  = "v21.0"
)

// Client calls Meta's Graph API. The zero value plus Token works against
// graph.facebook.com; tests set BaseURL to a fake server on loopback.
// Requests that are rate limited or fail for a passing reason are retried
// with exponential backoff; every request first waits for Limiter. Fields
// must not change once in use.
type Client struct {
	BaseURL string // default DefaultGraphURL
	Version string // default DefaultVersion
	Token   string // the access token, sent as a bearer token (never in URLs or logs)
	HTTP    *http.Client
	Limiter *Limiter // the throughput limit of the sender (nil: none)

	// Retries is how many times a rate-limited or passing failure is
	// retried (default 4; negative: never); Backoff the first wait (1 s),
	// doubled each time up to MaxBackoff (30 s). A Retry-After header
	// overrides the wait.
	Retries    int
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Sleep waits; tests replace it to observe the waits without sleeping.
	Sleep func(ctx context.Context, d time.Duration) error
}

// NewHTTPClient returns the HTTP client connectors use by default: a
// 30-second timeout and up to 64 idle keep-alive connections to the Graph
// API (the default transport keeps 2, so busy senders would reconnect for
// almost every message).
func NewHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// URL returns the URL of a Graph API path ("123/messages").
func (c *Client) URL(path string) string {
	base, v := c.BaseURL, c.Version
	if base == "" {
		base = DefaultGraphURL
	}
	if v == "" {
		v = DefaultVersion
	}
	return strings.TrimRight(base, "/") + "/" + v + "/" + strings.TrimLeft(path, "/")
}

// Post sends body as JSON to path and decodes the answer into out (which
// may be nil). A refusal is a *GraphError; rate-limited and passing
// failures are retried first.
func (c *Client) Post(ctx context.Context, path string, body, out any) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("graph api: encoding the request: %w", err)
	}
	return c.call(ctx, http.MethodPost, c.URL(path), payload, out)
}

// Get reads path (e.g. a media id) into out, with the same retries.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	return c.call(ctx, http.MethodGet, c.URL(path), nil, out)
}

// Fetch GETs an absolute URL that needs the access token (a media file's
// lookaside URL). The caller closes the body of a 2xx answer; other
// answers are a *GraphError.
func (c *Client) Fetch(ctx context.Context, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := c.client().Do(req)
	if err != nil {
		return nil, &netError{err}
	}
	if resp.StatusCode/100 != 2 {
		return nil, decode(resp, nil)
	}
	return resp, nil
}

func (c *Client) client() *http.Client {
	if c.HTTP == nil {
		return http.DefaultClient
	}
	return c.HTTP
}

func (c *Client) call(ctx context.Context, method, url string, payload []byte, out any) error {
	retries := c.Retries
	if retries == 0 {
		retries = 4
	}
	for attempt := 0; ; attempt++ {
		if c.Limiter != nil {
			if err := c.Limiter.Wait(ctx); err != nil {
				return err
			}
		}
		var body io.Reader
		if payload != nil {
			body = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, method, url, body)
		if err != nil {
			return err
		}
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+c.Token)
		resp, err := c.client().Do(req)
		var retryAfter time.Duration
		if err == nil {
			err = decode(resp, out)
			if h := resp.Header.Get("Retry-After"); h != "" {
				if s, perr := strconv.Atoi(h); perr == nil && s >= 0 {
					retryAfter = time.Duration(s) * time.Second
				}
			}
		} else if ctx.Err() != nil {
			return ctx.Err()
		} else {
			err = &netError{err}
		}
		if err == nil || attempt >= retries || !retryable(err) {
			return err
		}
		wait := c.backoff(attempt)
		if retryAfter > 0 {
			wait = retryAfter
		}
		if err := c.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func (c *Client) backoff(attempt int) time.Duration {
	d, max := c.Backoff, c.MaxBackoff
	if d <= 0 {
		d = time.Second
	}
	if max <= 0 {
		max = 30 * time.Second
	}
	for range attempt {
		d *= 2
		if d >= max {
			return max
		}
	}
	return d
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	return Sleep(ctx, d)
}

// Sleep waits for d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// netError is a request that did not reach the Graph API.
type netError struct{ err error }

func (e *netError) Error() string { return "graph api: " + e.err.Error() }
func (e *netError) Unwrap() error { return e.err }

// retryable reports whether a failed request may be sent again: rate limits
// and passing Graph failures, and connections that were never made (a POST
// that may have arrived is not repeated, so no shopper gets a message twice).
func retryable(err error) bool {
	var ge *GraphError
	if errors.As(err, &ge) {
		k := ge.Kind()
		return k == RateLimited || k == Transient
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func decode(resp *http.Response, out any) error {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return &netError{err}
	}
	if resp.StatusCode/100 == 2 {
		if out == nil || len(body) == 0 {
			return nil
		}
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("graph api: decoding the answer: %w", err)
		}
		return nil
	}
	var env struct {
		Error *GraphError `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil || env.Error == nil {
		env.Error = &GraphError{Message: http.StatusText(resp.StatusCode)}
	}
	env.Error.Status = resp.StatusCode
	return env.Error
}

// GraphError is an error answered by the Graph API:
//
//	{"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException",
//	  "code": 130429, "error_subcode": 2494055,
//	  "error_data": {"messaging_product": "whatsapp", "details": "..."},
//	  "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam"}}
//
// It is also the shape of the errors in a failed message's status webhook.
type GraphError struct {
	Status  int    `json:"-"` // the HTTP status (0 in a webhook)
	Code    int    `json:"code"`
	Subcode int    `json:"error_subcode,omitempty"`
	Type    string `json:"type,omitempty"`
	Title   string `json:"title,omitempty"`
	Message string `json:"message"`
	Data    struct {
		Details string `json:"details,omitempty"`
	} `json:"error_data,omitzero"`
	TraceID string `json:"fbtrace_id,omitempty"`
}

func (e *GraphError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Title
	}
	if e.Data.Details != "" {
		msg += ": " + e.Data.Details
	}
	s := fmt.Sprintf("graph api: %s (code %d", msg, e.Code)
	if e.Subcode != 0 {
		s += fmt.Sprintf(", subcode %d", e.Subcode)
	}
	if e.Status != 0 {
		s += fmt.Sprintf(", HTTP %d", e.Status)
	}
	return s + ")"
}

// Kind classifies a Graph API error by what the sender should do.
type Kind int

const (
	Other            Kind = iota // anything else: recorded and reported
	RateLimited                  // slow down and retry
	Transient                    // a passing failure at Meta: retry
	TemplateRequired             // outside the customer-service window: send an approved template
	BadRecipient                 // the number or user cannot receive messages: record the failure
	Unauthorized                 // the access token is wrong, expired or lacks a permission
	Invalid                      // the request is wrong (a template that does not exist, a bad parameter)
)

var kindNames = [...]string{"other", "rate_limited", "transient", "template_required", "bad_recipient", "unauthorized", "invalid"}

func (k Kind) String() string { return kindNames[k] }

// Kind classifies e, from the codes of the WhatsApp Cloud API and
// Messenger Platform error references.
func (e *GraphError) Kind() Kind {
	if e.Status == http.StatusTooManyRequests {
		return RateLimited
	}
	switch e.Code {
	case 4, 17, 32, 613, 80007, 130429, 131056, 131048:
		// app, user, page and business-account call limits; throughput;
		// pair rate (one customer); spam rate
		return RateLimited
	case 131047, 470:
		// re-engagement: more than 24 hours since the customer last wrote
		return TemplateRequired
	case 131026, 131030, 131021, 1013, 551:
		// undeliverable, not in the allowed list (test numbers), the
		// recipient is the sender, not a WhatsApp user; Messenger: the
		// person is not available
		return BadRecipient
	case 1, 2, 131000, 131016:
		return Transient
	case 0, 3, 190:
		return Unauthorized
	case 10:
		switch e.Subcode {
		case 2018278: // Messenger: sent outside of the allowed window
			return TemplateRequired
		case 2018108, 1545041: // Messenger: the person cannot be messaged
			return BadRecipient
		}
		return Unauthorized
	case 100:
		switch e.Subcode {
		case 2018001, 2018109: // Messenger: no matching user
			return BadRecipient
		}
		return Invalid
	case 131008, 131009, 131051, 131052, 131053, 135000:
		return Invalid
	}
	switch {
	case e.Code >= 132000 && e.Code < 133000: // template errors
		return Invalid
	case e.Code >= 200 && e.Code < 300: // permissions
		return Unauthorized
	case e.Status >= 500:
		return Transient
	}
	return Other
}

// KindOf returns the kind of the first *GraphError in err's chain (Other
// when there is none).
func KindOf(err error) Kind {
	var ge *GraphError
	if errors.As(err, &ge) {
		return ge.Kind()
	}
	return Other
}
