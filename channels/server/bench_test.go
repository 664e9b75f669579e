package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/charlabot/charla/channels/server"
)

// BenchmarkRESTTurn is one turn through the REST API over a keep-alive
// connection, with the memory store: the handler, JSON both ways, the
// runtime and the NLU.
func BenchmarkRESTTurn(b *testing.B) {
	s := benchServer(b)
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	client := &http.Client{Transport: tr}
	var n atomic.Int64
	body := []byte(`{"text":"hola"}`)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		id := n.Add(1)
		i := 0
		for pb.Next() {
			i++
			resp, err := client.Post(fmt.Sprintf("%s/api/v1/conversations/b%d-%d/messages", s.URL(), id, i%50), "application/json", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatal(resp.Status)
			}
		}
	})
}

// BenchmarkWebchatRoundTrip is one message through the web chat: a frame
// in, the turn, the transcript read, the reply frames out.
func BenchmarkWebchatRoundTrip(b *testing.B) {
	s := benchServer(b)
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(s.URL(), "http")+"/ws", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	ws.WriteJSON(map[string]any{"type": "hello"})
	read := func(typ string) {
		for {
			var f struct{ Type string }
			if err := ws.ReadJSON(&f); err != nil {
				b.Fatal(err)
			}
			if f.Type == typ {
				return
			}
		}
	}
	read("welcome")
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		ws.WriteJSON(map[string]any{"type": "message", "text": "hola", "id": fmt.Sprint(i)})
		read("message")
		read("ack")
	}
}

func benchServer(b *testing.B) *server.Server {
	// the tienda bot without the web chat's per-connection rate limit, which
	// a single benchmark connection would hit
	dir := b.TempDir()
	copyDir(b, "testdata/tienda", dir)
	bot := filepath.Join(dir, "bot.yaml")
	src, _ := os.ReadFile(bot)
	os.WriteFile(bot, []byte(strings.Replace(string(src), `webchat: {title: "Tienda Charla"}`, `webchat: {title: "Tienda Charla", rate: 1000000, burst: 1000000}`, 1)), 0o644)
	s, err := server.New(server.Config{Dir: dir, Addr: "127.0.0.1:0", Memory: true, Getenv: env(nil),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}
