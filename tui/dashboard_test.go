package tui

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/procman/procman/control"
)

// fakeSource is a Source that answers from memory and records the ops.
type fakeSource struct {
	mu  sync.Mutex
	ops []string
}

func (f *fakeSource) PS() (*control.PS, error) { return nil, nil }
func (f *fakeSource) Op(op, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, op+" "+name)
	return nil
}
func (f *fakeSource) Follow(int, func([]control.Line)) error       { return nil }
func (f *fakeSource) Watch(time.Duration, func(*control.PS)) error { return nil }

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// task makes a ps row.
func task(name, status string, pid int) control.Task {
	t := control.Task{Name: name, Task: name, Kind: "service", Status: status, Since: t0}
	if i := strings.IndexByte(name, '.'); i > 0 {
		t.Task = name[:i]
	}
	if pid > 0 {
		started := t0.Add(-90 * time.Second)
		t.PID, t.Started = &pid, &started
	}
	return t
}

// snapshot is a ps of a once task, a service and a replicated service.
func snapshot() *control.PS {
	setup := control.Task{Name: "setup", Task: "setup", Kind: "once", Status: "exited", Since: t0}
	return &control.PS{PID: 99, Tasks: []control.Task{
		setup, task("api", "ready", 11), task("web.1", "running", 12), task("web.2", "running", 13), task("db", "stopped", 0),
	}}
}

// feed runs msgs through Update from a dashboard with a snapshot, and
// returns the dashboard and the last Cmd.
func feed(t *testing.T, msgs ...Msg) (Dashboard, Cmd) {
	t.Helper()
	var m Model = New(&fakeSource{}, func(Msg) {}, Options{})
	m, _ = m.Update(SizeMsg{80, 24})
	m, _ = m.Update(psMsg{ps: snapshot(), at: t0})
	var cmd Cmd
	for _, msg := range msgs {
		m, cmd = m.Update(msg)
	}
	return m.(Dashboard), cmd
}

func keys(ks ...string) []Msg {
	var out []Msg
	for _, k := range ks {
		r := []rune(k)
		if len(r) == 1 {
			out = append(out, KeyMsg{Rune: r[0]})
		} else {
			out = append(out, KeyMsg{Name: k})
		}
	}
	return out
}

