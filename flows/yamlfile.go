package flows

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/charlabot/charla/engine"
)

// Limits on what the compiler reads, so that hostile or broken input ends in
// a positioned error rather than a hang or an exhausted memory.
const (
	MaxFileSize  = 8 << 20   // bytes in one file
	maxDepth     = 100       // nesting of mappings and sequences
	maxExpansion = 1_000_000 // nodes a file may expand to through aliases
)

// yfile is one parsed YAML file: its documents, and what is needed to map a
// node and an offset in its value back to a line and column.
type yfile struct {
	path string // as shown in diagnostics
	src  []byte
	docs []*yaml.Node // the root node of each document (never a DocumentNode)
	// lenient marks the compiler's own default files: texts in languages the
	// bot does not speak are dropped, and missing ones borrowed.
	lenient bool
	lines   []int // offsets of the lines' starts, computed when first needed
}

func (f *yfile) pos(n *yaml.Node) engine.Pos {
	if n == nil {
		return engine.Pos{File: f.path}
	}
	return engine.Pos{File: f.path, Line: n.Line, Col: n.Column}
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): `)

// parseYAML parses src into its documents, reporting syntax errors, bad
// encodings, excessive size, nesting and alias expansion, and duplicate keys.
func (c *compiler) parseYAML(path string, src []byte) *yfile {
	f := &yfile{path: path, src: src}
	if len(src) > MaxFileSize {
		c.errAt(engine.Pos{File: path, Line: 1, Col: 1}, "file too large (%s; the limit is %s)", sizeString(len(src)), sizeString(MaxFileSize))
		return f
	}
	if !utf8.Valid(src) {
		off := 0
		for off < len(src) {
			r, size := utf8.DecodeRune(src[off:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			off += size
		}
		line, col := lineCol(src, off)
		c.errAt(engine.Pos{File: path, Line: line, Col: col}, "invalid UTF-8 (the file must be UTF-8 text)")
		return f
	}
	if i := bytes.IndexByte(src, 0); i >= 0 {
		line, col := lineCol(src, i)
		c.errAt(engine.Pos{File: path, Line: line, Col: col}, "NUL byte in a text file")
		return f
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			c.yamlError(f, err)
			f.docs = nil
			return f
		}
		root := &doc
		if doc.Kind == yaml.DocumentNode {
			if len(doc.Content) == 0 {
				continue
			}
			root = doc.Content[0]
		}
		if !c.checkShape(f, root) {
			f.docs = nil
			return f
		}
		f.docs = append(f.docs, root)
	}
	return f
}

func (c *compiler) yamlError(f *yfile, err error) {
	msg := err.Error()
	line := 1
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
		// yaml.v3 counts the lines of parser errors (as opposed to
		// scanner errors) from 0.
		if parserError(msg) {
			line++
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	col := 1
	// An unknown anchor comes without a line: find the alias ourselves.
	if m := regexp.MustCompile(`unknown anchor '([^']*)' referenced`).FindStringSubmatch(msg); m != nil {
		if i := bytes.Index(f.src, []byte("*"+m[1])); i >= 0 {
			line, col = lineCol(f.src, i)
		}
	}
	if p, text, ok := f.explainSyntax(line, msg); ok {
		c.errAt(p, "YAML syntax: %s", text)
		return
	}
	c.errAt(engine.Pos{File: f.path, Line: line, Col: col}, "YAML syntax: %s", msg)
}

