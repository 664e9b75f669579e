package flows

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/charlabot/charla/engine"
)

// This file holds the typed walk over YAML nodes shared by every file kind:
// mappings with known keys, scalars of a given type, lists, durations, and
// the diagnostics they report.

// maxPerFile bounds the diagnostics reported for one file: past it, a
// broken file would only bury the first, most useful ones.
const maxPerFile = 500

func (c *compiler) errAt(p engine.Pos, format string, args ...any) {
	c.report(&Diagnostic{Pos: p, Severity: SevError, Msg: fmt.Sprintf(format, args...)})
}

func (c *compiler) warnAt(p engine.Pos, format string, args ...any) {
	c.report(&Diagnostic{Pos: p, Severity: SevWarning, Msg: fmt.Sprintf(format, args...)})
}

func (c *compiler) report(d *Diagnostic) {
	if c.perFile == nil {
		c.perFile = map[string]int{}
	}
	n := c.perFile[d.Pos.File]
	c.perFile[d.Pos.File] = n + 1
	switch {
	case n < maxPerFile:
		c.diags = append(c.diags, d)
	case n == maxPerFile:
		c.diags = append(c.diags, &Diagnostic{Pos: d.Pos, Severity: SevError,
			Msg: fmt.Sprintf("too many problems in this file (more than %d); fix these first", maxPerFile)})
	}
}

// node is a YAML node and the file it comes from.
type node struct {
	f *yfile
	n *yaml.Node
}

func (x node) pos() engine.Pos { return x.f.pos(x.n) }
func (x node) ok() bool        { return x.n != nil }

func (c *compiler) errN(x node, format string, args ...any) { c.errAt(x.pos(), format, args...) }

func (c *compiler) warnN(x node, format string, args ...any) { c.warnAt(x.pos(), format, args...) }

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// describeNode names the kind of a node for messages: "a mapping", "a list"...
func describeNode(n *yaml.Node) string {
	n = deref(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		}
		return "a string"
	}
	return "an unexpected node"
}

func (c *compiler) wrongType(x node, what, want string) {
	c.errN(x, "%s must be %s, not %s%s", what, want, describeNode(x.n), shapeHint(x.n, what, want))
}

var keyNoSpaceRE = regexp.MustCompile(`^([A-Za-z_]\w*):(\S.*)$`)

// shapeHint explains the usual reason a node does not have the shape
// wanted: "- say:" written "-say:", "say: hola" written "say:hola".
func shapeHint(n *yaml.Node, what, want string) string {
	n = deref(n)
	if n == nil {
		return ""
	}
	switch {
	case what == "a test file" && n.Kind == yaml.SequenceNode:
		return " (put the list under tests:)"
	case strings.HasPrefix(want, "a list") && n.Kind == yaml.MappingNode && len(n.Content) > 0:
		if k := n.Content[0].Value; len(k) > 1 && k[0] == '-' && k[1] != ' ' {
			return fmt.Sprintf(" (put a space after the dash: \"- %s:\")", k[1:])
		}
		return " (start each item with \"- \")"
	case strings.HasPrefix(want, "a list") && n.Kind == yaml.ScalarNode && n.Style == 0 && strings.Contains(n.Value, ", "):
		return fmt.Sprintf(" (write [%s], or one \"- item\" per line)", n.Value)
	case strings.HasPrefix(want, "a mapping") && n.Kind == yaml.ScalarNode && n.Style == 0:
		if m := keyNoSpaceRE.FindStringSubmatch(n.Value); m != nil {
			return fmt.Sprintf(" (put a space after the colon: \"%s: %s\")", m[1], m[2])
		}
	}
	return ""
}

// pair is a key and its value in a mapping.
type pair struct {
	k, v node
}

// ymap is a mapping with its keys indexed; merge keys (<<) are expanded.
type ymap struct {
	node
	pairs []pair
	idx   map[string]int
}

// mapOf returns the mapping at x, or nil after reporting an error when x is
// not one. A null value is an empty mapping.
func (c *compiler) mapOf(x node, what string) *ymap {
	x.n = deref(x.n)
	m := &ymap{node: x, idx: map[string]int{}}
	if isNull(x.n) {
		return m
	}
	if x.n.Kind != yaml.MappingNode {
		c.wrongType(x, what, "a mapping")
		return nil
	}
	c.addPairs(m, x, 0)
	return m
}

