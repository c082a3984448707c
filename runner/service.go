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

// op is what a command asks of a service's supervise loop.
type op int

const (
	opRestart op = iota // stop it if it runs, and start it again
	opStart             // start it unless it runs
	opStop              // stop it and keep it stopped until a start
)

// command is a request to a service unit's supervise loop: from a watch
// trigger or from procman restart, start and stop. The loop answers each
// on done: nil once the unit is ready again (restart, start) or stopped
// (stop), else why not.
type command struct {
	op     op
	watch  bool   // a watch trigger: a stopped service stays stopped
	reason string // why, for the log and ps: "3 files changed", "procman restart"
	done   chan error
}

func newCommand(o op, watch bool, reason string) command {
	return command{op: o, watch: watch, reason: reason, done: make(chan error, 1)}
}

// answer answers every command of cs with err.
func answer(cs []command, err error) {
	for _, c := range cs {
		c.done <- err
	}
}

// ending is how one run of a service process ended.
type ending struct {
	code        int           // exit code, 128+N for signal N
	failedStart bool          // it never became ready
	unhealthy   bool          // a health check failed, and it was stopped for it
	uptime      time.Duration // how long it ran
	requested   bool          // a command asked for the restart: no backoff
	parked      bool          // procman stop: it stays stopped until a start
	stopping    bool          // the run is ending: do not restart
	err         error         // why the start that commands wait for failed
}

// supervise runs service unit u until the run ends or its restart policy
// gives up. It returns an error only when the service is marked failed.
// It alone starts and stops u's processes, and takes u's commands.
func (r *Runner) supervise(u *unit) error {
	t := u.node.t
	b := newBackoff(t)
	var waiting []command // start and restart commands answered when the next start is ready
	defer func() { answer(waiting, r.loopEnd(u)) }()
	reason := ""
	u.mu.Lock()
	parked := u.preStop
	u.mu.Unlock()
	if parked { // procman stop came before the first start
		if reason = r.await(u, &waiting, false); reason == "" {
			return nil
		}
	}
	for {
		e := r.runService(u, &waiting, reason)
		reason = ""
		switch {
		case e.stopping || r.isStopping():
			return nil
		case e.requested:
			reason = waiting[len(waiting)-1].reason
			continue
		case e.parked:
			if reason = r.await(u, &waiting, false); reason == "" {
				return nil
			}
			b = newBackoff(t)
			continue
		}
		answer(waiting, e.err)
		waiting = nil
		if r.opts.FailFast && !r.readied.Load() {
			// procman up -d still waits: any end of a service is a failed start
			err := e.err
			if err == nil {
				err = &TaskError{Task: u.name, Err: fmt.Errorf("%s %s as it started", u.name, describe(e.code))}
			}
			u.setStatus(Failed, describe(e.code), r.clock.Now())
			r.journal.failed(u.name, err.Error())
			return err
		}
		v, delay := b.next(e.code, e.failedStart, e.unhealthy, e.uptime)
		now := r.clock.Now()
		switch {
		case v == failed && !r.opts.Persist:
			err := fmt.Errorf("%s: %w after %d restarts", u.name, ErrServiceFailed, b.streak)
			r.out.Logf(Error, "%s failed after %d restarts", u.name, b.streak)
			r.journal.failed(u.name, fmt.Sprintf("failed after %d restarts", b.streak))
			u.setStatus(Failed, fmt.Sprintf("failed after %d restarts", b.streak), now)
			return err
		case v != restartAfter:
			status, why := Exited, "restart: "+t.Restart
			if r.opts.Persist {
				r.out.Logf(Warn, "%s is down; waiting for a file change to start it again", u.name)
				status, why = Failed, describe(e.code)
				if e.code == 0 {
					status = Exited
				}
			} else {
				r.out.Logf(Info, "%s will not be restarted (restart: %s)", u.name, t.Restart)
			}
			u.setStatus(status, why, now)
			u.mu.Lock()
			never := !u.wasReady
			u.mu.Unlock()
			if never && !r.opts.Persist {
				u.node.markDowned()
			}
			r.setEnded(u, true)
			reason = r.await(u, &waiting, true)
			r.setEnded(u, false)
			if reason == "" {
				return nil
			}
			b = newBackoff(t)
			continue
		}
		r.out.Logf(Info, "%s: restarting in %v (restart %d)", u.name, delay, b.streak)
		u.setStatus(Backoff, describe(e.code), now)
		var parked bool
		if reason, parked = r.backoff(u, &waiting, delay, fmt.Sprintf("restart %d", b.streak)); parked {
			reason = r.await(u, &waiting, false)
			b = newBackoff(t)
		}
		if reason == "" {
			return nil
		}
	}
}

