package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
)

// uiCols and uiRows are the size of the terminal procman ui runs in.
const (
	uiCols = 80
	uiRows = 24
)

// uiProc is a `procman ui` the benchmark started under a pseudo-terminal,
// whose output it reads as a terminal would, all of it, as it comes.
type uiProc struct {
	cmd    *exec.Cmd
	ptmx   *os.File      // the terminal's master side
	began  time.Time     // just before fork/exec
	exited chan struct{} // closed when procman ui has been reaped
	read   chan struct{} // closed when the reader has returned
	scr    *screenLog
}

// startUI runs `procman ui` in dir on an uiCols x uiRows pseudo-terminal
// (TERM=xterm-256color, NO_COLOR unset), in a session of its own, and
// watches its output for marks.
func (e *env) startUI(dir string, marks ...string) (*uiProc, error) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("pty: %w", err)
	}
	defer tty.Close() // procman ui holds its own
	if err := pty.Setsize(ptmx, &pty.Winsize{Cols: uiCols, Rows: uiRows}); err != nil {
		ptmx.Close()
		return nil, fmt.Errorf("pty: %w", err)
	}
	cmd := exec.Command(e.procman, "ui")
	cmd.Dir = dir
	cmd.Env = terminalEnv(e.environ())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	u := &uiProc{cmd: cmd, ptmx: ptmx, exited: make(chan struct{}), read: make(chan struct{}), scr: newScreenLog(marks)}
	u.began = time.Now()
	if err := cmd.Start(); err != nil {
		ptmx.Close()
		return nil, fmt.Errorf("start procman ui: %w", err)
	}
	go func() {
		defer close(u.read)
		u.scr.read(ptmx)
	}()
	go func() {
		_ = cmd.Wait()
		close(u.exited)
	}()
	return u, nil
}

// terminalEnv is env as a terminal's: TERM=xterm-256color, no NO_COLOR.
func terminalEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "NO_COLOR=") && !strings.HasPrefix(kv, "TERM=") {
			out = append(out, kv)
		}
	}
	return append(out, "TERM=xterm-256color")
}

// pid is procman ui's process id.
func (u *uiProc) pid() int { return u.cmd.Process.Pid }

// quit presses q, as a user leaving the dashboard does; after 5 s it
// SIGKILLs the session's group instead. It returns once procman ui has
// been reaped and its output read to the end, and says when q did not
// do.
func (u *uiProc) quit() error {
	var err error
	select {
	case <-u.exited:
		err = fmt.Errorf("procman ui ended by itself; its screen ends with %q", u.scr.last())
	default:
		_, _ = u.ptmx.Write([]byte("q"))
		t := time.NewTimer(5 * time.Second)
		defer t.Stop()
		select {
		case <-u.exited:
		case <-t.C:
			_ = syscall.Kill(-u.pid(), syscall.SIGKILL)
			<-u.exited
			err = fmt.Errorf("procman ui did not quit within 5 s of q: killed")
		}
	}
	u.ptmx.Close()
	<-u.read
	return err
}

// waitMark waits up to timeout for mark to be read, and returns when it
// was (the time of the read that completed it).
func (u *uiProc) waitMark(ctx context.Context, mark string, timeout time.Duration) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		at, eof, ch := u.scr.seen(mark)
		switch {
		case !at.IsZero():
			return at, nil
		case eof:
			return at, fmt.Errorf("procman ui ended before writing %q; its screen ends with %q", mark, u.scr.last())
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return at, fmt.Errorf("procman ui: no %q within %v: %w; its screen ends with %q", mark, timeout, ctx.Err(), u.scr.last())
		}
	}
}

// screenLog is what a terminal read from procman ui: how much, in how
// many reads, and when each of the texts it watches for first came.
type screenLog struct {
	mu      sync.Mutex
	marks   map[string]time.Time // watched text -> when first read (zero: not yet)
	keep    int                  // bytes kept from one read to the next: a mark may be cut between
	tail    []byte               // the last bytes read
	bytes   uint64               // bytes read
	reads   uint64               // reads that returned bytes
	eof     bool
	changed chan struct{} // closed and replaced on every read, and at the end
}

func newScreenLog(marks []string) *screenLog {
	s := &screenLog{marks: map[string]time.Time{}, keep: 200, changed: make(chan struct{})}
	for _, m := range marks {
		s.marks[m] = time.Time{}
		s.keep = max(s.keep, len(m))
	}
	return s
}

// read reads f until it fails: the program ended, or f was closed.
func (s *screenLog) read(f *os.File) {
	buf := make([]byte, 64<<10)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			s.add(buf[:n], time.Now())
		}
		if err != nil {
			s.mu.Lock()
			s.eof = true
			close(s.changed)
			s.changed = make(chan struct{})
			s.mu.Unlock()
			return
		}
	}
}

// add takes one read's bytes.
func (s *screenLog) add(b []byte, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bytes += uint64(len(b))
	s.reads++
	text := append(s.tail, b...)
	for m, t := range s.marks {
		if t.IsZero() && bytes.Contains(text, []byte(m)) {
			s.marks[m] = at
		}
	}
	s.tail = append(s.tail[:0], text[max(0, len(text)-s.keep):]...)
	close(s.changed)
	s.changed = make(chan struct{})
}

// seen returns when mark was read (zero: not yet), whether the output
// ended, and a channel closed on the next read.
func (s *screenLog) seen(mark string) (time.Time, bool, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.marks[mark], s.eof, s.changed
}

// counts returns the bytes and reads so far.
func (s *screenLog) counts() (bytes, reads uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes, s.reads
}

// last returns the last bytes read, for an error.
func (s *screenLog) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.tail)
}