// checkShape bounds the nesting and the alias expansion of a document and
// reports duplicate keys. It returns false when the document must not be
// walked any further.
func (c *compiler) checkShape(f *yfile, root *yaml.Node) bool {
	ok := true
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if !ok {
			return
		}
		if depth > maxDepth {
			c.errAt(f.pos(n), "nesting too deep (more than %d levels)", maxDepth)
			ok = false
			return
		}
		switch n.Kind {
		case yaml.MappingNode:
			seen := make(map[string]*yaml.Node, len(n.Content)/2)
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if k.Kind == yaml.ScalarNode && k.Tag != "!!merge" {
					if first, dup := seen[k.Value]; dup {
						c.errAt(f.pos(k), "duplicate key %q (first at line %d)", k.Value, first.Line)
					} else {
						seen[k.Value] = k
					}
				}
				walk(k, depth+1)
				walk(n.Content[i+1], depth+1)
			}
		case yaml.SequenceNode:
			for _, e := range n.Content {
				walk(e, depth+1)
			}
		}
	}
	walk(root, 0)
	if !ok {
		return false
	}
	sizes := map[*yaml.Node]int{}
	var expand func(n *yaml.Node) int
	expand = func(n *yaml.Node) int {
		if s, ok := sizes[n]; ok {
			return s
		}
		sizes[n] = maxExpansion + 1 // a cycle counts as too much
		s := 1
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			s = expand(n.Alias)
		}
		for _, e := range n.Content {
			s += expand(e)
			if s > maxExpansion {
				s = maxExpansion + 1
				break
			}
		}
		sizes[n] = s
		return s
	}
	if expand(root) > maxExpansion {
		var first *yaml.Node
		var find func(n *yaml.Node)
		find = func(n *yaml.Node) {
			if first != nil {
				return
			}
			if n.Kind == yaml.AliasNode {
				first = n
				return
			}
			for _, e := range n.Content {
				find(e)
			}
		}
		find(root)
		if first == nil {
			first = root
		}
		c.errAt(f.pos(first), "aliases expand this document beyond %d nodes", maxExpansion)
		return false
	}
	return true
}

func sizeString(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KB", n>>10)
}

// lineCol returns the 1-based line and column (in characters) of a byte
// offset in src.
func lineCol(src []byte, off int) (line, col int) {
	if off > len(src) {
		off = len(src)
	}
	line = 1 + bytes.Count(src[:off], []byte{'\n'})
	start := bytes.LastIndexByte(src[:off], '\n') + 1
	return line, 1 + utf8.RuneCount(src[start:off])
}

// lineAt returns the text of the 1-based line, without its end of line.
func (f *yfile) lineAt(line int) string {
	if f.lines == nil {
		f.lines = []int{0}
		for i, b := range f.src {
			if b == '\n' {
				f.lines = append(f.lines, i+1)
			}
		}
	}
	if line < 1 || line > len(f.lines) {
		return ""
	}
	src := f.src[f.lines[line-1]:]
	if i := bytes.IndexByte(src, '\n'); i >= 0 {
		src = src[:i]
	}
	return strings.TrimSuffix(string(src), "\r")
}

// lineCount returns the number of lines of the file.
func (f *yfile) lineCount() int {
	f.lineAt(1)
	return len(f.lines)
}