// backoff waits out delay before u restarts, and returns why it starts
// again: why itself, or the reason of a start or restart command that cut
// the wait short. A stop parks u instead (parked). "" means the run is
// ending.
func (r *Runner) backoff(u *unit, waiting *[]command, delay time.Duration, why string) (reason string, parked bool) {
	select {
	case <-r.clock.After(delay):
		return why, false
	case c := <-u.cmds:
		if c.op == opStop {
			r.park(u, c)
			return "", true
		}
		*waiting = append(*waiting, c)
		return c.reason, false
	case <-r.stopping:
		return "", false
	}
}

// park marks u stopped by c, and answers c.
func (r *Runner) park(u *unit, c command) {
	u.setStatus(Stopped, c.reason, r.clock.Now())
	c.done <- nil
}

// await waits, with u not running (stopped by procman stop, or left down
// by its restart policy), for a command that starts it, and returns that
// command's reason; "" when the run ends first, or u was retired. A restart from a watch
// starts it only when watch is set: a stopped service stays stopped until
// procman start (or restart) says otherwise.
func (r *Runner) await(u *unit, waiting *[]command, watch bool) string {
	for {
		if u.retiring.Load() {
			return "" // procman scale took it away: its loop ends
		}
		select {
		case c := <-u.cmds:
			switch {
			case c.op == opStop:
				r.park(u, c)
				watch = false
			case c.watch && !watch:
				c.done <- nil // kept for the start: the new process sees the change
			default:
				*waiting = append(*waiting, c)
				return c.reason
			}
		case <-r.stopping:
			return ""
		}
	}
}

// runService starts service unit u once and waits until that process ends
// or a command stops it, watching its readiness and its liveness check.
// The commands in *waiting are answered when this start is ready.
func (r *Runner) runService(u *unit, waiting *[]command, reason string) ending {
	t := u.node.t
	lines := newLogProbe(t.Ready)
	p, err := r.launch(u, t.Cmd, lines.hook(), reason)
	if errors.Is(err, context.Canceled) {
		return ending{stopping: true}
	}
	if err != nil {
		return ending{code: 127, failedStart: true, err: &TaskError{Task: u.name, Err: err}}
	}
	defer r.forget(u, p)
	var ready, failedCheck bool
	var tick <-chan time.Time
	var probe <-chan error
	var probeErr error  // why it was stopped before it was ready
	if t.Ready == nil { // started is ready, whatever the process does next
		ready = true
		r.becameReady(u)
		answer(*waiting, nil)
		*waiting = nil
	} else {
		probe = r.probe(p, t, lines)
	}
	for {
		select {
		case <-p.done:
			e := r.ended(u, p, !ready, failedCheck)
			if !ready {
				err := probeErr
				if err == nil {
					err = fmt.Errorf("%s %s before it was ready", u.name, describe(p.code))
				}
				e.err = &TaskError{Task: u.name, Err: err, Since: p.started}
			}
			return e
		case err := <-probe:
			probe = nil
			if err != nil {
				r.out.Logf(Error, "%s: %v", u.name, err)
				r.journal.failed(u.name, err.Error())
				failedCheck, probeErr = true, fmt.Errorf("%s: %w", u.name, err)
				go p.stop(r.kill)
				continue
			}
			ready = true
			r.becameReady(u)
			answer(*waiting, nil)
			*waiting = nil
			if checkable(t) {
				tick = r.clock.After(r.cfg.Interval)
			}
		case <-tick:
			tick = r.clock.After(r.cfg.Interval)
			if err := r.check(p, t); err != nil {
				r.out.Logf(Warn, "%s: health check failed: %v", u.name, err)
				failedCheck = true
				go p.stop(r.kill)
			} else {
				r.out.Logf(Debug, "%s: health check passed (pid %d)", u.name, p.pgid)
			}
		case c := <-u.cmds:
			switch {
			case c.op == opStart && ready:
				c.done <- nil // it runs: nothing to do
				continue
			case c.op == opStart:
				*waiting = append(*waiting, c) // answered when ready
				continue
			}
			if c.op == opStop {
				r.out.Logf(Info, "%s: stopping (%s)", u.name, c.reason)
			}
			p.stop(r.kill)
			<-p.done
			r.journal.exited(u.name, p, "")
			if c.op == opStop {
				r.out.Logf(Info, "%s stopped (%s)", u.name, describe(p.code))
				answer(*waiting, errors.New(u.name+" was stopped"))
				*waiting = nil
				r.park(u, c)
				return ending{parked: true}
			}
			*waiting = append(*waiting, c)
			return ending{requested: true}
		case <-r.stopping:
			<-p.done // stopAll stops it in dependency order
			r.journal.exited(u.name, p, "")
			return ending{stopping: true}
		}
	}
}

