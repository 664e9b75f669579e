package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/charlabot/charla/channels"
	"github.com/charlabot/charla/channels/channeltest"
	"github.com/charlabot/charla/channels/rest"
)

type platform struct{ url string }

func (p *platform) Start(t *testing.T, b *channeltest.Bot) {
	srv := httptest.NewServer(&rest.API{Backend: b})
	t.Cleanup(srv.Close)
	p.url = srv.URL
}
func (p *platform) MaxText() int    { return 0 }
func (p *platform) Proactive() bool { return false }
func (p *platform) NewUser(t *testing.T, id string) channeltest.User {
	return &restUser{url: p.url, id: id}
}

type restUser struct {
	url, id string
	mu      sync.Mutex
	queue   []channeltest.Received
	choices [][]string // values of the buttons of each queued message, by text
	last    map[string][]string
}

func (u *restUser) ID() string { return u.id }

func (u *restUser) post(ctx context.Context, body map[string]any) error {
	body["user"] = u.id
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u.url+"/api/v1/conversations/c-"+u.id+"/messages", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	u.mu.Lock()
	defer u.mu.Unlock()
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		json.NewDecoder(resp.Body).Decode(&e)
		u.queue = append(u.queue, channeltest.Received{Text: e.Error, Error: true})
		return nil
	}
	var r rest.MessageResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return err
	}
	if u.last == nil {
		u.last = map[string][]string{}
	}
	for _, m := range r.Messages {
		rc := channeltest.Received{Text: m.Text}
		var vals []string
		for _, c := range m.Choices {
			rc.Buttons = append(rc.Buttons, c.Label)
			vals = append(vals, c.Value)
		}
		u.last[m.Text] = vals
		u.queue = append(u.queue, rc)
	}
	return nil
}

func (u *restUser) Say(ctx context.Context, text string) error {
	return u.post(ctx, map[string]any{"text": text})
}

func (u *restUser) Press(ctx context.Context, m channeltest.Received, i int) error {
	u.mu.Lock()
	v := u.last[m.Text][i]
	u.mu.Unlock()
	return u.post(ctx, map[string]any{"choice": v})
}

func (u *restUser) Next(ctx context.Context) (channeltest.Received, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.queue) == 0 {
		return channeltest.Received{}, fmt.Errorf("no message waiting")
	}
	m := u.queue[0]
	u.queue = u.queue[1:]
	return m, nil
}

func TestConformance(t *testing.T) { channeltest.Run(t, &platform{}) }

// call makes a request and returns the status and decoded JSON body.
func call(t *testing.T, h http.Handler, method, path, token, body string) (int, map[string]any, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	raw, _ := io.ReadAll(rec.Body)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s: content type %q", method, path, ct)
	}
	var v map[string]any
	json.Unmarshal(raw, &v)
	return rec.Code, v, raw
}

