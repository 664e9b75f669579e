package meta_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charlabot/charla/channels/channeltest"
	"github.com/charlabot/charla/channels/meta"
)

var secret = []byte("app-secret-for-tests")

func TestSignature(t *testing.T) {
	body := []byte(`{"object":"whatsapp_business_account","entry":[]}`)
	good := meta.Sign(secret, body)
	if !strings.HasPrefix(good, "sha256=") || len(good) != len("sha256=")+64 {
		t.Fatalf("Sign = %q", good)
	}
	tests := []struct {
		name   string
		secret []byte
		body   []byte
		header string
		want   bool
	}{
		{"valid", secret, body, good, true},
		{"upper-case hex", secret, body, "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), true},
		{"missing", secret, body, "", false},
		{"no prefix", secret, body, strings.TrimPrefix(good, "sha256="), false},
		{"sha1 scheme", secret, body, "sha1=" + strings.TrimPrefix(good, "sha256="), false},
		{"body changed", secret, append([]byte(" "), body...), good, false},
		{"other secret", []byte("another"), body, good, false},
		{"no secret", nil, body, meta.Sign(nil, body), false},
		{"truncated", secret, body, good[:len(good)-2], false},
		{"not hex", secret, body, "sha256=" + strings.Repeat("zz", 32), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := meta.ValidSignature(tt.secret, tt.body, tt.header); got != tt.want {
				t.Errorf("ValidSignature = %v, want %v", got, tt.want)
			}
		})
	}
}

func FuzzValidSignature(f *testing.F) {
	f.Add([]byte(`{}`), "sha256=00")
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		if meta.ValidSignature(secret, body, header) && header != meta.Sign(secret, body) &&
			!strings.EqualFold(header, meta.Sign(secret, body)) {
			t.Fatalf("accepted %q for %q", header, body)
		}
	})
}

