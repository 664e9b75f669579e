// Package server serves a charla bot: one HTTP server with the web chat
// (demo page, widget.js, WebSocket), the REST API, Telegram (when
// TELEGRAM_TOKEN is set), /healthz and /metrics, around one engine.Runtime.
//
// It is the wiring that `charla serve` and embedding programs (the
// reference shop bot) share, so unlike the connectors it imports the flow
// compiler and the NLU: give it a bot directory and it does the rest.
//
//	srv, err := server.New(server.Config{Dir: "mybot", Addr: ":8080"})
//	if err != nil { ... }
//	err = srv.Run(ctx) // until ctx is done, then a graceful shutdown
//
// Configuration comes from bot.yaml's channels section and, for secrets,
// only from the environment (see [Config] and docs/http-api.md).
package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/charlabot/charla/channels"
	"github.com/charlabot/charla/channels/messenger"
	"github.com/charlabot/charla/channels/rest"
	"github.com/charlabot/charla/channels/telegram"
	"github.com/charlabot/charla/channels/webchat"
	"github.com/charlabot/charla/channels/whatsapp"
	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/handoff"
	"github.com/charlabot/charla/engine/memory"
	"github.com/charlabot/charla/flows"
	"github.com/charlabot/charla/nlu"
)

// Environment variables read by the server (secrets never come from bot.yaml).
const (
	EnvAPIToken       = "CHARLA_API_TOKEN"        // bearer token of the REST API
	EnvIdentitySecret = "CHARLA_IDENTITY_SECRET"  // HMAC key of verified web chat users
	EnvTelegramToken  = "TELEGRAM_TOKEN"          // enables Telegram
	EnvTelegramSecret = "TELEGRAM_WEBHOOK_SECRET" // enables Telegram's webhook mode
)

// Config says what to serve and how. Dir is required.
type Config struct {
	Dir     string // the bot directory
	FS      fs.FS  // when set, holds the bot directory (go:embed); Dir then only names it in messages
	Addr    string // where to listen (":8080"; ":0" picks a free port)
	DataDir string // where charla.db lives ("charla-data")
	Memory  bool   // keep everything in memory instead of DataDir (tests, demos)
	Watch   bool   // reload the flows when the directory's files change

	// Actions are Go functions flows may call, for an embedding program.
	Actions map[string]engine.ActionFunc
	// Store, when set, is used instead of opening one; the caller closes it.
	Store engine.Store
	// Getenv reads the secrets (os.Getenv).
	Getenv func(string) string
	Logger *slog.Logger
	// Registerer and Gatherer hold the metrics (a new registry when nil).
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// Telegram overrides the Telegram connector's API endpoint and HTTP
	// client (tests); the token still comes from TELEGRAM_TOKEN.
	TelegramEndpoint string
	// HandoffStore, when set, keeps the hand-off desk's tickets instead of
	// the store's bbolt file (or memory); the caller closes it.
	HandoffStore handoff.Store
}

// Server is a running bot. Create it with [New]; start it with [Server.Run]
// or [Server.Start] and stop it with [Server.Shutdown].
type Server struct {
	cfg      Config
	log      *slog.Logger
	rt       *engine.Runtime
	store    engine.Store
	ownStore bool
	nlu      *swapUnderstander
	program  atomic.Pointer[engine.Program]
	metrics  *Metrics
	hub      *webchat.Hub
	api      *rest.API
	tg       *telegram.Bot
	tgHook   bool
	wa       *whatsapp.Connector  // when WHATSAPP_PHONE_NUMBER_ID is set
	fb       *messenger.Connector // when MESSENGER_PAGE_ID is set
	ho       *handoffParts        // the hand-off desk, the agent console (handoff.go)
	mux      *http.ServeMux
	http     *http.Server
	ln       net.Listener

	cancel context.CancelFunc // stops the background loops
	bg     sync.WaitGroup
	closed atomic.Bool
}

