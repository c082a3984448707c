// Package runner starts, supervises and stops the tasks of a loaded config,
// and multiplexes their output. It never reads YAML.
package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/procman/procman/runner/proc"
	"github.com/procman/procman/runner/state"
	"github.com/procman/procman/tasks"
)

// ExitError is a task that failed: procman exits with Code.
type ExitError struct {
	Task string
	Code int
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("%s %s", e.Task, describe(e.Code))
}

// ErrDepFailed marks a task that did not run because a dependency failed.
var ErrDepFailed = errors.New("a dependency failed")

// Guard is told about every process group procman starts and stops, so that
// the groups can be stopped even when procman itself is killed.
type Guard interface {
	Add(name string, pgid int, leaderStart uint64, sig syscall.Signal, timeout time.Duration) error
	Remove(pgid int) error
}

// Options configure a Runner.
type Options struct {
	Out       *Output
	Force     bool     // run once tasks even when up to date
	Args      []string // appended to the command of the (single) target
	Supervise bool     // keep services up until ctx is done (up, watch)
	RunID     string   // given to every child as PROCMAN_RUN_ID
	Clock     Clock    // nil: the wall clock
	Guard     Guard    // nil: none
	// Store, when not nil, records the run in the state file. With
	// Supervise, the run records itself as the project's supervisor and
	// its process groups for crash recovery.
	Store *state.Store
	// Kill, when cancelled during a stop, makes procman SIGKILL every group
	// at once (a second Ctrl-C). nil: never.
	Kill context.Context
	// Watch watches every task of the plan that has a watch block, and
	// re-runs or restarts it (and what depends on it) when its files change.
	Watch bool
	// Persist is procman watch: the targets' folders are watched when no
	// task of the plan has a watch block, and a task or service that fails
	// waits for a file change instead of ending the run.
	Persist bool
	// Progress says, every 15 s, that a once or plain task that has
	// printed nothing for 5 s is still running (for a terminal).
	Progress bool
	// FailFast makes a service whose first start fails (it ends, or fails
	// its ready probe, before it is ready) fail the run instead of being
	// restarted: procman up -d.
	FailFast bool
	// OnReady, when not nil, is called once, when every task of the run
	// is ready: services ready, once and plain tasks done.
	OnReady func()
	// Formation overrides the replicas of services by name for this run
	// (procman up -m web=2,worker=0).
	Formation map[string]int
}

// StopReason is why a run is stopping, in a few words ("Ctrl-C"), for the
// log line of each service it stops. Cancel Run's context with one as the
// cause (context.WithCancelCause) to give it.
type StopReason string

func (s StopReason) Error() string { return string(s) }

// Runner runs a task graph.
type Runner struct {
	cfg     *tasks.Config
	opts    Options
	out     *Output
	clock   Clock
	journal *journal

	nodes    map[string]*node
	order    []string      // the plan: deps before dependents
	stopping chan struct{} // closed when the run is ending
	stopOnce sync.Once
	reason   string          // why the run is ending; set before stopping is closed
	kill     context.Context // cancelled: stop without grace
	failures chan error      // a service marked failed, a dependency failed
	settled  chan struct{}   // a service went down for good, or came back
	planned  chan struct{}   // closed once nodes and order are set
	done     chan struct{}   // closed when Run has stopped everything
	readied  atomic.Bool     // OnReady was called
	// triggerMu makes watch triggers and restarts run one at a time.
	triggerMu sync.Mutex
	watching  bool // some task is watched: the run goes on until Ctrl-C
	queueMu   sync.Mutex
	queued    map[*node]*queuedRestart // restarts waiting for triggerMu, by task
	scaleMu   sync.Mutex               // procman scale, one at a time
	groups    proc.Groups              // what the process groups use, for Snapshot
}

// New returns a Runner for cfg.
func New(cfg *tasks.Config, opts Options) *Runner {
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Kill == nil {
		opts.Kill = context.Background()
	}
	return &Runner{
		cfg: cfg, opts: opts, out: opts.Out, clock: opts.Clock,
		journal:  &journal{store: opts.Store, supervisor: opts.Supervise, now: opts.Clock.Now},
		nodes:    map[string]*node{},
		stopping: make(chan struct{}),
		kill:     opts.Kill,
		failures: make(chan error, 1),
		settled:  make(chan struct{}, 1),
		planned:  make(chan struct{}),
		done:     make(chan struct{}),
		queued:   map[*node]*queuedRestart{},
	}
}