func TestMessageResponseShape(t *testing.T) {
	api := &rest.API{Backend: &channeltest.Bot{}}
	code, _, raw := call(t, api, "POST", "/api/v1/conversations/c1/messages", "", `{"text":"hola","user":"u1","lang":"es"}`)
	if code != 200 {
		t.Fatalf("status %d: %s", code, raw)
	}
	want := `{"messages":[{"text":"¡Hola! ¿Qué talla buscas?","choices":[{"label":"Talla 40","value":"40"},{"label":"Talla 42","value":"42"}],"flow":"tallas"}],"nlu":{"intent":"saludo","confidence":0.97,"intents":[{"intent":"saludo","confidence":0.97}],"entities":[]},"conversation":{"id":"c1","user":"u1","channel":"rest","lang":"es","status":"bot","flow":"tallas","slots":{}}}`
	if got := strings.TrimSpace(string(raw)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// a choice: no understanding, empty nlu
	code, v, raw := call(t, api, "POST", "/api/v1/conversations/c1/messages", "", `{"choice":"40","user":"u1"}`)
	if code != 200 || v["nlu"].(map[string]any)["intent"] != "" || v["conversation"].(map[string]any)["slots"].(map[string]any)["talla"] != "40" {
		t.Errorf("choice: %d %s", code, raw)
	}
}

func TestDuplicateMessageID(t *testing.T) {
	b := &channeltest.Bot{}
	api := &rest.API{Backend: b}
	for i := range 3 {
		code, v, raw := call(t, api, "POST", "/api/v1/conversations/c1/messages", "", `{"text":"hola","id":"m1"}`)
		if code != 200 || len(v["messages"].([]any)) != 1 {
			t.Fatalf("try %d: %d %s", i, code, raw)
		}
		if dup, _ := v["duplicate"].(bool); dup != (i > 0) {
			t.Errorf("try %d: duplicate = %v", i, dup)
		}
	}
	if b.Turns != 1 {
		t.Errorf("ran %d turns for one message id, want 1", b.Turns)
	}
}

func TestBadInput(t *testing.T) {
	api := &rest.API{Backend: &channeltest.Bot{}, MaxBody: 1024}
	tests := []struct {
		method, path, body string
		status             int
		err                string
	}{
		{"POST", "/api/v1/conversations/c1/messages", `{"text":`, 400, "invalid JSON body"},
		{"POST", "/api/v1/conversations/c1/messages", `[1,2]`, 400, "invalid JSON body"},
		{"POST", "/api/v1/conversations/c1/messages", `{}`, 400, `"text" or "choice" is required`},
		{"POST", "/api/v1/conversations/c1/messages", `{"text":"a","choice":"b"}`, 400, "not both"},
		{"POST", "/api/v1/conversations/c1/messages", `{"text":"a"} {"text":"b"}`, 400, "more than one value"},
		{"POST", "/api/v1/conversations/c1/messages", `{"text":"` + strings.Repeat("x", 2000) + `"}`, 413, "larger than 1024 bytes"},
		{"POST", "/api/v1/conversations/c1/messages", `{"text":"a","user":"has space"}`, 400, "invalid user id"},
		{"POST", "/api/v1/conversations/" + strings.Repeat("x", 200) + "/messages", `{"text":"a"}`, 400, "invalid conversation id"},
		{"POST", "/api/v1/conversations/c1/messages", `{"text":"a","user":"u","user_hash":"00"}`, 401, "user_hash does not match"},
		{"POST", "/api/v1/conversations/c1/messages", `{"text":"error"}`, 500, "internal error"},
		{"PUT", "/api/v1/conversations/c1/messages", `{}`, 405, "method PUT not allowed"},
		{"GET", "/api/v1/conversations/nobody", ``, 404, `no conversation "nobody"`},
		{"GET", "/api/v1/conversations/nobody/messages", ``, 404, `no conversation "nobody"`},
		{"GET", "/api/v1/conversations/c1/messages?after=-1", ``, 400, `"after" must be`},
		{"GET", "/api/v1/conversations/c1/messages?after=x", ``, 400, `"after" must be`},
		{"POST", "/api/v1/events", `{"event":"order_shipped"}`, 400, `"user" is required`},
		{"POST", "/api/v1/events", `{"user":"u1"}`, 400, `"event" is required`},
		{"POST", "/api/v1/events", `{"user":"ghost","event":"order_shipped"}`, 404, `no user "ghost"`},
		{"DELETE", "/api/v1/users/ghost", ``, 404, `no user "ghost"`},
		{"GET", "/api/v1/users/ghost/export", ``, 404, `no user "ghost"`},
		{"GET", "/api/v1/nothing", ``, 404, "no such endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path+" "+tt.body[:min(len(tt.body), 20)], func(t *testing.T) {
			code, v, raw := call(t, api, tt.method, tt.path, "", tt.body)
			if code != tt.status {
				t.Errorf("status %d, want %d (%s)", code, tt.status, raw)
			}
			if msg, _ := v["error"].(string); !strings.Contains(msg, tt.err) {
				t.Errorf("error %q, want it to contain %q", msg, tt.err)
			}
		})
	}
	// the stored conversation survived all of it
	call(t, api, "POST", "/api/v1/conversations/c1/messages", "", `{"text":"hola"}`)
	if code, _, raw := call(t, api, "GET", "/api/v1/conversations/c1/messages", "", ""); code != 200 || !strings.Contains(string(raw), "Hola") {
		t.Errorf("transcript after bad input: %d %s", code, raw)
	}
}

