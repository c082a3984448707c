package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/procman/procman/runner/proc"
)

// After a task's whole process group is gone, its output pipes are read
// to their end, each read waiting at most drainWait for more, and at most
// drainMax bytes more: a process that left the group (a new session) may
// hold them open forever, quiet or not. What the group wrote before it
// went is in the pipe, at most a pipe's capacity (64 KiB by default, 1 MiB
// at most without privileges), and is never dropped, however long procman's
// own output takes to write it (a paused terminal, a slow pager).
const (
	drainWait = 500 * time.Millisecond
	drainMax  = 1 << 20
)

// spec is everything needed to start one process group.
type spec struct {
	name        string
	argv        []string
	dir         string
	env         []string
	stopSignal  syscall.Signal
	stopTimeout time.Duration
	onLine      func([]byte)     // sees every output line; nil for none
	now         func() time.Time // when set, the time of the last output is kept
}

// process is one started process group: its leader, its output copiers and
// the cleanup of what the leader leaves behind.
type process struct {
	spec
	pgid        int
	leaderStart uint64
	started     time.Time
	exited      chan struct{} // closed when the leader has been reaped
	gone        chan struct{} // closed when the whole group is gone (the pipes drain)
	done        chan struct{} // closed when the group is gone and output drained
	code        int           // exit code, 128+N for signal N; valid after exited
	stopOnce    sync.Once
	output      atomic.Int64 // when it last printed, Unix nanoseconds (0: never)
}

// lastOutput returns when p last printed, or when it started.
func (p *process) lastOutput() time.Time {
	if ns := p.output.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return p.started
}

// drainReader reads a task's output pipe; once its group is gone, as
// drainWait and drainMax say.
type drainReader struct {
	f     *os.File
	gone  <-chan struct{}
	after int // bytes read since the group went
}

func (d *drainReader) Read(b []byte) (int, error) {
	for {
		draining := false
		select {
		case <-d.gone:
			if d.after >= drainMax {
				return 0, io.EOF
			}
			draining = true
			d.f.SetReadDeadline(time.Now().Add(drainWait))
			b = b[:min(len(b), drainMax-d.after)]
		default:
		}
		n, err := d.f.Read(b)
		if draining {
			d.after += n
		} else if n == 0 && errors.Is(err, os.ErrDeadlineExceeded) {
			continue // the group went while this read waited: read on as draining
		}
		return n, err
	}
}

// activity is a reader that records when it last returned data.
type activity struct {
	r   io.Reader
	at  *atomic.Int64
	now func() time.Time
}

func (a activity) Read(b []byte) (int, error) {
	n, err := a.r.Read(b)
	if n > 0 {
		a.at.Store(a.now().UnixNano())
	}
	return n, err
}

