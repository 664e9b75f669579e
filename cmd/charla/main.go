// Command charla validates, draws, tests, chats with and serves charla bots.
//
// Each subcommand lives in its own file and registers itself in init with
// [register]; main only dispatches.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// stdio is where a command reads and writes, so tests can run it in process.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// command is a subcommand of charla.
type command struct {
	name    string
	usage   string // e.g. "validate DIR"
	summary string // one line
	// run executes the command with the arguments after its name and returns
	// the exit code: 0 success, 1 failure (e.g. validation errors), 2 misuse.
	run func(ctx context.Context, args []string, io stdio) int
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("charla: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, io stdio) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(io.err)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(io.err, "charla: unknown command %q\n\n", args[0])
		usage(io.err)
		return 2
	}
	return c.run(ctx, args[1:], io)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "charla — conversational bots from YAML flows")
	fmt.Fprintln(w, "\nUsage:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  charla %s\n      %s\n", commands[n].usage, commands[n].summary)
	}
	fmt.Fprintln(w, "\nDocumentation: https://github.com/charlabot/charla/tree/main/docs")
}
