package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/procman/procman/tasks"
	"github.com/procman/procman/watch"
)

// launch starts cmd for n, unless the run is ending.
func (r *Runner) launch(n *node, cmd tasks.Command, onLine func([]byte)) (*process, error) {
	t := n.t
	s := spec{
		name:        t.Name,
		argv:        cmd.Argv,
		dir:         t.Dir,
		env:         append(r.cfg.Environ(t), "PROCMAN_RUN_ID="+r.opts.RunID, "PROCMAN_TASK="+t.Name),
		stopSignal:  t.StopSignal,
		stopTimeout: t.StopTimeout,
		onLine:      onLine,
	}
	if r.opts.Progress && t.Kind != tasks.Service {
		s.now = r.clock.Now
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.halted {
		return nil, context.Canceled
	}
	p, err := start(s, r.out, r.clock.Now())
	if err != nil {
		err = fmt.Errorf("start %q: %w", t.Name, err)
		r.out.Logf(Error, "%v", err)
		r.journal.failed(t.Name, err.Error())
		return nil, &startError{err}
	}
	r.journal.started(t.Name, p, t.Kind == tasks.Service && n.starts > 0)
	n.starts++
	n.cur, n.lastStart = p, p.started
	n.launchOnce.Do(func() { close(n.launched) })
	if r.opts.Guard != nil {
		if err := r.opts.Guard.Add(t.Name, p.pgid, p.leaderStart, t.StopSignal, t.StopTimeout); err != nil {
			r.out.Logf(Warn, "guard: %v", err)
		}
	}
	if t.Kind == tasks.Service {
		r.out.Logf(Info, "%s started (pid %d)", t.Name, p.pgid)
	}
	r.out.Logf(Debug, "%s: exec %q in %s as pid %d (stop: %v, then SIGKILL after %v)", t.Name, cmd.Argv, t.Dir, p.pgid, t.StopSignal, t.StopTimeout)
	return p, nil
}

// forget drops a finished process from n and from the guard.
func (r *Runner) forget(n *node, p *process) {
	n.mu.Lock()
	if n.cur == p {
		n.cur = nil
	}
	n.mu.Unlock()
	if r.opts.Guard != nil {
		_ = r.opts.Guard.Remove(p.pgid)
	}
}

// node is one task of the plan while it runs.
type node struct {
	t          *tasks.Task
	deps       []*node
	dependents []*node
	ready      chan struct{} // closed when dependents may start
	launched   chan struct{} // closed when its process first started
	finished   chan struct{} // closed when the task will not run again
	stopped    chan struct{} // closed when stopAll is done with it
	err        error         // why it failed; read after finished

	watcher *watch.Watcher // its watch, if any; set before any trigger runs
	need    int            // its watch's changes_needed

	readyOnce  sync.Once
	launchOnce sync.Once

	mu        sync.Mutex
	cur       *process        // the running process, if any
	starts    int             // processes started so far
	lastStart time.Time       // when the latest process started
	lastFP    string          // sources fingerprint of its last success in this run
	halted    bool            // the run is ending: start nothing more
	restart   chan struct{}   // a watch asks for a restart now
	waiters   []chan struct{} // closed when the restarted service is ready or gave up
}

// startedSince reports whether n's latest process started after t.
func (n *node) startedSince(t time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.lastStart.After(t)
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

// takeWaiters returns and forgets the restart waiters.
func (n *node) takeWaiters() []chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	w := n.waiters
	n.waiters = nil
	return w
}

// release closes restart waiters.
func release(waiters []chan struct{}) {
	for _, w := range waiters {
		close(w)
	}
}

func newNode(t *tasks.Task) *node {
	return &node{
		t:        t,
		ready:    make(chan struct{}),
		launched: make(chan struct{}),
		finished: make(chan struct{}),
		stopped:  make(chan struct{}),
		restart:  make(chan struct{}, 1),
	}
}

// halt marks n so that nothing more starts, and returns the running process.
func (n *node) halt() *process {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.halted = true
	return n.cur
}

// ErrNotStarted marks a task whose command could not be started (not
// found, not executable); the runner has already said why.
var ErrNotStarted = errors.New("could not start")

// startError is a failed start, already reported: it is ErrNotStarted.
type startError struct{ err error }

func (e *startError) Error() string        { return e.err.Error() }
func (e *startError) Unwrap() error        { return e.err }
func (e *startError) Is(target error) bool { return target == ErrNotStarted }
