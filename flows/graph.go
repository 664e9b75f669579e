package flows

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/charlabot/charla/engine"
)

// GraphOptions choose what Graph draws.
type GraphOptions struct {
	Format string // "mermaid" (default) or "dot"
	Flow   string // only this flow ("" : every flow the bot declares)
	System bool   // also the default system flows the compiler supplied
}

// Graph writes the compiled state machine of p as a diagram: one node per
// step, edges for every transition — falling through, branches (yes/no),
// jumps, action errors, exhausted slots, timeouts — and dashed edges to
// the flows that steps call or start.
func Graph(w io.Writer, p *engine.Program, opt GraphOptions) error {
	var flows []*engine.Flow
	for _, f := range p.Flows {
		if opt.Flow != "" && f.Name != opt.Flow || opt.Flow == "" && f.System && !opt.System {
			continue
		}
		flows = append(flows, f)
	}
	if opt.Flow != "" && len(flows) == 0 {
		return fmt.Errorf("no flow named %q", opt.Flow)
	}
	g := &graph{p: p, lang: p.DefaultLang()}
	for _, f := range flows {
		g.flow(f)
	}
	switch opt.Format {
	case "", "mermaid":
		g.mermaid(w)
	case "dot":
		g.dot(w)
	default:
		return fmt.Errorf("unknown format %q (use mermaid or dot)", opt.Format)
	}
	return nil
}

type gnode struct {
	id, label string
	shape     string // "step", "start", "end", "flow" (another flow)
}

type gedge struct {
	from, to, label string
	dashed          bool
}

type gcluster struct {
	name  string
	nodes []gnode
}

type graph struct {
	p        *engine.Program
	lang     string
	clusters []gcluster
	edges    []gedge
	external map[string]bool // flows referenced but not drawn
}

func nodeID(flow string, i int) string { return fmt.Sprintf("%s_%d", flow, i) }

func (g *graph) flow(f *engine.Flow) {
	cl := gcluster{name: f.Name}
	start, end := f.Name+"_start", f.Name+"_end"
	cl.nodes = append(cl.nodes, gnode{start, f.Name, "start"})
	n := len(f.Steps)
	target := func(t int) string {
		if t >= n || t < 0 {
			return end
		}
		return nodeID(f.Name, t)
	}
	if n > 0 {
		g.edges = append(g.edges, gedge{from: start, to: nodeID(f.Name, 0)})
	} else {
		g.edges = append(g.edges, gedge{from: start, to: end})
	}
	usesEnd := n == 0
	for i, s := range f.Steps {
		id := nodeID(f.Name, i)
		cl.nodes = append(cl.nodes, gnode{id, g.label(s), "step"})
		for _, t := range Successors(f, i) {
			e := gedge{from: id, to: target(t)}
			switch s := s.(type) {
			case *engine.Branch:
				e.label = "yes"
				if t == s.Else {
					e.label = "no"
				}
			case *engine.Action:
				if t == s.OnError && t != i+1 {
					e.label = "error"
				}
			case *engine.Ask:
				switch {
				case t == i+1:
				case t == s.OnNone:
					e.label = "none"
				case t == s.Exhausted:
					e.label = "exhausted"
				}
			case *engine.Wait:
				if t == s.OnTimeout && t != i+1 {
					e.label = "timeout"
				}
			}
			usesEnd = usesEnd || e.to == end
			g.edges = append(g.edges, e)
		}
		switch s := s.(type) {
		case *engine.Call:
			g.edges = append(g.edges, gedge{from: id, to: g.flowRef(s.Flow), label: "call", dashed: true})
		case *engine.Start:
			g.edges = append(g.edges, gedge{from: id, to: g.flowRef(s.Flow), label: "start", dashed: true})
		}
	}
	if usesEnd {
		cl.nodes = append(cl.nodes, gnode{end, "end", "end"})
	}
	g.clusters = append(g.clusters, cl)
}

func (g *graph) flowRef(name string) string {
	if g.external == nil {
		g.external = map[string]bool{}
	}
	g.external[name] = true
	return name + "_start"
}

// label summarises a step in a line or two.
func (g *graph) label(s engine.Step) string {
	var b string
	switch s := s.(type) {
	case *engine.Say:
		b = "say " + quote(g.msgText(s.Message))
	case *engine.Ask:
		b = "ask " + s.Slot
		if t := g.msgText(s.Prompt); t != "" {
			b += "\n" + quote(t)
		}
	case *engine.Set:
		names := make([]string, len(s.Assign))
		for i, a := range s.Assign {
			names[i] = a.Name
		}
		b = "set " + strings.Join(names, ", ")
	case *engine.Branch:
		b = "if " + exprSrc(s.Cond)
	case *engine.Goto:
		b = "goto"
	case *engine.Call:
		b = "call " + s.Flow
	case *engine.Start:
		b = "start " + s.Flow
	case *engine.Action:
		b = "action " + s.Name
		if s.Into != "" {
			b += " → " + s.Into
		}
	case *engine.Handoff:
		b = "handoff"
		if s.Queue != "" {
			b += " " + s.Queue
		}
	case *engine.Wait:
		b = "wait"
		if len(s.Events) > 0 {
			b += " " + strings.Join(s.Events, ", ")
		}
		if s.Timeout > 0 {
			b += " " + formatDuration(s.Timeout)
		}
	case *engine.End:
		b = "end"
		if s.Outcome != "" {
			b += " " + string(s.Outcome)
		}
	default:
		b = fmt.Sprintf("%T", s)
	}
	if id := s.Meta().ID; id != "" {
		b = "#" + id + " " + b
	}
	return b
}

