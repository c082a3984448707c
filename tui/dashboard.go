package tui

import (
	"errors"
	"strings"
	"time"

	"github.com/procman/procman/control"
)

// Source is the supervisor the dashboard shows: procman's control client,
// or a fake in tests. Its methods block; the dashboard calls them from its
// Cmds only.
type Source interface {
	// PS returns the supervisor's tasks, live.
	PS() (*control.PS, error)
	// Watch hands each the supervisor's tasks now and then every every,
	// until the supervisor stops (then it returns nil) or fails.
	Watch(every time.Duration, each func(*control.PS)) error
	// Op asks for restart, stop or start of a task or replica.
	Op(op, name string) error
	// Follow hands batch the last n lines of every task, then the new
	// ones, in batches a frame or more apart, until the supervisor stops
	// (then it returns nil) or fails.
	Follow(n int, batch func([]control.Line)) error
}

// Options shape a dashboard.
type Options struct {
	Color bool   // colour statuses and names
	Title string // the project, for the title line
	// QuitStops says that q stops the supervisor too (procman up --tui):
	// the footer says so.
	QuitStops bool
}

// Limits of what the dashboard keeps and shows.
const (
	maxLines  = 10000            // output lines kept
	flagFor   = 5 * time.Second  // how long a failure or restart stays flagged on its row
	pollEvery = time.Second      // ps refresh (and uptimes)
	history   = maxLines         // lines asked for when the dashboard opens
	opTimeout = 30 * time.Second // a restart that takes longer is reported as still going
)

// Dashboard is the model of procman's dashboard. Update treats it as a
// value: it returns the next one, and may reuse this one's slices and
// maps, so a model handed to Update is not used again.
type Dashboard struct {
	src  Source
	send func(Msg) // for the log stream's batches
	opts Options

	width, height int
	now           time.Time
	ps            *control.PS
	lines         []control.Line // the last maxLines lines, oldest first
	sel           int            // the selected row
	only          string         // show this task's output ("": every task)
	filter        string         // show lines holding this (any case)
	editing       bool           // typing the filter
	scroll        int            // rows of output above the bottom shown (0: following)
	help          bool           // the key help instead of the output
	note          string         // the status line: what the last key did
	flags         map[string]flag
	since         map[string]time.Time // each row's last transition seen
	colors        map[string]int       // task name -> palette index
	gone          string               // why the supervisor went away
	interrupted   bool                 // the user quit with Ctrl-C
}

// flag marks a row for a while: a failure or a restart, and why.
type flag struct {
	text  string
	bad   bool // a failure (red) rather than a restart
	until time.Time
}

// New returns the dashboard of src. send hands messages to the program
// that runs it (Program.Send), for the lines of the output stream.
func New(src Source, send func(Msg), opts Options) Dashboard {
	return Dashboard{src: src, send: send, opts: opts, width: 80, height: 24,
		flags: map[string]flag{}, since: map[string]time.Time{}, colors: map[string]int{}}
}

// The messages the dashboard's Cmds bring back.
type (
	psMsg struct {
		ps  *control.PS
		err error
		at  time.Time
	}
	linesMsg   []control.Line
	streamDone struct{ err error } // the output or the ps stream ended
	opDone     struct {
		op, name string
		err      error
	}
)

// Init is the work the dashboard starts with: the output, and a ps a
// second.
func (d Dashboard) Init() Cmd {
	return Batch(d.follow(), d.watch())
}

// Gone says why the dashboard ended on its own, "" when the user quit.
func (d Dashboard) Gone() string { return d.gone }

// Interrupted says that the user quit with Ctrl-C, not q: procman exits
// 130 then, as when Ctrl-C interrupts any command.
func (d Dashboard) Interrupted() bool { return d.interrupted }

// Update is the next dashboard after msg, and the work to do.
func (d Dashboard) Update(msg Msg) (Model, Cmd) {
	switch msg := msg.(type) {
	case SizeMsg:
		d.width, d.height = max(msg.Width, 20), max(msg.Height, 8)
	case psMsg:
		return d.gotPS(msg)
	case linesMsg:
		d.addLines(msg)
	case streamDone:
		d.gone = "the supervisor stopped"
		if msg.err != nil {
			d.gone = "lost the supervisor: " + msg.err.Error()
		}
		return d, Quit
	case opDone:
		d.note = doneNote(msg)
		return d, d.poll() // the table shows what it did at once
	case KeyMsg:
		return d.key(msg.String())
	}
	return d, nil
}

// gotPS takes a ps snapshot: rows, and flags for the rows whose status
// changed to a failure or because of a restart.
func (d Dashboard) gotPS(msg psMsg) (Model, Cmd) {
	if msg.err != nil {
		if errors.Is(msg.err, control.ErrNoSupervisor) {
			d.gone = "the supervisor stopped"
			return d, Quit
		}
		d.note = "ps: " + msg.err.Error()
		return d, nil
	}
	d.now, d.ps = msg.at, msg.ps
	for _, t := range msg.ps.Tasks {
		if _, ok := d.colors[t.Task]; !ok {
			d.colors[t.Task] = len(d.colors) % len(palette)
		}
		last, seen := d.since[t.Name]
		d.since[t.Name] = t.Since
		if !seen || !t.Since.After(last) {
			continue
		}
		switch old := d.flags[t.Name]; {
		case t.Status == "failed" || t.Status == "backoff":
			d.flags[t.Name] = flag{text: shortReason(t.Reason), bad: true, until: d.now.Add(flagFor)}
		case old.bad && d.now.Before(old.until):
			// a failure stays flagged over the restart that follows it
		case strings.Contains(t.Reason, "changed") || strings.Contains(t.Reason, "ran again") || strings.Contains(t.Reason, "restart"):
			d.flags[t.Name] = flag{text: shortReason(t.Reason), until: d.now.Add(flagFor)}
		}
	}
	d.sel = min(d.sel, max(0, len(d.rows())-1))
	return d, nil
}

