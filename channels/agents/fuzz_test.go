package agents_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/charlabot/charla/channels/agents"
)

// FuzzVerify: any header and body are refused or accepted without a panic,
// and a body signed with the secret always verifies.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	f.Add("t=1800000000,v1=00", []byte(`{}`))
	f.Add("v1=,t=", []byte(nil))
	f.Add("t=-99999999999999999999,v1=zz", []byte("x"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		agents.Verify([]byte("k"), header, body, now)
		if err := agents.Verify([]byte("k"), agents.Sign([]byte("k"), now, body), body, now); err != nil {
			t.Fatalf("a good signature refused: %v", err)
		}
	})
}

// FuzzHelpdesk: signed bodies of any shape get an answer that is not a
// server error, and never a panic.
func FuzzHelpdesk(f *testing.F) {
	secret := []byte("s3cr3t")
	e := newEnv(f, botFiles(), func(w *agents.Webhook) { w.URL, w.Secret = "http://127.0.0.1:1/", secret })
	f.Add([]byte(`{"type":"agent.message","conversation":"c1","agent":"Laura","text":"hola"}`))
	f.Add([]byte(`{"type":"conversation.release","conversation":"c1","agent":"Laura","flow":"csat"}`))
	f.Add([]byte(`{"type":"conversation.close","conversation":"","agent":""}`))
	f.Add([]byte(`[1,2`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/agent/api/v1/helpdesk", bytes.NewReader(body))
		req.Header.Set(agents.SignatureHeader, agents.Sign(secret, e.clock.Now(), body))
		w := httptest.NewRecorder()
		e.console.ServeHTTP(w, req)
		if w.Code >= 500 || w.Code == http.StatusUnauthorized {
			t.Fatalf("%d %s for %q", w.Code, w.Body, body)
		}
	})
}
