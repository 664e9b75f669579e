package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/charlabot/charla/engine/bolt"
)

func init() {
	register(&command{
		name:    "backup",
		usage:   "backup [--data DATADIR] FILE",
		summary: "write a consistent copy of the data file, even while charla serves",
		run:     runBackup,
	})
}

func runBackup(ctx context.Context, args []string, io stdio) int {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(io.err)
	data := fs.String("data", "charla-data", "the data directory (or its charla.db file)")
	fs.Usage = func() {
		fmt.Fprintln(io.err, "usage: charla backup [--data DATADIR] FILE")
		fmt.Fprintln(io.err, "A running charla answers through DATADIR/charla.db.sock; otherwise the file is read directly.")
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
	out := pos[0]
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		out = filepath.Join(out, bolt.FileName)
	}
	tmp := out + ".partial"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		fmt.Fprintf(io.err, "charla backup: %v\n", err)
		return 1
	}
	n, err := bolt.BackupFile(*data, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = bolt.Verify(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, out)
	}
	if err != nil {
		os.Remove(tmp)
		fmt.Fprintf(io.err, "charla backup: %v\n", err)
		return 1
	}
	fmt.Fprintf(io.out, "%s: %d bytes, verified\n", out, n)
	return 0
}