// New loads the bot in cfg.Dir, opens its store and builds the server.
// Compile errors come back as flows.ErrorList.
func New(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = ":8080"
	}
	if cfg.DataDir == "" {
		cfg.DataDir = "charla-data"
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	s := &Server{cfg: cfg, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	bot, err := s.load()
	if err != nil {
		return nil, err
	}
	prog := bot.Program
	s.program.Store(prog)
	u, err := s.understander(prog)
	if err != nil {
		return nil, err
	}
	s.nlu = &swapUnderstander{}
	s.nlu.u.Store(&u)
	s.store = cfg.Store
	if s.store == nil {
		if s.store, err = openStore(cfg); err != nil {
			return nil, err
		}
		s.ownStore = true
	}
	if err := s.newDesk(); err != nil {
		s.closeStore()
		return nil, err
	}
	s.rt, err = engine.NewRuntime(prog, engine.Options{Store: s.store, Understander: s.nlu, Actions: cfg.Actions, Logger: s.log, Getenv: cfg.Getenv,
		Agents: s.ho.desk})
	if err != nil {
		s.closeStore()
		return nil, err
	}
	if err := s.build(prog); err != nil {
		s.closeStore()
		return nil, err
	}
	return s, nil
}

func openStore(cfg Config) (engine.Store, error) {
	if cfg.Memory {
		return memory.New(), nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return openBolt(filepath.Join(cfg.DataDir, "charla.db"))
}

func (s *Server) understander(prog *engine.Program) (engine.Understander, error) {
	var opts []nlu.Option
	if !s.cfg.Memory {
		opts = append(opts, nlu.WithCacheDir(filepath.Join(s.cfg.DataDir, "nlu-cache")))
	}
	u, err := nlu.New(prog, opts...)
	if err != nil {
		return nil, fmt.Errorf("training the NLU: %w", err)
	}
	return u, nil
}

// swapUnderstander lets a reload replace the understander under a running
// runtime.
type swapUnderstander struct {
	u atomic.Pointer[engine.Understander]
}

func (s *swapUnderstander) Understand(ctx context.Context, q engine.Query) (*engine.Understanding, error) {
	return (*s.u.Load()).Understand(ctx, q)
}

// channelConfig is a channel's section of bot.yaml.
type channelConfig map[string]any

func (c channelConfig) str(key string) string {
	v, _ := c[key].(string)
	return v
}

func (c channelConfig) num(key string) float64 {
	switch v := c[key].(type) {
	case int:
		return float64(v)
	case int64:
		return float64(v)
	case float64:
		return v
	}
	return 0
}

func (c channelConfig) strs(key string) []string {
	var out []string
	switch v := c[key].(type) {
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	case string:
		out = strings.Fields(strings.ReplaceAll(v, ",", " "))
	}
	return out
}

func (c channelConfig) flag(key string) bool {
	b, _ := c[key].(bool)
	return b
}

func (c channelConfig) disabled() bool {
	b, ok := c["enabled"].(bool)
	return ok && !b
}

func (s *Server) channel(name string) channelConfig {
	return channelConfig(s.program.Load().Channels[name])
}

// build makes the channels and the routes.
func (s *Server) build(prog *engine.Program) error {
	reg, gat := s.cfg.Registerer, s.cfg.Gatherer
	if reg == nil {
		r := prometheus.NewRegistry()
		r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		reg, gat = r, r
	}
	secret := []byte(s.cfg.Getenv(EnvIdentitySecret))
	wc := s.channel("webchat")
	s.hub = &webchat.Hub{
		AllowedOrigins: wc.strs("allowed_origins"),
		IdentitySecret: secret,
		Rate:           wc.num("rate"),
		Burst:          int(wc.num("burst")),
		MaxUpload:      int(wc.num("max_upload_kb")) * 1024,
		Greet:          wc.flag("greet"),
		Logger:         s.log,
		Uploads:        &webchat.Uploads{},
	}
	if !s.cfg.Memory {
		s.hub.Uploads.Dir = filepath.Join(s.cfg.DataDir, "uploads")
	}
	var err error
	s.metrics, err = NewMetrics(reg, s.fallbackFlow, func() float64 { return float64(s.hub.Connections()) })
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	be := &backend{rt: s.rt, handler: s.metrics.Handler(s.rt), metrics: s.metrics, uploads: s.hub.Uploads}
	s.hub.Backend = be
	s.rt.RegisterSender(webchat.Channel, s.hub)
	s.api = &rest.API{Backend: be, Token: s.cfg.Getenv(EnvAPIToken), IdentitySecret: secret, Logger: s.log}

	mux := http.NewServeMux()
	mux.Handle("/api/", s.api)
	mux.Handle("/ws", s.hub)
	mux.Handle(webchat.UploadsPath, s.hub.Uploads)
	mux.HandleFunc("/healthz", s.healthz)
	mux.Handle("/metrics", promhttp.HandlerFor(gat, promhttp.HandlerOpts{Registry: reg}))
	title := wc.str("title")
	if title == "" {
		title = prog.Name
	}
	mux.Handle("/", webchat.Assets(title))

	tg := s.channel("telegram")
	if token := s.cfg.Getenv(EnvTelegramToken); token != "" && !tg.disabled() {
		s.tg = &telegram.Bot{
			Token: token, Handler: be.handler, Endpoint: s.cfg.TelegramEndpoint, Logger: s.log,
			WebhookSecret: s.cfg.Getenv(EnvTelegramSecret),
			GlobalRate:    tg.num("global_rate"), ChatRate: tg.num("chat_rate"),
		}
		if !s.cfg.Memory {
			s.tg.Offsets = telegram.FileOffsets(filepath.Join(s.cfg.DataDir, "telegram.offset"))
		}
		s.rt.RegisterSender(telegram.Channel, s.tg)
		if s.tg.WebhookSecret != "" || tg.str("mode") == "webhook" {
			path := tg.str("webhook_path")
			if path == "" {
				path = "/telegram/webhook"
			}
			mux.Handle(path, s.tg)
			s.tgHook = true
		}
	}
	if err := s.buildMeta(mux, be); err != nil {
		return err
	}
	if err := s.buildHandoff(reg, mux); err != nil {
		return err
	}
	s.mux = mux
	return nil
}

// buildMeta mounts WhatsApp (/webhooks/whatsapp) and Messenger
// (/webhooks/messenger) when the environment configures them (see
// docs/channels/whatsapp.md); bot.yaml's channels.whatsapp and
// channels.messenger may set webhook_path, debounce ("1.5s"), rate,
// unsupported, and template_lang (WhatsApp) or tag (Messenger).
func (s *Server) buildMeta(mux *http.ServeMux, be *backend) error {
	debounce := func(c channelConfig) (time.Duration, error) {
		if n := c.num("debounce"); n > 0 {
			return time.Duration(n * float64(time.Second)), nil
		}
		if v := c.str("debounce"); v != "" {
			return time.ParseDuration(v)
		}
		return 0, nil
	}
	path := func(c channelConfig, def string) string {
		if p := c.str("webhook_path"); p != "" {
			return p
		}
		return def
	}
	wc := s.channel(whatsapp.Channel)
	cfg, ok, err := whatsapp.ConfigFromEnv(s.cfg.Getenv)
	if err != nil {
		return err
	}
	if ok && !wc.disabled() {
		if cfg.Debounce == 0 {
			if cfg.Debounce, err = debounce(wc); err != nil {
				return fmt.Errorf("channels.whatsapp.debounce: %w", err)
			}
		}
		if cfg.Rate == 0 {
			cfg.Rate = wc.num("rate")
		}
		if cfg.Unsupported == "" {
			cfg.Unsupported = wc.str("unsupported")
		}
		if cfg.TemplateLang == "" {
			cfg.TemplateLang = wc.str("template_lang")
		}
		s.wa = whatsapp.New(cfg, be.handler)
		s.wa.Receipts, s.wa.Logger = s.rt, s.log
		s.rt.RegisterSender(whatsapp.Channel, s.wa)
		mux.Handle(path(wc, "/webhooks/whatsapp"), s.wa)
	}
	mc := s.channel(messenger.Channel)
	mcfg, ok, err := messenger.ConfigFromEnv(s.cfg.Getenv)
	if err != nil {
		return err
	}
	if ok && !mc.disabled() {
		if mcfg.Debounce == 0 {
			if mcfg.Debounce, err = debounce(mc); err != nil {
				return fmt.Errorf("channels.messenger.debounce: %w", err)
			}
		}
		if mcfg.Rate == 0 {
			mcfg.Rate = mc.num("rate")
		}
		if mcfg.Unsupported == "" {
			mcfg.Unsupported = mc.str("unsupported")
		}
		if mcfg.Tag == "" {
			mcfg.Tag = mc.str("tag")
		}
		s.fb = messenger.New(mcfg, be.handler)
		s.fb.Receipts, s.fb.Logger = s.rt, s.log
		s.rt.RegisterSender(messenger.Channel, s.fb)
		mux.Handle(path(mc, "/webhooks/messenger"), s.fb)
	}
	return nil
}

func (s *Server) fallbackFlow() string {
	return s.program.Load().System[engine.SysFallback]
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	p := s.program.Load()
	status, code := "ok", http.StatusOK
	if s.closed.Load() {
		status, code = "shutting down", http.StatusServiceUnavailable
	}
	rest.WriteJSON(w, code, map[string]any{"status": status, "bot": p.Name, "version": p.Version})
}

// Handle adds a route to the server's mux (an agent console, the shop's
// own pages) before it starts.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Handler is the server's HTTP handler, for embedding in another server.
func (s *Server) Handler() http.Handler { return s.mux }

// Runtime is the bot's runtime.
func (s *Server) Runtime() *engine.Runtime { return s.rt }

// URL is the server's base URL once started ("http://127.0.0.1:PORT").
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	addr := s.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

// Start listens and serves in the background: HTTP, the runtime's timers,
// Telegram's polling and, with Watch, the reloader. It returns once the
// listener is open.
func (s *Server) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	s.ln = ln
	s.http = &http.Server{
		Handler:           accessLog(s.log, s.mux),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.goBG(func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server", "err", err)
		}
	})
	s.goBG(func() { s.rt.Run(bg) })
	s.startHandoff(bg)
	if s.tg != nil && !s.tgHook {
		s.goBG(func() { s.tg.Run(bg) })
	}
	if s.cfg.Watch {
		s.goBG(func() { s.watch(bg) })
	}
	s.goBG(func() { // forget conversations idle for long, even if nobody scrapes /metrics
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-bg.Done():
				return
			case now := <-t.C:
				s.metrics.active.count(now)
			}
		}
	})
	mode := "off"
	if s.tg != nil {
		mode = map[bool]string{true: "webhook", false: "polling"}[s.tgHook]
	}
	s.log.Info("serving", "bot", s.program.Load().Name, "url", s.URL(), "telegram", mode,
		"api_auth", s.api.Token != "", "store", map[bool]string{true: "memory", false: s.cfg.DataDir}[s.cfg.Memory])
	return nil
}

