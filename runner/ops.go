package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/procman/procman/tasks"
)

// The operations that procman's control channel drives. Each returns when
// it is done: the services it started are ready (or failed to get there),
// the ones it stopped are stopped. They wait for the run to be planned.

// queuedRestart is a restart of a task waiting its turn: the requests for
// the same task that come meanwhile join it.
type queuedRestart struct {
	done chan struct{} // closed when it has run
	err  error         // how it went; read after done
}

// Restart does for each named task what a change to its files does (see
// chain): a service is restarted, a once or plain task runs again and the
// services that depend on it restart. A replica's name (web.2) restarts
// that replica alone. A stopped service starts. Restarts run one at a
// time, with the watch triggers; a restart of a task asked for while
// another one of it waits for its turn joins that one.
func (r *Runner) Restart(ctx context.Context, names []string, reason string) error {
	if err := r.awaitPlan(ctx); err != nil {
		return err
	}
	if _, err := r.resolve(names); err != nil {
		return err
	}
	var errs []error
	for _, name := range names {
		var err error
		n, ok := r.nodes[name]
		switch {
		case ok && n.t.Kind == tasks.Service && !closed(n.launched):
			// nothing ran yet (it waits for its deps): the restart waits
			// for its start, and what depends on it starts after anyway
			for _, u := range n.unitList() {
				err = errors.Join(err, r.send(ctx, u, newCommand(opRestart, false, reason)))
			}
		case ok:
			err = r.restartTask(ctx, n, reason)
		default:
			if us, ok := r.lookup(name); ok && len(us) > 0 {
				err = r.send(ctx, us[0], newCommand(opRestart, false, reason))
			} else { // scaled away since resolve found it
				err = fmt.Errorf("%s was %w", name, errRetired)
			}
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// restartTask runs chain for n in its turn, or joins the restart of n that
// waits for its turn already.
func (r *Runner) restartTask(ctx context.Context, n *node, reason string) error {
	r.queueMu.Lock()
	if q := r.queued[n]; q != nil {
		r.queueMu.Unlock()
		select {
		case <-q.done:
			return q.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	q := &queuedRestart{done: make(chan struct{})}
	r.queued[n] = q
	r.queueMu.Unlock()
	defer close(q.done)
	r.triggerMu.Lock()
	defer r.triggerMu.Unlock()
	r.queueMu.Lock()
	delete(r.queued, n) // from now on a request needs a restart of its own
	r.queueMu.Unlock()
	if r.isStopping() {
		q.err = ErrStopping
		return q.err
	}
	if n.t.Kind != tasks.Service && !closed(n.finished) {
		q.err = fmt.Errorf("%s has not finished its first run (it runs, or waits for its deps): restart it after", n.t.Name)
		return q.err
	}
	q.err = r.chain(ctx, n, reason, false)
	return q.err
}

// Stop stops the named services (a task's name: every replica) and keeps
// them stopped, through restart policies and watch triggers, until Start
// or Restart. What depends on them keeps running.
func (r *Runner) Stop(ctx context.Context, names []string, reason string) error {
	units, err := r.services(ctx, names, "stopped")
	if err != nil {
		return err
	}
	var errs []error
	for _, u := range units {
		errs = append(errs, r.send(ctx, u, newCommand(opStop, false, reason)))
	}
	return errors.Join(errs...)
}

// Start starts the named services that are not running (stopped, or left
// down by their restart policy), each after the services it depends on
// are started and ready; it returns when they are ready.
func (r *Runner) Start(ctx context.Context, names []string, reason string) error {
	units, err := r.services(ctx, names, "started")
	if err != nil {
		return err
	}
	var errs []error
	for _, u := range units {
		if err := r.startDeps(ctx, u.node, reason); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, r.send(ctx, u, newCommand(opStart, false, reason)))
	}
	return errors.Join(errs...)
}

// startDeps starts the services n depends on, directly or not, that are
// not running, and waits until they are ready.
func (r *Runner) startDeps(ctx context.Context, n *node, reason string) error {
	for _, d := range n.deps {
		if err := r.startDeps(ctx, d, reason); err != nil {
			return err
		}
		if d.t.Kind != tasks.Service {
			continue
		}
		for _, u := range d.unitList() {
			if err := r.send(ctx, u, newCommand(opStart, false, reason)); err != nil {
				return err
			}
		}
	}
	return nil
}

// services resolves names to service units, for an operation (verb: "stopped").
func (r *Runner) services(ctx context.Context, names []string, verb string) ([]*unit, error) {
	if err := r.awaitPlan(ctx); err != nil {
		return nil, err
	}
	units, err := r.resolve(names)
	if err != nil {
		return nil, err
	}
	for _, u := range units {
		if t := u.node.t; t.Kind != tasks.Service {
			return nil, &NotServiceError{Name: t.Name, Kind: t.Kind, Op: verb}
		}
	}
	return units, nil
}

// Check returns the error that Restart (services false), or Start and
// Scale (services true), would return at once for names: an unknown task
// or replica, a task that is not a service. procman restart --no-wait
// gets it before the restart goes on without it.
func (r *Runner) Check(ctx context.Context, names []string, services bool) error {
	if !services {
		if err := r.awaitPlan(ctx); err != nil {
			return err
		}
		_, err := r.resolve(names)
		return err
	}
	_, err := r.services(ctx, names, "started")
	return err
}

// awaitPlan waits until the run is planned.
func (r *Runner) awaitPlan(ctx context.Context) error {
	select {
	case <-r.planned:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Scale changes the replicas of running services, by name, until the run
// ends: new replicas start (after the service's deps are ready, as any
// start) and Scale returns when they are ready; surplus ones stop, the
// highest number first.
func (r *Runner) Scale(ctx context.Context, counts map[string]int, reason string) error {
	if err := r.awaitPlan(ctx); err != nil {
		return err
	}
	if r.isStopping() {
		return ErrStopping
	}
	r.scaleMu.Lock() // one at a time: each sees the replicas the last left
	defer r.scaleMu.Unlock()
	names := slices.Sorted(maps.Keys(counts))
	for _, name := range names {
		n, ok := r.nodes[name]
		switch {
		case !ok:
			return &UnknownTaskError{Name: name, Known: r.names()}
		case n.t.Kind != tasks.Service:
			return &NotServiceError{Name: name, Kind: n.t.Kind, Op: "scaled"}
		case counts[name] < 0:
			return fmt.Errorf("%s=%d: a count is 0 or more", name, counts[name])
		}
	}
	var errs []error
	for _, name := range names {
		errs = append(errs, r.scale(ctx, r.nodes[name], counts[name], reason))
	}
	return errors.Join(errs...)
}

// scale sets service n's replicas to count.
func (r *Runner) scale(ctx context.Context, n *node, count int, reason string) error {
	now := r.clock.Now()
	n.mu.Lock()
	if n.halted { // the run stops it, or it never starts: nothing may start now
		err := n.haltErr
		n.mu.Unlock()
		return err
	}
	var added, surplus []*unit
	for i := len(n.units) + 1; i <= count; i++ {
		u := n.newUnit(i, now)
		n.units = append(n.units, u)
		added = append(added, u)
	}
	spawned := n.spawned
	var dropped []*unit // not started yet: they just go
	if count < len(n.units) {
		surplus = slices.Clone(n.units[count:])
		slices.Reverse(surplus)
		if !spawned {
			n.units, dropped, surplus = n.units[:count], surplus, nil
		}
	}
	if spawned {
		for _, u := range added {
			u.mu.Lock()
			u.wasReady = true // the task is ready already: a new replica holds nothing back
			u.mu.Unlock()
			r.spawn(u)
		}
	}
	n.mu.Unlock()
	for _, u := range dropped { // what waits for their start is answered
		u.end(fmt.Errorf("%s was %w", u.name, errRetired))
	}
	if len(added) > 0 || len(surplus) > 0 || len(dropped) > 0 {
		r.out.Logf(Info, "%s: scaling to %d (%s)", n.t.Name, count, reason)
	}
	var errs []error
	for _, u := range surplus { // its loop stops it, ends, and takes it out of n.units (spawn)
		u.retiring.Store(true)
		err := r.send(ctx, u, newCommand(opStop, false, reason))
		if err == nil { // stopped: its loop ends now; then ps no longer shows it
			select {
			case <-u.gone:
			case <-ctx.Done():
			}
		}
		errs = append(errs, err)
	}
	if !spawned {
		return errors.Join(errs...) // its deps are not ready: it starts them all in its turn
	}
	for _, u := range added {
		errs = append(errs, r.send(ctx, u, newCommand(opStart, false, reason)))
	}
	return errors.Join(errs...)
}