func TestBearerToken(t *testing.T) {
	api := &rest.API{Backend: &channeltest.Bot{}, Token: "s3cret"}
	for _, tok := range []string{"", "wrong"} {
		code, v, _ := call(t, api, "POST", "/api/v1/conversations/c1/messages", tok, `{"text":"hola"}`)
		if code != 401 || v["error"] == "" {
			t.Errorf("token %q: status %d %v", tok, code, v)
		}
		if code, _, _ := call(t, api, "GET", "/api/v1/users/u1/export", tok, ""); code != 401 {
			t.Errorf("export with token %q: status %d", tok, code)
		}
	}
	code, v, raw := call(t, api, "POST", "/api/v1/conversations/c1/messages", "s3cret", `{"text":"hola","user":"u1"}`)
	if code != 200 {
		t.Fatalf("right token: %d %s", code, raw)
	}
	if v["conversation"].(map[string]any)["verified"] != true {
		t.Errorf("a caller holding the token vouches for its users: %s", raw)
	}
}

func TestVerifiedUser(t *testing.T) {
	secret := []byte("identity-secret")
	api := &rest.API{Backend: &channeltest.Bot{}, IdentitySecret: secret}
	body := fmt.Sprintf(`{"text":"hola","user":"cust-42","user_hash":%q}`, channels.SignUser(secret, "cust-42"))
	code, v, raw := call(t, api, "POST", "/api/v1/conversations/c1/messages", "", body)
	if code != 200 || v["conversation"].(map[string]any)["verified"] != true {
		t.Errorf("signed user: %d %s", code, raw)
	}
	code, v, _ = call(t, api, "POST", "/api/v1/conversations/c2/messages", "", `{"text":"hola","user":"cust-42"}`)
	if code != 200 || v["conversation"].(map[string]any)["verified"] == true {
		t.Errorf("unsigned user is not verified")
	}
}

func TestTranscriptAndConversation(t *testing.T) {
	api := &rest.API{Backend: &channeltest.Bot{}}
	call(t, api, "POST", "/api/v1/conversations/c1/messages", "", `{"text":"hola","user":"u1"}`)
	call(t, api, "POST", "/api/v1/conversations/c1/messages", "", `{"choice":"42","user":"u1"}`)
	code, _, raw := call(t, api, "GET", "/api/v1/conversations/c1/messages", "", "")
	var entries []channels.Entry
	json.Unmarshal(raw, &entries)
	if code != 200 || len(entries) != 4 {
		t.Fatalf("transcript: %d %s", code, raw)
	}
	for i, want := range []string{"user:hola", "bot:" + channeltest.Greeting, "user:Talla 42", "bot:Talla 42 anotada."} {
		if got := entries[i].From + ":" + entries[i].Text; got != want || entries[i].Seq != int64(i+1) || entries[i].At.IsZero() {
			t.Errorf("entry %d = %+v, want %s", i, entries[i], want)
		}
	}
	_, _, raw = call(t, api, "GET", "/api/v1/conversations/c1/messages?after=3", "", "")
	entries = nil
	json.Unmarshal(raw, &entries)
	if len(entries) != 1 || entries[0].Seq != 4 {
		t.Errorf("after=3: %s", raw)
	}
	code, v, raw := call(t, api, "GET", "/api/v1/conversations/c1", "", "")
	if code != 200 || v["status"] != "bot" || v["flow"] != "" || v["slots"].(map[string]any)["talla"] != "42" {
		t.Errorf("conversation: %d %s", code, raw)
	}
}

