package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"

	"github.com/charlabot/charla/channels/server"
	"github.com/charlabot/charla/flows"
)

func init() {
	register(&command{
		name:    "serve",
		usage:   "serve DIR [--addr :8080] [--data DATADIR] [--watch]",
		summary: "serve the bot: web chat, REST API, Telegram, metrics",
		run:     runServe,
	})
}

func runServe(ctx context.Context, args []string, io stdio) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.err)
	var cfg server.Config
	fs.StringVar(&cfg.Addr, "addr", ":8080", "address to listen on")
	fs.StringVar(&cfg.DataDir, "data", "charla-data", "directory of the data (charla.db), created when missing")
	fs.BoolVar(&cfg.Watch, "watch", false, "reload the flows when the bot's files change")
	fs.BoolVar(&cfg.Memory, "memory", false, "keep everything in memory (nothing survives a restart)")
	level := fs.String("log", "info", "log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintln(io.err, "usage: charla serve DIR [--addr :8080] [--data DATADIR] [--watch] [--memory]")
		fmt.Fprintln(io.err, "secrets come from the environment: "+server.EnvAPIToken+", "+server.EnvIdentitySecret+", "+server.EnvTelegramToken+", "+server.EnvTelegramSecret)
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
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(io.err, "charla serve: %v\n", err)
		return 2
	}
	cfg.Dir = pos[0]
	cfg.Logger = slog.New(slog.NewJSONHandler(io.err, &slog.HandlerOptions{Level: lv}))
	srv, err := server.New(cfg)
	if err != nil {
		var list flows.ErrorList
		if errors.As(err, &list) {
			for _, d := range list {
				fmt.Fprintln(io.err, d)
			}
		} else {
			fmt.Fprintf(io.err, "charla serve: %v\n", err)
		}
		return 1
	}
	if err := srv.Run(ctx); err != nil {
		fmt.Fprintf(io.err, "charla serve: %v\n", err)
		return 1
	}
	return 0
}
