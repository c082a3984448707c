package runner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/procman/procman/runner/proc"
	"github.com/procman/procman/tasks"
)

// probePeriod is how often a tcp, http or exec probe is tried while a
// service starts.
const probePeriod = 50 * time.Millisecond

// logProbe watches a service's output for its ready.log pattern.
type logProbe struct {
	ready *tasks.Ready
	once  sync.Once
	seen  chan struct{} // closed when a line matched
}

func newLogProbe(rd *tasks.Ready) *logProbe {
	return &logProbe{ready: rd, seen: make(chan struct{})}
}

// hook returns the function the output copier calls on every line: nil
// when there is no log probe, so that output costs nothing extra.
func (l *logProbe) hook() func([]byte) {
	if l.ready == nil || l.ready.Log == nil {
		return nil
	}
	return l.onLine
}

func (l *logProbe) onLine(line []byte) {
	select {
	case <-l.seen:
		return
	default:
	}
	if l.ready.Log.Match(line) {
		l.once.Do(func() { close(l.seen) })
	}
}

// probe waits until service p of task t, which has a ready probe, is
// ready. The channel gets nil when it is, or an error when the probe timed
// out. It gets nothing when the process exits first.
func (r *Runner) probe(p *process, t *tasks.Task, lines *logProbe) <-chan error {
	res := make(chan error, 1)
	rd := t.Ready
	timeout := r.clock.After(rd.Timeout)
	go func() {
		if rd.Log != nil {
			select {
			case <-lines.seen:
				res <- nil
			case <-timeout:
				res <- fmt.Errorf("not ready after %v: no output line matched %q", rd.Timeout, rd.Log)
			case <-p.exited:
			}
			return
		}
		// An attempt may take up to the probe's whole timeout (an exec
		// probe through npx or go run takes seconds); the timeout or the
		// service's exit cuts it short.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		expired := make(chan struct{})
		go func() {
			select {
			case <-timeout:
				close(expired)
				cancel()
			case <-p.exited:
				cancel()
			case <-ctx.Done():
			}
		}()
		for {
			last := check(ctx, rd, t, p.env)
			if last == nil {
				res <- nil
				return
			}
			select {
			case <-r.clock.After(probePeriod):
			case <-expired:
				if ctx.Err() != nil && rd.Exec != nil {
					last = fmt.Errorf("%s was still running", rd.Exec.Raw)
				}
				res <- fmt.Errorf("not ready after %v: %v", rd.Timeout, last)
				return
			case <-p.exited:
				return
			}
		}
	}()
	return res
}

// check runs t's ready probe once against the running service p, for the
// periodic health check (see checkable).
func (r *Runner) check(p *process, t *tasks.Task) error {
	ctx, cancel := context.WithTimeout(context.Background(), min(t.Ready.Timeout, r.cfg.Interval))
	defer cancel()
	return check(ctx, t.Ready, t, p.env)
}

// expand replaces $VAR and ${VAR} in s by their values in env.
func expand(s string, env []string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	return os.Expand(s, func(k string) string {
		for i := len(env) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(env[i], k+"="); ok {
				return v
			}
		}
		return ""
	})
}

// check tries a tcp, http or exec probe once, in environment env: $VAR in
// a tcp or http address is the task's (each replica's own $PORT).
func check(ctx context.Context, rd *tasks.Ready, t *tasks.Task, env []string) error {
	switch {
	case rd.TCP != "":
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", expand(rd.TCP, env))
		if err != nil {
			return err
		}
		return c.Close()
	case rd.HTTP != "":
		return httpCheck(ctx, expand(rd.HTTP, env))
	case rd.Exec != nil:
		cmd := exec.CommandContext(ctx, rd.Exec.Argv[0], rd.Exec.Argv[1:]...)
		cmd.Dir, cmd.Env = t.Dir, env
		cmd.SysProcAttr = proc.Attr()
		cmd.Cancel = func() error {
			_, err := proc.Signal(cmd.Process.Pid, 9)
			return err
		}
		cmd.WaitDelay = time.Second
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", rd.Exec.Raw, err)
		}
		return nil
	}
	return errors.New("no probe")
}
