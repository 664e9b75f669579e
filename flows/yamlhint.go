package flows

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/charlabot/charla/engine"
)

// yaml.v3 reports a syntax error in the words of its parser ("did not find
// expected key") on a line that is often where the construct it was
// reading began, not where the mistake is, and without a column.
// explainSyntax looks at the lines around it for the mistakes people make
// — a tab, an unquoted text with ": " or starting with "{{" or "@", an
// apostrophe in a '…' text, a quote never closed, a [list] item ending in
// "?", a line indented one space off — and says which, where, and how to
// fix it. Its result is a hint: when nothing explains the error, ok is
// false and the parser's message is shown as it is.
func (f *yfile) explainSyntax(line int, msg string) (pos engine.Pos, text string, ok bool) {
	n := f.lineCount()
	if n == 0 {
		return engine.Pos{}, "", false
	}
	line = min(max(line, 1), n)
	at := func(l, i int) engine.Pos {
		s := f.lineAt(l)
		i = min(i, len(s))
		return engine.Pos{File: f.path, Line: l, Col: 1 + utf8.RuneCountInString(s[:i])}
	}
	// The lines to look at first: the one reported, then its neighbours.
	near := []int{line}
	if line+1 <= n {
		near = append(near, line+1)
	}
	if line > 1 {
		near = append(near, line-1)
	}

	if strings.Contains(msg, "tab character") || strings.Contains(msg, "cannot start any token") {
		for _, l := range near {
			s := f.lineAt(l)
			lead := s[:len(s)-len(strings.TrimLeft(s, " \t"))]
			if i := strings.IndexByte(lead, '\t'); i >= 0 {
				return at(l, i), "a tab in the indentation: YAML indents with spaces only (replace the tab with spaces)", true
			}
		}
	}

	// A text that starts with a character YAML reserves.
	for _, l := range near {
		s := f.lineAt(l)
		for _, i := range valueStarts(s) {
			c := s[i]
			switch {
			case strings.HasPrefix(s[i:], "{{"):
				return at(l, i), "a text that starts with {{ must be in quotes: " + quoteFrom(s, i), true
			case c == '@' || c == '`' || c == '%':
				return at(l, i), fmt.Sprintf("a text cannot start with %q in YAML: put it in quotes: %s", string(c), quoteFrom(s, i)), true
			case (c == '*' || c == '&') && (i+1 == len(s) || !isAnchorChar(s[i+1])):
				return at(l, i), fmt.Sprintf("a text cannot start with %q in YAML (it marks an alias or an anchor): put it in quotes: %s", string(c), quoteFrom(s, i)), true
			}
		}
	}

	switch {
	case strings.Contains(msg, "mapping values are not allowed"):
		return f.explainColon(line, at)
	case strings.Contains(msg, "did not find expected ',' or ']'"), strings.Contains(msg, "did not find expected ',' or '}'"):
		open := byte('[')
		if strings.HasSuffix(msg, "'}'") {
			open = '{'
		}
		return f.explainFlow(line, open, at)
	case strings.Contains(msg, "end of stream"):
		if l, i, q, ok := f.unclosedQuote(); ok {
			return at(l, i), fmt.Sprintf("this text opened with %c is never closed: add the closing %c where the text ends", q, q), true
		}
	case strings.Contains(msg, "block sequence entries are not allowed"):
		s := f.lineAt(line)
		if k := keyColon(s); k >= 0 {
			if i := strings.Index(s[k:], "- "); i >= 0 {
				key := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s[:k]), "- "))
				return at(line, k+i), fmt.Sprintf("a list cannot start on the line of its key: put each \"- item\" on a line of its own, indented under %q (or put the text in quotes)", key+":"), true
			}
		}
	}

	// A quoted text closed before its end: 'it's', "the "best" one".
	for l := max(line-1, 1); l <= min(n, line+20); l++ {
		if i, q, ok := earlyQuote(f.lineAt(l)); ok {
			if q == '\'' {
				return at(l, i), "this ' ends the text in '…' before its end: inside '…' write '' for an apostrophe (it''s), or put the text in \"…\"", true
			}
			return at(l, i), "this \" ends the text in \"…\" before its end: inside \"…\" write \\\" for a quote, or put the text in '…'", true
		}
	}

	if l, k, text, ok := f.badIndent(max(line-1, 1)); ok {
		return at(l, k), text, true
	}
	if strings.Contains(msg, "could not find expected ':'") {
		s := f.lineAt(line)
		k := len(s) - len(strings.TrimLeft(s, " "))
		return at(line, k), "this line has no \":\": if it continues the text of the line above, indent it more than that line's key (or put the whole text in quotes); if it is a key, add \":\"", true
	}
	return engine.Pos{}, "", false
}

func isAnchorChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c >= 0x80
}

// explainColon explains "mapping values are not allowed in this context":
// a ": " inside an unquoted text, or a key indented under a key that
// already has a value.
func (f *yfile) explainColon(line int, at func(l, i int) engine.Pos) (engine.Pos, string, bool) {
	s := f.lineAt(line)
	first := keyColon(s)
	if first >= 0 {
		if j := colonIn(s[first+1:]); j >= 0 {
			return at(line, first+1+j), "\": \" inside a text starts a new key: put the text in quotes: " + quoteFrom(s, valueAfter(s, first)), true
		}
	}
	// One colon: this key hangs under a line that already has a value.
	k := len(s) - len(strings.TrimLeft(s, " "))
	for p := line - 1; p >= 1; p-- {
		ps := f.lineAt(p)
		t := strings.TrimLeft(ps, " ")
		if t == "" || t[0] == '#' {
			continue
		}
		pk := len(ps) - len(t)
		for strings.HasPrefix(t, "- ") {
			t = strings.TrimLeft(t[2:], " ")
			pk = len(ps) - len(t)
		}
		if pk >= k {
			break
		}
		c := keyColon(t)
		if c < 0 || strings.TrimSpace(stripComment(t[c+1:])) == "" {
			break
		}
		key := strings.TrimSpace(t[:c+1])
		here := strings.TrimSpace(s)
		if hc := keyColon(here); hc >= 0 {
			here = here[:hc+1]
		}
		return at(line, k), fmt.Sprintf("this line is indented under %q (line %d), which already has a value: start %q at column %d, like %q", key, p, here, pk+1, key), true
	}
	return engine.Pos{}, "", false
}

// explainFlow explains a [list] or {mapping} on one line that the parser
// could not read to its end.
func (f *yfile) explainFlow(line int, open byte, at func(l, i int) engine.Pos) (engine.Pos, string, bool) {
	closer := byte(']')
	what := "[list]"
	if open == '{' {
		closer, what = '}', "{mapping}"
	}
	s := f.lineAt(line)
	i := -1
	for _, v := range valueStarts(s) {
		if s[v] == open {
			i = v
			break
		}
	}
	if i < 0 {
		return engine.Pos{}, "", false
	}
	body := stripComment(s[i+1:])
	end := strings.LastIndexByte(body, closer)
	if end < 0 {
		return at(line, i), fmt.Sprintf("this %s is never closed: end it with %c on the same line, or write one \"- item\" per line", what, closer), true
	}
	if open == '[' && strings.ContainsAny(body[:end], "?:#") {
		return at(line, i), "in a [list] written on one line, put in quotes the items that hold \"?\", \":\" or \"#\": " + quoteItems(body[:end]), true
	}
	return at(line, i), fmt.Sprintf("this %s is not written right: separate its items with \",\", end it with %c, and put in quotes any item that holds ?, :, #, quotes or brackets", what, closer), true
}

// quoteItems writes the items of a one-line list, each in quotes.
func quoteItems(body string) string {
	var items []string
	for _, it := range strings.Split(body, ",") {
		it = strings.TrimSpace(it)
		if it == "" {
			continue
		}
		if it[0] != '"' && it[0] != '\'' {
			it = yamlQuote(it)
		}
		items = append(items, it)
	}
	return "[" + strings.Join(items, ", ") + "]"
}