// start launches s as the leader of a new process group, stdin from
// /dev/null, stdout and stderr copied to out line by line.
func start(s spec, out *Output, now time.Time) (*process, error) {
	if len(s.argv) == 0 {
		return nil, errors.New("empty command")
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	pid, err := forkExec(s, outW, errW)
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, err
	}
	p := &process{
		spec:    s,
		pgid:    pid,
		started: now,
		exited:  make(chan struct{}),
		gone:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	p.leaderStart, _ = proc.StartTime(p.pgid)
	var stdout, stderr io.Reader = &drainReader{f: outR, gone: p.gone}, &drainReader{f: errR, gone: p.gone}
	if s.now != nil {
		stdout, stderr = activity{stdout, &p.output, s.now}, activity{stderr, &p.output, s.now}
	}
	var copiers sync.WaitGroup
	copiers.Add(2)
	go func() { defer copiers.Done(); out.Copy(s.name, false, stdout, s.onLine) }()
	go func() { defer copiers.Done(); out.Copy(s.name, true, stderr, s.onLine) }()
	go p.reap(&copiers, outR, errR)
	return p, nil
}

// forkExec starts s's command with stdin from /dev/null and the given
// stdout and stderr, and returns its pid. It finds the command as os/exec
// does (in procman's PATH, unless it holds a slash; with os/exec's
// errors) but starts it with syscall.ForkExec: the first start through
// os/exec forks a throwaway child to check that clone can hand back a
// pidfd, 0.1 ms of every `procman run`; proc.Reap opens its pidfd itself.
func forkExec(s spec, stdout, stderr *os.File) (int, error) {
	path := s.argv[0]
	if !strings.Contains(path, "/") {
		lp, err := exec.LookPath(path)
		if err != nil {
			return 0, err
		}
		path = lp
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		return 0, err
	}
	defer null.Close()
	pid, err := syscall.ForkExec(path, s.argv, &syscall.ProcAttr{
		Dir:   s.dir,
		Env:   dedupEnv(s.env),
		Files: []uintptr{null.Fd(), stdout.Fd(), stderr.Fd()},
		Sys:   proc.Attr(),
	})
	if err != nil {
		if s.dir != "" {
			// The child's chdir fails as its exec would: say which.
			if fi, serr := os.Stat(s.dir); serr != nil {
				return 0, fmt.Errorf("dir %s: %w", s.dir, errors.Unwrap(serr))
			} else if !fi.IsDir() {
				return 0, fmt.Errorf("dir %s: %w", s.dir, syscall.ENOTDIR)
			}
		}
		return 0, &os.PathError{Op: "fork/exec", Path: path, Err: err}
	}
	return pid, nil
}

// dedupEnv keeps the last of each variable set more than once, as os/exec
// does: the child's getenv would find the first (a PROCMAN_TASK inherited
// from an outer procman before the one this procman sets).
func dedupEnv(env []string) []string {
	seen := make(map[string]bool, len(env))
	out := make([]string, 0, len(env))
	for i := len(env) - 1; i >= 0; i-- {
		k, _, _ := strings.Cut(env[i], "=")
		if !seen[k] {
			seen[k] = true
			out = append(out, env[i])
		}
	}
	slices.Reverse(out)
	return out
}

// reap waits for the leader, stops what is left of its group, and waits
// for the output to drain (see drainWait).
func (p *process) reap(copiers *sync.WaitGroup, pipes ...*os.File) {
	p.code = exitCode(proc.Reap(p.pgid))
	close(p.exited)
	if proc.Alive(p.pgid) {
		proc.Stop(p.pgid, p.stopSignal, p.stopTimeout)
	}
	close(p.gone)
	for _, f := range pipes {
		f.SetReadDeadline(time.Now().Add(drainWait)) // wakes a read that waits on a pipe an escaped process holds
	}
	copiers.Wait()
	for _, f := range pipes {
		f.Close()
	}
	close(p.done)
}

// exitCode turns a reaped process into a shell-style exit code: its exit
// status, or 128+N when signal N ended it.
func exitCode(ws syscall.WaitStatus, err error) int {
	switch {
	case err != nil:
		return 127
	case ws.Signaled():
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// stop ends the process group: the stop signal, up to the stop timeout for
// the leader and the group to exit, then SIGKILL. It returns when the group
// is gone and the output drained, or, once ctx is done (then it SIGKILLs at
// once), when the group is gone.
func (p *process) stop(ctx context.Context) {
	p.signalStop()
	timer := time.NewTimer(p.stopTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
		return
	case <-p.exited:
		// the reaper stops the rest of the group with the same sequence
	case <-timer.C:
		p.kill()
	case <-ctx.Done():
		p.kill()
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		p.kill()
		<-p.gone // not done: the output may never drain to a stdout that stopped reading
	}
}

// signalStop sends the group its stop signal, once (and SIGCONT after it,
// so that a stopped group gets it).
func (p *process) signalStop() {
	p.stopOnce.Do(func() {
		select {
		case <-p.exited:
		default:
			if ok, _ := proc.Signal(p.pgid, p.stopSignal); ok && p.stopSignal != syscall.SIGCONT {
				_, _ = proc.Signal(p.pgid, syscall.SIGCONT)
			}
		}
	})
}

// kill SIGKILLs the whole group at once.
func (p *process) kill() {
	_, _ = proc.Signal(p.pgid, syscall.SIGKILL)
}

// failure says how a task failed, for logs: "failed with code 1", "killed
// by SIGTERM".
func failure(code int) string {
	if d := describe(code); strings.HasPrefix(d, "killed") {
		return d
	}
	return fmt.Sprintf("failed with code %d", code)
}

// describe says how the process ended, for logs.
func describe(code int) string {
	if code > 128 && code < 128+65 {
		if name := signalName(syscall.Signal(code - 128)); name != "" {
			return fmt.Sprintf("killed by %s", name)
		}
	}
	return fmt.Sprintf("exited with code %d", code)
}

// signalName returns "SIGTERM" style names for common signals.
func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGSEGV:
		return "SIGSEGV"
	case syscall.SIGABRT:
		return "SIGABRT"
	case syscall.SIGUSR1:
		return "SIGUSR1"
	case syscall.SIGUSR2:
		return "SIGUSR2"
	case syscall.SIGPIPE:
		return "SIGPIPE"
	}
	return ""
}