func (s *Server) goBG(f func()) {
	s.bg.Add(1)
	go func() { defer s.bg.Done(); f() }()
}

// Run starts the server and serves until ctx is done, then shuts down
// gracefully (waiting up to 30 seconds for turns in flight).
func (s *Server) Run(ctx context.Context) error {
	if err := s.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.Shutdown(sctx)
}

// Shutdown stops accepting connections, lets the turns in flight finish
// (REST requests, web chat turns, a Telegram batch), closes the WebSockets,
// stops the background loops and closes the store it opened.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	s.log.Info("shutting down")
	// HTTP and WebSockets in parallel: http.Server.Shutdown does not wait
	// for hijacked connections, the hub does.
	var hubErr, httpErr, agentErr error
	var wg sync.WaitGroup
	wg.Go(func() { hubErr = s.hub.Shutdown(ctx) })
	wg.Go(func() { agentErr = s.ho.console.Shutdown(ctx) })
	if s.http != nil {
		if httpErr = s.http.Shutdown(ctx); httpErr != nil {
			s.http.Close() // out of time: drop the connections still open
		}
	}
	wg.Wait()
	errs := []error{hubErr, httpErr, agentErr}
	// the webhooks answered already: let their queued turns finish
	if s.wa != nil {
		errs = append(errs, s.wa.Shutdown(ctx))
	}
	if s.fb != nil {
		errs = append(errs, s.fb.Shutdown(ctx))
	}
	if s.cancel != nil {
		s.cancel()
	}
	s.bg.Wait()
	if err := s.closeStore(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Close stops the server at once (Shutdown with an expired deadline).
func (s *Server) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.Shutdown(ctx)
	return nil
}

