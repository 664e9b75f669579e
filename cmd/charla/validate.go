package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/charlabot/charla/flows"
)

func init() {
	register(&command{
		name:    "validate",
		usage:   "validate DIR",
		summary: "check a bot directory and report every problem as path:line:col",
		run:     runValidate,
	})
}

// runValidate prints every error and warning of the bot in DIR, one per
// line, and exits 1 when there are errors; without errors it ends with a
// one-line summary and exits 0.
func runValidate(ctx context.Context, args []string, io stdio) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(io.err)
	fs.Usage = func() { fmt.Fprintln(io.err, "usage: charla validate DIR") }
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	dir := pos[0]
	bot, err := flows.LoadDir(dir)
	if bot == nil {
		fmt.Fprintf(io.err, "charla validate: %v\n", err)
		return 1
	}
	for _, d := range bot.Diagnostics {
		fmt.Fprintln(io.out, d)
	}
	if errs := bot.Diagnostics.Errors(); len(errs) > 0 {
		return 1
	}
	fmt.Fprintf(io.out, "%s: ok: %s\n", dir, summary(bot))
	return 0
}

// summary describes a compiled bot in one line.
func summary(bot *flows.Bot) string {
	p := bot.Program
	user, system := 0, 0
	for _, f := range p.Flows {
		if f.System {
			system++
		} else {
			user++
		}
	}
	intents := map[string]bool{}
	for _, d := range p.NLU {
		for _, in := range d.Intents {
			intents[in.Name] = true
		}
	}
	parts := []string{
		fmt.Sprintf("bot %s", p.Name),
		plural(len(p.Languages), "language") + " (" + strings.Join(p.Languages, ", ") + ")",
		plural(user, "flow") + " + " + plural(system, "default system flow"),
		plural(len(intents), "intent"),
		plural(len(p.Actions), "action"),
		plural(len(p.KB), "article"),
		plural(len(bot.TestCases()), "test"),
	}
	if w := len(bot.Diagnostics.Warnings()); w > 0 {
		parts = append(parts, plural(w, "warning"))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// parseInterspersed parses flags that may come before or after the
// positional arguments (charla graph DIR --flow x), and returns the
// positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
