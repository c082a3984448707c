// Package logs keeps what a supervisor's tasks print: a file per task under
// .procman/logs, each line after the time it was read, rotated at 10 MiB,
// so that `procman logs` works after procman is gone; and an in-memory
// tail per task, numbered across tasks in the order the lines were read,
// that `procman logs` reads and follows while the supervisor runs.
package logs

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/procman/procman/runner/lines"
)

// Dir is the folder of the log files, inside procman's .procman folder.
const Dir = "logs"

// MaxFile is the size past which a task's log file is rotated: TASK.log
// becomes TASK.log.1 (replacing the one before) and a new TASK.log starts.
const MaxFile = 10 << 20

// TimeFormat is the time before each line of a log file: RFC 3339 with
// milliseconds, in UTC.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// Line is one line a task printed.
type Line struct {
	Seq    uint64    // its place among every task's lines, from 1; 0 when read from a file
	Task   string    // the task that printed it
	Time   time.Time // when procman read it
	Stderr bool      // printed on stderr (unknown, false, when read from a file)
	Text   []byte    // the line, without its newline
}

// Book is the logs of one supervisor. Its methods are safe for concurrent
// use; WriteMade is on the path of every line a task prints, and allocates
// nothing while no one follows.
type Book struct {
	dir string           // .procman/logs
	now func() time.Time // the clock of the lines

	freeing sync.WaitGroup // rotated-away files being closed (rotate)

	mu     sync.Mutex
	closed bool                // Close was called
	noTail bool                // keep files only (DropTails)
	seq    uint64              // lines written so far
	tasks  map[string]*taskLog // by task name
	subs   map[*Follower]bool  // who follows

	errMu  sync.Mutex
	errs   map[string]bool      // tasks whose file failed, reported once
	report func(string, ...any) // where file errors go
}

// taskLog is one task's file and tail. Its file is written under fileMu,
// its tail under the book's mu.
type taskLog struct {
	fileMu sync.Mutex
	file   *os.File // TASK.log, appended to; nil when it could not be opened
	size   int64    // its size
	tail   ring     // its last lines
}

// Open returns the book of the project whose .procman folder is stateDir,
// creating stateDir/logs (mode 0700) when needed. report receives file
// errors (nil: dropped); now is the clock (nil: time.Now).
func Open(stateDir string, now func() time.Time, report func(format string, args ...any)) (*Book, error) {
	dir := filepath.Join(stateDir, Dir)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("logs: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	if report == nil {
		report = func(string, ...any) {}
	}
	b := &Book{dir: dir, now: now, tasks: map[string]*taskLog{}, subs: map[*Follower]bool{}, errs: map[string]bool{}, report: report}
	return b, nil
}

// Path returns the log file of task.
func Path(stateDir, task string) string { return filepath.Join(stateDir, Dir, task+".log") }

// Write records chunk, one or more lines that task printed: each ends with
// a newline, but the last may lack it (a piece of a line too long to hold,
// or the last line before the task ended), and is a whole line all the
// same. Its lines go to the task's file, each after the time it was read;
// the chunk to the task's tail, and to the followers. It returns once the
// file has them, and keeps nothing of chunk. A task's copier does not
// call it: it makes the file's lines with the terminal's, and hands them
// to WriteMade.
func (b *Book) Write(task string, stderr bool, chunk []byte) {
	if len(chunk) == 0 {
		return
	}
	var stamp [40]byte
	at, pre := b.Stamp(stamp[:0])
	file, n := lines.AppendPrefixed(nil, pre, chunk)
	b.WriteMade(task, stderr, at, chunk, file, n)
}

// Stamp returns the time of a chunk read now, and dst with what a log
// file puts before each of its lines: for a caller that makes the file's
// lines itself, with the terminal's (lines.AppendBoth), and hands them to
// WriteMade.
func (b *Book) Stamp(dst []byte) (time.Time, []byte) {
	at := b.now()
	return at, appendStamp(dst, at)
}

