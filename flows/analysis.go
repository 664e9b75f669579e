package flows

import "github.com/charlabot/charla/engine"

// Flow analysis on the compiled state machine: steps that can never be
// reached (a warning), and loops that can never wait for input or end (an
// error: a turn would run until the runtime's step limit stops it).

// Successors returns the steps a step may move to; len(f.Steps) stands for
// the end of the flow. Start and End leave the flow and have none.
func Successors(f *engine.Flow, i int) []int {
	next := i + 1
	switch s := f.Steps[i].(type) {
	case *engine.Branch:
		return []int{next, s.Else}
	case *engine.Goto:
		return []int{s.Target}
	case *engine.Start, *engine.End:
		return nil
	case *engine.Ask:
		out := []int{next}
		if s.Exhausted >= 0 {
			out = append(out, s.Exhausted)
		}
		if s.OnNone > 0 {
			out = append(out, s.OnNone)
		}
		return out
	case *engine.Action:
		if s.OnError >= 0 {
			return []int{next, s.OnError}
		}
	case *engine.Wait:
		if s.OnTimeout >= 0 {
			return []int{next, s.OnTimeout}
		}
	}
	return []int{next}
}

// waits reports whether a step may stop the turn: it waits for the
// shopper, an event or a person, or leaves the flow.
func waits(s engine.Step) bool {
	switch s.(type) {
	case *engine.Ask, *engine.Wait, *engine.Handoff, *engine.Call, *engine.Start, *engine.End:
		return true
	}
	return false
}

func (c *compiler) analyse(d *flowDecl) {
	f := d.fl
	n := len(f.Steps)
	if n == 0 {
		return
	}
	synth := c.synth[f]
	reach := func(from int, seen []bool) {
		stack := []int{from}
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if i < 0 || i >= n || seen[i] {
				continue
			}
			seen[i] = true
			stack = append(stack, Successors(f, i)...)
		}
	}
	reachable := make([]bool, n)
	reach(0, reachable)

	// good[i]: from step i some path waits, or leaves or ends the flow.
	preds := make([][]int, n+1)
	for i := 0; i < n; i++ {
		for _, j := range Successors(f, i) {
			if j >= 0 && j <= n {
				preds[j] = append(preds[j], i)
			}
		}
	}
	good := make([]bool, n+1)
	var queue []int
	mark := func(i int) {
		if !good[i] {
			good[i] = true
			queue = append(queue, i)
		}
	}
	mark(n)
	for i, s := range f.Steps {
		if waits(s) {
			mark(i)
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		for _, p := range preds[i] {
			mark(p)
		}
	}
	covered := make([]bool, n)
	for i := 0; i < n; i++ {
		if !reachable[i] || good[i] || covered[i] {
			continue
		}
		reach(i, covered)
		c.errAt(c.stepPos(f, synth, i), "this loop never waits for input and never ends: a turn would run it until the step limit")
	}
	covered = make([]bool, n)
	for i := 0; i < n; i++ {
		if reachable[i] || covered[i] || (i < len(synth) && synth[i]) {
			continue
		}
		reach(i, covered)
		if !d.system {
			c.warnAt(f.Steps[i].Meta().Pos, "unreachable step")
		}
	}
}

// stepPos returns the position of step i, or of the nearest step the
// designer wrote.
func (c *compiler) stepPos(f *engine.Flow, synth []bool, i int) engine.Pos {
	for j := i; j < len(f.Steps); j++ {
		if j >= len(synth) || !synth[j] {
			return f.Steps[j].Meta().Pos
		}
	}
	return f.Steps[i].Meta().Pos
}
