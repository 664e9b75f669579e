package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/bolt"
	"github.com/charlabot/charla/engine/memory"
)

func init() {
	register(&command{
		name:    "chat",
		usage:   "chat DIR [--data DATADIR | --memory] [--user ID] [--lang es]",
		summary: "talk to the bot in the terminal (reads stdin: can be piped)",
		run:     runChat,
	})
}

func runChat(ctx context.Context, args []string, io stdio) int {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(io.err)
	data := fs.String("data", "charla-data", "data directory (charla.db), created when missing")
	inMemory := fs.Bool("memory", false, "keep the conversation in memory only")
	user := fs.String("user", "", "the user's id (default: anonymous)")
	lang := fs.String("lang", "", "the conversation's language (default: detected, else the bot's first)")
	convID := fs.String("conversation", "", "the conversation's id (default: cli, or cli-USER)")
	which := fs.String("understander", "auto", "auto (the trained NLU when the bot has training data, else keywords), nlu or keyword")
	fs.Usage = func() {
		fmt.Fprintln(io.err, "usage: charla chat DIR [--data DATADIR | --memory] [--user ID] [--lang es]")
		fmt.Fprintln(io.err, "commands: /reset, /state, /lang LANG, /quit; a number presses that button")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	bot, code := openBot(pos[0], "chat", io)
	if bot == nil {
		return code
	}
	u, _, err := understanderFor(bot.Program, *which)
	if err != nil {
		fmt.Fprintf(io.err, "charla chat: %v\n", err)
		return 1
	}
	var store engine.Store
	if *inMemory {
		store = memory.New()
	} else {
		st, err := bolt.Open(filepath.Clean(*data), bolt.Options{})
		if err != nil {
			fmt.Fprintf(io.err, "charla chat: %v (use --memory to chat without saving)\n", err)
			return 1
		}
		store = st
	}
	defer store.Close()
	c := &chat{io: io, tty: isTerminal(io.in), user: *user, lang: *lang, conv: *convID}
	if c.conv == "" {
		c.conv = "cli"
		if c.user != "" {
			c.conv = "cli-" + c.user
		}
	}
	rt, err := engine.NewRuntime(bot.Program, engine.Options{Store: store, Understander: u,
		Senders: map[string]engine.Sender{"cli": engine.SenderFunc(c.proactive)}})
	if err != nil {
		fmt.Fprintf(io.err, "charla chat: %v\n", err)
		return 1
	}
	c.rt = rt
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go rt.Run(ctx) // reminders and wait timeouts while chatting
	if c.tty {
		fmt.Fprintf(io.out, "%s — /reset, /state, /lang LANG, /quit\n", bot.Program.Name)
	}
	return c.loop(ctx)
}

// chat is a terminal conversation.
type chat struct {
	io               stdio
	rt               *engine.Runtime
	tty              bool
	user, lang, conv string
	mu               sync.Mutex
	choices          []engine.OutChoice // the buttons of the last reply
	n                int
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (c *chat) prompt() {
	if c.tty {
		fmt.Fprint(c.io.out, "\033[1m> \033[0m")
	}
}

func (c *chat) loop(ctx context.Context) int {
	sc := bufio.NewScanner(c.io.in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	c.prompt()
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if quit := c.line(ctx, line); quit {
			return 0
		}
		c.prompt()
	}
	if c.tty {
		fmt.Fprintln(c.io.out)
	}
	return 0
}

// line handles one line typed; it reports whether to stop.
func (c *chat) line(ctx context.Context, line string) bool {
	cmd := strings.Fields(line)
	if len(cmd) > 0 && strings.HasPrefix(cmd[0], "/") && len(cmd[0]) > 1 {
		switch cmd[0] {
		case "/quit", "/exit":
			return true
		case "/reset":
			if err := c.rt.Reset(ctx, c.conv); err != nil {
				c.errorf("%v", err)
			} else {
				c.note("(conversation reset)")
			}
			return false
		case "/state":
			c.state(ctx)
			return false
		case "/lang":
			if len(cmd) != 2 {
				c.errorf("usage: /lang LANG (%s)", strings.Join(c.rt.Program().Languages, ", "))
				return false
			}
			if err := c.rt.SetLang(ctx, c.conv, cmd[1]); err != nil {
				c.errorf("%v", err)
				return false
			}
			c.lang = cmd[1]
			c.note("(language: " + cmd[1] + ")")
			return false
		}
	}
	c.n++
	in := engine.Inbound{Conversation: c.conv, User: c.user, Channel: "cli", Lang: c.lang, Text: line}
	c.mu.Lock()
	if k, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && k >= 1 && k <= len(c.choices) {
		in.Choice, in.Text = c.choices[k-1].Value, c.choices[k-1].Label
	}
	c.mu.Unlock()
	tr, err := c.rt.Handle(ctx, in)
	if err != nil {
		c.errorf("%s", engine.ErrMessage(err))
		return false
	}
	c.show(tr.Messages)
	return false
}

// show prints the bot's messages, buttons as a numbered list.
func (c *chat) show(ms []engine.Outbound) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range ms {
		text := m.Text
		if m.From == engine.FromAgent {
			text = "[agent] " + text
		}
		if c.tty {
			fmt.Fprintf(c.io.out, "\033[36m%s\033[0m\n", text)
		} else {
			fmt.Fprintln(c.io.out, text)
		}
		if m.Image != "" {
			fmt.Fprintf(c.io.out, "  (image: %s)\n", m.Image)
		}
		if m.Link != nil {
			fmt.Fprintf(c.io.out, "  %s <%s>\n", m.Link.Label, m.Link.URL)
		}
		for i, ch := range m.Choices {
			fmt.Fprintf(c.io.out, "  %d. %s\n", i+1, ch.Label)
		}
		if len(m.Choices) > 0 {
			c.choices = m.Choices
		}
	}
	if len(ms) > 0 && len(ms[len(ms)-1].Choices) == 0 {
		c.choices = nil
	}
}

// proactive prints a message sent outside a turn (a reminder, an event).
func (c *chat) proactive(_ context.Context, o engine.Outbound) error {
	c.show([]engine.Outbound{o})
	return nil
}

func (c *chat) state(ctx context.Context) {
	conv, err := c.rt.Conversation(ctx, c.conv)
	if err != nil {
		c.errorf("%s", engine.ErrMessage(err))
		return
	}
	s, _ := c.rt.Session(ctx, c.conv)
	type frame struct {
		Flow string         `json:"flow"`
		Step int            `json:"step"`
		Mode string         `json:"mode"`
		Vars map[string]any `json:"vars,omitempty"`
	}
	out := struct {
		*engine.Conversation
		Stack   []frame `json:"stack"`
		Version string  `json:"version"`
		Turns   int     `json:"turns"`
	}{Conversation: conv, Stack: []frame{}}
	if s != nil {
		out.Version, out.Turns = s.Version, s.Turns
		for _, f := range s.Stack {
			out.Stack = append(out.Stack, frame{f.Flow, f.Step, [...]string{"running", "asking", "waiting", "handoff"}[f.Mode%4], f.Vars.Map()})
		}
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	c.mu.Lock()
	fmt.Fprintln(c.io.out, string(b))
	c.mu.Unlock()
}

func (c *chat) note(s string) {
	if c.tty {
		fmt.Fprintf(c.io.out, "\033[2m%s\033[0m\n", s)
	} else {
		fmt.Fprintln(c.io.out, s)
	}
}

func (c *chat) errorf(format string, args ...any) {
	fmt.Fprintf(c.io.err, "charla chat: "+format+"\n", args...)
}
