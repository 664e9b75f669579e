// Command ecommerce is charla's reference shop bot: the customer service of
// an online shoe and clothing shop, in Spanish and English, served with web
// chat, REST, Telegram and metrics.
//
//	go run ./examples/ecommerce [--addr :8080] [--data DATADIR]
//	go run ./examples/ecommerce --chat [--user ana] [--lang en]
//
// With --chat it is a conversation in the terminal instead, with the same
// shop behind it (and, with an explicit --addr, the server too, so that a
// person at /agent or the shop's events reach the terminal).
//
// It embeds charla as a library: the bot directory (bot.yaml, flows, NLU
// data, knowledge base, tests) is compiled into the binary, the
// channels/server package serves it, and the shop's actions are Go
// functions over a small shop service (package shop) that the program
// starts itself, with its HTTP API at /shop/api/. Conversations live in
// DATADIR/charla.db and what shoppers change in the shop in DATADIR/shop.db.
// See README.md.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // the shop's time zone on machines without one

	"github.com/charlabot/charla/channels/server"
	"github.com/charlabot/charla/channels/terminal"
	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/examples/ecommerce/shop"
)

// The bot directory, compiled in, so that the program runs from anywhere.
//
//go:embed bot.yaml actions.yaml flows nlu kb tests data
var botFiles embed.FS

// botName names the embedded bot directory in compile errors.
const botName = "examples/ecommerce"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

// run is the program: flags, start, serve until ctx is done, stop.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	m := NewMain()
	if err := m.ParseFlags(args, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	level := slog.LevelInfo
	if m.Chat { // the terminal is the conversation's: only what goes wrong
		level = slog.LevelWarn
	}
	m.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	m.Err = stderr
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "ecommerce:", err)
		return 1
	}
	return 0
}

// Main is the program, so that tests run the real thing on a free port.
type Main struct {
	Addr    string // where to listen
	DataDir string // where charla.db and shop.db live
	BotDir  string // a bot directory on disk instead of the embedded one (with Watch, edit it live)
	Memory  bool   // keep everything in memory
	Watch   bool   // reload the bot when BotDir's files change
	Logger  *slog.Logger
	Getenv  func(string) string
	Now     func() time.Time // the shop's clock (tests)

	// Chat talks to the bot in the terminal instead of serving it (see
	// [Main.Chat]); Serve serves it too while chatting.
	Chat  bool
	Serve bool
	User  string // the chat's user ("ana", "luis"; "": anonymous), vouched for
	Lang  string // the chat's language ("": detected)
	In    io.Reader
	Out   io.Writer
	Err   io.Writer

	Server *server.Server // once started
	Shop   *shop.Service  // once started

	terminal *terminal.Chat // while chatting
}

// NewMain returns a Main with the defaults.
func NewMain() *Main {
	return &Main{Addr: ":8080", DataDir: "charla-data", Getenv: os.Getenv, In: os.Stdin, Out: os.Stdout, Err: os.Stderr}
}

// ParseFlags reads the command line.
func (m *Main) ParseFlags(args []string, stderr io.Writer) error {
	fl := flag.NewFlagSet("ecommerce", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&m.Addr, "addr", m.Addr, "address to listen on")
	fl.StringVar(&m.DataDir, "data", m.DataDir, "directory of charla.db (conversations) and shop.db (the shop's changes)")
	fl.StringVar(&m.BotDir, "bot", m.BotDir, "serve this bot directory instead of the embedded one")
	fl.BoolVar(&m.Memory, "memory", m.Memory, "keep everything in memory (nothing is written to --data)")
	fl.BoolVar(&m.Watch, "watch", m.Watch, "with --bot, reload the bot when its files change")
	fl.BoolVar(&m.Chat, "chat", m.Chat, "talk to the bot in the terminal, with the real shop (reads stdin: can be piped); serves nothing unless --addr is given")
	fl.StringVar(&m.User, "user", m.User, "with --chat, the shopper (ana, luis), vouched for as a signed-in channel would; default anonymous")
	fl.StringVar(&m.Lang, "lang", m.Lang, "with --chat, the conversation's language (es, en; default detected)")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./examples/ecommerce [--addr :8080] [--data DATADIR] [--bot DIR [--watch]] [--memory]")
		fmt.Fprintln(stderr, "       go run ./examples/ecommerce --chat [--user ana] [--lang en] [--data DATADIR | --memory] [--addr :8080]")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return err
	}
	fl.Visit(func(f *flag.Flag) { m.Serve = m.Serve || f.Name == "addr" })
	if m.Chat && m.Watch && !m.Serve {
		fmt.Fprintln(stderr, "ecommerce: --chat --watch needs --addr too (the server reloads the bot)")
		return errors.New("--chat --watch without --addr")
	}
	if !m.Chat && (m.User != "" || m.Lang != "") {
		fmt.Fprintln(stderr, "ecommerce: --user and --lang are for --chat (REST and the web chat say who and which language themselves)")
		return errors.New("--user or --lang without --chat")
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "ecommerce: unexpected argument %q\n", fl.Arg(0))
		fl.Usage()
		return errors.New("unexpected arguments")
	}
	if m.Watch && m.BotDir == "" {
		fmt.Fprintln(stderr, "ecommerce: --watch needs --bot DIR (the embedded bot cannot change)")
		return errors.New("--watch without --bot")
	}
	return nil
}

// Start opens the shop and the bot and starts serving in the background.
func (m *Main) Start(ctx context.Context) error {
	if err := m.open(); err != nil {
		return err
	}
	if err := m.Server.Start(ctx); err != nil {
		m.Server.Close()
		m.Shop.Close()
		return err
	}
	return nil
}