// unclosedQuote finds the quoted text that the file never closes.
func (f *yfile) unclosedQuote() (line, i int, q byte, ok bool) {
	n := f.lineCount()
	for l := 1; l <= n; l++ {
		s := f.lineAt(l)
		j := -1
		for _, v := range valueStarts(s) {
			if (s[v] == '"' || s[v] == '\'') && closeQuote(s, v) < 0 {
				j = v
				break
			}
		}
		if j < 0 {
			continue
		}
		// A text may go on over several lines: look for its end.
		q = s[j]
		closed := false
		for m := l + 1; m <= n && !closed; m++ {
			if closeQuoteFrom(f.lineAt(m), 0, q) >= 0 {
				closed = true
				l = m
			}
		}
		if !closed {
			return l, j, q, true
		}
	}
	return 0, 0, 0, false
}

// earlyQuote finds, in a line, a quoted text followed by more text: the
// closing quote was meant as an apostrophe or a quotation mark.
func earlyQuote(s string) (i int, q byte, ok bool) {
	for _, v := range valueStarts(s) {
		if s[v] != '"' && s[v] != '\'' {
			continue
		}
		e := closeQuote(s, v)
		if e < 0 {
			continue
		}
		rest := strings.TrimLeft(s[e+1:], " ")
		if rest != "" && !strings.ContainsRune(":,]}#", rune(rest[0])) {
			return e, s[v], true
		}
	}
	return 0, 0, false
}

// level is an indentation open at some point of a file: the column (from
// 0) of the keys of a mapping or of the "- " of a list.
type level struct {
	col  int
	seq  bool // the "- " items of a list
	keys bool // the keys of a mapping
}

var keyRE = regexp.MustCompile(`^(?:"[^"]*"|'[^']*'|[^\s#'"\[{\-?][^#]*?|-[^\s#][^#]*?):(?:\s|$)`)