func exprSrc(e *engine.Expr) string {
	if e == nil {
		return "?"
	}
	return shorten(e.Source, 40)
}

func (g *graph) msgText(m *engine.Message) string {
	if m == nil || len(m.Variants) == 0 {
		return ""
	}
	t := m.Variants[0].Pick(g.lang, g.lang)
	if t == nil {
		return ""
	}
	return shorten(t.Source, 40)
}

func quote(s string) string { return "«" + s + "»" }

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func (g *graph) externals() []string {
	drawn := map[string]bool{}
	for _, c := range g.clusters {
		drawn[c.name] = true
	}
	var out []string
	for _, name := range sortedKeys(g.external) {
		if !drawn[name] {
			out = append(out, name)
		}
	}
	return out
}

func (g *graph) mermaid(w io.Writer) {
	esc := func(s string) string {
		s = strings.ReplaceAll(s, `"`, "#quot;")
		return strings.ReplaceAll(s, "\n", "<br/>")
	}
	fmt.Fprintln(w, "flowchart TD")
	for _, c := range g.clusters {
		fmt.Fprintf(w, "  subgraph %s[\"%s\"]\n", c.name+"_flow", esc(c.name))
		for _, n := range c.nodes {
			switch n.shape {
			case "start":
				fmt.Fprintf(w, "    %s([\"%s\"])\n", n.id, esc(n.label))
			case "end":
				fmt.Fprintf(w, "    %s((\"%s\"))\n", n.id, esc(n.label))
			default:
				fmt.Fprintf(w, "    %s[\"%s\"]\n", n.id, esc(n.label))
			}
		}
		fmt.Fprintln(w, "  end")
	}
	for _, name := range g.externals() {
		fmt.Fprintf(w, "  %s_start[[\"%s\"]]\n", name, esc(name))
	}
	for _, e := range g.edges {
		switch {
		case e.dashed:
			fmt.Fprintf(w, "  %s -. %s .-> %s\n", e.from, e.label, e.to)
		case e.label != "":
			fmt.Fprintf(w, "  %s -->|%s| %s\n", e.from, e.label, e.to)
		default:
			fmt.Fprintf(w, "  %s --> %s\n", e.from, e.to)
		}
	}
}

func (g *graph) dot(w io.Writer) {
	esc := func(s string) string {
		s = strings.ReplaceAll(s, `\`, `\\`)
		s = strings.ReplaceAll(s, `"`, `\"`)
		return strings.ReplaceAll(s, "\n", `\n`)
	}
	fmt.Fprintln(w, "digraph charla {")
	fmt.Fprintln(w, "  rankdir=TB;")
	fmt.Fprintln(w, `  node [shape=box, style=rounded, fontname="Helvetica"];`)
	fmt.Fprintln(w, `  edge [fontname="Helvetica", fontsize=10];`)
	for _, c := range g.clusters {
		fmt.Fprintf(w, "  subgraph cluster_%s {\n    label=\"%s\";\n", c.name, esc(c.name))
		for _, n := range c.nodes {
			attrs := ""
			switch n.shape {
			case "start":
				attrs = ", shape=oval, style=bold"
			case "end":
				attrs = ", shape=doublecircle"
			}
			fmt.Fprintf(w, "    %s [label=\"%s\"%s];\n", n.id, esc(n.label), attrs)
		}
		fmt.Fprintln(w, "  }")
	}
	for _, name := range g.externals() {
		fmt.Fprintf(w, "  %s_start [label=\"%s\", shape=component];\n", name, esc(name))
	}
	for _, e := range g.edges {
		var attrs []string
		if e.label != "" {
			attrs = append(attrs, fmt.Sprintf("label=\"%s\"", esc(e.label)))
		}
		if e.dashed {
			attrs = append(attrs, "style=dashed")
		}
		if len(attrs) > 0 {
			fmt.Fprintf(w, "  %s -> %s [%s];\n", e.from, e.to, strings.Join(attrs, ", "))
		} else {
			fmt.Fprintf(w, "  %s -> %s;\n", e.from, e.to)
		}
	}
	fmt.Fprintln(w, "}")
}