// ended logs and records how service process p of u ended on its own.
func (r *Runner) ended(u *unit, p *process, failedStart, unhealthy bool) ending {
	msg := ""
	if !r.isStopping() {
		r.out.Logf(Info, "%s %s", u.name, describe(p.code))
		if p.code != 0 {
			msg = u.name + " " + describe(p.code)
		}
	}
	r.journal.exited(u.name, p, msg)
	return ending{code: p.code, failedStart: failedStart, unhealthy: unhealthy, uptime: r.clock.Now().Sub(p.started)}
}

// checkable reports whether t's ready probe can be tried again on a running
// service: the liveness check every interval. A service without one costs
// nothing while it runs: its exit is seen when the kernel reports it.
func checkable(t *tasks.Task) bool {
	return t.Ready != nil && t.Ready.Log == nil
}

// becameReady logs and records that service unit u is ready, and lets its
// task's dependents start once every unit is.
func (r *Runner) becameReady(u *unit) {
	t := u.node.t
	u.mu.Lock()
	u.wasReady = true
	if t.Ready != nil {
		u.set(Ready, "", r.clock.Now())
	}
	u.mu.Unlock()
	if t.Ready != nil {
		r.out.Logf(Info, "%s is ready", u.name)
	}
	r.journal.ready(u.name)
	for _, v := range u.node.unitList() {
		v.mu.Lock()
		ready := v.wasReady
		v.mu.Unlock()
		if !ready {
			return // the task is ready once every replica's first start is
		}
	}
	u.node.markReady()
}

// setEnded records whether service unit u is down for good (its restart
// policy leaves it so), and wakes the run's wait to see whether every
// service is.
func (r *Runner) setEnded(u *unit, ended bool) {
	u.mu.Lock()
	u.ended = ended
	u.mu.Unlock()
	r.poke()
}

// send hands c to service unit u's supervise loop and waits for its
// answer, unless the run is ending, u's loop ended or ctx is done first.
func (r *Runner) send(ctx context.Context, u *unit, c command) error {
	if r.isStopping() {
		return ErrStopping
	}
	answered, queued, err := r.sendPending(u, &c)
	if answered {
		return err
	}
	if !queued {
		select {
		case u.cmds <- c:
		case <-u.gone:
			return u.goneErr
		case <-r.stopping:
			return ErrStopping
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	select {
	case err := <-c.done:
		return err
	case <-u.gone:
		select {
		case err := <-c.done:
			return err
		default:
			return u.goneErr
		}
	case <-r.stopping:
		return ErrStopping
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sendPending takes c for u when u's service has not started yet (it
// waits for its deps), and says whether it answered it, or queued it: a
// stop is kept for the start, which then leaves u stopped; a start or
// restart (but a watch trigger's: u starts with the change anyway) waits
// for the start, and takes a stopped u with it. It queues the start under
// n.mu, so that a stop that comes after it undoes it (drain).
func (r *Runner) sendPending(u *unit, c *command) (answered, queued bool, err error) {
	n := u.node
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.spawned || n.halted {
		return false, false, nil
	}
	now := r.clock.Now()
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case c.op == opStop:
		u.preStop = true
		u.set(Stopped, c.reason, now)
		drain(u.cmds, errors.New(u.name+" was stopped")) // a start asked before: undone
		return true, false, nil
	case c.watch:
		return true, false, nil
	}
	if u.preStop {
		u.preStop = false
		u.set(Pending, c.reason, now)
	}
	c.op = opStart // nothing runs to restart
	select {
	case u.cmds <- *c:
		return false, true, nil
	default: // full: send waits for room, as for any command
		return false, false, nil
	}
}