// open opens the shop and builds the server around the bot, its shop
// actions and the shop's API, without serving yet.
func (m *Main) open() error {
	if m.Logger == nil {
		m.Logger = slog.Default()
	}
	if m.Getenv == nil {
		m.Getenv = os.Getenv
	}
	files, name := fs.FS(botFiles), botName
	if m.BotDir != "" {
		files, name = os.DirFS(m.BotDir), m.BotDir
	}
	data, err := shop.LoadData(files, "data/shop.yaml")
	if err != nil {
		return err
	}
	opts := shop.Options{Now: m.Now, Mail: m.deliver}
	if loc, err := time.LoadLocation("America/Bogota"); err == nil {
		opts.Location = loc
	}
	if !m.Memory {
		if err := os.MkdirAll(m.DataDir, 0o755); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
		opts.Path = filepath.Join(m.DataDir, "shop.db")
	}
	if m.Shop, err = shop.New(data, opts); err != nil {
		if errors.Is(err, shop.ErrInUse) {
			return fmt.Errorf("%w: is the shop bot running on %s already? Give another --data, or --memory", err, m.DataDir)
		}
		return err
	}
	cfg := server.Config{
		Dir: name, Addr: m.Addr, DataDir: m.DataDir, Memory: m.Memory, Watch: m.Watch,
		Actions: m.Shop.Actions(), Getenv: m.Getenv, Logger: m.Logger,
	}
	if m.BotDir == "" {
		cfg.FS = files
	}
	if m.Server, err = server.New(cfg); err != nil {
		m.Shop.Close()
		return err
	}
	rt := m.Server.Runtime()
	m.Server.Handle(shop.Prefix, &shop.API{
		Shop:   m.Shop,
		Token:  m.Getenv(server.EnvAPIToken),
		Logger: m.Logger,
		Notify: func(ctx context.Context, user, event string, data map[string]any) error {
			t, err := rt.Trigger(ctx, user, event, data)
			if err == nil && t.OptedOut {
				return engine.Errorf(engine.EConflict, "%s asked for no notifications", user)
			}
			return err
		},
	})
	return nil
}

// URL is where the bot is served once started.
func (m *Main) URL() string { return m.Server.URL() }

// Run starts, serves until ctx is done, then shuts down gracefully. With
// Chat, it chats instead, until the input ends.
func (m *Main) Run(ctx context.Context) error {
	if m.Chat {
		return m.chat(ctx)
	}
	if err := m.Start(ctx); err != nil {
		return err
	}
	m.Logger.Info("tienda charla is open", "web_chat", m.URL()+"/", "rest", m.URL()+"/api/v1/conversations/{id}/messages")
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return m.Shutdown(sctx)
}

// Shutdown stops the server (letting turns in flight finish), then the shop.
func (m *Main) Shutdown(ctx context.Context) error {
	var errs []error
	if m.Server != nil {
		errs = append(errs, m.Server.Shutdown(ctx))
	}
	if m.Shop != nil {
		errs = append(errs, m.Shop.Close())
	}
	return errors.Join(errs...)
}

// Close stops everything at once.
func (m *Main) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return m.Shutdown(ctx)
}

// chat is a conversation in the terminal with the real shop behind the
// bot: what `charla chat` offers, with the Go actions that only this
// program has. The conversation (cli-USER, or cli) and the shop's changes
// are kept in DataDir like the server's.
func (m *Main) chat(ctx context.Context) error {
	c := &terminal.Chat{In: m.In, Out: m.Out, Err: m.Err, TTY: terminal.IsTerminal(m.In), Name: "ecommerce",
		User: m.User, Verified: m.User != "", Lang: m.Lang}
	m.terminal = c
	if err := m.open(); err != nil {
		return err
	}
	rt := m.Server.Runtime()
	timers, stop := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	if c.TTY {
		fmt.Fprintf(m.Out, "Tienda Charla — %s\n", terminal.Help)
		who := "an anonymous shopper: the bot asks for order numbers, and changing an order needs its email (--user ana or luis signs in)"
		if m.User != "" {
			who = m.User + ", a signed-in shopper"
		}
		c.Note("(you are " + who + "; the shop's orders A1001–A1004 are in examples/ecommerce/README.md)")
	}
	if m.Serve {
		if err := m.Server.Start(ctx); err != nil { // it runs the timers
			stop()
			m.Server.Close()
			m.Shop.Close()
			return err
		}
		note := "(serving " + m.URL() + " too: web chat at /, agent console at /agent, the shop's API at " + shop.Prefix + ")"
		if c.TTY {
			c.Note(note)
		} else {
			fmt.Fprintln(m.Err, note) // stdout is the conversation's
		}
	} else {
		bg.Go(func() { rt.Run(timers) }) // reminders and waits while chatting
	}
	err := c.Run(ctx, rt)
	stop()
	bg.Wait()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return errors.Join(err, m.Shutdown(sctx))
}

// deliver is the shop's mailer. This demo sends no email: the terminal chat
// shows it, and the server logs it, where a real shop would hand it to its
// mail service.
func (m *Main) deliver(e shop.Email) {
	if m.terminal != nil {
		m.terminal.Note("(email to " + e.To + ": " + e.Subject + "\n  " + strings.ReplaceAll(e.Body, "\n", "\n  ") + ")")
		return
	}
	m.Logger.Info("shop email (not sent: a demo)", "to", e.To, "subject", e.Subject, "body", e.Body)
}