// offsetPos maps a byte offset into the decoded value of scalar n onto the
// position of the character that produced it in the file. It follows the
// scalar's style: plain and quoted scalars (escapes, doubled quotes, folded
// line breaks) and literal and folded blocks.
func (f *yfile) offsetPos(n *yaml.Node, off int) engine.Pos {
	p := f.pos(n)
	if n == nil || n.Kind != yaml.ScalarNode || off <= 0 {
		if n != nil && n.Kind == yaml.ScalarNode && (n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle)) != 0 {
			p.Col++ // past the quote
		}
		if n != nil && n.Kind == yaml.ScalarNode && (n.Style&(yaml.LiteralStyle|yaml.FoldedStyle)) != 0 {
			return f.blockStart(n)
		}
		return p
	}
	val := n.Value
	if off > len(val) {
		off = len(val)
	}
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return f.blockOffset(n, off)
	}
	line, col := n.Line, n.Column
	lastLine := f.lineCount()
	raw := []rune(f.lineAt(line))
	i := col - 1 // index of the scalar's first character in raw
	dq := n.Style&yaml.DoubleQuotedStyle != 0
	sq := n.Style&yaml.SingleQuotedStyle != 0
	if dq || sq {
		i++
	}
	nextLine := func() {
		line++
		raw = []rune(f.lineAt(line))
		i = 0
		for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t') {
			i++
		}
	}
	for vi := 0; vi < off; {
		// At the end of a raw line (or in its trailing blanks), the value
		// holds a folded space or newlines: skip both sides' white space.
		if restBlank(raw, i) {
			if line >= lastLine {
				break
			}
			nextLine()
			for vi < off && (val[vi] == ' ' || val[vi] == '\n') {
				vi++
			}
			for restBlank(raw, i) && line < lastLine {
				nextLine()
			}
			continue
		}
		_, size := utf8.DecodeRuneInString(val[vi:])
		switch {
		case dq && raw[i] == '\\':
			i += escapeLen(raw, i)
		case sq && raw[i] == '\'' && i+1 < len(raw) && raw[i+1] == '\'':
			i += 2
		default:
			i++
		}
		vi += size
	}
	return engine.Pos{File: f.path, Line: line, Col: i + 1}
}

func restBlank(raw []rune, i int) bool {
	for ; i < len(raw); i++ {
		if raw[i] != ' ' && raw[i] != '\t' {
			return false
		}
	}
	return true
}

// escapeLen returns the length of the escape sequence at raw[i] ('\\').
func escapeLen(raw []rune, i int) int {
	if i+1 >= len(raw) {
		return 1
	}
	switch raw[i+1] {
	case 'x':
		return 4
	case 'u':
		return 6
	case 'U':
		return 10
	}
	return 2
}

// blockStart returns the position of the first content character of a
// literal or folded block scalar.
func (f *yfile) blockStart(n *yaml.Node) engine.Pos {
	return f.blockOffset(n, 0)
}

func (f *yfile) blockOffset(n *yaml.Node, off int) engine.Pos {
	// The content starts on the line after the header (| or >); its
	// indentation is that of the first non-blank line.
	line := n.Line + 1
	indent := -1
	last := f.lineCount()
	for l := line; l <= last; l++ {
		s := f.lineAt(l)
		if strings.TrimSpace(s) == "" {
			continue
		}
		indent = len(s) - len(strings.TrimLeft(s, " "))
		break
	}
	if indent < 0 {
		return f.pos(n)
	}
	val := n.Value
	vi := 0
	for ; line <= last; line++ {
		s := f.lineAt(line)
		if strings.TrimSpace(s) == "" {
			// A blank line is a newline in the value.
			if vi < len(val) && val[vi] == '\n' {
				vi++
			}
			continue
		}
		raw := []rune(s)
		if len(raw) < indent {
			break
		}
		raw = raw[indent:]
		for i := 0; i < len(raw); i++ {
			if vi >= off {
				return engine.Pos{File: f.path, Line: line, Col: indent + i + 1}
			}
			_, size := utf8.DecodeRuneInString(val[min(vi, len(val)):])
			if size == 0 {
				size = 1
			}
			vi += size
		}
		if vi >= off && vi > 0 && off == vi && vi < len(val) {
			// the offset is the line break itself: point past the line
			return engine.Pos{File: f.path, Line: line, Col: indent + len(raw) + 1}
		}
		if vi < len(val) && (val[vi] == '\n' || val[vi] == ' ') {
			vi++ // the line break, kept or folded
		}
	}
	return f.pos(n)
}

// parserError reports whether a yaml.v3 message comes from its parser,
// whose line numbers start at 0, rather than from its scanner.
func parserError(msg string) bool {
	if !strings.HasPrefix(msg, "did not find expected ") {
		return false
	}
	for _, scanner := range []string{"comment or line break", "whitespace or line break", "URI", "hexdecimal", "tag"} {
		if strings.Contains(msg, scanner) {
			return false
		}
	}
	return true
}
