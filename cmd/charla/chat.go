package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"github.com/charlabot/charla/channels/terminal"
	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/bolt"
	"github.com/charlabot/charla/engine/memory"
	"github.com/charlabot/charla/flows"
)

func init() {
	register(&command{
		name:    "chat",
		usage:   "chat DIR [--data DATADIR | --memory] [--user ID [--verified]] [--lang es] [--mocks TEST]",
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
	verified := fs.Bool("verified", false, "the terminal vouches for --user, as a signed-in channel would")
	lang := fs.String("lang", "", "the conversation's language (default: detected, else the bot's first)")
	convID := fs.String("conversation", "", "the conversation's id (default: cli, or cli-USER)")
	which := fs.String("understander", "auto", "auto (the trained NLU when the bot has training data, else keywords), nlu or keyword")
	mocks := fs.String("mocks", "", "answer the bot's actions with the mocks of the conversation test of this name (DIR/tests), as charla test does")
	fs.Usage = func() {
		fmt.Fprintln(io.err, "usage: charla chat DIR [--data DATADIR | --memory] [--user ID [--verified]] [--lang es] [--mocks TEST]")
		fs.PrintDefaults()
		fmt.Fprintln(io.err, "\nIn the chat, the "+terminal.Commands())
		fmt.Fprintln(io.err, "The conversation is kept in DATADIR: a second chat goes on with it (it says so on stderr).\n"+
			"Piped (stdin not a terminal), stdout holds only the conversation: no prompt, no colours; notes go to stderr.")
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
	prog := bot.Program
	var tc *flows.TestCase
	if *mocks != "" {
		if tc = bot.Test(*mocks); tc == nil {
			fmt.Fprintf(io.err, "charla chat: --mocks: no conversation test named %q in %s\n", *mocks, filepath.Join(pos[0], "tests"))
			return 2
		}
	}
	if note := goActionsNote(prog, tc); note != "" {
		fmt.Fprintln(io.err, note)
	}
	u, _, err := understanderFor(prog, *which)
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
	var rt *engine.Runtime
	opts := engine.Options{Store: store, Understander: u}
	if tc != nil {
		opts.Actions = mockActions(prog, tc, func() *engine.Runtime { return rt }, nil)
	}
	if rt, err = engine.NewRuntime(prog, opts); err != nil {
		fmt.Fprintf(io.err, "charla chat: %v\n", err)
		return 1
	}
	c := &terminal.Chat{In: io.in, Out: io.out, Err: io.err, TTY: terminal.IsTerminal(io.in), Name: "charla chat",
		User: *user, Verified: *verified, Lang: *lang, Conversation: *convID,
		// charla chat serves no agent console: a hand-off is a dead end here.
		NoAgents: true,
		AgentsHint: fmt.Sprintf("To try the hand-off with a person, run `charla serve %s` and ask for one in its web chat (http://localhost:8080/)"+
			" while an agent is signed in at http://localhost:8080/agent.", pos[0]),
	}
	if !*inMemory {
		c.Saved = displayPath(*data)
	}
	ctx, cancel := context.WithCancel(ctx)
	var timers sync.WaitGroup
	timers.Go(func() { rt.Run(ctx) }) // reminders and wait timeouts while chatting
	defer timers.Wait()               // before the store closes
	defer cancel()
	if c.TTY {
		fmt.Fprintf(io.out, "%s — %s\n", prog.Name, terminal.Help)
	}
	if err := c.Run(ctx, rt); err != nil {
		fmt.Fprintf(io.err, "charla chat: %v\n", err)
		return 1
	}
	return 0
}

// displayPath is dir as a person would type it: ./charla-data for a
// relative charla-data.
func displayPath(dir string) string {
	dir = filepath.Clean(dir)
	if filepath.IsAbs(dir) || dir == "." || dir == ".." || strings.HasPrefix(dir, "."+string(filepath.Separator)) || strings.HasPrefix(dir, ".."+string(filepath.Separator)) {
		return dir
	}
	return "." + string(filepath.Separator) + dir
}

// goActionsNote says, once, which of the bot's actions are Go functions
// that only the program embedding the bot provides (no `http:` in
// actions.yaml, and no mock in tc): in charla chat they fail, and the
// flows take their error paths. It is "" when there are none.
func goActionsNote(prog *engine.Program, tc *flows.TestCase) string {
	var names []string
	for _, a := range prog.Actions {
		if a.HTTP == nil && (tc == nil || len(tc.Mocks[a.Name]) == 0) {
			names = append(names, a.Name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	list := strings.Join(names, ", ")
	if len(names) > 5 {
		list = strings.Join(names[:5], ", ") + fmt.Sprintf(" and %d more", len(names)-5)
	}
	if tc != nil {
		return fmt.Sprintf("charla chat: note: test %s has no mocks for %s, Go functions of the program that embeds the bot: here they fail.", tc.Name, list)
	}
	what := fmt.Sprintf("the bot's %d actions (%s) are Go functions", len(names), list)
	fail := "they fail"
	if len(names) == 1 {
		what, fail = fmt.Sprintf("the bot's action %s is a Go function", list), "it fails"
	}
	return "charla chat: note: " + what + " that the program embedding the bot provides, not charla chat: here " + fail +
		", and the flows take their error paths.\n" +
		"  Chat through that program instead (the reference shop bot: go run ./examples/ecommerce --chat)," +
		" or answer them with the mocks of a conversation test: --mocks TEST."
}
