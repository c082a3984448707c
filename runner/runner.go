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
	"syscall"
	"time"

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
	// triggerMu makes watch triggers run one at a time.
	triggerMu sync.Mutex
	watching  bool // some task is watched: the run goes on until Ctrl-C
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
	for _, name := range order {
		r.nodes[name] = newNode(r.cfg.Tasks[name])
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
	r.journal.begin(r.opts.RunID)
	defer r.journal.end()
	for _, name := range order {
		go r.runNode(ctx, r.nodes[name], slices.Contains(targets, name))
	}
	err = r.wait(ctx, targets, supervise)
	r.stopAll(stopReason(ctx, err, targets))
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return err
}

// wait returns when the run is over (see Run).
func (r *Runner) wait(ctx context.Context, targets []string, supervise bool) error {
	all := make(chan struct{})
	go func() {
		list := targets
		if supervise {
			list = r.order
		}
		for _, name := range list {
			<-r.nodes[name].finished
		}
		close(all)
	}()
	ended := (<-chan struct{})(all)
	if r.watching {
		ended = nil // watching goes on until Ctrl-C, whatever has ended
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-r.failures:
		return err
	case <-ended:
	}
	for _, name := range targets {
		if err := r.nodes[name].err; err != nil {
			return err
		}
	}
	return nil
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

// stopNode stops n's running process, if any, and marks n stopped.
func (r *Runner) stopNode(n *node) {
	defer close(n.stopped)
	p := n.halt()
	if p == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	r.out.Logf(Info, "%s: stopping (%s)", n.t.Name, r.reason)
	p.stop(r.kill)
	r.out.Logf(Info, "%s stopped (%s)", n.t.Name, describe(p.code))
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
		finished := d.finished
		if r.opts.Persist {
			finished = nil // a failed dep may succeed when its files change
		}
		select {
		case <-d.ready:
		case <-finished:
			select {
			case <-d.ready:
			default:
				return ErrDepFailed
			}
		case <-r.stopping:
			return context.Canceled
		}
	}
	return nil
}

// runNode runs n once its deps are ready.
func (r *Runner) runNode(ctx context.Context, n *node, target bool) {
	defer close(n.finished)
	if err := r.waitDeps(n); err != nil {
		n.err = err
		return
	}
	if n.t.Kind == tasks.Service {
		if pid, ok := r.journal.supervisedElsewhere(n.t.Name); ok && !target {
			// a second instance would only fight the first for its port
			r.out.Logf(Info, "%s runs under procman pid %d: using it", n.t.Name, pid)
			n.markReady()
			return
		}
		n.err = r.supervise(ctx, n)
		if n.err != nil {
			r.fail(n.err)
		}
		return
	}
	var args []string
	if target {
		args = r.opts.Args
	}
	n.err = r.runOnce(n, args, r.opts.Force)
	if n.err == nil {
		n.markReady()
		return
	}
	if !target && !r.opts.Persist && !errors.Is(n.err, context.Canceled) {
		r.fail(n.err) // a dependency failed: end the run with its error
	}
}
