package tui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/procman/procman/control"
)

// row is one row of the table: a task, a replica (indented under its
// service), or a replicated service's own row, which stands for all its
// replicas.
type row struct {
	name, kind, status string
	task               *control.Task // nil for a replicated service's row
	indent             bool
	up, of             int // a replicated service's replicas running, and all
}

// rows returns the table's rows, in plan order: a replicated service's
// row, then its replicas.
func (d *Dashboard) rows() []row {
	if d.ps == nil {
		return nil
	}
	var out []row
	parent := -1 // the row of the replicated service being listed
	for i := range d.ps.Tasks {
		t := &d.ps.Tasks[i]
		if t.Name == t.Task {
			out = append(out, row{name: t.Name, kind: t.Kind, status: t.Status, task: t})
			parent = -1
			continue
		}
		if parent < 0 || out[parent].name != t.Task {
			out = append(out, row{name: t.Task, kind: t.Kind})
			parent = len(out) - 1
		}
		out[parent].of++
		if t.Status == "ready" || t.Status == "running" {
			out[parent].up++
		}
		out = append(out, row{name: t.Name, kind: t.Kind, status: t.Status, task: t, indent: true})
	}
	for i := range out {
		if r := &out[i]; r.task == nil {
			r.status = fmt.Sprintf("%d/%d up", r.up, r.of)
		}
	}
	return out
}

// The table's columns after the name, and their widths.
var columns = []struct {
	title string
	width int
}{{"KIND", 7}, {"STATUS", 8}, {"PID", 7}, {"UPTIME", 6}, {"RST", 3}, {"EXIT", 4}, {"CPU", 6}, {"MEM", 6}}

// View renders the dashboard: a title line, the table, a rule with what
// the output shows, the output, and a footer naming the keys.
func (d Dashboard) View() string {
	var b strings.Builder
	b.Grow(2 * d.width * d.height) // room for the colour codes too: no growing
	rows := d.rows()
	tableRows := min(len(rows), max(3, (d.height-4)/2))
	b.WriteString(d.title())
	b.WriteByte('\n')
	d.table(&b, rows, tableRows)
	b.WriteString(d.rule())
	b.WriteByte('\n')
	if out := max(1, d.height-tableRows-4); d.help { // logRows, without rows() again
		d.helpText(&b, out)
	} else {
		d.output(&b, out)
	}
	b.WriteString(d.footer())
	return b.String()
}

// title is the first line: the project, the supervisor and a count of
// its tasks by status.
func (d *Dashboard) title() string {
	s := "procman"
	if d.opts.Title != "" {
		s += " · " + d.opts.Title
	}
	if d.ps == nil {
		return fit(s+" · connecting…", d.width)
	}
	counts := map[string]int{}
	var order []string
	for _, t := range d.ps.Tasks {
		if counts[t.Status] == 0 {
			order = append(order, t.Status)
		}
		counts[t.Status]++
	}
	s += fmt.Sprintf(" · pid %d ·", d.ps.PID)
	for _, st := range order {
		s += fmt.Sprintf(" %d %s", counts[st], st)
	}
	return d.style(fit(s, d.width), bold)
}

// table writes the header and n rows, scrolled to keep the selection in.
// A narrow terminal drops the columns on the right that do not fit.
func (d *Dashboard) table(b *strings.Builder, rows []row, n int) {
	nameW := 4
	for _, r := range rows {
		nameW = max(nameW, width(r.name)+2*b2i(r.indent))
	}
	nameW = min(nameW, max(8, d.width/4))
	cols, used := 0, nameW
	for _, c := range columns {
		if used+1+c.width > d.width {
			break
		}
		cols++
		used += 1 + c.width
	}
	head := pad("NAME", nameW)
	for _, c := range columns[:cols] {
		head += " " + pad(c.title, c.width)
	}
	b.WriteString(d.style(fit(head, d.width), bold))
	b.WriteByte('\n')
	first := max(0, min(d.sel-n+1, len(rows)-n))
	if d.sel < first {
		first = d.sel
	}
	for i := first; i < first+n && i < len(rows); i++ {
		b.WriteString(d.tableRow(rows[i], nameW, cols, used, i == d.sel))
		b.WriteByte('\n')
	}
}

// tableRow renders one row's first cols cells (used columns wide), then
// its flag in the space left.
func (d *Dashboard) tableRow(r row, nameW, cols, used int, selected bool) string {
	name := r.name
	if r.indent {
		name = "  " + name
	}
	cells := []string{pad(fit(name, nameW), nameW), pad(r.kind, 7), d.status(r.status, 8)}
	t := r.task
	pid, up, rst, exit, cpu, mem := "", "", "", "", "", ""
	if t != nil {
		pid, up, exit, cpu, mem = t.Cells(d.now)
		rst = strconv.Itoa(t.Restarts)
	}
	for i, v := range []string{pid, up, rst, exit, cpu, mem} {
		cells = append(cells, pad(orDash(v, t != nil), columns[i+2].width))
	}
	line := strings.Join(cells[:1+cols], " ")
	if f, ok := d.flags[r.name]; ok && d.now.Before(f.until) && d.width-used > 3 {
		text := " " + fit(f.text, d.width-used-1)
		if f.bad {
			line += d.style(text, red)
		} else {
			line += d.style(text, yellow)
		}
		used += width(text)
	}
	if selected {
		line += strings.Repeat(" ", max(0, d.width-used))
		return d.style(line, reverse)
	}
	return line
}

