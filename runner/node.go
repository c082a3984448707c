package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/procman/procman/tasks"
	"github.com/procman/procman/watch"
)

// node is one task of the plan while it runs: what its dependents wait
// for, and its units.
type node struct {
	t          *tasks.Task
	deps       []*node
	dependents []*node
	ready      chan struct{} // closed when dependents may start
	downed     chan struct{} // closed when a unit that never got ready is down for good: dependents fail
	launched   chan struct{} // closed when its process first started
	finished   chan struct{} // closed when the task will not run again
	stopped    chan struct{} // closed when stopAll is done with it
	err        error         // why it failed; read after finished

	watcher *watch.Watcher     // its watch, if any; set before any trigger runs
	need    int                // its watch's changes_needed
	sums    map[string]fileSum // the changed files that made it act, as they were then (triggerMu)

	readyOnce  sync.Once
	downOnce   sync.Once
	launchOnce sync.Once

	mu      sync.Mutex
	units   []*unit // its process slots: one, or a service's replicas
	lastFP  string  // sources fingerprint of its last success in this run
	initial int     // a service's replicas at the start: names follow it
	spawned bool    // a service's supervise loops run: new units start at once
	halted  bool    // the run is stopping it, or it will never start: no new units
	haltErr error   // why, for procman scale; set with halted
	loops   sync.WaitGroup
	failure error // the first unit that failed for good
}

// unit is one process slot of a task: the task itself, or one replica of a
// service. A service's unit is driven by its supervise loop, which alone
// starts and stops its processes and takes its commands; its fields after
// mu are what others read.
type unit struct {
	node  *node
	name  string       // the task's name, or NAME.i for a replica
	index int          // its replica number, from 1
	cmds  chan command // for a service: requests to its supervise loop
	// gone is closed when no supervise loop will take u's commands any
	// more (its loop ended, or it never started); goneErr, set before,
	// says why.
	gone     chan struct{}
	goneErr  error
	goneOnce sync.Once
	// retiring is set by procman scale before it stops u for good: its
	// supervise loop then ends instead of waiting for a start.
	retiring atomic.Bool

	mu        sync.Mutex
	cur       *process  // the running process, if any
	starts    int       // processes started so far
	lastStart time.Time // when the latest process started
	halted    bool      // the run is ending: start nothing more
	status    Status    // what it is doing, for ps
	reason    string    // why it came to that status
	since     time.Time // when
	lastExit  *int      // how its last process ended
	ended     bool      // a service its restart policy leaves down
	preStop   bool      // procman stop came before its first start: it starts stopped
	wasReady  bool      // its first start got ready
	sample    usage     // the last CPU reading, for the next ps
}

// newNode returns the node of task t; a service runs as replicas copies
// (a plain task once).
func newNode(t *tasks.Task, replicas int, now time.Time) *node {
	n := &node{
		t:        t,
		ready:    make(chan struct{}),
		downed:   make(chan struct{}),
		launched: make(chan struct{}),
		finished: make(chan struct{}),
		stopped:  make(chan struct{}),
	}
	if t.Kind != tasks.Service {
		replicas = 1
	}
	n.initial = replicas
	for i := 1; i <= replicas; i++ {
		n.units = append(n.units, n.newUnit(i, now))
	}
	return n
}

// newUnit returns replica i of n. A task that starts with one replica
// keeps its own name for it (nothing changes for a file without
// replicas, even when procman scale adds more later); otherwise replica i
// is NAME.i.
func (n *node) newUnit(i int, now time.Time) *unit {
	name := n.t.Name
	if n.initial > 1 || i > 1 {
		name = fmt.Sprintf("%s.%d", n.t.Name, i)
	}
	u := &unit{node: n, name: name, index: i, status: Pending, since: now}
	if n.t.Kind == tasks.Service {
		u.cmds = make(chan command, 16)
		u.gone = make(chan struct{})
	}
	return u
}

// end marks service unit u as taking no more commands, for err: the ones
// sent meanwhile are answered with it.
func (u *unit) end(err error) {
	u.goneOnce.Do(func() {
		u.goneErr = err
		close(u.gone)
		drain(u.cmds, err)
	})
}

// drain answers, with err, the commands waiting in cmds.
func drain(cmds chan command, err error) {
	for {
		select {
		case c := <-cmds:
			c.done <- err
		default:
			return
		}
	}
}

// halt marks n as taking no new units (procman scale), for err, and
// returns its units.
func (n *node) halt(err error) []*unit {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.halted {
		n.halted, n.haltErr = true, err
	}
	return append([]*unit(nil), n.units...)
}

// unitList returns n's units.
func (n *node) unitList() []*unit {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*unit(nil), n.units...)
}

// unit returns n's first unit: the task itself when it has no replicas.
// Only a service may have none.
func (n *node) unit() *unit { return n.unitList()[0] }