// WriteMade is Write of chunk, read at at, whose n lines the caller has
// put into file, each after Stamp's prefix for at.
//
// It writes on the caller's goroutine, the task's copier: a writer
// goroutine of the book's own cost more than it saved, measured with two
// tasks printing a million short lines each on two cores: every chunk
// copied on its way (fresh memory, page faults), a channel send and a
// wake-up each, and one goroutine writing every task's file in turn. The
// file of each task is written under a lock of its own, so tasks write
// theirs side by side.
func (b *Book) WriteMade(task string, stderr bool, at time.Time, chunk, file []byte, n int) {
	if len(chunk) == 0 {
		return
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	t := b.task(task)
	b.mu.Unlock()
	t.fileMu.Lock() // first: a task's stdout and stderr file in seq order
	defer t.fileMu.Unlock()
	b.mu.Lock()
	first := b.seq + 1
	b.seq += uint64(n)
	if !b.noTail {
		t.tail.add(first, n, at, stderr, chunk)
	}
	if len(b.subs) > 0 {
		b.publish(task, first, at, stderr, chunk)
	}
	b.mu.Unlock()
	b.writeFile(task, t, file)
}

// appendStamp appends the time a log file puts before a line read at t,
// and the space after it.
func appendStamp(dst []byte, t time.Time) []byte {
	return append(t.UTC().AppendFormat(dst, TimeFormat), ' ')
}

// task returns the log of task, opening its file on first use; b.mu is
// held.
func (b *Book) task(name string) *taskLog {
	t := b.tasks[name]
	if t != nil {
		return t
	}
	t = &taskLog{}
	b.tasks[name] = t
	f, err := os.OpenFile(Path(filepath.Dir(b.dir), name), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		b.fail(name, err)
		return t
	}
	t.file = f
	if fi, err := f.Stat(); err == nil {
		t.size = fi.Size()
	}
	return t
}

// writeFile appends out to t's file, rotating it first when out would
// take it past MaxFile; t.fileMu is held.
func (b *Book) writeFile(name string, t *taskLog, out []byte) {
	if t.file == nil {
		return
	}
	if t.size > 0 && t.size+int64(len(out)) > MaxFile {
		b.rotate(name, t)
		if t.file == nil {
			return
		}
	}
	n, err := t.file.Write(out)
	t.size += int64(n)
	if err != nil {
		b.fail(name, err)
	}
}

// rotate moves TASK.log to TASK.log.1 and starts a new TASK.log. The old
// TASK.log.1 is removed first: on ext4 a rename over a file flushes the
// renamed file's data to disk at once (auto_da_alloc), 10 MiB of it here.
// It is held open while it is removed, and closed on a goroutine of its
// own: the last close is what frees its pages, a few milliseconds for 10
// MiB that the task's copier does not wait for.
func (b *Book) rotate(name string, t *taskLog) {
	path := Path(filepath.Dir(b.dir), name)
	t.file.Close()
	t.file, t.size = nil, 0
	old, _ := os.Open(path + ".1")
	if err := os.Remove(path + ".1"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		b.fail(name, err)
	}
	if old != nil {
		b.freeing.Add(1)
		go func() { defer b.freeing.Done(); old.Close() }()
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if err := os.Rename(path, path+".1"); err != nil {
		b.fail(name, err) // TASK.log keeps its lines, and grows 10 MiB more before the next try
	} else {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		b.fail(name, err)
		return
	}
	t.file = f
}

// fail reports a file error of task name, once.
func (b *Book) fail(name string, err error) {
	b.errMu.Lock()
	defer b.errMu.Unlock()
	if !b.errs[name] {
		b.errs[name] = true
		b.report("logs: %s: %v (its output still shows, but is not kept)", name, err)
	}
}

// DropTails makes the book keep the files only, for procman run: nothing
// reads a run's tails (it serves no control socket).
func (b *Book) DropTails() {
	b.mu.Lock()
	b.noTail = true
	b.mu.Unlock()
}

// Tail returns the last n lines of the named tasks (every task when names
// is empty), in the order they were printed: every line written before it.
// A task that printed nothing has none; a service's name asks for its
// replicas' lines too.
func (b *Book) Tail(names []string, n int) []Line {
	if n <= 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Line
	for name, t := range b.tasks {
		if Matches(names, name) {
			out = t.tail.last(name, n, out)
		}
	}
	slices.SortFunc(out, func(a, b Line) int { return int(a.Seq - b.Seq) })
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}

// Close closes the log files, once the writes under way are done, and
// the followers. What is written after it is dropped.
func (b *Book) Close() error {
	b.mu.Lock()
	b.closed = true
	tasks := slices.Collect(maps.Values(b.tasks))
	b.mu.Unlock()
	var errs []error
	defer b.freeing.Wait()
	for _, t := range tasks { // a write holds fileMu, then mu
		t.fileMu.Lock()
		if t.file != nil {
			errs = append(errs, t.file.Close())
			t.file = nil
		}
		t.fileMu.Unlock()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for f := range b.subs {
		f.close()
		delete(b.subs, f)
	}
	return errors.Join(errs...)
}
