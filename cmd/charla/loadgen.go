package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/charlabot/charla/channels/loadgen"
)

func init() {
	register(&command{
		name:    "loadgen",
		usage:   "loadgen --url URL --mode idle|ws|rest [--conns N] [--rate R] [--duration D] [--pid PID]",
		summary: "load a running server on loopback (web chat, REST) and print one JSON object",
		run:     runLoadgen,
	})
}

func runLoadgen(ctx context.Context, args []string, io stdio) int {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(io.err)
	var cfg loadgen.Config
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "the server (loopback only)")
	fs.StringVar(&cfg.Mode, "mode", "ws", "idle: hold connections; ws: messages through the web chat; rest: turns through the REST API")
	fs.IntVar(&cfg.Conns, "conns", 100, "connections (idle, ws) or concurrent clients (rest)")
	fs.Float64Var(&cfg.Rate, "rate", 1000, "ws: messages per second in all")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to hold or send (at most 5m)")
	fs.StringVar(&cfg.Text, "text", "hola", "the message to send")
	fs.IntVar(&cfg.PID, "pid", 0, "the server's process id, to report its memory")
	if _, err := parseInterspersed(fs, args); err != nil {
		return 2
	}
	r, err := loadgen.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(io.err, "charla loadgen:", err)
		return 1
	}
	fmt.Fprintln(io.out, r.JSON())
	return 0
}
