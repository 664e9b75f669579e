package messenger_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/charlabot/charla/channels/channeltest"
	"github.com/charlabot/charla/channels/messenger"
	"github.com/charlabot/charla/channels/meta"
	"github.com/charlabot/charla/engine"
)

// FuzzWebhook posts signed bodies of any shape: the connector must answer
// 200 or 400 and never panic, whatever Meta (or a forger with the secret)
// sends. The fixtures seed the corpus.
func FuzzWebhook(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"object":"page","entry":[{"messaging":[{"sender":{"id":"1"},"message":{"mid":"m","attachments":[{"type":"location"}]}}]}]}`))
	f.Add([]byte(`{"object":"page","entry":[{"messaging":[{"sender":{"id":"1"},"postback":{}},{"sender":{"id":"1"},"delivery":{}}]}]}`))
	api := channeltest.NewGraphAPI(f, token)
	conn := messenger.New(messenger.Config{PageID: pageID, PageToken: token, AppSecret: secret, VerifyToken: verify, GraphURL: api.URL(), Unsupported: "-"},
		engine.HandlerFunc(func(context.Context, engine.Inbound) (*engine.Turn, error) { return &engine.Turn{}, nil }))
	f.Cleanup(func() { conn.Shutdown(context.Background()) })
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/messenger", bytes.NewReader(body))
		req.Header.Set(meta.SignatureHeader, meta.Sign([]byte(secret), body))
		w := httptest.NewRecorder()
		conn.ServeHTTP(w, req)
		if w.Code != 200 && w.Code != 400 {
			t.Fatalf("status %d for %q", w.Code, body)
		}
	})
}
