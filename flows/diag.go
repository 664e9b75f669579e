package flows

import (
	"fmt"
	"sort"
	"strings"

	"github.com/charlabot/charla/engine"
)

// Severity says whether a diagnostic fails the build.
type Severity uint8

const (
	SevError   Severity = iota // the bot cannot run
	SevWarning                 // suspicious, but the bot runs
)

// Diagnostic is one problem the compiler found, at a position in the bot's
// files.
type Diagnostic struct {
	Pos      engine.Pos
	Severity Severity
	Msg      string
}

// Error formats the diagnostic as "path:line:col: message", or
// "path:line:col: warning: message" for a warning.
func (d *Diagnostic) Error() string {
	if d.Severity == SevWarning {
		return d.Pos.String() + ": warning: " + d.Msg
	}
	return d.Pos.String() + ": " + d.Msg
}

// ErrorList is a sorted list of diagnostics, like go/scanner's ErrorList.
// It may hold warnings as well as errors; [ErrorList.Err] is nil unless it
// holds at least one error.
type ErrorList []*Diagnostic

func (l ErrorList) Len() int      { return len(l) }
func (l ErrorList) Swap(i, j int) { l[i], l[j] = l[j], l[i] }
func (l ErrorList) Less(i, j int) bool {
	a, b := l[i].Pos, l[j].Pos
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	if a.Col != b.Col {
		return a.Col < b.Col
	}
	if l[i].Severity != l[j].Severity {
		return l[i].Severity < l[j].Severity
	}
	return l[i].Msg < l[j].Msg
}

// Sort sorts the list by file, line, column, severity and message, and
// removes exact duplicates.
func (l *ErrorList) Sort() {
	sort.Stable(*l)
	out := (*l)[:0]
	for i, d := range *l {
		if i > 0 && *d == *(*l)[i-1] {
			continue
		}
		out = append(out, d)
	}
	*l = out
}

// Errors returns the diagnostics that are errors.
func (l ErrorList) Errors() ErrorList { return l.filter(SevError) }

// Warnings returns the diagnostics that are warnings.
func (l ErrorList) Warnings() ErrorList { return l.filter(SevWarning) }

func (l ErrorList) filter(s Severity) ErrorList {
	var out ErrorList
	for _, d := range l {
		if d.Severity == s {
			out = append(out, d)
		}
	}
	return out
}

// Err returns the list's errors (without its warnings) as an error, or nil
// when there are none.
func (l ErrorList) Err() error {
	errs := l.Errors()
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// Error reports the first diagnostic and how many more there are; print the
// list's elements one per line to see them all.
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more)", l[0], len(l)-1)
}

// String returns every diagnostic, one per line.
func (l ErrorList) String() string {
	var b strings.Builder
	for _, d := range l {
		b.WriteString(d.Error())
		b.WriteByte('\n')
	}
	return b.String()
}