func (s *Server) closeStore() error {
	if s.ownStore && s.store != nil {
		return s.store.Close()
	}
	return nil
}

// Reload recompiles the bot directory and, when it compiles, makes it the
// program new conversations start with; otherwise it keeps the running
// program and returns the errors.
func (s *Server) Reload() error {
	bot, err := s.load()
	if err != nil {
		return err
	}
	u, err := s.understander(bot.Program)
	if err != nil {
		return err
	}
	if err := s.rt.Reload(bot.Program); err != nil {
		return err
	}
	s.nlu.u.Store(&u)
	s.program.Store(bot.Program)
	return nil
}

// watch reloads when a file of the bot directory changes (polling
// modification times once a second: no dependency, works on every file
// system).
func (s *Server) watch(ctx context.Context) {
	last := s.fingerprint()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fp := s.fingerprint()
		if fp == last {
			continue
		}
		last = fp
		if err := s.Reload(); err != nil {
			s.log.Error("reload failed; the previous program keeps running", "err", err)
			continue
		}
		s.log.Info("reloaded", "bot", s.program.Load().Name, "version", s.program.Load().Version)
	}
}

// load compiles the bot directory, from FS when it is set.
func (s *Server) load() (*flows.Bot, error) {
	if s.cfg.FS != nil {
		return flows.LoadFS(s.cfg.FS, s.cfg.Dir)
	}
	return flows.LoadDir(s.cfg.Dir)
}

