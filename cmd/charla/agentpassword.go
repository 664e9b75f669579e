package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/charlabot/charla/channels/agents"
)

func init() {
	register(&command{
		name:    "agent-password",
		usage:   "agent-password < PASSWORD",
		summary: "print the bcrypt hash of the password on stdin, for an agent in bot.yaml",
		run:     runAgentPassword,
	})
}

// runAgentPassword reads a password (the first line of stdin) and prints
// its bcrypt hash, to paste in bot.yaml as an agent's password: the
// password itself never goes in a file.
func runAgentPassword(ctx context.Context, args []string, io stdio) int {
	fs := flag.NewFlagSet("agent-password", flag.ContinueOnError)
	fs.SetOutput(io.err)
	fs.Usage = func() {
		fmt.Fprintln(io.err, "usage: charla agent-password < PASSWORD   (e.g. read -rs P && echo \"$P\" | charla agent-password)")
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 0 {
		fs.Usage()
		return 2
	}
	line, err := bufio.NewReader(io.in).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(io.err, "charla agent-password: give the password on stdin")
		return 2
	}
	h, err := agents.HashPassword(strings.TrimRight(line, "\r\n"))
	if err != nil {
		fmt.Fprintf(io.err, "charla agent-password: %v\n", err)
		return 1
	}
	fmt.Fprintln(io.out, h)
	return 0
}
