package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// pmProc is one procman the benchmark started.
type pmProc struct {
	cmd    *exec.Cmd
	began  time.Time     // just before fork/exec
	exited chan struct{} // closed when procman has been reaped
	ended  time.Time     // when it was reaped; valid after exited
	err    error         // its Wait error; valid after exited
	log    *lineLog      // its stderr
	sigint bool          // interrupt was called
}

// startProcman runs the built procman with args in dir, with env added to
// its environment, stdout to stdout (nil: /dev/null), stderr read line by
// line into log. It runs in a process group of its own, so that only the
// benchmark signals it.
func (e *env) startProcman(dir string, stdout io.Writer, env []string, args ...string) (*pmProc, error) {
	cmd := exec.Command(e.procman, args...)
	cmd.Dir = dir
	cmd.Env = e.environ(env...)
	cmd.Stdout = stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = w
	p := &pmProc{cmd: cmd, exited: make(chan struct{}), log: newLineLog()}
	p.began = time.Now()
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("start procman: %w", err)
	}
	go func() {
		defer r.Close()
		p.log.read(r) // until every holder of procman's stderr let go
	}()
	go func() {
		p.err = cmd.Wait()
		p.ended = time.Now()
		close(p.exited)
	}()
	return p, nil
}

// pid is procman's process id.
func (p *pmProc) pid() int { return p.cmd.Process.Pid }

// interrupt sends SIGINT, as Ctrl-C would, and returns when it was sent.
func (p *pmProc) interrupt() time.Time {
	p.sigint = true
	t := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	return t
}

// end stops procman: SIGINT (unless interrupt was called: a second one
// would kill at once), then SIGKILL after 10 s. It returns procman's
// exit error, nil for exit codes 0 and 130 (interrupted).
func (p *pmProc) end() error {
	select {
	case <-p.exited:
	default:
		if !p.sigint {
			p.interrupt()
		}
		t := time.NewTimer(10 * time.Second)
		defer t.Stop()
		select {
		case <-p.exited:
		case <-t.C:
			_ = p.cmd.Process.Kill()
			<-p.exited
			return errors.New("procman did not stop within 10 s of SIGINT: killed")
		}
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) && ee.ExitCode() == 130 {
		return nil
	}
	if p.err != nil {
		return fmt.Errorf("procman: %w; stderr ends with:\n%s", p.err, p.log.tail(5))
	}
	return nil
}

// logLine is one line procman wrote to stderr, and when it was read.
type logLine struct {
	at   time.Time
	text string
}

// lineLog collects lines and wakes whoever waits for one.
type lineLog struct {
	mu      sync.Mutex
	lines   []logLine
	eof     bool
	changed chan struct{} // closed and replaced on every line, and at EOF
}

func newLineLog() *lineLog { return &lineLog{changed: make(chan struct{})} }

// read adds every line of r until EOF.
func (l *lineLog) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l.add(logLine{at: time.Now(), text: sc.Text()}, false)
	}
	l.add(logLine{}, true)
}

func (l *lineLog) add(line logLine, eof bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if eof {
		l.eof = true
	} else {
		l.lines = append(l.lines, line)
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// waitFor waits until ok holds for the lines so far. It fails when the log
// ends first, or ctx is done.
func (l *lineLog) waitFor(ctx context.Context, ok func([]logLine) bool) error {
	for {
		l.mu.Lock()
		done, eof, ch := ok(l.lines), l.eof, l.changed
		l.mu.Unlock()
		switch {
		case done:
			return nil
		case eof:
			return fmt.Errorf("procman ended; its stderr ends with:\n%s", l.tail(5))
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("%w; procman's stderr ends with:\n%s", ctx.Err(), l.tail(5))
		}
	}
}

// count returns how many lines match re.
func (l *lineLog) count(re *regexp.Regexp) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if re.MatchString(line.text) {
			n++
		}
	}
	return n
}

// tail returns the last n lines.
func (l *lineLog) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, line := range l.lines[max(0, len(l.lines)-n):] {
		b.WriteString("  " + line.text + "\n")
	}
	return b.String()
}

// upDetachedWait bounds how long procman up -d may take to return.
const upDetachedWait = 60 * time.Second

// upDetached runs `procman up -d` in dir; when it fails, it stops what
// it may have left (down).
func (e *env) upDetached(ctx context.Context, dir string) error {
	ctx, cancel := context.WithTimeout(ctx, upDetachedWait)
	defer cancel()
	if _, err := e.timeRun(ctx, dir, "", e.procman, "up", "-d"); err != nil {
		return errors.Join(err, e.down(ctx))
	}
	return nil
}

// downWait bounds how long a background procman may take to exit after
// procman down returned.
const downWait = 10 * time.Second

// down stops the background procman of each of dirs with `procman down`
// (even when ctx is done: the benchmark was interrupted), waits until no
// process runs the procman binary any more, and sweeps every process of
// the run that is left.
func (e *env) down(ctx context.Context, dirs ...string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), upDetachedWait)
	defer cancel()
	var errs []error
	for _, dir := range dirs {
		if _, err := e.timeRun(ctx, dir, "", e.procman, "down"); err != nil {
			errs = append(errs, err)
		}
	}
	for _, pid := range pidsOf(e.procman) {
		if !waitGone(pid, downWait) {
			errs = append(errs, fmt.Errorf("procman pid %d still runs %v after procman down", pid, downWait))
		}
	}
	if left := e.sweep(pidsCarrying(markVar + "=" + e.tmp)); left > 0 {
		errs = append(errs, fmt.Errorf("procman left %d processes running", left))
	}
	return errors.Join(errs...)
}