func (s *Server) fingerprint() string {
	var b strings.Builder
	fsys := s.cfg.FS
	if fsys == nil {
		fsys = os.DirFS(s.cfg.Dir)
	}
	fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			fmt.Fprintf(&b, "%s %d %d\n", path, info.Size(), info.ModTime().UnixNano())
		}
		return nil
	})
	return b.String()
}

// backend adapts the runtime to channels.Backend.
type backend struct {
	rt      *engine.Runtime
	handler engine.Handler // the runtime with metrics
	metrics *Metrics
	uploads *webchat.Uploads
}

var _ channels.Backend = (*backend)(nil)

func (b *backend) Handle(ctx context.Context, in engine.Inbound) (*engine.Turn, error) {
	return b.handler.Handle(ctx, in)
}

func (b *backend) Conversation(ctx context.Context, id string) (engine.Conversation, error) {
	c, err := b.rt.Conversation(ctx, id)
	if err != nil {
		return engine.Conversation{}, err
	}
	return *c, nil
}

func (b *backend) Transcript(ctx context.Context, id string, after int64, limit int) ([]engine.Entry, error) {
	return b.rt.Transcript(ctx, id, after, limit)
}

func (b *backend) Trigger(ctx context.Context, user, event string, data map[string]any) (channels.Delivery, error) {
	t, err := b.rt.Trigger(ctx, user, event, data)
	if err != nil {
		status := "error"
		if engine.ErrCode(err) == engine.ENotFound {
			status = string(channels.NoFlow)
		}
		b.metrics.proactive.WithLabelValues(status).Inc()
		return channels.Delivery{}, err
	}
	d := channels.Delivery{Conversation: t.Conversation, Channel: t.Channel, Messages: t.Messages}
	switch {
	case t.OptedOut:
		d.Status, d.Reason = channels.OptedOut, "the user asked for no notifications"
	case t.NoFlow:
		d.Status, d.Reason = channels.NoFlow, "no flow is triggered by the event "+event
	case len(t.Messages) == 0:
		d.Status = channels.Silent
	case t.Delivered:
		d.Status = channels.Delivered
	default:
		d.Status = channels.Queued
		d.Reason = "the user is not connected; the messages wait in their outbox and are in the transcript"
	}
	b.metrics.proactive.WithLabelValues(string(d.Status)).Inc()
	return d, nil
}

// EraseUser erases a user in the runtime and the images they sent through
// the web chat (the transcript only references them).
func (b *backend) EraseUser(ctx context.Context, user string) error {
	var uploads []string
	if d, err := b.rt.ExportUser(ctx, user); err == nil {
		for _, c := range d.Conversations {
			for _, e := range c.Transcript {
				for _, a := range e.Attachments {
					if id, ok := webchat.UploadID(a.URL); ok {
						uploads = append(uploads, id)
					}
				}
			}
		}
	}
	if err := b.rt.EraseUser(ctx, user); err != nil {
		return err
	}
	for _, id := range uploads {
		b.uploads.Delete(id)
	}
	return nil
}

func (b *backend) ExportUser(ctx context.Context, user string) (any, error) {
	d, err := b.rt.ExportUser(ctx, user)
	if err != nil {
		return nil, err
	}
	if d.Profile == nil && len(d.Conversations) == 0 {
		return nil, engine.Errorf(engine.ENotFound, "no user %q", user)
	}
	return d, nil
}

func (b *backend) TakeOutbox(ctx context.Context, conversation, user string) ([]engine.Entry, error) {
	items, err := b.rt.Outbox(ctx, user)
	if err != nil || len(items) == 0 {
		return nil, err
	}
	out := make([]engine.Entry, len(items))
	for i, it := range items {
		m := it.Message
		from := m.From
		if from == "" {
			from = engine.FromBot
		}
		e := engine.Entry{Seq: it.Seq, From: from, Text: m.Text, Choices: m.Choices, Flow: m.Flow, Image: m.Image, Link: m.Link, At: it.At, Proactive: true}
		if it.Conversation != conversation {
			e.Seq = 0
		}
		out[i] = e
	}
	if err := b.rt.Ack(ctx, items); err != nil {
		return nil, err
	}
	return out, nil
}