func TestWebhook(t *testing.T) {
	var got [][]byte
	var mu sync.Mutex
	h := &meta.Webhook{AppSecret: secret, VerifyToken: "verify-me", Deliver: func(b []byte) error {
		mu.Lock()
		defer mu.Unlock()
		switch string(b) {
		case "busy":
			return meta.ErrBusy
		case "junk":
			return meta.ErrPayload
		}
		got = append(got, b)
		return nil
	}}
	srv := httptest.NewServer(h)
	defer srv.Close()

	get := func(q url.Values) (int, string) {
		resp, err := http.Get(srv.URL + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get(url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"verify-me"}, "hub.challenge": {"1158201444"}})
	if code != 200 || body != "1158201444" {
		t.Errorf("handshake: %d %q, want 200 and the challenge", code, body)
	}
	for _, q := range []url.Values{
		{"hub.mode": {"subscribe"}, "hub.verify_token": {"wrong"}, "hub.challenge": {"1"}},
		{"hub.mode": {"unsubscribe"}, "hub.verify_token": {"verify-me"}, "hub.challenge": {"1"}},
		{"hub.challenge": {"1"}},
	} {
		if code, body := get(q); code != http.StatusForbidden || strings.Contains(body, "1\n") && !strings.Contains(body, "error") {
			t.Errorf("handshake %v: %d %q, want 403", q, code, body)
		}
	}

	post := func(body, sig string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		if sig != "" {
			req.Header.Set(meta.SignatureHeader, sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	payload := `{"object":"page"}`
	for _, tt := range []struct {
		name, body, sig string
		want            int
	}{
		{"signed", payload, meta.Sign(secret, []byte(payload)), 200},
		{"missing signature", payload, "", 401},
		{"forged", payload, meta.Sign([]byte("not the secret"), []byte(payload)), 401},
		{"signature of another body", payload + " ", meta.Sign(secret, []byte(payload)), 401},
		{"busy", "busy", meta.Sign(secret, []byte("busy")), 503},
		{"not a payload", "junk", meta.Sign(secret, []byte("junk")), 400},
	} {
		if code := post(tt.body, tt.sig); code != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, code, tt.want)
		}
	}
	if len(got) != 1 || string(got[0]) != payload {
		t.Errorf("delivered %q, want only the signed payload", got)
	}
	req, _ := http.NewRequest(http.MethodPut, srv.URL, nil)
	resp, _ := http.DefaultClient.Do(req)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

func TestGraphErrorKinds(t *testing.T) {
	tests := []struct {
		code, sub, status int
		want              meta.Kind
	}{
		{130429, 0, 400, meta.RateLimited},
		{131056, 0, 400, meta.RateLimited},
		{80007, 0, 400, meta.RateLimited},
		{613, 0, 400, meta.RateLimited},
		{0, 0, 429, meta.RateLimited},
		{131047, 0, 400, meta.TemplateRequired},
		{10, 2018278, 400, meta.TemplateRequired},
		{131026, 0, 400, meta.BadRecipient},
		{131030, 0, 400, meta.BadRecipient},
		{551, 0, 400, meta.BadRecipient},
		{100, 2018001, 400, meta.BadRecipient},
		{190, 463, 401, meta.Unauthorized},
		{10, 0, 403, meta.Unauthorized},
		{132001, 0, 404, meta.Invalid},
		{100, 0, 400, meta.Invalid},
		{131000, 0, 500, meta.Transient},
		{999999, 0, 502, meta.Transient},
		{999999, 0, 400, meta.Other},
	}
	for _, tt := range tests {
		e := &meta.GraphError{Code: tt.code, Subcode: tt.sub, Status: tt.status}
		if got := e.Kind(); got != tt.want {
			t.Errorf("code %d/%d HTTP %d: %v, want %v", tt.code, tt.sub, tt.status, got, tt.want)
		}
	}
}

func TestClientRetriesRateLimits(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" || r.URL.Path != "/v21.0/123/messages" {
			http.Error(w, `{"error":{"message":"bad","code":190}}`, 401)
			return
		}
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,"error_data":{"messaging_product":"whatsapp","details":"Cloud API message throughput has been reached."},"fbtrace_id":"AbC"}}`)
			return
		}
		io.WriteString(w, `{"messages":[{"id":"wamid.1"}]}`)
	}))
	defer srv.Close()
	var waits []time.Duration
	c := &meta.Client{BaseURL: srv.URL, Token: "tok", Backoff: 100 * time.Millisecond,
		Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
	var out struct {
		Messages []struct{ ID string } `json:"messages"`
	}
	if err := c.Post(context.Background(), "123/messages", map[string]string{"a": "b"}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Messages[0].ID != "wamid.1" || calls.Load() != 3 {
		t.Errorf("got %+v after %d calls", out, calls.Load())
	}
	if !slices.Equal(waits, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}) {
		t.Errorf("waits %v, want an exponential backoff", waits)
	}

	// a refusal that is not retried, with its details
	c.Token = "wrong"
	err := c.Post(context.Background(), "123/messages", nil, nil)
	var ge *meta.GraphError
	if !errors.As(err, &ge) || ge.Code != 190 || ge.Status != 401 || ge.Kind() != meta.Unauthorized {
		t.Errorf("err %v, want the 190 GraphError", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("the token leaked into %q", err)
	}
}

func TestClientGivesUp(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"error":{"message":"(#4) Application request limit reached","code":4}}`)
	}))
	defer srv.Close()
	var waits []time.Duration
	c := &meta.Client{BaseURL: srv.URL, Token: "t", Retries: 2,
		Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
	err := c.Post(context.Background(), "me/messages", struct{}{}, nil)
	if meta.KindOf(err) != meta.RateLimited || calls.Load() != 3 {
		t.Errorf("err %v after %d calls, want rate limited after 3", err, calls.Load())
	}
	if !slices.Equal(waits, []time.Duration{7 * time.Second, 7 * time.Second}) {
		t.Errorf("waits %v, want Retry-After's", waits)
	}
}

func TestLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	l := &meta.Limiter{Rate: 10, Burst: 2, Now: func() time.Time { return now }}
	var got []time.Duration
	for range 4 {
		got = append(got, l.Reserve())
	}
	want := []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond}
	if !slices.Equal(got, want) {
		t.Errorf("reservations %v, want %v", got, want)
	}
	now = now.Add(time.Second) // the debt is paid and the bucket refills to its burst
	if d := l.Reserve(); d != 0 {
		t.Errorf("after a second: %v", d)
	}
	var nilLimiter *meta.Limiter
	if nilLimiter.Reserve() != 0 {
		t.Error("a nil limiter waits")
	}
}

