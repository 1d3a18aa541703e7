package scenarios

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a scenario: where it is and what is wrong.
//
// File is the file name given to Load or Parse, or "--set" for a value given to Set. Line is
// 1-based, 0 when unknown. Path is the key path as the user wrote it, list elements by index:
// "viewers[1].arrival.window".
type Error struct {
	File string
	Line int
	Path string
	Msg  string
}

// Error formats e as "file:line: path: message", leaving out the parts that are unknown:
//
//	standalone-basic.yaml:12: viewers[0].cuont: unknown key "cuont" (did you mean "count"?)
//	--set: viewers[0].count: "ten" is not a whole number
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one scenario, ordered by line. Load, Parse, Set and Validate
// return Errors (never empty) as their error; use errors.As to get at the entries.
type Errors []*Error

// Error puts each problem on its own line.
func (l Errors) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.As find the individual *Error values.
func (l Errors) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// sorted orders the list by file, line and path and drops exact repeats.
func (l Errors) sorted() Errors {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Path < b.Path
	})
	out := l[:0]
	for _, e := range l {
		if len(out) > 0 && *e == *out[len(out)-1] {
			continue
		}
		out = append(out, e)
	}
	return out
}

// err returns l as an error, or nil when l is empty.
func (l Errors) err() error {
	if len(l) == 0 {
		return nil
	}
	return l.sorted()
}
