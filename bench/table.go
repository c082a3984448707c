package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// unit says how a row's numbers are printed.
type unit int

const (
	dur   unit = iota // seconds, printed as a time.Duration
	mib               // mebibytes
	count             // a plain number
	msecs             // whole milliseconds (CPU time)
	rate              // a number per second
)

// format prints v in unit u.
func (u unit) format(v float64) string {
	switch u {
	case dur:
		return fmtDur(time.Duration(v * float64(time.Second)))
	case mib:
		return fmt.Sprintf("%.1f MiB", v)
	case msecs:
		return fmt.Sprintf("%.0f ms", v)
	case rate:
		return fmt.Sprintf("%.2f/s", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// fmtDur prints d with three significant digits in ms or s.
func fmtDur(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 10:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 1000:
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.2f s", ms/1000)
}

// verdict is whether a row met its target.
type verdict int

const (
	info verdict = iota // no target: shown for context
	pass
	fail
	skip // not measured on this machine, for a reason the row gives
)

func (v verdict) String() string {
	switch v {
	case pass:
		return "ok"
	case fail:
		return "MISSED"
	case skip:
		return "skip"
	}
	return ""
}

// row is one line of the results table.
type row struct {
	name     string
	unit     unit
	floor    float64 // < 0: no floor measured
	got      float64
	target   string  // as printed
	verdict  verdict //
	suffix   string  // printed after floor and got, as " in 60 s"
	note     string  // what the numbers do not say
	failText string  // why the case could not be measured (verdict fail) or was skipped (skip)
}

// failRows returns one failed row per name.
func failRows(err error, names ...string) []row {
	out := make([]row, len(names))
	for i, n := range names {
		out[i] = row{name: n, floor: -1, failText: err.Error(), verdict: fail}
	}
	return out
}

// skipRows returns one skipped row per name, saying why.
func skipRows(why string, names ...string) []row {
	out := make([]row, len(names))
	for i, n := range names {
		out[i] = row{name: n, floor: -1, failText: why, verdict: skip}
	}
	return out
}

// ratio returns got/floor as printed, or "" when there is none.
func (r row) ratio() string {
	if r.failText != "" || r.floor <= 0 {
		return ""
	}
	return fmt.Sprintf("%.2fx", r.got/r.floor)
}

// cells returns the printed columns of r.
func (r row) cells() []string {
	floor, got := "", ""
	if r.floor >= 0 {
		floor = r.unit.format(r.floor) + r.suffix
	}
	got = r.unit.format(r.got) + r.suffix
	switch {
	case r.failText != "" && r.verdict == skip:
		floor, got = "", "skipped: "+r.failText
	case r.failText != "":
		floor, got = "", "error: "+r.failText
	}
	return []string{r.name, floor, got, r.ratio(), r.target, r.verdict.String(), r.note}
}

// header names the table's columns.
var header = []string{"case", "floor", "procman", "ratio", "target", "ok", "note"}

// writeText prints rows as an aligned table.
func writeText(w io.Writer, rows []row) error {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r.cells(), "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var out strings.Builder
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		if line != "" {
			out.WriteString(strings.TrimRight(line, " \n") + "\n")
		}
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// writeMarkdown prints rows as a Markdown table under a line that names the
// machine.
func writeMarkdown(w io.Writer, machine string, rows []row) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured on %s.\n\n", machine)
	fmt.Fprintf(&b, "| %s |\n", strings.Join(header, " | "))
	fmt.Fprintf(&b, "|%s\n", strings.Repeat("---|", len(header)))
	for _, r := range rows {
		cells := r.cells()
		for i, c := range cells {
			cells[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// missed reports whether any row missed its target.
func missed(rows []row) bool {
	for _, r := range rows {
		if r.verdict == fail {
			return true
		}
	}
	return false
}
