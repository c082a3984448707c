package runner

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fatih/color"

	"github.com/procman/procman/runner/lines"
	"github.com/procman/procman/runner/logs"
	"github.com/procman/procman/tasks"
)

// maxLine is the longest piece of a line written as one prefixed line; a
// longer line is cut into pieces of this size, never dropped.
const maxLine = 64 * 1024

// OutputOptions say how task output is shown.
type OutputOptions struct {
	Color      bool  // colour the prefixes
	NoPrefix   bool  // print lines bare
	Timestamps bool  // put a wall-clock time before every line
	Level      Level // the least important procman message shown
	Now        func() time.Time
	// Messages, when not nil, gets procman's own messages instead of
	// stderr: a detached supervisor's log file, while task lines go to
	// its log book only.
	Messages io.Writer
}

// Output multiplexes the output of many tasks onto procman's stdout and
// stderr as "NAME | line". Each write holds whole lines only, so lines from
// different tasks never mix.
type Output struct {
	mu     sync.Mutex  // serialises writes to stdout
	errMu  *sync.Mutex // to stderr (and procman's messages): &mu when they are the same file
	stdout io.Writer
	stderr io.Writer
	opts   OutputOptions

	book  atomic.Pointer[logs.Book] // where task lines are kept too, if anywhere
	files sync.Pool                 // of *[]byte: a chunk's lines as its log file gets them

	pmu      sync.RWMutex               // guards colors, prefixes and width
	colors   map[string]color.Attribute // per task, stable by sorted name
	prefixes map[string][]byte          // "name   | " per task, coloured
	width    int                        // names are padded to this width
}

// palette holds the task colours, handed out in name order.
var palette = []color.Attribute{
	color.FgCyan, color.FgYellow, color.FgGreen, color.FgMagenta, color.FgBlue,
	color.FgHiCyan, color.FgHiYellow, color.FgHiGreen, color.FgHiMagenta, color.FgHiBlue,
}

// NewOutput returns an Output writing to stdout and stderr.
func NewOutput(stdout, stderr io.Writer, opts OutputOptions) *Output {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	o := &Output{stdout: stdout, stderr: stderr, opts: opts}
	o.errMu = &o.mu
	if !sameFile(stdout, stderr) {
		// A stdout that blocks (a paused pager, a reader that stopped)
		// must not hold up procman's messages and its stopping, on a
		// terminal of their own.
		o.errMu = new(sync.Mutex)
	}
	o.files.New = func() any { return new([]byte) }
	o.SetNames(nil)
	return o
}

// sameFile reports whether a and b may write to the same file: lines to
// both then take one lock, so that none is cut by the other's (a pipe
// mixes writes of over 4 KiB). Writers that are not files count as the
// same.
func sameFile(a, b io.Writer) bool {
	fa, ok1 := a.(*os.File)
	fb, ok2 := b.(*os.File)
	if !ok1 || !ok2 {
		return true
	}
	sa, err1 := fa.Stat()
	sb, err2 := fb.Stat()
	return err1 != nil || err2 != nil || os.SameFile(sa, sb)
}

// SetNames fixes the prefix of every task: colours stable by sorted name
// (pass every task of the config, so that a task keeps its colour whatever
// is run), names padded to the longest of them. A replica's name, NAME.i,
// takes NAME's colour, and among names takes none of its own when NAME is
// there too. Pad narrows the padding to the names of one run.
func (o *Output) SetNames(names []string) {
	sorted := slices.Compact(slices.Sorted(slices.Values(names)))
	o.pmu.Lock()
	defer o.pmu.Unlock()
	o.colors = make(map[string]color.Attribute, len(sorted))
	i := 0
	for _, n := range sorted {
		if base, _, ok := tasks.SplitReplica(n); ok {
			if _, found := slices.BinarySearch(sorted, base); found {
				continue
			}
		}
		o.colors[n] = palette[i%len(palette)]
		i++
	}
	for _, n := range sorted { // NAME sorts before NAME.i
		if c, ok := o.colorOf(n); ok {
			o.colors[n] = c
		}
	}
	o.padTo(sorted)
}

// Pad pads the prefixes to the longest of names: those that print in this
// run, replicas (NAME.i) included. A name that is longer and comes later
// (procman scale web=10 adds web.10) is padded to its own length; the
// others keep theirs.
func (o *Output) Pad(names []string) {
	o.pmu.Lock()
	defer o.pmu.Unlock()
	o.padTo(names)
}

// colorOf returns the colour of name: its own, or for a replica NAME.i
// NAME's; ok is false when there is neither. pmu is held.
func (o *Output) colorOf(name string) (c color.Attribute, ok bool) {
	if c, ok = o.colors[name]; ok {
		return c, true
	}
	if base, _, split := tasks.SplitReplica(name); split {
		c, ok = o.colors[base]
	}
	return c, ok
}

// padTo makes the prefixes for width max(len(names)), of every name with
// a colour and every replica among names; pmu is held.
func (o *Output) padTo(names []string) {
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	o.prefixes = make(map[string][]byte, len(o.colors)+1)
	for n, c := range o.colors {
		o.prefixes[n] = o.makePrefix(n, max(width, len(n)), c)
	}
	for _, n := range names {
		if c, ok := o.colorOf(n); ok && o.prefixes[n] == nil {
			o.prefixes[n] = o.makePrefix(n, max(width, len(n)), c)
		}
	}
	o.prefixes["procman"] = o.makePrefix("procman", max(width, len("procman")), color.Bold)
	o.width = width
}