func TestEvents(t *testing.T) {
	b := &channeltest.Bot{}
	api := &rest.API{Backend: b}
	call(t, api, "POST", "/api/v1/conversations/c1/messages", "", `{"text":"hola","user":"u1"}`)
	// no live sender for rest: queued in the outbox, visible in the transcript
	code, v, raw := call(t, api, "POST", "/api/v1/events", "", `{"user":"u1","event":"order_shipped","data":{"order":"A1234"}}`)
	if code != 202 || v["status"] != "queued" || v["conversation"] != "c1" {
		t.Fatalf("event: %d %s", code, raw)
	}
	if _, _, raw := call(t, api, "GET", "/api/v1/conversations/c1/messages?after=2", "", ""); !strings.Contains(string(raw), "Tu pedido A1234 va en camino.") {
		t.Errorf("the proactive message is not in the transcript: %s", raw)
	}
	code, v, raw = call(t, api, "POST", "/api/v1/events", "", `{"user":"u1","event":"unknown_event"}`)
	if code != 200 || v["status"] != "no_flow" {
		t.Errorf("unknown event: %d %s", code, raw)
	}
	call(t, api, "POST", "/api/v1/conversations/c1/messages", "", `{"text":"no quiero más avisos","user":"u1"}`)
	code, v, raw = call(t, api, "POST", "/api/v1/events", "", `{"user":"u1","event":"order_shipped","data":{"order":"A9"}}`)
	if code != 200 || v["status"] != "opted_out" || len(v["messages"].([]any)) != 0 {
		t.Errorf("opted-out user: %d %s", code, raw)
	}
}

func TestEraseAndExport(t *testing.T) {
	api := &rest.API{Backend: &channeltest.Bot{}}
	call(t, api, "POST", "/api/v1/conversations/c1/messages", "", `{"text":"hola","user":"u1"}`)
	code, v, raw := call(t, api, "GET", "/api/v1/users/u1/export", "", "")
	if code != 200 || v["user"] != "u1" || !strings.Contains(string(raw), channeltest.Greeting) {
		t.Errorf("export: %d %s", code, raw)
	}
	if code, v, raw := call(t, api, "DELETE", "/api/v1/users/u1", "", ""); code != 200 || v["erased"] != true {
		t.Errorf("erase: %d %s", code, raw)
	}
	if code, _, _ := call(t, api, "GET", "/api/v1/conversations/c1", "", ""); code != 404 {
		t.Errorf("conversation after erase: %d", code)
	}
}

// FuzzPostMessage feeds arbitrary bodies and ids to the message endpoint:
// bad input is a 4xx with a JSON error, never a panic or a 5xx.
func FuzzPostMessage(f *testing.F) {
	f.Add("c1", `{"text":"hola","user":"u1","lang":"es","id":"m1"}`)
	f.Add("c1", `{"choice":"42"}`)
	f.Add("c%2F1", `{"text":"\u0000"}`)
	f.Add("c1", `{"text":["no"]}`)
	api := &rest.API{Backend: &channeltest.Bot{}, MaxBody: 4096}
	f.Fuzz(func(t *testing.T, id, body string) {
		if strings.Contains(body, `"error"`) {
			return // the scripted bot fails that turn on purpose
		}
		req := httptest.NewRequest("POST", "/api/v1/conversations/x/messages", strings.NewReader(body))
		req.SetPathValue("id", id)
		req.URL.Path = "/api/v1/conversations/" + url.PathEscape(id) + "/messages"
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for id %q body %q: %s", rec.Code, id, body, rec.Body)
		}
		var v map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("not JSON: %q", rec.Body)
		}
	})
}