// Run runs targets after their deps. Without Supervise it returns when the
// targets have finished (a service target is supervised until ctx is done).
// With Supervise it returns when ctx is done, a service is marked failed, a
// dependency failed, or nothing is left running. Every process is stopped,
// in reverse dependency order, before it returns.
func (r *Runner) Run(ctx context.Context, targets []string) error {
	order, err := r.cfg.Plan(targets...)
	if err != nil {
		return err
	}
	r.order = order
	now := r.clock.Now()
	for _, name := range order {
		t := r.cfg.Tasks[name]
		replicas := t.Replicas
		if n, ok := r.opts.Formation[name]; ok {
			replicas = n
		}
		r.nodes[name] = newNode(t, replicas, now)
	}
	for _, name := range order {
		n := r.nodes[name]
		for _, d := range n.t.Deps {
			dn := r.nodes[d]
			n.deps = append(n.deps, dn)
			dn.dependents = append(dn.dependents, n)
		}
	}
	supervise := r.opts.Supervise || r.opts.Watch
	if r.opts.Watch {
		stop, err := r.startWatching(ctx, targets)
		if err != nil {
			return err
		}
		defer stop()
	}
	for _, name := range targets {
		if r.cfg.Tasks[name].Kind == tasks.Service {
			supervise = true
		}
	}
	close(r.planned)
	r.journal.begin(r.opts.RunID)
	defer r.journal.end()
	defer close(r.done)
	defer r.groups.Close()
	for _, name := range order {
		go r.runNode(ctx, r.nodes[name], slices.Contains(targets, name))
	}
	if r.opts.OnReady != nil {
		go r.whenReady(r.opts.OnReady)
	}
	err = r.wait(ctx, targets, supervise)
	r.stopAll(stopReason(ctx, err, targets))
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return err
}

// wait returns when the run is over (see Run): with supervise, when every
// task has finished and every service is down for good, unless something
// is watched.
func (r *Runner) wait(ctx context.Context, targets []string, supervise bool) error {
	list := targets
	if supervise {
		list = r.order
	}
	for {
		if !r.watching && r.over(list) {
			break
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-r.failures:
			return err
		case <-r.settled:
		}
	}
	for _, name := range targets {
		if n := r.nodes[name]; closed(n.finished) && n.err != nil {
			return n.err
		}
	}
	return nil
}

// over reports whether every task of list has finished, or is a service
// that its restart policy leaves down. A service scaled to no replicas is
// not over: procman scale may start some.
func (r *Runner) over(list []string) bool {
	for _, name := range list {
		n := r.nodes[name]
		if closed(n.finished) {
			continue
		}
		units := n.unitList()
		if n.t.Kind != tasks.Service || len(units) == 0 {
			return false
		}
		for _, u := range units {
			u.mu.Lock()
			ended := u.ended
			u.mu.Unlock()
			if !ended {
				return false
			}
		}
	}
	return true
}

// Done is closed when Run has stopped every process, before it returns.
func (r *Runner) Done() <-chan struct{} { return r.done }

// startGrace is how long, under FailFast, a service without a ready probe
// must run before it counts as started: long enough for a server that
// dies at start-up (a missing module, a port in use) to be seen dying.
const startGrace = time.Second

// whenReady calls fn once every task of the run is ready, and every
// service without a ready probe has run for startGrace, unless the run
// ends first. Under FailFast, a service that ends before then fails the
// run.
func (r *Runner) whenReady(fn func()) {
	grace := false
	for _, name := range r.order {
		n := r.nodes[name]
		select {
		case <-n.ready:
		case <-r.stopping:
			return
		}
		grace = grace || (n.t.Kind == tasks.Service && n.t.Ready == nil)
	}
	if grace {
		select {
		case <-r.clock.After(startGrace):
		case <-r.stopping:
			return
		}
	}
	r.readied.Store(true)
	fn()
}

// poke wakes the run's wait to see whether the run is over.
func (r *Runner) poke() {
	select {
	case r.settled <- struct{}{}:
	default:
	}
}

