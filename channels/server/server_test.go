package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gorilla/websocket"

	"github.com/charlabot/charla/channels/channeltest"
	"github.com/charlabot/charla/channels/server"
	"github.com/charlabot/charla/engine"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func start(t *testing.T, cfg server.Config) *server.Server {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = "testdata/tienda"
	}
	cfg.Addr = "127.0.0.1:0"
	if cfg.DataDir == "" {
		cfg.Memory = true
	}
	if cfg.Getenv == nil {
		cfg.Getenv = env(nil)
	}
	s, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}

func do(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var v map[string]any
	json.Unmarshal(raw, &v)
	return resp.StatusCode, v
}

func texts(v map[string]any) []string {
	var out []string
	msgs, _ := v["messages"].([]any)
	for _, m := range msgs {
		out = append(out, m.(map[string]any)["text"].(string))
	}
	return out
}

type wsClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialWS(t *testing.T, s *server.Server) *wsClient {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(s.URL(), "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return &wsClient{t, ws}
}

func (c *wsClient) send(v map[string]any) {
	c.t.Helper()
	if err := c.ws.WriteJSON(v); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsClient) next(typ string) map[string]any {
	c.t.Helper()
	for {
		c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		var f map[string]any
		if err := c.ws.ReadJSON(&f); err != nil {
			c.t.Fatalf("waiting for %s: %v", typ, err)
		}
		if f["type"] == typ {
			return f
		}
	}
}

func TestRESTWebchatAndProactive(t *testing.T) {
	s := start(t, server.Config{})
	code, v := do(t, "POST", s.URL()+"/api/v1/conversations/r1/messages", "", `{"text":"hola","user":"ana"}`)
	if code != 200 || strings.Join(texts(v), "|") != "¡Hola! Soy el bot de la tienda.|¿Qué necesitas?" {
		t.Fatalf("REST hola: %d %v", code, v)
	}

	// web chat: a flow with buttons, answered by a button
	c := dialWS(t, s)
	c.send(map[string]any{"type": "hello", "user": "bea"})
	conv := c.next("welcome")["conversation"].(string)
	c.send(map[string]any{"type": "message", "text": "quiero cambiar la talla", "id": "m1"})
	m := c.next("message")
	if m["text"] != "¿Qué talla buscas?" || len(m["choices"].([]any)) != 3 || m["seq"].(float64) != 2 {
		t.Fatalf("talla question: %v", m)
	}
	c.send(map[string]any{"type": "choice", "value": "42", "id": "m2"})
	if m := c.next("message"); m["text"] != "Anotada la talla 42." {
		t.Fatalf("after the button: %v", m)
	}
	// a live proactive message
	code, v = do(t, "POST", s.URL()+"/api/v1/events", "", `{"user":"bea","event":"order_shipped","data":{"order":"A1234"}}`)
	if code != 200 || v["status"] != "delivered" || v["channel"] != "webchat" {
		t.Fatalf("live event: %d %v", code, v)
	}
	if m := c.next("message"); m["text"] != "Tu pedido A1234 va en camino." {
		t.Fatalf("proactive frame: %v", m)
	}
	// offline: kept in the outbox, in the transcript, drained on reconnect
	c.ws.Close()
	waitFor(t, func() bool { return !strings.Contains(metrics(t, s), "charla_webchat_connections 1") })
	code, v = do(t, "POST", s.URL()+"/api/v1/events", "", `{"user":"bea","event":"order_shipped","data":{"order":"B5"}}`)
	if code != 202 || v["status"] != "queued" {
		t.Fatalf("offline event: %d %v", code, v)
	}
	resp, err := http.Get(s.URL() + "/api/v1/conversations/" + conv + "/messages?after=5")
	if err != nil {
		t.Fatal(err)
	}
	var entries []map[string]any
	json.NewDecoder(resp.Body).Decode(&entries)
	resp.Body.Close()
	if len(entries) != 1 || entries[0]["text"] != "Tu pedido B5 va en camino." || entries[0]["from"] != "bot" {
		t.Fatalf("the queued message is not in the transcript: %v", entries)
	}
	c2 := dialWS(t, s)
	c2.send(map[string]any{"type": "hello", "user": "bea", "conversation": conv, "after": 5})
	c2.next("welcome")
	if m := c2.next("message"); m["text"] != "Tu pedido B5 va en camino." || m["seq"].(float64) != 6 {
		t.Fatalf("drained on reconnect: %v", m)
	}
	// an event no flow handles
	if code, v := do(t, "POST", s.URL()+"/api/v1/events", "", `{"user":"bea","event":"nada"}`); code != 200 || v["status"] != "no_flow" {
		t.Fatalf("unhandled event: %d %v", code, v)
	}
	// opting out
	c2.send(map[string]any{"type": "message", "text": "no quiero más avisos", "id": "m3"})
	if m := c2.next("message"); m["text"] != "Listo, no te enviaremos más avisos." {
		t.Fatalf("opt-out: %v", m)
	}
	code, v = do(t, "POST", s.URL()+"/api/v1/events", "", `{"user":"bea","event":"order_shipped","data":{"order":"C9"}}`)
	if code != 200 || v["status"] != "opted_out" {
		t.Fatalf("opted-out user: %d %v", code, v)
	}

	// health and metrics
	if code, v := do(t, "GET", s.URL()+"/healthz", "", ""); code != 200 || v["status"] != "ok" || v["bot"] != "tienda" {
		t.Errorf("healthz: %d %v", code, v)
	}
	mt := metrics(t, s)
	for _, want := range []string{`charla_turns_total{channel="rest"} 1`, `charla_turns_total{channel="webchat"} 3`, "charla_turn_seconds_bucket", "charla_turn_wait_seconds_bucket", `charla_proactive_total{status="queued"} 1`, "charla_active_conversations 2", "go_goroutines"} {
		if !strings.Contains(mt, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// erase and export
	if code, v := do(t, "GET", s.URL()+"/api/v1/users/ana/export", "", ""); code != 200 || v["user"] != "ana" {
		t.Errorf("export: %d %v", code, v)
	}
	if code, _ := do(t, "DELETE", s.URL()+"/api/v1/users/ana", "", ""); code != 200 {
		t.Errorf("erase: %d", code)
	}
	if code, _ := do(t, "GET", s.URL()+"/api/v1/conversations/r1", "", ""); code != 404 {
		t.Errorf("conversation of an erased user: %d", code)
	}
}

func metrics(t *testing.T, s *server.Server) string {
	resp, err := http.Get(s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition never held")
		}
	}
}

func TestAPIToken(t *testing.T) {
	s := start(t, server.Config{Getenv: env(map[string]string{server.EnvAPIToken: "tok"})})
	if code, v := do(t, "POST", s.URL()+"/api/v1/conversations/r1/messages", "", `{"text":"hola"}`); code != 401 || v["error"] == nil {
		t.Errorf("no token: %d %v", code, v)
	}
	if code, _ := do(t, "POST", s.URL()+"/api/v1/conversations/r1/messages", "tok", `{"text":"hola"}`); code != 200 {
		t.Errorf("token: %d", code)
	}
	// the web chat and health need no token
	if code, _ := do(t, "GET", s.URL()+"/healthz", "", ""); code != 200 {
		t.Errorf("healthz: %d", code)
	}
	if code, _ := do(t, "GET", s.URL()+"/widget.js", "", ""); code != 200 {
		t.Errorf("widget.js: %d", code)
	}
}

func TestTelegramProactive(t *testing.T) {
	api := channeltest.NewTelegramAPI(t, "42:TOKEN")
	s := start(t, server.Config{Getenv: env(map[string]string{server.EnvTelegramToken: "42:TOKEN"}), TelegramEndpoint: api.Endpoint()})
	api.Push(`{"message":{"message_id":1,"date":1441645532,"chat":{"id":900,"type":"private"},"from":{"id":900,"first_name":"Eva","language_code":"es"},"text":"hola"}}`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, i, err := api.Next(ctx, 900, 0)
	if err != nil || m.Text != "¡Hola! Soy el bot de la tienda." {
		t.Fatalf("telegram greeting: %+v %v", m, err)
	}
	m, i, _ = api.Next(ctx, 900, i+1)
	if len(m.Buttons) != 2 {
		t.Fatalf("telegram buttons: %+v", m)
	}
	code, v := do(t, "POST", s.URL()+"/api/v1/events", "", `{"user":"tg-900","event":"order_shipped","data":{"order":"T1"}}`)
	if code != 200 || v["status"] != "delivered" || v["channel"] != "telegram" {
		t.Fatalf("telegram event: %d %v", code, v)
	}
	if m, _, err := api.Next(ctx, 900, i+1); err != nil || m.Text != "Tu pedido T1 va en camino." {
		t.Fatalf("telegram proactive: %+v %v", m, err)
	}
}

func TestReloadKeepsOldProgramOnError(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, "testdata/tienda", dir)
	s := start(t, server.Config{Dir: dir})
	main := filepath.Join(dir, "flows", "main.yaml")
	src, _ := os.ReadFile(main)
	os.WriteFile(main, append(src, []byte("\n  - flow: broken\n    steps: [{goto: nowhere}]\n")...), 0o644)
	if err := s.Reload(); err == nil {
		t.Fatal("a broken bot reloaded")
	}
	if _, v := do(t, "POST", s.URL()+"/api/v1/conversations/x/messages", "", `{"text":"hola"}`); len(texts(v)) != 2 {
		t.Fatalf("after a failed reload: %v", v)
	}
	os.WriteFile(main, []byte(strings.Replace(string(src), "Soy el bot de la tienda.", "Soy el bot nuevo.", 1)), 0o644)
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, v := do(t, "POST", s.URL()+"/api/v1/conversations/y/messages", "", `{"text":"hola"}`); texts(v)[0] != "¡Hola! Soy el bot nuevo." {
		t.Fatalf("after reload: %v", v)
	}
}

func copyDir(t testing.TB, from, to string) {
	filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, _ := os.ReadFile(p)
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
}

func ExampleNew() {
	// An embedding program (such as the reference shop bot) serves a bot
	// directory with its own Go actions, until interrupted.
	srv, err := server.New(server.Config{
		Dir:     "examples/ecommerce",
		Addr:    ":8080",
		DataDir: "charla-data",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithTimeout(context.Background(), time.Second) // signal.NotifyContext in a real program
	defer stop()
	if err := srv.Run(ctx); err != nil {
		fmt.Println(err)
	}
}

// An embedding program may serve a bot it carries in its binary (go:embed):
// the files come from Config.FS, and a compile error names them under Dir.
func TestBotFromFS(t *testing.T) {
	s := start(t, server.Config{Dir: "tienda", FS: os.DirFS("testdata/tienda")})
	if _, v := do(t, "POST", s.URL()+"/api/v1/conversations/fs/messages", "", `{"text":"hola"}`); len(texts(v)) != 2 || texts(v)[0] != "¡Hola! Soy el bot de la tienda." {
		t.Fatalf("a bot from an fs.FS: %v", v)
	}
	broken := fstest.MapFS{
		"bot.yaml":       {Data: []byte("name: roto\nlanguages: [es]\n")},
		"flows/one.yaml": {Data: []byte("flow: one\nsteps: [{goto: nowhere}]\n")},
	}
	_, err := server.New(server.Config{Dir: "embedded", FS: broken, Memory: true, Getenv: env(nil)})
	if err == nil || !strings.Contains(err.Error(), "embedded/flows/one.yaml:2:") {
		t.Fatalf("a broken embedded bot: %v", err)
	}
}

func TestWatchReloads(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, "testdata/tienda", dir)
	s := start(t, server.Config{Dir: dir, Watch: true})
	main := filepath.Join(dir, "flows", "main.yaml")
	src, _ := os.ReadFile(main)
	// a broken edit is ignored: the old program keeps answering
	os.WriteFile(main, []byte(strings.Replace(string(src), "steps:", "stepz:", 1)), 0o644)
	time.Sleep(1500 * time.Millisecond) // the watcher polls once a second
	if _, v := do(t, "POST", s.URL()+"/api/v1/conversations/w0/messages", "", `{"text":"hola"}`); len(texts(v)) == 0 || texts(v)[0] != "¡Hola! Soy el bot de la tienda." {
		t.Fatalf("after a broken edit: %v", v)
	}
	os.WriteFile(main, []byte(strings.Replace(string(src), "Soy el bot de la tienda.", "Soy el bot recargado.", 1)), 0o644)
	waitFor(t, func() bool {
		_, v := do(t, "POST", s.URL()+"/api/v1/conversations/w"+fmt.Sprint(time.Now().UnixNano())+"/messages", "", `{"text":"hola"}`)
		return len(texts(v)) > 0 && texts(v)[0] == "¡Hola! Soy el bot recargado."
	})
}

func TestTelegramWebhook(t *testing.T) {
	api := channeltest.NewTelegramAPI(t, "42:TOKEN")
	s := start(t, server.Config{TelegramEndpoint: api.Endpoint(),
		Getenv: env(map[string]string{server.EnvTelegramToken: "42:TOKEN", server.EnvTelegramSecret: "hook-secret"})})
	update := `{"update_id": 501, "message": {"message_id": 7, "date": 1441645532, "chat": {"id": 901, "type": "private"}, "from": {"id": 901, "first_name": "Eva"}, "text": "hola"}}`
	post := func(secret string) int {
		req, _ := http.NewRequest("POST", s.URL()+"/telegram/webhook", strings.NewReader(update))
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("wrong"); code != 401 {
		t.Errorf("wrong secret: %d", code)
	}
	if code := post("hook-secret"); code != 200 {
		t.Fatalf("right secret: %d", code)
	}
	if code := post("hook-secret"); code != 200 { // redelivered
		t.Fatalf("redelivery: %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if m, _, err := api.Next(ctx, 901, 0); err != nil || m.Text != "¡Hola! Soy el bot de la tienda." {
		t.Fatalf("reply: %+v %v", m, err)
	}
	if n := len(api.Sent()); n != 2 {
		t.Errorf("%d messages sent for one update delivered twice, want 2 (greeting + question)", n)
	}
	if n := api.Calls("getUpdates"); n != 0 {
		t.Errorf("webhook mode polled getUpdates %d times", n)
	}
}

func TestShutdownFinishesTurnsInFlight(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, "testdata/tienda", dir)
	os.WriteFile(filepath.Join(dir, "actions.yaml"), []byte("actions:\n  lento:\n    description: takes its time\n    result: {ok: boolean}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "flows", "lento.yaml"), []byte(`flow: lento
triggers: {keywords: [lento]}
steps:
  - action: lento
    into: r
  - say: "Listo, sin prisa."
    end: resolved
`), 0o644)
	started, release := make(chan struct{}), make(chan struct{})
	s, err := server.New(server.Config{Dir: dir, Addr: "127.0.0.1:0", Memory: true, Getenv: env(nil),
		Actions: map[string]engine.ActionFunc{"lento": func(ctx context.Context, _ engine.ActionCall) (any, error) {
			close(started)
			<-release
			return map[string]any{"ok": true}, nil
		}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	url := s.URL()
	type reply struct {
		code int
		v    map[string]any
	}
	got := make(chan reply, 1)
	go func() {
		code, v := do(t, "POST", url+"/api/v1/conversations/slow/messages", "", `{"text":"lento"}`)
		got <- reply{code, v}
	}()
	<-started
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- s.Shutdown(ctx)
	}()
	// the server stops accepting while the turn runs
	waitFor(t, func() bool {
		_, err := http.Get(url + "/healthz")
		return err != nil
	})
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned (%v) before the turn in flight finished", err)
	default:
	}
	close(release)
	r := <-got
	if r.code != 200 || len(texts(r.v)) != 1 || texts(r.v)[0] != "Listo, sin prisa." {
		t.Fatalf("the turn in flight: %d %v", r.code, r.v)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestAccessLogAtDebug(t *testing.T) {
	var logs syncBuffer
	s := start(t, server.Config{Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Getenv: env(map[string]string{server.EnvAPIToken: "very-secret-token"})})
	do(t, "GET", s.URL()+"/healthz?x=1", "", "")
	do(t, "POST", s.URL()+"/api/v1/conversations/c/messages", "very-secret-token", `{"text":"hola"}`)
	out := logs.String()
	for _, want := range []string{`"msg":"http","method":"GET","path":"/healthz","status":200`, `"path":"/api/v1/conversations/c/messages","status":200`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "very-secret-token") {
		t.Error("the API token was logged")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestEraseDeletesUploads(t *testing.T) {
	s := start(t, server.Config{DataDir: t.TempDir()})
	c := dialWS(t, s)
	c.send(map[string]any{"type": "hello", "user": "ines"})
	conv := c.next("welcome")["conversation"].(string)
	c.send(map[string]any{"type": "message", "text": "foto", "id": "f1"})
	c.next("message")
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
	c.send(map[string]any{"type": "attachment", "name": "etiqueta.png", "data": base64.StdEncoding.EncodeToString(png), "id": "f2"})
	if m := c.next("message"); m["text"] != "Gracias, recibí tu foto." {
		t.Fatalf("after the photo: %v", m)
	}
	resp, err := http.Get(s.URL() + "/api/v1/conversations/" + conv + "/messages")
	if err != nil {
		t.Fatal(err)
	}
	var entries []engine.Entry
	json.NewDecoder(resp.Body).Decode(&entries)
	resp.Body.Close()
	var upload string
	for _, e := range entries {
		for _, a := range e.Attachments {
			upload = a.URL
		}
	}
	if !strings.HasPrefix(upload, "/uploads/") {
		t.Fatalf("no upload in the transcript: %+v", entries)
	}
	get := func() int {
		resp, err := http.Get(s.URL() + upload)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(); code != 200 {
		t.Fatalf("GET %s: %d", upload, code)
	}
	if code, _ := do(t, "DELETE", s.URL()+"/api/v1/users/ines", "", ""); code != 200 {
		t.Fatalf("erase: %d", code)
	}
	if code := get(); code != 404 {
		t.Errorf("the erased user's photo is still served: %d", code)
	}
}