func (c *compiler) addPairs(m *ymap, x node, depth int) {
	var merges []node
	for i := 0; i+1 < len(x.n.Content); i += 2 {
		k, v := x.n.Content[i], x.n.Content[i+1]
		if k.Tag == "!!merge" {
			merges = append(merges, node{x.f, v})
			continue
		}
		if k = deref(k); k.Kind != yaml.ScalarNode {
			c.errAt(x.f.pos(k), "a key must be a string, not %s", describeNode(k))
			continue
		}
		if _, dup := m.idx[k.Value]; dup {
			if depth == 0 {
				continue // reported by checkShape
			}
			continue // explicit keys override merged ones
		}
		m.idx[k.Value] = len(m.pairs)
		m.pairs = append(m.pairs, pair{node{x.f, k}, node{x.f, v}})
	}
	if depth > 10 {
		return
	}
	for _, mv := range merges {
		n := deref(mv.n)
		var srcs []*yaml.Node
		switch {
		case n != nil && n.Kind == yaml.MappingNode:
			srcs = []*yaml.Node{n}
		case n != nil && n.Kind == yaml.SequenceNode:
			for _, e := range n.Content {
				srcs = append(srcs, deref(e))
			}
		}
		for _, s := range srcs {
			if s == nil || s.Kind != yaml.MappingNode {
				c.errN(mv, "a merge (<<) must name a mapping")
				continue
			}
			c.addPairs(m, node{x.f, s}, depth+1)
		}
	}
}

// fields is mapOf that also reports keys not among known.
func (c *compiler) fields(x node, what string, known ...string) *ymap {
	m := c.mapOf(x, what)
	if m == nil {
		return nil
	}
	for i, p := range m.pairs {
		if contains(known, p.k.n.Value) {
			continue
		}
		// {choices: rojo, azul}: a list without its brackets.
		if i > 0 && x.n.Style&yaml.FlowStyle != 0 && isNull(p.v.n) && p.v.n != nil && p.v.n.Line == p.k.n.Line {
			prev := m.pairs[i-1]
			if pv := deref(prev.v.n); pv != nil && pv.Kind == yaml.ScalarNode && pv.Style == 0 && pv.Line == p.k.n.Line {
				items := []string{pv.Value}
				for _, q := range m.pairs[i:] {
					if contains(known, q.k.n.Value) || !isNull(q.v.n) {
						break
					}
					items = append(items, q.k.n.Value)
				}
				c.errN(p.k, "unknown key %q in %s (a list inside {…} needs its brackets: %s: [%s])", p.k.n.Value, what, prev.k.n.Value, strings.Join(items, ", "))
				continue
			}
		}
		c.unknownKey(p.k, what, known)
	}
	return m
}

// keyWords are the Spanish (and other) words designers write for keys.
var keyWords = map[string]string{
	"decir": "say", "di": "say", "dice": "say", "mensaje": "say", "texto": "say", "responder": "say", "respuesta": "answer",
	"pregunta": "ask", "preguntar": "ask", "pedir": "ask", "si": "if", "entonces": "then", "sino": "else", "si_no": "else",
	"accion": "action", "acción": "action", "llamar": "call", "iniciar": "start", "ir": "goto", "ir_a": "goto", "saltar": "goto",
	"esperar": "wait", "fin": "end", "terminar": "end", "asignar": "set", "botones": "buttons", "opciones": "choices",
	"imagen": "image", "enlace": "link", "derivar": "handoff", "transferir": "handoff", "humano": "handoff",
	"plantilla": "template", "tipo": "type", "validar": "validate", "invalido": "invalid", "inválido": "invalid",
	"reintentos": "retries", "alcance": "scope", "entidad": "entity", "patron": "pattern", "patrón": "pattern",
	"flujo": "flow", "flujos": "flows", "pasos": "steps", "disparadores": "triggers", "intenciones": "intents",
	"palabras": "keywords", "eventos": "events", "ranuras": "slots", "campos": "slots", "descripcion": "description",
	"descripción": "description", "titulo": "title", "título": "title", "nombre": "name", "idiomas": "languages",
	"ajustes": "settings", "configuracion": "settings", "colas": "queues", "agentes": "agents", "preguntas": "questions",
	"articulos": "articles", "artículos": "articles", "pruebas": "tests", "turnos": "turns", "usuario": "user", "bot_dice": "bot",
	"message": "say", "text": "say", "question": "ask",
	"next": "goto", "jump": "goto", "condition": "if", "when": "if", "otherwise": "else", "finish": "end", "stop": "end",
}