// badIndent finds the first line, from line from on, whose indentation
// matches none of the lines above it, or that lines up with a list's "- "
// without being an item, or with a mapping's keys without being a key. It
// follows YAML's block structure roughly (quoted texts and [lists] over
// several lines are skipped), which is enough to point at the line.
func (f *yfile) badIndent(from int) (line, col int, text string, ok bool) {
	n := f.lineCount()
	stack := []level{{col: 0}}
	pending := false // the line above ends with "key:" or "-": a block follows
	scalar := false  // the line above ends with a text, which may go on
	block := -1      // inside a | or > block: the indentation of its key
	blockIn := -1    // and of its content, once known
	var quote byte   // inside a quoted text that goes on over lines
	depth := 0       // inside a [list] or {mapping} that goes on over lines
	describe := func(lv level) string {
		switch {
		case lv.seq:
			return fmt.Sprintf("the \"- \" items at column %d", lv.col+1)
		case lv.keys:
			return fmt.Sprintf("the keys at column %d", lv.col+1)
		}
		return fmt.Sprintf("column %d", lv.col+1)
	}
	for l := 1; l <= n; l++ {
		s := f.lineAt(l)
		t := strings.TrimLeft(s, " ")
		k := len(s) - len(t)
		if quote != 0 {
			if e := closeQuoteFrom(s, 0, quote); e >= 0 {
				quote = 0
			}
			continue
		}
		if depth > 0 {
			depth += flowDepth(s)
			continue
		}
		if t == "" || t[0] == '#' {
			continue
		}
		if block >= 0 {
			if blockIn < 0 && k > block {
				blockIn = k
			}
			if blockIn >= 0 && k >= blockIn {
				continue
			}
			if blockIn >= 0 && k > block && l >= from {
				return l, k, fmt.Sprintf("this line is indented less than the text of the block above (column %d) but more than its key (column %d): line it up with the block's text", blockIn+1, block+1), true
			}
			block, blockIn = -1, -1
		}
		if k == 0 && (strings.HasPrefix(t, "---") || strings.HasPrefix(t, "...")) {
			stack, pending, scalar = []level{{col: 0}}, false, false
			continue
		}
		top := &stack[len(stack)-1]
		dash := t == "-" || strings.HasPrefix(t, "- ")
		switch {
		case pending && k > top.col:
			stack = append(stack, level{col: k})
		case pending && k == top.col && dash && !top.seq:
			stack = append(stack, level{col: k}) // a list at its key's indentation
		default:
			var upper *level
			for len(stack) > 1 && stack[len(stack)-1].col > k {
				lv := stack[len(stack)-1]
				upper = &lv
				stack = stack[:len(stack)-1]
			}
			top = &stack[len(stack)-1]
			// A list at its key's indentation ends at the next key.
			if top.seq && top.col == k && !dash && len(stack) > 1 && stack[len(stack)-2].col == k {
				stack = stack[:len(stack)-1]
				top = &stack[len(stack)-1]
			}
			switch {
			case top.col != k && upper == nil && scalar:
				continue // the text of the line above goes on
			case top.col != k && l >= from:
				if upper != nil {
					return l, k, fmt.Sprintf("this line starts at column %d, between %s and %s above: line it up with the one it belongs to", k+1, describe(*top), describe(*upper)), true
				}
				return l, k, fmt.Sprintf("this line is indented more than the line above, which does not open a block (it has a value already): line it up with %s", describe(*top)), true
			case top.col != k:
				stack = append(stack, level{col: k}) // confused before the error: go on from here
			case top.seq && !dash && l >= from:
				return l, k, fmt.Sprintf("this line lines up with the \"- \" items of the list above (column %d) but is not one: start it with \"- \" to make it an item, or indent it more to make it part of the item above", k+1), true
			case top.keys && dash && l >= from && !pending:
				return l, k, fmt.Sprintf("this \"- \" item lines up with the keys above (column %d): indent it under the key it belongs to", k+1), true
			}
		}
		top = &stack[len(stack)-1]
		pending, scalar = false, false
		// The line's content: "- " items, then a key, then a value.
		for t == "-" || strings.HasPrefix(t, "- ") {
			stack[len(stack)-1].seq = true
			if t == "-" {
				pending = true
				break
			}
			rest := strings.TrimLeft(t[1:], " ")
			k = len(s) - len(rest)
			t = rest
			stack = append(stack, level{col: k})
		}
		if pending || t == "" || t[0] == '#' {
			continue
		}
		c := keyColon(t)
		if c < 0 {
			if stack[len(stack)-1].keys && l >= from && k == stack[len(stack)-1].col {
				return l, k, fmt.Sprintf("this line lines up with the keys above (column %d) but has no \":\": if it continues the text of the line above, indent it more (or put the whole text in quotes); if it is a key, add \":\"", k+1), true
			}
			scalar = true
			quote, depth = openAt(t, 0)
			continue
		}
		stack[len(stack)-1].keys = true
		v := strings.TrimLeft(stripComment(t[c+1:]), " ")
		switch {
		case v == "":
			pending = true
		case v[0] == '|' || v[0] == '>':
			block, blockIn = k, -1
		default:
			scalar = true
			quote, depth = openAt(v, 0)
		}
	}
	return 0, 0, "", false
}

// openAt reports whether the value starting s leaves a quoted text or a
// flow collection open at the end of the line.
func openAt(s string, i int) (quote byte, depth int) {
	if i >= len(s) {
		return 0, 0
	}
	switch s[i] {
	case '"', '\'':
		if closeQuote(s, i) < 0 {
			return s[i], 0
		}
	case '[', '{':
		if d := flowDepth(s[i:]); d > 0 {
			return 0, d
		}
	}
	return 0, 0
}

// flowDepth is the count of [ and { a line opens minus those it closes,
// outside quotes.
func flowDepth(s string) int {
	d := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[', '{':
			d++
		case ']', '}':
			d--
		case '"', '\'':
			if e := closeQuote(s, i); e >= 0 {
				i = e
			}
		case '#':
			if i > 0 && s[i-1] == ' ' {
				return d
			}
		}
	}
	return d
}

