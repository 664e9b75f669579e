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
var (
	botDirs   = []string{"flows", "nlu", "kb", "tests"}
	rootFiles = []string{"bot.yaml", "actions.yaml"}
)

// warnUnread warns about YAML files of the bot directory that are not
// read because they are not where a bot's files go — flow/x.yaml,
// action.yaml, a flow next to bot.yaml — without a word about the other
// files an embedding program may keep there (data/shop.yaml).
func warnUnread(fsys fs.FS, show func(string) string, c *compiler) error {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return err
	}
	known := append(append([]string{}, rootFiles...), "bot.yml", "actions.yml")
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || contains(known, name) || contains(botDirs, name) {
			continue
		}
		if e.IsDir() {
			want := suggest(strings.ToLower(name), botDirs)
			if want == "" {
				want = dirWords[strings.ToLower(name)]
			}
			if first := firstYAML(fsys, name); want != "" && first != "" {
				c.warnAt(engine.Pos{File: show(first), Line: 1, Col: 1}, "not read: the folder %s/ is not one of a bot's; did you mean %s/? (a bot's files go in flows/, nlu/, kb/ and tests/)", name, want)
			}
			continue
		}
		ext := path.Ext(name)
		if ext != ".yaml" && ext != ".yml" {
			continue
		}
		want := suggest(strings.TrimSuffix(name, ext), []string{"bot", "actions"})
		if want != "" {
			want += ".yaml"
		} else {
			want = rootKindDir(fsys, name)
		}
		if want != "" {
			c.warnAt(engine.Pos{File: show(name), Line: 1, Col: 1}, "not read: did you mean %s? (only bot.yaml and actions.yaml are read next to bot.yaml; flows go in flows/, NLU data in nlu/<lang>.yaml, articles in kb/, tests in tests/)", want)
		}
	}
	return nil
}

// dirWords are other names designers give the folders of a bot.
var dirWords = map[string]string{
	"flujos": "flows", "dialogs": "flows", "dialogos": "flows", "diálogos": "flows", "intents": "nlu",
	"intenciones": "nlu", "training": "nlu", "faq": "kb", "faqs": "kb", "articles": "kb",
	"articulos": "kb", "artículos": "kb", "pruebas": "tests", "test": "tests", "spec": "tests",
}

// rootKindDir peeks at a YAML file beside bot.yaml: when it starts like a
// flow, NLU data, articles or tests, it names the folder it belongs in.
func rootKindDir(fsys fs.FS, name string) string {
	data, err := readLimited(fsys, name)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		switch k, _, _ := strings.Cut(strings.TrimSpace(line), ":"); k {
		case "flow", "flows":
			return "flows/" + name
		case "intents", "entities":
			return "nlu/<lang>.yaml"
		case "articles":
			return "kb/" + name
		case "tests":
			return "tests/" + name
		case "", "---":
			continue
		default:
			if !strings.HasPrefix(k, "#") {
				return ""
			}
		}
	}
	return ""
}

// firstYAML returns the first YAML file of a folder, "" when it holds
// none (looking at most a few hundred entries deep).
func firstYAML(fsys fs.FS, dir string) string {
	found, seen := "", 0
	fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		seen++
		if err != nil || seen > 500 {
			return fs.SkipAll
		}
		if ext := path.Ext(p); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
			found = p
			return fs.SkipAll
		}
		return nil
	})
	return found
}

func readBotFiles(fsys fs.FS, prefix string, c *compiler) ([]source, error) {
	show := func(rel string) string {
		if prefix == "" {
			return rel
		}
		return strings.TrimSuffix(prefix, "/") + "/" + rel
	}
	var rels []string
	spelt := map[string]string{} // bot.yaml → bot.yml when that is the file
	for _, name := range rootFiles {
		yml := strings.TrimSuffix(name, ".yaml") + ".yml"
		var found []string
		for _, n := range []string{name, yml} {
			if _, err := fs.Stat(fsys, n); err == nil {
				found = append(found, n)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
		}
		if len(found) == 2 {
			c.errAt(engine.Pos{File: show(yml)}, "both %s and %s: keep one", name, yml)
		}
		if len(found) > 0 {
			rels = append(rels, name)
			spelt[name] = found[0]
		}
	}
	if err := warnUnread(fsys, show, c); err != nil {
		return nil, err
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
		name := rel
		if sp, ok := spelt[rel]; ok {
			name = sp
		}
		s := source{rel: rel, path: show(name)}
		data, err := readLimited(fsys, name)
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
