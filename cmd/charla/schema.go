package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/charlabot/charla/flows"
)

func init() {
	register(&command{
		name:    "schema",
		usage:   "schema KIND | schema --out DIR",
		summary: "print the JSON Schema of a bot file (bot, flow, actions, nlu, kb, tests)",
		run:     runSchema,
	})
}

// runSchema prints the JSON Schema of one kind of bot file, or writes all
// of them into a directory as KIND.schema.json.
func runSchema(ctx context.Context, args []string, io stdio) int {
	fs := flag.NewFlagSet("schema", flag.ContinueOnError)
	fs.SetOutput(io.err)
	out := fs.String("out", "", "write every schema into this directory as KIND.schema.json")
	kinds := strings.Join(flows.SchemaKindNames(), ", ")
	fs.Usage = func() {
		fmt.Fprintf(io.err, "usage: charla schema KIND (%s)\n       charla schema --out DIR\n", kinds)
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if *out != "" {
		if len(pos) != 0 {
			fs.Usage()
			return 2
		}
		if err := os.MkdirAll(*out, 0o755); err != nil {
			fmt.Fprintf(io.err, "charla schema: %v\n", err)
			return 1
		}
		for _, k := range flows.SchemaKindNames() {
			data, err := flows.Schema(k)
			if err == nil {
				err = os.WriteFile(filepath.Join(*out, k+".schema.json"), data, 0o644)
			}
			if err != nil {
				fmt.Fprintf(io.err, "charla schema: %v\n", err)
				return 1
			}
		}
		return 0
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	data, err := flows.Schema(pos[0])
	if err != nil {
		fmt.Fprintf(io.err, "charla schema: %v\n", err)
		return 2
	}
	if _, err := io.out.Write(data); err != nil {
		return 1
	}
	return 0
}