func TestQueueKeepsOrderAndBounds(t *testing.T) {
	q := &meta.Queue{Max: 5, Workers: 2}
	release := make(chan struct{})
	var mu sync.Mutex
	order := map[string][]int{}
	if !q.Reserve(5) {
		t.Fatal("no room for 5")
	}
	if q.Reserve(1) {
		t.Fatal("room for a sixth")
	}
	for i := range 5 {
		key := fmt.Sprint("conv", i%2)
		q.Push(key, func() {
			<-release
			mu.Lock()
			order[key] = append(order[key], i)
			mu.Unlock()
		})
	}
	close(release)
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order["conv0"], []int{0, 2, 4}) || !slices.Equal(order["conv1"], []int{1, 3}) {
		t.Errorf("order %v", order)
	}
	if q.Len() != 0 || q.Reserve(1) {
		t.Errorf("after close: %d held, reservation accepted", q.Len())
	}
}

func TestDebouncer(t *testing.T) {
	clock := channeltest.NewClock(time.Unix(1_700_000_000, 0))
	var flushed []string
	d := &meta.Debouncer[string]{Delay: 1500 * time.Millisecond, MaxWait: 4 * time.Second, Clock: clock,
		Flush: func(key string, items []string) { flushed = append(flushed, key+":"+strings.Join(items, "|")) }}

	d.Add("a", "hola")
	clock.Advance(time.Second)
	d.Add("a", "quiero cambiar")
	d.Add("b", "otro")
	clock.Advance(time.Second) // 1 s after the last of a: nothing yet
	if len(flushed) != 0 {
		t.Fatalf("flushed early: %q", flushed)
	}
	d.Add("a", "la talla")
	clock.Advance(1500 * time.Millisecond)
	want := []string{"b:otro", "a:hola|quiero cambiar|la talla"}
	if !slices.Equal(flushed, want) {
		t.Fatalf("flushed %q, want %q", flushed, want)
	}

	// someone who never pauses is answered after MaxWait
	flushed = nil
	for range 6 {
		d.Add("c", "x")
		clock.Advance(time.Second)
	}
	if len(flushed) != 1 || flushed[0] != "c:x|x|x|x" {
		t.Errorf("flushed %q, want a burst cut at MaxWait", flushed)
	}

	// FlushKey hands over a burst before what comes after it
	flushed = nil
	d.Add("e", "uno")
	d.FlushKey("e", func() { flushed = append(flushed, "e:button") })
	clock.Advance(time.Minute)
	if !slices.Equal(flushed, []string{"c:x|x", "e:uno", "e:button"}) && !slices.Equal(flushed, []string{"e:uno", "e:button", "c:x|x"}) {
		t.Errorf("flushed %q", flushed)
	}
	if d.Pending() != 0 || clock.Pending() != 0 {
		t.Errorf("%d bursts and %d timers left", d.Pending(), clock.Pending())
	}
}

func TestSeenAndWindows(t *testing.T) {
	s := &meta.Seen{Max: 3}
	for _, id := range []string{"a", "b", "c"} {
		if !s.Add(id) {
			t.Fatalf("%s seen before", id)
		}
	}
	if s.Add("a") {
		t.Error("a redelivered id is new")
	}
	s.Add("d") // evicts a
	if !s.Add("a") {
		t.Error("the oldest id was not forgotten")
	}
	s.Forget("d")
	if !s.Add("d") {
		t.Error("Forget did not forget")
	}

	var w meta.Windows
	t0 := time.Unix(1_700_000_000, 0)
	if open, known := w.Open("wa-1", t0); open || known {
		t.Error("an unknown conversation is open")
	}
	w.Touch("wa-1", t0)
	if open, _ := w.Open("wa-1", t0.Add(23*time.Hour)); !open {
		t.Error("closed after 23 h")
	}
	if open, known := w.Open("wa-1", t0.Add(24*time.Hour)); open || !known {
		t.Error("open after 24 h")
	}
	w.Touch("wa-1", t0.Add(-time.Hour)) // an older message does not move it back
	w.Close("wa-2")
	if open, known := w.Open("wa-2", t0); open || !known {
		t.Error("a closed window is open")
	}
}

func TestQueueCloseWaitsForReservations(t *testing.T) {
	q := &meta.Queue{}
	if !q.Reserve(2) {
		t.Fatal("no room")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := q.Close(ctx); err == nil {
		t.Fatal("closed with two slots held")
	}
	done := make(chan error, 1)
	go func() { done <- q.Close(context.Background()) }()
	ran := make(chan struct{})
	q.Push("a", func() { close(ran) }) // reserved before the close: still runs
	<-ran
	q.Release(1)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if q.Reserve(1) {
		t.Error("a closed queue took a reservation")
	}
}
