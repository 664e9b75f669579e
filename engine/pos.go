package engine

import "strconv"

// Pos is a position in a bot's source files. Line and Col are 1-based; the
// zero Pos means "no position" (for example, a program built in Go).
type Pos struct {
	File string
	Line int
	Col  int
}

// IsValid reports whether the position points somewhere.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String formats the position as file:line:col, omitting what is unknown.
func (p Pos) String() string {
	s := p.File
	if p.IsValid() {
		if s != "" {
			s += ":"
		}
		s += strconv.Itoa(p.Line)
		if p.Col > 0 {
			s += ":" + strconv.Itoa(p.Col)
		}
	}
	if s == "" {
		s = "-"
	}
	return s
}