// fail ends the run with err (the first failure wins).
func (r *Runner) fail(err error) {
	select {
	case r.failures <- err:
	default:
	}
}

// stopReason says why a run of targets that ended with err (nil: it ended
// by itself or by ctx) stops its services.
func stopReason(ctx context.Context, err error, targets []string) string {
	var sr StopReason
	switch {
	case err != nil:
		var ee *ExitError
		if errors.As(err, &ee) {
			return ee.Task + " failed"
		}
		return err.Error()
	case errors.As(context.Cause(ctx), &sr):
		return string(sr)
	case ctx.Err() != nil:
		return "procman is stopping"
	}
	return strings.Join(targets, ", ") + " finished"
}

// stopAll stops every node, each only after the nodes that depend on it;
// reason says why, in the log.
func (r *Runner) stopAll(reason string) {
	r.stopOnce.Do(func() {
		r.reason = reason
		close(r.stopping)
	})
	var wg sync.WaitGroup
	for _, name := range r.order {
		n := r.nodes[name]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, d := range n.dependents {
				<-d.stopped
			}
			r.stopNode(n)
		}()
	}
	wg.Wait()
}

// stopNode stops every running process of n, and marks n stopped.
func (r *Runner) stopNode(n *node) {
	defer close(n.stopped)
	var wg sync.WaitGroup
	for _, u := range n.halt(ErrStopping) {
		p := u.halt()
		if p == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-p.done:
				return
			default:
			}
			// Signalled before the log line: a message that waits on a
			// stuck terminal must not hold the stop up.
			p.signalStop()
			r.out.Logf(Info, "%s: stopping (%s)", u.name, r.reason)
			p.stop(r.kill)
			u.setStatus(Stopped, r.reason, r.clock.Now())
			r.out.Logf(Info, "%s stopped (%s)", u.name, describe(p.code))
		}()
	}
	wg.Wait()
}

// isStopping reports whether the run is ending.
func (r *Runner) isStopping() bool {
	select {
	case <-r.stopping:
		return true
	default:
		return false
	}
}

// waitDeps waits until every dep of n is ready. It returns an error when a
// dep failed or the run is ending.
func (r *Runner) waitDeps(n *node) error {
	for _, d := range n.deps {
		finished, downed := d.finished, d.downed
		if r.opts.Persist {
			finished, downed = nil, nil // a failed dep may succeed when its files change
		}
		select {
		case <-d.ready:
		case <-finished:
		case <-downed:
		case <-r.stopping:
			return context.Canceled
		}
		if closed(d.ready) { // first: a service started again by hand is ready and downed
			continue
		}
		if closed(d.downed) {
			return fmt.Errorf("%w: %s ended before it was ready, and its restart policy leaves it down", ErrDepFailed, d.t.Name)
		}
		return fmt.Errorf("%w: %s", ErrDepFailed, d.t.Name)
	}
	return nil
}

// runNode runs n once its deps are ready.
func (r *Runner) runNode(ctx context.Context, n *node, target bool) {
	defer r.poke()
	defer close(n.finished)
	if err := r.waitDeps(n); err != nil {
		n.err = err
		if !errors.Is(err, context.Canceled) {
			n.setStatus(Skipped, err.Error(), r.clock.Now())
		}
		why := ErrStopping
		if errors.Is(err, ErrDepFailed) {
			why = fmt.Errorf("%s did not start: %w", n.t.Name, err)
		}
		r.neverStarts(n, why)
		return
	}
	if n.t.Kind == tasks.Service {
		if e, ok := r.journal.supervisedElsewhere(n.t.Name); ok && !target {
			// a second instance would only fight the first for its port
			pid := e.pid
			r.out.Logf(Info, "%s runs under procman pid %d: using it", n.t.Name, pid)
			n.setStatus(Skipped, fmt.Sprintf("runs under procman pid %d", pid), r.clock.Now())
			if err := r.awaitElsewhere(n, pid); err != nil {
				n.err = err
				r.neverStarts(n, err)
				if !errors.Is(err, context.Canceled) {
					r.fail(err)
				}
				return
			}
			n.markReady()
			r.neverStarts(n, fmt.Errorf("%s runs under procman pid %d: control it there", n.t.Name, pid))
			return
		}
		n.err = r.superviseAll(n)
		return
	}
	var args []string
	if target {
		args = r.opts.Args
	}
	n.err = r.runOnce(n, args, r.opts.Force, "")
	if n.err == nil {
		n.markReady()
		return
	}
	if !target && !r.opts.Persist && !errors.Is(n.err, context.Canceled) {
		r.fail(n.err) // a dependency failed: end the run with its error
	}
}