func (o *Output) makePrefix(name string, width int, attr color.Attribute) []byte {
	if o.opts.NoPrefix {
		return nil
	}
	p := name + strings.Repeat(" ", width-len(name)) + " | "
	if o.opts.Color {
		c := color.New(attr)
		c.EnableColor()
		p = c.Sprint(name+strings.Repeat(" ", width-len(name))+" |") + " "
	}
	return []byte(p)
}

// SetMessages sends procman's own messages to w from now on (nil:
// stderr): procman up --tui keeps them off the dashboard's screen.
func (o *Output) SetMessages(w io.Writer) {
	o.errMu.Lock()
	o.opts.Messages = w
	o.errMu.Unlock()
}

// Keep makes every task line from now on go to book too (nil: nowhere):
// its file and tail of each task, for procman logs.
func (o *Output) Keep(book *logs.Book) { o.book.Store(book) }

// prefix returns the prefix for name, making one for a name SetNames and
// Pad did not know: a replica that procman scale added (coloured as its
// task), or another name (not coloured).
func (o *Output) prefix(name string) []byte {
	o.pmu.RLock()
	p, ok := o.prefixes[name]
	w := o.width
	c, _ := o.colorOf(name) // color.Reset when it has none
	o.pmu.RUnlock()
	if ok {
		return p
	}
	return o.makePrefix(name, max(w, len(name)), c)
}

// stamp returns the timestamp put before each line, or nil.
func (o *Output) stamp() []byte {
	if !o.opts.Timestamps {
		return nil
	}
	return stampOf(o.opts.Now())
}

// stampOf is the timestamp of a line read at t.
func stampOf(t time.Time) []byte { return t.AppendFormat(nil, "15:04:05.000 ") }

// Line writes one line that task name printed at t, prefixed as the task's
// own output is, to stdout: for procman logs, which shows what the tasks
// printed as up showed it.
func (o *Output) Line(name string, t time.Time, text []byte) {
	var out []byte
	if o.opts.Timestamps {
		out = stampOf(t)
	}
	out = append(out, o.prefix(name)...)
	out = append(out, text...)
	o.write(false, append(out, '\n'))
}

// write writes b, which holds whole lines, to the chosen stream at once.
func (o *Output) write(toErr bool, b []byte) {
	w, mu := o.stdout, &o.mu
	if toErr {
		w, mu = o.stderr, o.errMu
	}
	mu.Lock()
	_, _ = w.Write(b) // a closed terminal must not stop the tasks
	mu.Unlock()
}

// Copy reads r until EOF or error and writes every line to stdout (or
// stderr when toErr), prefixed with name, and to the log book when there
// is one. Lines over 64 KiB are cut into pieces; a last line without a
// newline is written with one. onLine, when not nil, sees each line
// (without its newline) before it is written.
func (o *Output) Copy(name string, toErr bool, r io.Reader, onLine func([]byte)) {
	pre := o.prefix(name)
	buf := make([]byte, maxLine)
	var out []byte
	var stamp [40]byte
	n := 0 // bytes of buf holding an unfinished line
	for {
		m, err := r.Read(buf[n:])
		n += m
		// Everything up to the last newline goes out in one write; a full
		// buffer without a newline goes out as one piece.
		end := bytes.LastIndexByte(buf[:n], '\n') + 1
		if end == 0 && (n == len(buf) || (err != nil && n > 0)) {
			end = n
		}
		if end > 0 {
			chunk := buf[:end]
			eachLine(chunk, onLine)
			if book := o.book.Load(); book != nil {
				// The terminal's lines and the file's made in one pass.
				at, fpre := book.Stamp(stamp[:0])
				file := o.files.Get().(*[]byte)
				var k int
				out, *file, k = lines.AppendBoth(out[:0], o.linePrefix(pre), (*file)[:0], fpre, chunk)
				o.write(toErr, out)
				book.WriteMade(name, toErr, at, chunk, *file, k)
				o.files.Put(file)
			} else {
				out, _ = lines.AppendPrefixed(out[:0], o.linePrefix(pre), chunk)
				o.write(toErr, out)
			}
			n = copy(buf, buf[end:n])
		}
		if err != nil {
			return
		}
	}
}

// eachLine calls onLine, when not nil, with each line of chunk.
func eachLine(chunk []byte, onLine func([]byte)) {
	if onLine == nil {
		return
	}
	for rest := chunk; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		onLine(line)
	}
}

// linePrefix is what goes before each line: the timestamp when asked,
// then pre.
func (o *Output) linePrefix(pre []byte) []byte {
	if ts := o.stamp(); ts != nil {
		return append(ts, pre...)
	}
	return pre
}

// appendLines appends the lines of text to out, each with the prefix (and
// timestamp) and a newline.
func (o *Output) appendLines(out, pre, text []byte) []byte {
	out, _ = lines.AppendPrefixed(out, o.linePrefix(pre), text)
	return out
}

// Logf writes one procman message to stderr as "procman | message" when
// level is at least the configured level.
func (o *Output) Logf(level Level, format string, args ...any) {
	if level < o.opts.Level {
		return
	}
	msg := fmt.Sprintf(format, args...)
	var out []byte
	out = o.appendLines(out, o.prefix("procman"), []byte(strings.TrimSuffix(msg, "\n")))
	o.errMu.Lock()
	defer o.errMu.Unlock()
	w := o.opts.Messages
	if w == nil {
		w = o.stderr
	}
	_, _ = w.Write(out)
}

// Printf writes one procman message to stdout, prefixed like Logf but
// regardless of the level: for output the user asked for, such as a plan.
func (o *Output) Printf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	o.write(false, o.appendLines(nil, o.prefix("procman"), []byte(strings.TrimSuffix(msg, "\n"))))
}