// launch starts cmd for u, unless the run is ending. reason says why, for
// ps (empty: the first start).
func (r *Runner) launch(u *unit, cmd tasks.Command, onLine func([]byte), reason string) (*process, error) {
	t := u.node.t
	s := spec{
		name:        u.name,
		argv:        cmd.Argv,
		dir:         t.Dir,
		env:         append(r.environ(u), "PROCMAN_RUN_ID="+r.opts.RunID, "PROCMAN_TASK="+t.Name),
		stopSignal:  t.StopSignal,
		stopTimeout: t.StopTimeout,
		onLine:      onLine,
	}
	if r.opts.Progress && t.Kind != tasks.Service {
		s.now = r.clock.Now
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.halted {
		return nil, context.Canceled
	}
	p, err := start(s, r.out, r.clock.Now())
	if err != nil {
		err = fmt.Errorf("start %q: %w", u.name, err)
		r.out.Logf(Error, "%v", err)
		r.journal.failed(u.name, err.Error())
		code := 127
		u.lastExit = &code
		u.set(Failed, "could not start", r.clock.Now())
		return nil, &startError{err}
	}
	r.journal.started(u.name, p, t.Kind == tasks.Service && u.starts > 0)
	u.starts++
	u.cur, u.lastStart = p, p.started
	status := Running
	if t.Kind == tasks.Service && t.Ready != nil {
		status = Starting
	}
	u.set(status, reason, p.started)
	u.node.launchOnce.Do(func() { close(u.node.launched) })
	if r.opts.Guard != nil {
		if err := r.opts.Guard.Add(u.name, p.pgid, p.leaderStart, t.StopSignal, t.StopTimeout); err != nil {
			r.out.Logf(Warn, "guard: %v", err)
		}
	}
	if t.Kind == tasks.Service {
		r.out.Logf(Info, "%s started (pid %d)", u.name, p.pgid)
	}
	r.out.Logf(Debug, "%s: exec %q in %s as pid %d (stop: %v, then SIGKILL after %v)", u.name, cmd.Argv, t.Dir, p.pgid, t.StopSignal, t.StopTimeout)
	return p, nil
}

// environ is u's environment: its task's, with PS and PORT numbered for a
// replica named NAME.i.
func (r *Runner) environ(u *unit) []string {
	if u.name == u.node.t.Name {
		return r.cfg.Environ(u.node.t)
	}
	return r.cfg.ReplicaEnviron(u.node.t, u.index)
}

// forget drops a finished process from u and from the guard, and records
// how it ended.
func (r *Runner) forget(u *unit, p *process) {
	u.mu.Lock()
	if u.cur == p {
		u.cur = nil
	}
	code := p.code
	u.lastExit = &code
	u.mu.Unlock()
	if r.opts.Guard != nil {
		_ = r.opts.Guard.Remove(p.pgid)
	}
}

// set changes u's status; u.mu is held.
func (u *unit) set(s Status, reason string, at time.Time) {
	u.status, u.reason, u.since = s, reason, at
}

// setStatus changes u's status.
func (u *unit) setStatus(s Status, reason string, at time.Time) {
	u.mu.Lock()
	u.set(s, reason, at)
	u.mu.Unlock()
}

// setStatus changes the status of every unit of n.
func (n *node) setStatus(s Status, reason string, at time.Time) {
	for _, u := range n.unitList() {
		u.setStatus(s, reason, at)
	}
}

// startedSince reports whether every one of n's processes started after
// t: all of them have seen what happened before.
func (n *node) startedSince(t time.Time) bool {
	units := n.unitList()
	for _, u := range units {
		u.mu.Lock()
		after := u.lastStart.After(t)
		u.mu.Unlock()
		if !after {
			return false
		}
	}
	return len(units) > 0
}

// fingerprint returns the sources fingerprint of n's last success in this
// run ("" if none): the state file gets it later, in the background.
func (n *node) fingerprint() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.lastFP
}

// setFingerprint records the sources fingerprint of a success of n.
func (n *node) setFingerprint(fp string) {
	n.mu.Lock()
	n.lastFP = fp
	n.mu.Unlock()
}

// markReady lets n's dependents start.
func (n *node) markReady() { n.readyOnce.Do(func() { close(n.ready) }) }

// markDowned tells n's dependents that it will not get ready: a service
// unit went down for good (its restart policy) before its first start got
// ready. A procman start can still start it; its dependents are skipped,
// as docker compose's are when a dependency exits before it is healthy.
func (n *node) markDowned() { n.downOnce.Do(func() { close(n.downed) }) }

// halt marks u so that nothing more starts, and returns its running
// process.
func (u *unit) halt() *process {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.halted = true
	return u.cur
}

// ErrNotStarted marks a task whose command could not be started (not
// found, not executable); the runner has already said why.
var ErrNotStarted = errors.New("could not start")

// startError is a failed start, already reported: it is ErrNotStarted.
type startError struct{ err error }

func (e *startError) Error() string        { return e.err.Error() }
func (e *startError) Unwrap() error        { return e.err }
func (e *startError) Is(target error) bool { return target == ErrNotStarted }