func (c *compiler) unknownKey(k node, what string, known []string) {
	s := suggest(k.n.Value, known)
	if w, ok := keyWords[strings.ToLower(k.n.Value)]; ok && s == "" && contains(known, w) {
		s = w
	}
	if s != "" {
		c.errN(k, "unknown key %q in %s (did you mean %q?)", k.n.Value, what, s)
		return
	}
	c.errN(k, "unknown key %q in %s", k.n.Value, what)
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// get returns the value of key, or a zero node.
func (m *ymap) get(key string) node {
	if m == nil {
		return node{}
	}
	if i, ok := m.idx[key]; ok {
		v := m.pairs[i].v
		v.n = deref(v.n)
		return v
	}
	return node{f: m.f}
}

// key returns the key node of key, or a zero node.
func (m *ymap) key(key string) node {
	if m == nil {
		return node{}
	}
	if i, ok := m.idx[key]; ok {
		return m.pairs[i].k
	}
	return node{}
}

func (m *ymap) has(key string) bool {
	if m == nil {
		return false
	}
	_, ok := m.idx[key]
	return ok
}

// str reads a non-null scalar as a string.
func (c *compiler) str(x node, what string) (string, bool) {
	n := deref(x.n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		c.wrongType(x, what, "a string")
		return "", false
	}
	return n.Value, true
}

// optStr reads an optional string: a missing key gives "".
func (c *compiler) optStr(x node, what string) string {
	if !x.ok() {
		return ""
	}
	s, _ := c.str(x, what)
	return s
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ident reads a name that expressions can use: letters, digits and _.
func (c *compiler) ident(x node, what string) (string, bool) {
	s, ok := c.str(x, what)
	if !ok {
		return "", false
	}
	if !identRE.MatchString(s) {
		c.errN(x, "%s %q is not a valid name (use letters, digits and _, not starting with a digit)", what, s)
		return s, false
	}
	return s, true
}

var labelRE = regexp.MustCompile(`^[\p{L}\p{N}_][\p{L}\p{N}_.:/-]*$`)

// label reads a name that is not used in expressions (intents, entities,
// events, queues): letters, digits, and _ . : / -.
func (c *compiler) label(x node, what string) (string, bool) {
	s, ok := c.str(x, what)
	if !ok {
		return "", false
	}
	if !labelRE.MatchString(s) {
		c.errN(x, "%s %q is not a valid name (use letters, digits, and _ . : / -)", what, s)
		return s, false
	}
	return s, true
}

func (c *compiler) boolean(x node, what string) (bool, bool) {
	n := deref(x.n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		c.wrongType(x, what, "true or false")
		return false, false
	}
	return n.Value == "true" || n.Value == "True" || n.Value == "TRUE", true
}

func (c *compiler) integer(x node, what string, lo, hi int) (int, bool) {
	n := deref(x.n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		c.wrongType(x, what, "a whole number")
		return 0, false
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	if err != nil || v < int64(lo) || v > int64(hi) {
		c.errN(x, "%s must be between %d and %d", what, lo, hi)
		return 0, false
	}
	return int(v), true
}

func (c *compiler) number(x node, what string) (float64, bool) {
	n := deref(x.n)
	if n == nil || n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		c.wrongType(x, what, "a number")
		return 0, false
	}
	var v float64
	if err := n.Decode(&v); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		c.errN(x, "%s must be a finite number", what)
		return 0, false
	}
	return v, true
}

var durationRE = regexp.MustCompile(`^(\d+(\.\d+)?(ms|s|m|h|d))+$`)

// duration reads a duration such as 500ms, 10s, 5m, 2h or 90d.
func (c *compiler) duration(x node, what string) (time.Duration, bool) {
	n := deref(x.n)
	if n != nil && n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") {
		c.errN(x, "%s needs a unit, such as %ss or %sm", what, n.Value, n.Value)
		return 0, false
	}
	s, ok := c.str(x, what)
	if !ok {
		return 0, false
	}
	d, err := parseDuration(s)
	if err != nil {
		c.errN(x, "%s: %q is not a duration (write it like 30s, 5m, 2h or 7d)", what, s)
		return 0, false
	}
	return d, true
}

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if !durationRE.MatchString(s) {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	var total time.Duration
	for _, m := range regexp.MustCompile(`(\d+(?:\.\d+)?)(ms|s|m|h|d)`).FindAllStringSubmatch(s, -1) {
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			return 0, err
		}
		unit := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[2]]
		if v*float64(unit) > float64(math.MaxInt64/2) {
			return 0, fmt.Errorf("duration %q too long", s)
		}
		total += time.Duration(v * float64(unit))
	}
	return total, nil
}

