package flows

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"testing/fstest"

	"github.com/charlabot/charla/engine"
)

// Bot is a compiled bot directory: the program the engine runs, the
// conversation tests that come with it, and what the compiler had to say.
type Bot struct {
	// Program is the compiled bot, already checked with [engine.Program.Check].
	// It is nil when Diagnostics holds errors.
	Program *engine.Program
	// Tests are the conversation tests of tests/*.yaml, one suite per file,
	// in file order.
	Tests []*TestSuite
	// Diagnostics are every error and warning, sorted by position. Their
	// paths start with the directory as the caller spelled it.
	Diagnostics ErrorList
	// Files are the files that were read, as spelled in diagnostics.
	Files []string
}

// TestCases returns every test of every suite, in order.
func (b *Bot) TestCases() []*TestCase {
	var out []*TestCase
	for _, s := range b.Tests {
		out = append(out, s.Tests...)
	}
	return out
}

// Test returns the test with the given name, or nil.
func (b *Bot) Test(name string) *TestCase {
	for _, t := range b.TestCases() {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// LoadDir compiles the bot directory dir. Positions in diagnostics start
// with dir as given ("examples/hello/flows/main.yaml:3:5").
//
// The error is nil when the bot compiled, [ErrorList] (errors only) when it
// did not — the returned Bot then carries every diagnostic — or another
// error when dir cannot be read at all.
func LoadDir(dir string) (*Bot, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	return LoadFS(os.DirFS(dir), dir)
}

// LoadFS compiles the bot directory at the root of fsys. Diagnostics name
// files as prefix/path (just path when prefix is "").
func LoadFS(fsys fs.FS, prefix string) (*Bot, error) {
	c := newCompiler()
	srcs, err := readBotFiles(fsys, prefix, c)
	if err != nil {
		return nil, err
	}
	return c.compile(srcs), c.diags.Err()
}

// LoadFiles compiles a bot held in memory: file path (bot.yaml,
// flows/x.yaml, ...) → contents. It is meant for tests and tools.
func LoadFiles(files map[string]string) (*Bot, error) {
	m := fstest.MapFS{}
	for name, src := range files {
		m[name] = &fstest.MapFile{Data: []byte(src)}
	}
	return LoadFS(m, "")
}

// source is one file to compile.
type source struct {
	rel  string // slash path inside the bot directory
	path string // as shown in diagnostics
	data []byte
}

// the folders whose YAML files are read, and the single files.
var botDirs = []string{"flows", "nlu", "kb", "tests"}

func readBotFiles(fsys fs.FS, prefix string, c *compiler) ([]source, error) {
	show := func(rel string) string {
		if prefix == "" {
			return rel
		}
		return strings.TrimSuffix(prefix, "/") + "/" + rel
	}
	var rels []string
	for _, name := range []string{"bot.yaml", "actions.yaml"} {
		if _, err := fs.Stat(fsys, name); err == nil {
			rels = append(rels, name)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	for _, dir := range botDirs {
		err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && p == dir {
					return fs.SkipDir
				}
				return err
			}
			if d.IsDir() {
				if p != dir && strings.HasPrefix(d.Name(), ".") {
					return fs.SkipDir
				}
				return nil
			}
			if ext := path.Ext(p); (ext == ".yaml" || ext == ".yml") && !strings.HasPrefix(d.Name(), ".") {
				rels = append(rels, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(rels)
	var out []source
	for _, rel := range rels {
		s := source{rel: rel, path: show(rel)}
		data, err := readLimited(fsys, rel)
		if err != nil {
			var tooBig errTooBig
			if errors.As(err, &tooBig) {
				c.errAt(engine.Pos{File: s.path, Line: 1, Col: 1}, "file too large (%s; the limit is %s)", sizeString(int(tooBig)), sizeString(MaxFileSize))
				continue
			}
			return nil, err
		}
		s.data = data
		out = append(out, s)
	}
	if len(rels) == 0 || rels[0] != "bot.yaml" && !contains(rels, "bot.yaml") {
		c.errAt(engine.Pos{File: show("bot.yaml")}, "missing bot.yaml: a bot directory needs one (name and languages)")
	}
	return out, nil
}

type errTooBig int64

func (e errTooBig) Error() string { return "file too large" }

// readLimited reads a file, refusing one larger than MaxFileSize without
// reading it all.
func readLimited(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > MaxFileSize {
		return nil, errTooBig(st.Size())
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, errTooBig(len(data))
	}
	return data, nil
}

// version hashes the sources, so that a program's Version changes exactly
// when its files do.
func version(srcs []source) string {
	h := sha256.New()
	for _, s := range srcs {
		fmt.Fprintf(h, "%s\x00%d\x00", s.rel, len(s.data))
		h.Write(s.data)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