// valueStarts returns the byte offsets in a line where a node can start:
// after the indentation and "- ", after "key: ", and after [, { and , in
// a flow collection. It stops at a comment.
func valueStarts(s string) []int {
	var out []int
	expect, depth := true, 0
	for i := 0; i < len(s); {
		c := s[i]
		if c == ' ' || c == '\t' {
			i++
			continue
		}
		if expect {
			switch {
			case c == '#':
				return out
			case (c == '-' || c == '?') && depth == 0 && (i+1 == len(s) || s[i+1] == ' '):
				i++
				continue
			}
			out = append(out, i)
			expect = false
			switch c {
			case '"', '\'':
				e := closeQuote(s, i)
				if e < 0 {
					return out
				}
				i = e + 1
				continue
			case '[', '{':
				depth++
				expect = true
			}
			i++
			continue
		}
		switch {
		case c == '#' && s[i-1] == ' ':
			return out
		case c == ':' && (i+1 == len(s) || s[i+1] == ' ' || (depth > 0 && strings.IndexByte(",]}", s[i+1]) >= 0)):
			expect = true
		case depth > 0 && c == ',':
			expect = true
		case depth > 0 && (c == ']' || c == '}'):
			depth--
		}
		i++
	}
	return out
}

// closeQuote returns the offset of the quote that closes the quoted text
// starting at s[i], or -1 when it does not close on this line.
func closeQuote(s string, i int) int {
	return closeQuoteFrom(s, i+1, s[i])
}

func closeQuoteFrom(s string, j int, q byte) int {
	for ; j < len(s); j++ {
		switch {
		case q == '"' && s[j] == '\\':
			j++
		case s[j] == q && q == '\'' && j+1 < len(s) && s[j+1] == '\'':
			j++
		case s[j] == q:
			return j
		}
	}
	return -1
}

// keyColon returns the offset of the ":" that ends the key starting the
// line's content (after the indentation and "- "), or -1.
func keyColon(s string) int {
	t := strings.TrimLeft(s, " ")
	for strings.HasPrefix(t, "- ") {
		t = strings.TrimLeft(t[2:], " ")
	}
	off := len(s) - len(t)
	m := keyRE.FindStringIndex(t)
	if m == nil {
		return -1
	}
	end := m[1] - 1
	if t[end] != ':' {
		end--
	}
	return off + end
}

// colonIn returns the offset of the first ": " (or a final ":") in s
// outside quotes, or -1.
func colonIn(s string) int {
	s = stripComment(s)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"', '\'':
			if i == 0 || s[i-1] == ' ' {
				if e := closeQuote(s, i); e >= 0 {
					i = e
				}
			}
		case ':':
			if i+1 == len(s) || s[i+1] == ' ' {
				return i
			}
		}
	}
	return -1
}

// valueAfter returns the offset of the value after the key whose ":" is
// at offset colon.
func valueAfter(s string, colon int) int {
	i := colon + 1
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

// stripComment cuts a " #" comment off a line (quotes aside).
func stripComment(s string) string {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"', '\'':
			if i == 0 || s[i-1] == ' ' || s[i-1] == '[' || s[i-1] == '{' || s[i-1] == ',' {
				if e := closeQuote(s, i); e >= 0 {
					i = e
				}
			}
		case '#':
			if i == 0 || s[i-1] == ' ' {
				return strings.TrimRight(s[:i], " ")
			}
		}
	}
	return s
}

// quoteFrom writes the line with its value, from offset i, in quotes: the
// fix to show.
func quoteFrom(s string, i int) string {
	key := strings.TrimSpace(s[:i])
	v := stripComment(strings.TrimSpace(s[i:]))
	if key != "" {
		key += " "
	}
	return key + yamlQuote(v)
}

// yamlQuote writes s as a double-quoted YAML string.
func yamlQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