// status renders a status padded to w, coloured: ready and running green,
// starting, pending and backoff yellow, failed red, the rest grey.
func (d *Dashboard) status(s string, w int) string {
	code := grey
	switch {
	case s == "ready" || s == "running":
		code = green
	case s == "starting" || s == "pending" || s == "backoff":
		code = yellow
	case s == "failed":
		code = red
	case strings.HasSuffix(s, " up"):
		code = yellow
		if up, of, ok := strings.Cut(strings.TrimSuffix(s, " up"), "/"); ok && up == of {
			code = green
		}
	}
	return d.style(pad(s, w), code)
}

// rule is the line between the table and the output: what it shows.
func (d *Dashboard) rule() string {
	s := "── output of every task"
	if d.only != "" {
		s = "── output of " + d.only
	}
	switch {
	case d.editing:
		s += " · filter: " + d.filter + "▏"
	case d.filter != "":
		s += " · filter: " + d.filter
	}
	if d.scroll > 0 {
		s += fmt.Sprintf(" · %d lines back (G follows)", d.scroll)
	}
	if d.note != "" {
		s += " · " + d.note
	}
	s += " "
	return d.style(fit(s+strings.Repeat("─", max(0, d.width-width(s))), d.width), grey)
}

// logRows is how many rows the output has.
func (d *Dashboard) logRows() int {
	n := min(len(d.rows()), max(3, (d.height-4)/2))
	return max(1, d.height-n-4)
}

// shown is how many kept lines pass the task and filter.
func (d *Dashboard) shown() int {
	n := 0
	for _, l := range d.lines {
		if d.shows(l) {
			n++
		}
	}
	return n
}

// output writes the output's rows: the last lines that pass the task and
// filter, scroll rows above the bottom, each as up prints it.
func (d *Dashboard) output(b *strings.Builder, rows int) {
	picked := make([]control.Line, 0, rows)
	skip := d.scroll
	for i := len(d.lines) - 1; i >= 0 && len(picked) < rows; i-- {
		if !d.shows(d.lines[i]) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		picked = append(picked, d.lines[i])
	}
	nameW := 0
	for _, l := range picked {
		nameW = max(nameW, width(l.Task))
	}
	for i := 0; i < rows-len(picked); i++ {
		b.WriteByte('\n')
	}
	for i := len(picked) - 1; i >= 0; i-- {
		l := picked[i]
		prefix := pad(l.Task, nameW) + " | "
		text := fit(plain(l.Text), d.width-width(prefix))
		b.WriteString(d.style(prefix, palette[d.colors[taskOf(l.Task)]]) + text)
		b.WriteByte('\n')
	}
}

// taskOf is the task a line's name belongs to (web for web.2).
func taskOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			return name[:i]
		}
	}
	return name
}

// helpText writes the keys, in the output's rows.
func (d *Dashboard) helpText(b *strings.Builder, rows int) {
	lines := []string{
		"up/down, k/j   select a task",
		"enter          show only its output (again: every task's)",
		"r              restart it (a service with replicas: one after another)",
		"s              stop it, or start it when stopped",
		"/              filter the output by what a line holds; esc clears",
		"pgup/pgdown    scroll the output; G or end follows again",
		"?              this help (esc or ? closes it)",
		"q, ctrl+c      quit the dashboard",
	}
	if d.opts.QuitStops {
		lines[len(lines)-1] += ": stops every task, as Ctrl-C stops procman up"
	} else {
		lines[len(lines)-1] += ": the tasks go on"
	}
	for i := range rows {
		if i < len(lines) {
			b.WriteString(fit("  "+lines[i], d.width))
		}
		b.WriteByte('\n')
	}
}

// footer names the keys.
func (d *Dashboard) footer() string {
	s := "j/k move · enter only · r restart · s stop/start · / filter · ? help · q quit"
	if d.editing {
		s = "type to filter · enter keeps it · esc clears it"
	}
	return d.style(fit(s, d.width), grey)
}

// The SGR codes the dashboard uses.
const (
	bold    = "1"
	reverse = "7"
	red     = "31"
	green   = "32"
	yellow  = "33"
	grey    = "90"
)

// palette colours task names, as procman's prefixes do (cyan, yellow,
// green, magenta, blue, then their bright kin), by the order tasks appear.
var palette = []string{"36", "33", "32", "35", "34", "96", "93", "92", "95", "94"}

// style wraps s in an SGR code, when colours are on (bold and reverse
// video are kept without: they are not colours, and the selection needs
// one).
func (d *Dashboard) style(s, code string) string {
	if !d.opts.Color && code != bold && code != reverse {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func orDash(v string, real bool) string {
	if v == "" && real {
		return "-"
	}
	return v
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}