// list returns the elements of a sequence; a scalar stands for a list of
// one when one is true. A null value is an empty list.
func (c *compiler) list(x node, what string, one bool) []node {
	n := deref(x.n)
	if isNull(n) {
		return nil
	}
	if n.Kind == yaml.SequenceNode {
		out := make([]node, len(n.Content))
		for i, e := range n.Content {
			out[i] = node{x.f, deref(e)}
		}
		return out
	}
	if one && n.Kind == yaml.ScalarNode {
		return []node{{x.f, n}}
	}
	c.wrongType(x, what, "a list")
	return nil
}

// strAt is a string read from a node, with the node for positions.
type strAt struct {
	s  string
	at node
}

func (c *compiler) strList(x node, what string, label bool) []strAt {
	var out []strAt
	for _, e := range c.list(x, what, true) {
		var s string
		var ok bool
		if label {
			s, ok = c.label(e, what)
		} else {
			s, ok = c.str(e, what)
		}
		if ok {
			out = append(out, strAt{s, e})
		}
	}
	return out
}

// suggest returns the candidate closest to s, if it is close enough to be
// a likely typo.
func suggest(s string, candidates []string) string {
	best, bestD := "", 3
	if len(s) <= 3 {
		bestD = 2
	}
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and transpositions of neighbours count one.
func editDistance(a, b string) int {
	ra, rb := []rune(strings.ToLower(a)), []rune(strings.ToLower(b))
	if len(ra) > 64 || len(rb) > 64 {
		return 99
	}
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// didYouMean formats " (did you mean "x"?)" when a candidate is close.
func didYouMean(s string, candidates []string) string {
	if m := suggest(s, candidates); m != "" {
		return fmt.Sprintf(" (did you mean %q?)", m)
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// anyValue decodes a node into plain Go values (string, int, float64,
// bool, nil, []any, map[string]any), bounded in depth and size.
func (c *compiler) anyValue(x node, budget *int) (any, bool) {
	return c.anyValueDepth(x, budget, 0)
}

func (c *compiler) anyValueDepth(x node, budget *int, depth int) (any, bool) {
	n := deref(x.n)
	*budget--
	if *budget < 0 || depth > maxDepth {
		if *budget == -1 || depth > maxDepth {
			c.errN(x, "value too large or too deep")
		}
		return nil, false
	}
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil, true
		case "!!bool":
			b, _ := c.boolean(x, "value")
			return b, true
		case "!!int":
			var v int
			if err := n.Decode(&v); err == nil {
				return v, true
			}
			var f float64
			_ = n.Decode(&f)
			return f, true
		case "!!float":
			var f float64
			_ = n.Decode(&f)
			return f, true
		}
		return n.Value, true
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			v, ok := c.anyValueDepth(node{x.f, e}, budget, depth+1)
			if !ok {
				return nil, false
			}
			out = append(out, v)
		}
		return out, true
	case yaml.MappingNode:
		m := c.mapOf(node{x.f, n}, "value")
		if m == nil {
			return nil, false
		}
		out := make(map[string]any, len(m.pairs))
		for _, p := range m.pairs {
			v, ok := c.anyValueDepth(p.v, budget, depth+1)
			if !ok {
				return nil, false
			}
			out[p.k.n.Value] = v
		}
		return out, true
	}
	return nil, false
}

// formatDuration writes a duration the way designers do: 3d, 1h30m, 45s.
func formatDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		name string
		d    time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}} {
		if n := d / u.d; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.d
		}
	}
	if b.Len() == 0 {
		return d.String()
	}
	return b.String()
}