// shortReason is a reason as a row's flag says it: "exit 1" for "exited
// with code 1", "3 files changed" without the file names.
func shortReason(r string) string {
	if code, ok := strings.CutPrefix(r, "exited with code "); ok {
		return "exit " + code
	}
	if i := strings.Index(r, " changed:"); i >= 0 {
		return r[:i+len(" changed")]
	}
	return r
}

// addLines appends output lines, keeping the last maxLines; when scrolled
// back, the view stays on the lines it shows.
func (d *Dashboard) addLines(lines []control.Line) {
	if d.scroll > 0 {
		for _, l := range lines {
			if d.shows(l) {
				d.scroll++
			}
		}
	}
	// The oldest lines are sliced off, not moved: the kept ones are
	// copied to a new array with room for maxLines more once the room is
	// used, not on every batch.
	if len(d.lines)+len(lines) > cap(d.lines) {
		grown := make([]control.Line, len(d.lines), len(d.lines)+len(lines)+maxLines)
		copy(grown, d.lines)
		d.lines = grown
	}
	d.lines = append(d.lines, lines...)
	if extra := len(d.lines) - maxLines; extra > 0 {
		clear(d.lines[:extra]) // their texts may go
		d.lines = d.lines[extra:]
	}
}

// shows reports whether line l passes the dashboard's task and filter.
func (d *Dashboard) shows(l control.Line) bool {
	if d.only != "" && l.Task != d.only && !strings.HasPrefix(l.Task, d.only+".") {
		return false
	}
	return d.filter == "" || strings.Contains(strings.ToLower(l.Text), strings.ToLower(d.filter))
}

// doneNote says how an operation went.
func doneNote(m opDone) string {
	if m.err != nil {
		return m.op + " " + m.name + ": " + m.err.Error()
	}
	past := map[string]string{"restart": "restarted", "stop": "stopped", "start": "started"}[m.op]
	return m.name + " " + past
}

// key acts on a key press.
func (d Dashboard) key(k string) (Model, Cmd) {
	if k == "ctrl+c" { // in raw mode the terminal sends no SIGINT: this is it
		d.interrupted = true
		return d, Quit
	}
	if d.editing {
		return d.editKey(k), nil
	}
	rows := d.rows()
	switch k {
	case "q":
		return d, Quit
	case "up", "k":
		d.sel = max(0, d.sel-1)
	case "down", "j":
		d.sel = min(max(0, len(rows)-1), d.sel+1)
	case "enter":
		if len(rows) > 0 {
			if name := rows[d.sel].name; d.only == name {
				d.only = ""
			} else {
				d.only = name
			}
			d.scroll = 0
		}
	case "r":
		if len(rows) > 0 {
			return d.op("restart", rows[d.sel].name)
		}
	case "s":
		if len(rows) > 0 {
			r := rows[d.sel]
			if r.kind != "service" {
				d.note = r.name + " is not a service: only services stop and start"
				return d, nil
			}
			if r.status == "stopped" {
				return d.op("start", r.name)
			}
			return d.op("stop", r.name)
		}
	case "/":
		d.editing, d.filter = true, ""
	case "esc":
		d.filter, d.help = "", false
	case "pgup":
		d.scroll = min(d.scroll+d.logRows(), max(0, d.shown()-d.logRows()))
	case "pgdown":
		d.scroll = max(0, d.scroll-d.logRows())
	case "G", "end":
		d.scroll = 0
	case "?":
		d.help = !d.help
	}
	return d, nil
}

// editKey edits the filter: characters add, backspace takes back, enter
// keeps it, esc clears it.
func (d Dashboard) editKey(k string) Dashboard {
	switch k {
	case "enter":
		d.editing = false
	case "esc":
		d.editing, d.filter = false, ""
	case "backspace":
		if r := []rune(d.filter); len(r) > 0 {
			d.filter = string(r[:len(r)-1])
		}
	case "ctrl+u":
		d.filter = ""
	default:
		if r := []rune(k); len(r) == 1 && r[0] >= ' ' {
			d.filter += k
		}
	}
	d.scroll = 0
	return d
}

// op starts an operation on a task, and says so.
func (d Dashboard) op(op, name string) (Model, Cmd) {
	d.note = map[string]string{"restart": "restarting ", "stop": "stopping ", "start": "starting "}[op] + name + "…"
	src := d.src
	return d, func() Msg { return opDone{op: op, name: name, err: src.Op(op, name)} }
}

// poll is the Cmd that takes a ps snapshot.
func (d Dashboard) poll() Cmd {
	src := d.src
	return func() Msg {
		ps, err := src.PS()
		return psMsg{ps: ps, err: err, at: time.Now()}
	}
}

// follow is the Cmd that streams the output to the program, in batches
// a frame or more apart (the source has them coalesced), whatever the
// tasks print.
func (d Dashboard) follow() Cmd {
	src, send := d.src, d.send
	return func() Msg {
		return streamDone{err: src.Follow(history, func(lines []control.Line) { send(linesMsg(lines)) })}
	}
}

// watch is the Cmd that streams a ps a second to the program, for the
// table and its uptimes. The supervisor sends them: the dashboard has no
// clock of its own, and a second costs it one message and one frame.
func (d Dashboard) watch() Cmd {
	src, send := d.src, d.send
	return func() Msg {
		return streamDone{err: src.Watch(pollEvery, func(ps *control.PS) { send(psMsg{ps: ps, at: time.Now()}) })}
	}
}
