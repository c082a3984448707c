package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/procman/procman/tasks"
)

// ErrServiceFailed marks a service whose restarts are used up.
var ErrServiceFailed = errors.New("service failed")

// ending is how one run of a service process ended.
type ending struct {
	code        int             // exit code, 128+N for signal N
	failedStart bool            // it never became ready, or a check failed
	uptime      time.Duration   // how long it ran
	requested   bool            // a watch asked for the restart: no backoff
	stopping    bool            // the run is ending: do not restart
	waiters     []chan struct{} // to close when the next start is ready
}

// supervise runs service n until the run ends or its restart policy gives
// up. It returns an error only when the service is marked failed.
func (r *Runner) supervise(ctx context.Context, n *node) error {
	t := n.t
	b := newBackoff(t)
	var waiters []chan struct{}
	defer func() { release(waiters); release(n.takeWaiters()) }()
	for {
		e := r.runService(n, waiters)
		waiters = e.waiters
		if e.stopping || r.isStopping() {
			return nil
		}
		if e.requested {
			continue
		}
		v, delay := b.next(e.code, e.failedStart, e.uptime)
		switch {
		case v == finished && !r.opts.Persist:
			r.out.Logf(Info, "%s will not be restarted (restart: %s)", t.Name, t.Restart)
			return nil
		case v == failed && !r.opts.Persist:
			err := fmt.Errorf("%s: %w after %d restarts", t.Name, ErrServiceFailed, b.streak)
			r.out.Logf(Error, "%s failed after %d restarts", t.Name, b.streak)
			r.journal.failed(t.Name, fmt.Sprintf("failed after %d restarts", b.streak))
			return err
		case v != restartAfter:
			r.out.Logf(Warn, "%s is down; waiting for a file change to start it again", t.Name)
			select {
			case <-n.restart:
				waiters = append(waiters, n.takeWaiters()...)
				b = newBackoff(t)
				continue
			case <-r.stopping:
				return nil
			}
		}
		r.out.Logf(Info, "%s: restarting in %v (restart %d)", t.Name, delay, b.streak)
		select {
		case <-r.clock.After(delay):
		case <-n.restart:
			waiters = append(waiters, n.takeWaiters()...)
		case <-r.stopping:
			return nil
		}
	}
}

// runService starts service n once and waits until that process ends,
// watching its readiness and its periodic health check. waiters are closed
// when this start is ready or has ended.
func (r *Runner) runService(n *node, waiters []chan struct{}) ending {
	t := n.t
	lines := newLogProbe(t.Ready)
	p, err := r.launch(n, t.Cmd, lines.hook())
	defer func() { release(waiters) }()
	if errors.Is(err, context.Canceled) {
		return ending{stopping: true}
	}
	if err != nil {
		return ending{code: 127, failedStart: true}
	}
	defer r.forget(n, p)
	probe := r.probe(p, t, lines)
	var ready bool
	var tick <-chan time.Time
	var failedCheck bool
	for {
		select {
		case <-p.done:
			return r.ended(t, p, !ready || failedCheck)
		case err := <-probe:
			probe = nil
			if err != nil {
				r.out.Logf(Error, "%s: %v", t.Name, err)
				r.journal.failed(t.Name, err.Error())
				failedCheck = true
				go p.stop(r.kill)
				continue
			}
			ready = true
			r.becameReady(n)
			release(waiters)
			waiters = nil
			if checkable(t) {
				tick = r.clock.After(r.cfg.Interval)
			}
		case <-tick:
			tick = r.clock.After(r.cfg.Interval)
			if err := r.check(p, t); err != nil {
				r.out.Logf(Warn, "%s: health check failed: %v", t.Name, err)
				failedCheck = true
				go p.stop(r.kill)
			} else {
				r.out.Logf(Debug, "%s: health check passed (pid %d)", t.Name, p.pgid)
			}
		case <-n.restart:
			p.stop(r.kill)
			<-p.done
			r.journal.exited(t.Name, p, "")
			next := n.takeWaiters()
			return ending{requested: true, waiters: next}
		case <-r.stopping:
			<-p.done // stopAll stops it in dependency order
			r.journal.exited(t.Name, p, "")
			return ending{stopping: true}
		}
	}
}

// ended logs and records how service process p of t ended on its own.
func (r *Runner) ended(t *tasks.Task, p *process, failedStart bool) ending {
	msg := ""
	if !r.isStopping() {
		r.out.Logf(Info, "%s %s", t.Name, describe(p.code))
		if p.code != 0 {
			msg = t.Name + " " + describe(p.code)
		}
	}
	r.journal.exited(t.Name, p, msg)
	return ending{code: p.code, failedStart: failedStart, uptime: r.clock.Now().Sub(p.started)}
}

// checkable reports whether t's ready probe can be tried again on a running
// service: the liveness check every interval. A service without one costs
// nothing while it runs: its exit is seen when the kernel reports it.
func checkable(t *tasks.Task) bool {
	return t.Ready != nil && t.Ready.Log == nil
}

// becameReady logs and records that service n is ready, and lets its
// dependents start.
func (r *Runner) becameReady(n *node) {
	if n.t.Ready != nil {
		r.out.Logf(Info, "%s is ready", n.t.Name)
	}
	r.journal.ready(n.t.Name)
	n.markReady()
}

// Restart asks service name to restart now, skipping the backoff and not
// counting toward max_restarts. The channel is closed when the new start is
// ready, or the service ended without getting there; nil when name is not
// a service of this run.
func (r *Runner) Restart(name string) <-chan struct{} {
	n, ok := r.nodes[name]
	if !ok || n.t.Kind != tasks.Service {
		return nil
	}
	w := make(chan struct{})
	n.mu.Lock()
	n.waiters = append(n.waiters, w)
	n.mu.Unlock()
	select {
	case n.restart <- struct{}{}:
	default: // a restart is already pending; it releases w too
	}
	return w
}