func TestUpdate_Keys(t *testing.T) {
	tests := []struct {
		name  string
		keys  []string
		check func(t *testing.T, d Dashboard, cmd Cmd)
	}{
		{"rows: a replicated service over its replicas", nil, func(t *testing.T, d Dashboard, _ Cmd) {
			var names []string
			for _, r := range d.rows() {
				names = append(names, r.name+":"+r.status)
			}
			want := []string{"setup:exited", "api:ready", "web:2/2 up", "web.1:running", "web.2:running", "db:stopped"}
			if !slices.Equal(names, want) {
				t.Errorf("rows %q, want %q", names, want)
			}
		}},
		{"down stops at the last row", []string{"j", "down", "j", "j", "j", "j", "j"}, func(t *testing.T, d Dashboard, _ Cmd) {
			if d.sel != 5 {
				t.Errorf("sel %d, want 5", d.sel)
			}
		}},
		{"up stops at the first row", []string{"j", "k", "up", "up"}, func(t *testing.T, d Dashboard, _ Cmd) {
			if d.sel != 0 {
				t.Errorf("sel %d, want 0", d.sel)
			}
		}},
		{"enter shows only the selected task, again shows all", []string{"j", "enter"}, func(t *testing.T, d Dashboard, _ Cmd) {
			if d.only != "api" {
				t.Errorf("only %q, want api", d.only)
			}
			d2, _ := d.Update(KeyMsg{Name: "enter"})
			if d2.(Dashboard).only != "" {
				t.Errorf("enter again: only %q, want every task", d2.(Dashboard).only)
			}
		}},
		{"r restarts the selected row", []string{"j", "r"}, func(t *testing.T, d Dashboard, cmd Cmd) {
			if d.note != "restarting api…" || cmd == nil {
				t.Fatalf("note %q, cmd %v", d.note, cmd)
			}
			if got := cmd(); got != (opDone{op: "restart", name: "api"}) {
				t.Errorf("cmd gave %#v", got)
			}
		}},
		{"r on a replicated service restarts the service", []string{"j", "j", "r"}, func(t *testing.T, d Dashboard, cmd Cmd) {
			if got := cmd(); got != (opDone{op: "restart", name: "web"}) {
				t.Errorf("cmd gave %#v", got)
			}
		}},
		{"s stops a running service", []string{"j", "j", "j", "s"}, func(t *testing.T, d Dashboard, cmd Cmd) {
			if got := cmd(); got != (opDone{op: "stop", name: "web.1"}) {
				t.Errorf("cmd gave %#v", got)
			}
		}},
		{"s starts a stopped one", []string{"G", "j", "j", "j", "j", "j", "s"}, func(t *testing.T, d Dashboard, cmd Cmd) {
			if got := cmd(); got != (opDone{op: "start", name: "db"}) {
				t.Errorf("cmd gave %#v", got)
			}
		}},
		{"s on a once task says no", []string{"s"}, func(t *testing.T, d Dashboard, cmd Cmd) {
			if cmd != nil || !strings.Contains(d.note, "setup is not a service") {
				t.Errorf("note %q, cmd %v", d.note, cmd)
			}
		}},
		{"/ types a filter; backspace; enter keeps it", []string{"/", "e", "r", "x", "backspace", "r", "enter"}, func(t *testing.T, d Dashboard, _ Cmd) {
			if d.filter != "err" || d.editing {
				t.Errorf("filter %q editing %v", d.filter, d.editing)
			}
		}},
		{"esc clears the filter", []string{"/", "a", "enter", "esc"}, func(t *testing.T, d Dashboard, _ Cmd) {
			if d.filter != "" {
				t.Errorf("filter %q", d.filter)
			}
		}},
		{"keys while filtering are text", []string{"/", "q", "r", "j"}, func(t *testing.T, d Dashboard, cmd Cmd) {
			if d.filter != "qrj" || cmd != nil || d.sel != 0 {
				t.Errorf("filter %q, cmd %v, sel %d", d.filter, cmd, d.sel)
			}
		}},
		{"? shows the help, esc closes it", []string{"?"}, func(t *testing.T, d Dashboard, _ Cmd) {
			if !d.help || !strings.Contains(d.View(), "show only its output") {
				t.Errorf("help %v", d.help)
			}
			d2, _ := d.Update(KeyMsg{Name: "esc"})
			if d2.(Dashboard).help {
				t.Error("esc left the help open")
			}
		}},
		{"q quits", []string{"q"}, func(t *testing.T, d Dashboard, cmd Cmd) {
			if cmd == nil || cmd() != (quitMsg{}) || d.Interrupted() {
				t.Errorf("q did not quit, or was taken for Ctrl-C (%v)", d.Interrupted())
			}
		}},
		{"ctrl+c quits, interrupted", []string{"ctrl+c"}, func(t *testing.T, d Dashboard, cmd Cmd) {
			if cmd == nil || cmd() != (quitMsg{}) || !d.Interrupted() {
				t.Errorf("ctrl+c did not quit as an interrupt (%v)", d.Interrupted())
			}
		}},
		{"ctrl+c interrupts while typing a filter too", []string{"/", "e", "ctrl+c"}, func(t *testing.T, d Dashboard, cmd Cmd) {
			if cmd == nil || cmd() != (quitMsg{}) || !d.Interrupted() {
				t.Errorf("ctrl+c in the filter did not quit as an interrupt (%v)", d.Interrupted())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, cmd := feed(t, keys(tt.keys...)...)
			tt.check(t, d, cmd)
		})
	}
}

// lines makes n lines of task, numbered from first.
func lines(task string, first, n int) linesMsg {
	var out linesMsg
	for i := range n {
		out = append(out, control.Line{Task: task, Text: fmt.Sprintf("line %d", first+i), Time: t0})
	}
	return out
}

func TestUpdate_Output(t *testing.T) {
	d, _ := feed(t, lines("api", 1, 100), lines("web.1", 1, 10))
	if got := d.shown(); got != 110 {
		t.Fatalf("shown %d, want 110", got)
	}
	// scrolled back, new lines do not move what shows
	d2, _ := d.Update(KeyMsg{Name: "pgup"})
	back := d2.(Dashboard).scroll
	d3, _ := d2.Update(lines("api", 101, 5))
	if got := d3.(Dashboard).scroll; got != back+5 || back == 0 {
		t.Errorf("scroll %d after 5 lines, was %d", got, back)
	}
	d4, _ := d3.Update(KeyMsg{Rune: 'G'})
	if d4.(Dashboard).scroll != 0 {
		t.Error("G did not follow again")
	}
	// only a replicated service shows all its replicas
	d5, _ := feed(t, lines("web.1", 1, 3), lines("web.2", 1, 3), lines("api", 1, 3), KeyMsg{Rune: 'j'}, KeyMsg{Rune: 'j'}, KeyMsg{Name: "enter"})
	if d5.only != "web" || d5.shown() != 6 {
		t.Errorf("only %q shows %d lines, want web and 6", d5.only, d5.shown())
	}
	// the filter matches any case
	d6, _ := feed(t, linesMsg{{Task: "api", Text: "GET /health 200"}, {Task: "api", Text: "ERROR db down"}}, KeyMsg{Rune: '/'}, KeyMsg{Rune: 'e'}, KeyMsg{Rune: 'r'}, KeyMsg{Rune: 'r'})
	if d6.shown() != 1 {
		t.Errorf("filter err shows %d lines, want 1", d6.shown())
	}
	// at most maxLines are kept
	d7, _ := feed(t, lines("api", 1, maxLines), lines("api", maxLines+1, 10))
	if len(d7.lines) != maxLines || d7.lines[0].Text != "line 11" {
		t.Errorf("kept %d lines from %q", len(d7.lines), d7.lines[0].Text)
	}
}

func TestUpdate_FlagsFailuresAndRestarts(t *testing.T) {
	next := snapshot()
	next.Tasks[1].Status, next.Tasks[1].Reason, next.Tasks[1].Since = "backoff", "exited with code 1", t0.Add(time.Second)
	next.Tasks[2].Reason, next.Tasks[2].Since = "3 files changed: a.go, b.go, c.go", t0.Add(time.Second)
	d, _ := feed(t, psMsg{ps: next, at: t0.Add(time.Second)})
	view := d.View()
	for _, want := range []string{"exit 1", "3 files changed"} {
		if !strings.Contains(view, want) {
			t.Errorf("view lacks the flag %q:\n%s", want, view)
		}
	}
	if strings.Contains(view, "a.go") {
		t.Errorf("a flag names files:\n%s", view)
	}
	later, _ := d.Update(psMsg{ps: next, at: t0.Add(flagFor + 2*time.Second)})
	if v := later.View(); strings.Contains(v, "exit 1") || strings.Contains(v, "files changed") {
		t.Errorf("flags still shown after %v:\n%s", flagFor, v)
	}
}

func TestUpdate_SupervisorGone(t *testing.T) {
	d, cmd := feed(t, streamDone{})
	if cmd == nil || cmd() != (quitMsg{}) || d.Gone() != "the supervisor stopped" {
		t.Errorf("gone %q", d.Gone())
	}
}

func TestView_FitsTheTerminal(t *testing.T) {
	for _, size := range []SizeMsg{{80, 24}, {120, 40}, {40, 12}} {
		t.Run(fmt.Sprintf("%dx%d", size.Width, size.Height), func(t *testing.T) {
			long := linesMsg{{Task: "api", Text: strings.Repeat("wide 漢字 text ", 30)}, {Task: "api", Text: "\x1b[31mred\x1b[0m\ttabbed"}}
			d, _ := feed(t, size, long, lines("web.2", 1, 50))
			rows := strings.Split(d.View(), "\n")
			if len(rows) != size.Height {
				t.Errorf("%d rows, want %d", len(rows), size.Height)
			}
			for i, r := range rows {
				if w := width(stripSGR(r)); w > size.Width {
					t.Errorf("row %d is %d wide: %q", i, w, r)
				}
			}
			if !strings.Contains(d.View(), "web.2 | line 50\n") && size.Width >= 80 {
				t.Errorf("the newest line is not at the bottom:\n%s", d.View())
			}
		})
	}
}

func TestView_Colours(t *testing.T) {
	var m Model = New(&fakeSource{}, func(Msg) {}, Options{Color: true})
	m, _ = m.Update(psMsg{ps: snapshot(), at: t0})
	if v := m.View(); !strings.Contains(v, "\x1b[32mready") || !strings.Contains(v, "\x1b[90mstopped") {
		t.Errorf("statuses not coloured:\n%q", v)
	}
	plain, _ := feed(t)
	if v := plain.View(); strings.Contains(v, "\x1b[3") || strings.Contains(v, "\x1b[9") {
		t.Errorf("colours without Color:\n%q", v)
	}
}

// stripSGR drops colour codes.
func stripSGR(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			i += escapeSkip(s[i:]) - 1
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestDecodeKeys(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"jk", []string{"j", "k"}},
		{"\x1b[A\x1b[B", []string{"up", "down"}},
		{"\x1bOA", []string{"up"}},
		{"\x1b[5~\x1b[6~", []string{"pgup", "pgdown"}},
		{"\x1b[F\x1b[4~", []string{"end", "end"}},
		{"\x1b", []string{"esc"}},
		{"\r\x03\x7f", []string{"enter", "ctrl+c", "backspace"}},
		{"é/?", []string{"é", "/", "?"}},
		{"\x1b[200~", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, k := range decodeKeys([]byte(tt.in)) {
			got = append(got, k.String())
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("decodeKeys(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestText(t *testing.T) {
	if got := fit("hello world", 6); got != "hello…" {
		t.Errorf("fit = %q", got)
	}
	if got := width("漢字ab"); got != 6 {
		t.Errorf("width = %d", got)
	}
	if got := plain("\x1b[1;31mred\x1b[0m\tx\x07"); got != "red    x" {
		t.Errorf("plain = %q", got)
	}
}
