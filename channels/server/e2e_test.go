package server_test

// End-to-end tests in headless Chromium against the real server on
// loopback: the demo page, the widget, the WebSocket hub, the runtime and
// the store. They need Debian's chromium (apt-get install -y chromium) and
// fail, saying so, where it is missing. Screenshots go to
// $CHARLA_ARTIFACTS (default: a charla-e2e folder in the temp directory).

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/charlabot/charla/channels/server"
	"github.com/charlabot/charla/engine"
)

// chromium finds the browser or fails the test with how to install it.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHARLA_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("the browser end-to-end tests need Chromium, and none was found on PATH.\n" +
		"Install it with: apt-get update && apt-get install -y chromium\n" +
		"(or point CHARLA_CHROMIUM at a Chrome/Chromium binary)")
	return ""
}

// browser starts a headless Chromium with a fresh profile that makes no
// outside connections, with the given interface language and a phone's
// screen.
func browser(t *testing.T, lang string) context.Context {
	t.Helper()
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("lang", lang),
		chromedp.Flag("accept-lang", lang),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(412, 860),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start the browser now
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

func artifacts(t *testing.T) string {
	dir := os.Getenv("CHARLA_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "charla-e2e")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(artifacts(t), name+".png")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Error(err)
	}
	t.Logf("screenshot: %s", p)
}

func must[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		screenshot(t, ctx, "failure-"+strings.ReplaceAll(t.Name(), "/", "-"))
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// bubbles returns the texts of the chat's bubbles, "who: text".
func bubbles(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return must(t, ctx, "reading bubbles", chromedp.Evaluate[[]string](`[...document.querySelectorAll('.charla-log .charla-msg')].map(e =>
		(e.classList.contains('charla-user') ? 'user' : e.classList.contains('charla-notice') ? 'notice' : 'bot') + ': ' +
		((e.querySelector('.charla-text') || {}).textContent || (e.querySelector('img') ? '[image]' : '')))`))
}

// waitBubble waits until the last bubble is a bot bubble with text.
func waitBubble(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	js := fmt.Sprintf(`(() => { const b = [...document.querySelectorAll('.charla-log .charla-bot .charla-text')]; return b.length > 0 && b[b.length-1].textContent === %q })()`, text)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		screenshot(t, ctx, "failure-"+strings.ReplaceAll(t.Name(), "/", "-"))
		t.Fatalf("waiting for the bot to say %q: %v\nbubbles: %q", text, err, bubbles(t, ctx))
	}
}

func typeMessage(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	must(t, ctx, "typing", chromedp.SendKeys(chromedp.CSS(".charla-input"), text+"\r"))
}

func clickReply(t *testing.T, ctx context.Context, label string) {
	t.Helper()
	js := fmt.Sprintf(`(() => { const b = [...document.querySelectorAll('.charla-reply')].find(b => b.textContent === %q); if (!b) return false; b.click(); return true })()`, label)
	must(t, ctx, "clicking "+label, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(10*time.Second)))
}

