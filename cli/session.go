package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/procman/procman/runner"
	"github.com/procman/procman/runner/guard"
	"github.com/procman/procman/runner/state"
)

// session is what a run holds while it goes on: the state store and, for a
// supervisor (up, watch), the supervisor lock and the guard that stops its
// process groups if procman is killed.
type session struct {
	store   *state.Store
	release func()
	guard   *guard.Client
}

// open opens the project's state; a supervisor also takes the lock,
// cleans up after a supervisor that died, and starts its guard. A run
// that starts a service (guarded) starts a guard too: a service does not
// end by itself, and procman killed must not leave it running.
func (p *project) open(supervisor, guarded bool, runID string) (*session, error) {
	store, err := state.Open(p.cfg.Dir)
	if err != nil {
		return nil, err
	}
	store.Logf = func(f string, a ...any) { p.out.Logf(runner.Warn, "state: "+f, a...) }
	// Transitions close in time (a restart's exit and start; a short run's
	// start and end) share one write, made after the new process started
	// rather than before it.
	store.Coalesce = 25 * time.Millisecond
	s := &session{store: store}
	if !supervisor {
		// A run's record of exits is not worth two fsyncs (~1 ms) of every
		// run: its writes stay atomic, just not durable against power loss.
		store.NoSync = true
		if guarded {
			s.guard = p.startGuard(runID)
		}
		return s, nil
	}
	s.release, err = store.Acquire()
	if err != nil {
		store.Close()
		var busy *state.BusyError
		if errors.As(err, &busy) {
			return nil, &usageError{err}
		}
		return nil, err
	}
	if err := runner.Recover(store, p.cfg, p.out); err != nil {
		p.out.Logf(runner.Warn, "crash recovery: %v", err)
	}
	s.guard = p.startGuard(runID)
	return s, nil
}

// startGuard starts the guard process; without one procman still runs, and
// crash recovery on the next start is the fallback.
func (p *project) startGuard(runID string) *guard.Client {
	exe, err := os.Executable()
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var g *guard.Client
		if g, err = guard.Start(ctx, exe, []string{guardCommand}, "PROCMAN_RUN_ID="+runID, os.Stderr); err == nil {
			return g
		}
	}
	p.out.Logf(runner.Warn, "no guard (%v): if procman is killed, its tasks are stopped on its next start", err)
	return nil
}

// options fills in what the session gives a runner.
func (s *session) options(o runner.Options) runner.Options {
	o.Store = s.store
	if s.guard != nil {
		o.Guard = s.guard
	}
	return o
}

// close says goodbye to the guard, writes the state and releases the lock,
// once every task has stopped.
func (s *session) close() {
	if s.guard != nil {
		_ = s.guard.Close()
	}
	_ = s.store.Close()
	if s.release != nil {
		s.release()
	}
}

// guardCommand is the hidden `procman guard`: the process that stops
// procman's process groups when procman dies without saying goodbye. It
// skips the command line parser, so that the guard touches as little of
// the binary as it can and stays small.
const guardCommand = "guard"

// runGuard serves the guard protocol on stdin until procman ends.
func runGuard() int {
	if err := guard.Main(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "procman | %v\n", err)
		return 2
	}
	return 0
}
