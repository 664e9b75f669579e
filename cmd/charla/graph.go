package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"

	"github.com/charlabot/charla/flows"
)

func init() {
	register(&command{
		name:    "graph",
		usage:   "graph DIR [--flow NAME] [--format mermaid|dot]",
		summary: "draw the compiled state machine of a bot's flows",
		run:     runGraph,
	})
}

func runGraph(ctx context.Context, args []string, io stdio) int {
	fs := flag.NewFlagSet("graph", flag.ContinueOnError)
	fs.SetOutput(io.err)
	var opt flows.GraphOptions
	fs.StringVar(&opt.Flow, "flow", "", "draw only this flow")
	fs.StringVar(&opt.Format, "format", "mermaid", "mermaid or dot")
	fs.BoolVar(&opt.System, "system", false, "also draw the default system flows")
	fs.Usage = func() {
		fmt.Fprintln(io.err, "usage: charla graph DIR [--flow NAME] [--format mermaid|dot] [--system]")
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
	if opt.Format != "mermaid" && opt.Format != "dot" {
		fmt.Fprintf(io.err, "charla graph: unknown format %q (use mermaid or dot)\n", opt.Format)
		return 2
	}
	bot, err := flows.LoadDir(pos[0])
	if bot == nil {
		fmt.Fprintf(io.err, "charla graph: %v\n", err)
		return 1
	}
	if bot.Program == nil {
		for _, d := range bot.Diagnostics {
			fmt.Fprintln(io.err, d)
		}
		return 1
	}
	w := bufio.NewWriter(io.out)
	if err := flows.Graph(w, bot.Program, opt); err != nil {
		fmt.Fprintf(io.err, "charla graph: %v\n", err)
		return 1
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(io.err, "charla graph: %v\n", err)
		return 1
	}
	return 0
}