// superviseAll supervises every unit of service n, and the ones procman
// scale adds, until the run ends, and returns the first unit's failure. A
// service of no replicas is ready at once: nothing runs for it.
func (r *Runner) superviseAll(n *node) error {
	n.mu.Lock()
	n.spawned = true
	if len(n.units) == 0 {
		r.out.Logf(Info, "%s: no replicas: not started", n.t.Name)
		n.markReady()
	}
	for _, u := range n.units {
		r.spawn(u)
	}
	n.mu.Unlock()
	<-r.stopping
	n.halt(ErrStopping) // procman scale spawns no more: the wait below is for all
	n.loops.Wait()
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.failure
}

// elsewherePoll is how often a run looks at the state file for a service
// that another procman supervises to be ready; elsewhereWait is how long
// it waits at least (a ready probe's timeout when longer).
const (
	elsewherePoll = 50 * time.Millisecond
	elsewhereWait = 30 * time.Second
)

// awaitElsewhere waits until service n, which procman pid supervises, is
// ready (every replica), as the state file says: a run's task that
// depends on it must not start before it, and a service between two
// starts (a restart's backoff) is still the other procman's to start. The
// supervisor writes its state within 25 ms of a change; no other event
// tells this process.
func (r *Runner) awaitElsewhere(n *node, pid int) error {
	limit := elsewhereWait
	if n.t.Ready != nil {
		limit = max(limit, n.t.Ready.Timeout)
	}
	deadline := r.clock.After(limit)
	for {
		e, ok := r.journal.supervisedElsewhere(n.t.Name)
		switch {
		case !ok || e.pid != pid:
			return &TaskError{Task: n.t.Name, Err: fmt.Errorf("procman pid %d that supervised %s stopped", pid, n.t.Name)}
		case e.ready:
			return nil
		}
		select {
		case <-r.clock.After(elsewherePoll):
		case <-deadline:
			return &TaskError{Task: n.t.Name, Err: fmt.Errorf("%s under procman pid %d is not ready after %v: see procman ps, or procman start %s", n.t.Name, pid, limit, n.t.Name)}
		case <-r.stopping:
			return context.Canceled
		}
	}
}

// neverStarts answers, for why, every command to the units of service n,
// which will not start in this run.
func (r *Runner) neverStarts(n *node, why error) {
	if n.t.Kind != tasks.Service {
		return
	}
	for _, u := range n.halt(why) {
		u.end(why)
	}
}

// spawn starts the supervise loop of service unit u; n.mu is held (so
// that the loop is counted before superviseAll waits for them all).
func (r *Runner) spawn(u *unit) {
	n := u.node
	n.loops.Add(1)
	go func() {
		defer n.loops.Done()
		err := r.supervise(u)
		if err != nil {
			n.mu.Lock()
			if n.failure == nil {
				n.failure = err
			}
			n.mu.Unlock()
			r.fail(err)
		}
		if err == nil {
			err = r.loopEnd(u)
		}
		if u.retiring.Load() {
			// Only now is it out of the run: until its loop ended, a stop
			// of the run had to find it to stop its process.
			n.mu.Lock()
			n.units = slices.DeleteFunc(n.units, func(v *unit) bool { return v == u })
			n.mu.Unlock()
		}
		u.end(err)
	}()
}

// errRetired answers the commands to a replica that procman scale took
// away.
var errRetired = errors.New("scaled away")

// loopEnd is why service unit u's supervise loop ended, when it did not
// fail: the run is ending, or procman scale took u away.
func (r *Runner) loopEnd(u *unit) error {
	if u.retiring.Load() {
		return fmt.Errorf("%s was %w", u.name, errRetired)
	}
	return ErrStopping
}
