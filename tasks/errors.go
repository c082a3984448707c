package tasks

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Error is one problem in a config file. Error() reads "FILE:LINE:COL: MSG",
// leaving out ":COL" (and ":LINE") where the position is not known.
type Error struct {
	File string // the path as given to Load, or the env file's path
	Pos  Pos    // 1-based; zero where unknown
	Msg  string
}

// Error formats the problem as FILE:LINE:COL: MSG.
func (e *Error) Error() string {
	switch {
	case e.Pos.Line == 0:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	case e.Pos.Col == 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Pos.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Pos.Line, e.Pos.Col, e.Msg)
}

// ErrorList is every problem found in a config, sorted by position. Load
// returns it so that `procman check` can print them all.
type ErrorList []*Error

// Error returns the problems one a line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sortErrors orders l by position: errors in main come first, then those in
// other files by name; within a file by line, column and message, with
// problems of the whole file (no line) last.
func sortErrors(l ErrorList, main string) {
	rank := func(e *Error) int {
		if e.File == main {
			return 0
		}
		return 1
	}
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra < rb
		}
		if a.File != b.File {
			return a.File < b.File
		}
		if (a.Pos.Line == 0) != (b.Pos.Line == 0) {
			return b.Pos.Line == 0 // whole-file problems last
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Col != b.Pos.Col {
			return a.Pos.Col < b.Pos.Col
		}
		return a.Msg < b.Msg
	})
}

// fileLineRE matches the "FILE:LINE: msg" lines that the dotenv package and
// this package's own formatter produce.
var fileLineRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(.+?):(\d+): (.*)$`) })

// yamlLineRE matches yaml.v3 syntax errors: "yaml: line 3: did not find ...".
var yamlLineRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: line (\d+): (.*)$`) })

// fromYAML turns a yaml.v3 syntax error into Errors with line numbers.
func fromYAML(file string, err error) ErrorList {
	var l ErrorList
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line == "yaml: unmarshal errors:" {
			continue
		}
		e := &Error{File: file, Msg: strings.TrimPrefix(line, "yaml: ")}
		if m := yamlLineRE().FindStringSubmatch(line); m != nil {
			e.Pos.Line, _ = strconv.Atoi(m[1])
			e.Msg = m[2]
		}
		l = append(l, e)
	}
	return l
}

// locateYAML moves each of yaml.v3's syntax errors in data to the line
// that causes it, with its column. yaml.v3 reports a mis-indented key or a
// stray character at the line where the enclosing mapping starts, often
// line 1 of a long file. The first prefix of data that fails with the same
// message ends on the line at fault (a prefix cut at a line's end is
// valid YAML up to it); prefixes fail from that line on, so a binary
// search finds it. A tab in a line's indentation, which YAML forbids,
// gets a message that says so.
func locateYAML(data []byte, errs ErrorList) ErrorList {
	lines := strings.SplitAfter(string(data), "\n")
	for _, e := range errs {
		if e.Pos.Line <= 0 || e.Pos.Line > len(lines) {
			continue
		}
		from := e.Pos.Line - 1
		k := from + sort.Search(len(lines)-from, func(i int) bool {
			var doc yaml.Node
			err := yaml.Unmarshal([]byte(strings.Join(lines[:from+i+1], "")), &doc)
			if err == nil {
				return false
			}
			l := fromYAML(e.File, err)
			return len(l) > 0 && l[0].Msg == e.Msg
		})
		if k >= len(lines) {
			continue // no prefix fails alike: keep what yaml.v3 said
		}
		line := lines[k]
		indent := len(line) - len(strings.TrimLeft(line, " \t"))
		e.Pos = Pos{Line: k + 1, Col: indent + 1}
		if tab := strings.IndexByte(line[:indent], '\t'); tab >= 0 {
			e.Pos.Col = tab + 1
			e.Msg = "a tab in the indentation: YAML indents with spaces only"
		}
	}
	return errs
}

// fromLines turns an error whose lines read "FILE:LINE: msg" into Errors;
// lines without a position are attached to file at pos.
func fromLines(err error, file string, pos Pos) ErrorList {
	var l ErrorList
	for _, line := range strings.Split(err.Error(), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if m := fileLineRE().FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[2])
			l = append(l, &Error{File: m[1], Pos: Pos{Line: n}, Msg: m[3]})
			continue
		}
		l = append(l, &Error{File: file, Pos: pos, Msg: line})
	}
	return l
}

// suggest returns ` (did you mean "k"?)` when exactly one of known is close
// to got, else "".
func suggest(got string, known []string) string {
	limit := 2
	if len(got) <= 3 {
		limit = 1
	}
	best, bestD, ties := "", limit+1, 0
	for _, k := range known {
		d := editDistance(got, k)
		switch {
		case d < bestD:
			best, bestD, ties = k, d, 0
		case d == bestD:
			ties++
		}
	}
	if best == "" || ties > 0 {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