func TestBrowserChat(t *testing.T) {
	ctx := browser(t, "es-ES")
	data := t.TempDir() // charla.db (bbolt) and uploads, kept across the restart
	s := start(t, server.Config{DataDir: data})
	url := s.URL()

	must(t, ctx, "opening the demo page", chromedp.Navigate(url+"/"))
	must(t, ctx, "the widget", chromedp.WaitVisible(chromedp.CSS(".charla-input")))
	if ph := must(t, ctx, "placeholder", chromedp.Evaluate[string](`document.querySelector('.charla-input').placeholder`)); ph != "Escribe un mensaje…" {
		t.Errorf("Spanish browser, placeholder %q", ph)
	}
	if title := must(t, ctx, "title", chromedp.Text(chromedp.CSS(".charla-title"))); title != "Tienda Charla" {
		t.Errorf("title %q, want bot.yaml's channels.webchat.title", title)
	}

	// typing
	typeMessage(t, ctx, "hola")
	waitBubble(t, ctx, "¿Qué necesitas?")
	// clicking a quick reply
	clickReply(t, ctx, "Cambiar talla")
	waitBubble(t, ctx, "¿Qué talla buscas?")
	if n := must(t, ctx, "replies", chromedp.Evaluate[int](`document.querySelectorAll('.charla-reply').length`)); n != 3 {
		t.Fatalf("%d quick replies for three sizes", n)
	}
	// the keyboard: focus the second reply and press Enter
	must(t, ctx, "focus", chromedp.Focus(chromedp.CSS(".charla-reply:nth-child(2)")))
	must(t, ctx, "enter", chromedp.KeyEvent("\r"))
	waitBubble(t, ctx, "Anotada la talla 42.")
	// an answer typed by number
	typeMessage(t, ctx, "tallas")
	waitBubble(t, ctx, "¿Qué talla buscas?")
	typeMessage(t, ctx, "3")
	waitBubble(t, ctx, "Anotada la talla 44.")
	screenshot(t, ctx, "chat-1-conversation")
	before := bubbles(t, ctx)
	want := []string{"user: hola", "bot: ¡Hola! Soy el bot de la tienda.", "bot: ¿Qué necesitas?", "user: Cambiar talla", "bot: ¿Qué talla buscas?",
		"user: Talla 42", "bot: Anotada la talla 42.", "user: tallas", "bot: ¿Qué talla buscas?", "user: 3", "bot: Anotada la talla 44."}
	if !slices.Equal(before, want) {
		t.Fatalf("bubbles\n%q\nwant\n%q", before, want)
	}
	if n := must(t, ctx, "timestamps", chromedp.Evaluate[int](`[...document.querySelectorAll('.charla-msg time')].filter(t => /\d\d:\d\d/.test(t.textContent)).length`)); n != len(want) {
		t.Errorf("%d of %d bubbles show a time", n, len(want))
	}
	conv := must(t, ctx, "conversation id", chromedp.Evaluate[string](`JSON.parse(localStorage.getItem('charla:' + location.origin)).conversation`))

	// reload: the history comes back, once
	must(t, ctx, "reload", chromedp.Reload())
	must(t, ctx, "the widget again", chromedp.WaitVisible(chromedp.CSS(".charla-input")))
	waitBubble(t, ctx, "Anotada la talla 44.")
	time.Sleep(300 * time.Millisecond) // let any duplicate arrive, if one were coming
	after := bubbles(t, ctx)
	// the page replays the user's choices as the transcript keeps them
	if len(after) != len(want) {
		t.Fatalf("after reload %d bubbles, want %d:\n%q", len(after), len(want), after)
	}
	screenshot(t, ctx, "chat-2-reloaded")

	// restart the server on the same address and data directory: the page
	// reconnects by itself and the conversation goes on from the disk
	addr := strings.TrimPrefix(url, "http://")
	ctxS, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if err := s.Shutdown(ctxS); err != nil {
		t.Fatal(err)
	}
	cancel()
	s2, err := server.New(server.Config{Dir: "testdata/tienda", Addr: addr, DataDir: data, Getenv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	must(t, ctx, "reconnected", chromedp.Poll[bool](`document.querySelector('.charla-status').textContent === ''`, chromedp.WithPollingTimeout(20*time.Second)))
	typeMessage(t, ctx, "tallas")
	waitBubble(t, ctx, "¿Qué talla buscas?")
	clickReply(t, ctx, "Talla 40")
	waitBubble(t, ctx, "Anotada la talla 40.")
	if c := must(t, ctx, "conversation id", chromedp.Evaluate[string](`JSON.parse(localStorage.getItem('charla:' + location.origin)).conversation`)); c != conv {
		t.Errorf("after the restart the page is in conversation %q, want %q", c, conv)
	}
	resp, err := http.Get(s2.URL() + "/api/v1/conversations/" + conv + "/messages")
	if err != nil {
		t.Fatal(err)
	}
	var tr []engine.Entry
	json.NewDecoder(resp.Body).Decode(&tr)
	resp.Body.Close()
	if len(tr) != len(want)+4 {
		t.Errorf("the transcript has %d entries, want %d", len(tr), len(want)+4)
	}
	screenshot(t, ctx, "chat-3-after-restart")

	// an image for an attachment slot (size-checked in the page and the server)
	img := filepath.Join(t.TempDir(), "foto.png")
	writePNG(t, img)
	typeMessage(t, ctx, "foto")
	waitBubble(t, ctx, "Envíanos una foto de la etiqueta.")
	must(t, ctx, "upload", chromedp.SetUploadFiles(chromedp.CSS(".charla-form input[type=file]"), []string{img}))
	must(t, ctx, "image bubble", chromedp.Poll[bool](`document.querySelectorAll('.charla-user img').length === 1`, chromedp.WithPollingTimeout(10*time.Second)))
	waitBubble(t, ctx, "Gracias, recibí tu foto.")
	screenshot(t, ctx, "chat-4-image")
	// the photo is stored and shown again from the server after a reload
	must(t, ctx, "reload", chromedp.Reload())
	waitBubble(t, ctx, "Gracias, recibí tu foto.")
	src := must(t, ctx, "replayed image", chromedp.Poll[string](`(document.querySelector('.charla-user img') || {}).src`, chromedp.WithPollingTimeout(10*time.Second)))
	if !strings.HasPrefix(src, s2.URL()+"/uploads/") {
		t.Fatalf("replayed image src %q", src)
	}
	if resp, err := http.Get(src); err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("GET the uploaded image: %v %v", resp, err)
	}

	// a proactive message while the page is open (an anonymous conversation
	// is its own user) ...
	event := func(order string) string {
		resp, err := http.Post(s2.URL()+"/api/v1/events", "application/json",
			strings.NewReader(fmt.Sprintf(`{"user": %q, "event": "order_shipped", "data": {"order": %q}}`, conv, order)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v struct{ Status string }
		json.NewDecoder(resp.Body).Decode(&v)
		return v.Status
	}
	if st := event("A1"); st != "delivered" {
		t.Fatalf("event with the page open: %s", st)
	}
	waitBubble(t, ctx, "Tu pedido A1 va en camino.")
	// ... and one while it is closed: it waits in the outbox and shows, once,
	// when the shopper comes back
	must(t, ctx, "leave", chromedp.Navigate("about:blank"))
	waitFor(t, func() bool { return strings.Contains(metrics(t, s2), "\ncharla_webchat_connections 0\n") })
	if st := event("B2"); st != "queued" {
		t.Fatalf("event with the page closed: %s", st)
	}
	must(t, ctx, "come back", chromedp.Navigate(s2.URL()+"/"))
	waitBubble(t, ctx, "Tu pedido B2 va en camino.")
	time.Sleep(300 * time.Millisecond)
	all := bubbles(t, ctx)
	n := 0
	for _, b := range all {
		if strings.Contains(b, "va en camino") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d shipping bubbles, want 2 (A1, B2): %q", n, all)
	}
	screenshot(t, ctx, "chat-5-proactive")
}

func TestBrowserEnglish(t *testing.T) {
	ctx := browser(t, "en-US")
	s := start(t, server.Config{})
	must(t, ctx, "opening the demo page", chromedp.Navigate(s.URL()+"/"))
	must(t, ctx, "the widget", chromedp.WaitVisible(chromedp.CSS(".charla-input")))
	if ph := must(t, ctx, "placeholder", chromedp.Evaluate[string](`document.querySelector('.charla-input').placeholder`)); ph != "Type a message…" {
		t.Errorf("English browser, placeholder %q", ph)
	}
	typeMessage(t, ctx, "hello")
	waitBubble(t, ctx, "What do you need?")
	clickReply(t, ctx, "Change size")
	waitBubble(t, ctx, "Which size?")
	screenshot(t, ctx, "chat-english")
}

func writePNG(t *testing.T, path string) {
	m := image.NewRGBA(image.Rect(0, 0, 40, 40))
	for x := range 40 {
		for y := range 40 {
			m.Set(x, y, color.RGBA{uint8(x * 6), 110, uint8(y * 6), 255})
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	png.Encode(f, m)
}

// TestBrowserEmbeddedWidget embeds the widget in a shop's page served from
// another origin: the floating button opens the chat, which talks to the
// charla server; a page from an origin bot.yaml does not allow cannot.
func TestBrowserEmbeddedWidget(t *testing.T) {
	ctx := browser(t, "es-ES")
	page := func(charla string) string {
		return `<!doctype html><html lang="es"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Tienda</title></head>
<body><h1>Zapatos</h1><script src="` + charla + `/widget.js" data-title="Ayuda" async></script></body></html>`
	}
	var charlaURL string
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page(charlaURL))
	}))
	defer shop.Close()
	other := httptest.NewServer(shop.Config.Handler)
	defer other.Close()

	dir := t.TempDir()
	copyDir(t, "testdata/tienda", dir)
	bot := filepath.Join(dir, "bot.yaml")
	src, _ := os.ReadFile(bot)
	os.WriteFile(bot, []byte(strings.Replace(string(src), `webchat: {title: "Tienda Charla"}`,
		`webchat: {title: "Tienda Charla", allowed_origins: [`+shop.URL+`]}`, 1)), 0o644)
	s := start(t, server.Config{Dir: dir})
	charlaURL = s.URL()

	must(t, ctx, "the shop's page", chromedp.Navigate(shop.URL+"/"))
	must(t, ctx, "the chat button", chromedp.WaitVisible(chromedp.CSS(".charla-toggle")))
	if vis := must(t, ctx, "closed panel", chromedp.Evaluate[bool](`getComputedStyle(document.querySelector('.charla-panel')).display !== 'none'`)); vis {
		t.Fatal("the floating panel starts open")
	}
	must(t, ctx, "open", chromedp.Click(chromedp.CSS(".charla-toggle")))
	must(t, ctx, "the panel", chromedp.WaitVisible(chromedp.CSS(".charla-input")))
	typeMessage(t, ctx, "hola")
	waitBubble(t, ctx, "¿Qué necesitas?")
	screenshot(t, ctx, "chat-embedded")
	must(t, ctx, "escape closes", chromedp.KeyEvent("\x1b"))
	must(t, ctx, "closed", chromedp.Poll[bool](`getComputedStyle(document.querySelector('.charla-panel')).display === 'none'`, chromedp.WithPollingTimeout(5*time.Second)))

	// on a phone the open panel fills the screen, and the history is there
	must(t, ctx, "a phone's screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	must(t, ctx, "reload", chromedp.Reload())
	must(t, ctx, "open on the phone", chromedp.Click(chromedp.CSS(".charla-toggle")))
	waitBubble(t, ctx, "¿Qué necesitas?")
	if w := must(t, ctx, "panel width", chromedp.Evaluate[float64](`document.querySelector('.charla-panel').getBoundingClientRect().width`)); w != 390 {
		t.Errorf("the panel is %v px wide on a 390 px phone, want the whole width", w)
	}
	screenshot(t, ctx, "chat-phone")
	must(t, ctx, "a desktop again", chromedp.EmulateReset())

	// the same page from an origin that is not allowed: no conversation
	must(t, ctx, "the other origin", chromedp.Navigate(other.URL+"/"))
	must(t, ctx, "open", chromedp.Click(chromedp.CSS(".charla-toggle")))
	must(t, ctx, "refused", chromedp.Poll[bool](`document.querySelector('.charla-status').textContent === 'Reconectando…'`, chromedp.WithPollingTimeout(10*time.Second)))
}
