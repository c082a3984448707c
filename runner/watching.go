package runner

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/procman/procman/tasks"
	"github.com/procman/procman/watch"
)

// startWatching starts a watcher for every watched task of the plan and a
// goroutine that turns its batches into triggers. The returned function
// stops them all.
func (r *Runner) startWatching(ctx context.Context, targets []string) (func(), error) {
	watched := map[string]*tasks.Watch{}
	var names []string
	for _, name := range r.order {
		if w := r.nodes[name].t.Watch; w != nil {
			watched[name] = w
			names = append(names, name)
		}
	}
	if len(names) == 0 && r.opts.Persist {
		for _, name := range targets {
			w := r.cfg.WatchDefaults
			w.Paths = []string{r.nodes[name].t.Dir}
			watched[name] = &w
			names = append(names, name)
		}
	}
	r.watching = len(names) > 0
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var watchers []*watch.Watcher
	stop := func() {
		cancel()
		for _, w := range watchers {
			_ = w.Close()
		}
		wg.Wait()
	}
	for _, name := range names {
		w := watched[name]
		debounce := w.Debounce
		if debounce == tasks.DebounceAuto {
			debounce = watch.Auto
		}
		ignore, outputs := r.outputs(r.nodes[name], w)
		ws, err := watch.New(wctx, watch.Options{
			Roots:         w.Paths,
			Base:          r.cfg.Dir,
			Ignore:        ignore,
			Outputs:       outputs,
			Debounce:      debounce,
			ChangesNeeded: w.ChangesNeeded,
			Logf:          func(f string, a ...any) { r.out.Logf(Warn, "watch: "+f, a...) },
		})
		if err != nil {
			stop()
			return nil, fmt.Errorf("watch %s: %w", name, err)
		}
		r.out.Logf(Debug, "watching %s for %s (%d folders)", strings.Join(r.rel(w.Paths), ", "), name, ws.Watched())
		watchers = append(watchers, ws)
		r.nodes[name].watcher, r.nodes[name].need = ws, w.ChangesNeeded
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.consume(wctx, r.nodes[name], ws)
		}()
	}
	return stop, nil
}

// outputs returns what the watch w of node n must not count: its ignore
// patterns plus the generates of n and of every task it depends on, and the
// folders that hold those (up to the project folder), whose own creation
// and removal never count. A build that writes bin/demo thus triggers
// neither itself nor the server that runs bin/demo, even when it creates
// bin/.
func (r *Runner) outputs(n *node, w *tasks.Watch) (ignore, folders []string) {
	ignore = append([]string(nil), w.Ignore...)
	seen := map[*node]bool{}
	var walk func(m *node)
	walk = func(m *node) {
		if seen[m] {
			return
		}
		seen[m] = true
		for _, g := range m.t.Generates {
			abs := filepath.Join(m.t.Dir, g)
			if !inside(abs, r.cfg.Dir) {
				continue
			}
			rel, _ := filepath.Rel(r.cfg.Dir, abs)
			ignore = append(ignore, "/"+filepath.ToSlash(rel))
			for dir := holder(abs); inside(dir, r.cfg.Dir) && dir != r.cfg.Dir; dir = filepath.Dir(dir) {
				folders = append(folders, dir)
			}
		}
		for _, d := range m.deps {
			walk(d)
		}
	}
	walk(n)
	return ignore, folders
}

// holder returns the deepest folder that holds every path an absolute
// generates pattern names: /p/bin for /p/bin/demo, /p/dist/x for
// /p/dist/x/**/*.js.
func holder(pattern string) string {
	if i := strings.IndexAny(pattern, "*?["); i >= 0 {
		return filepath.Dir(pattern[:i+1])
	}
	return filepath.Dir(pattern)
}

// inside reports whether p is dir or below it.
func inside(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// consume triggers n for every batch of w, once n has first been started.
// Batches that arrive before, or while a trigger runs, wait in the watcher.
func (r *Runner) consume(ctx context.Context, n *node, w *watch.Watcher) {
	first := n.finished
	if n.t.Kind == tasks.Service {
		first = n.launched
	}
	select {
	case <-first:
	case <-n.ready:
	case <-ctx.Done():
		return
	}
	for {
		select {
		case b, ok := <-w.Batches():
			if !ok {
				return
			}
			_ = r.Trigger(ctx, n.t.Name, b)
		case <-ctx.Done():
			return
		}
	}
}

// Trigger acts on a change to task name's files: what chain does, after
// dropping the changes that are no reason to act (see unclaimed and
// unchangedSources). When a run fails, the services keep running and the
// error is returned.
func (r *Runner) Trigger(ctx context.Context, name string, b watch.Batch) error {
	r.triggerMu.Lock()
	defer r.triggerMu.Unlock()
	n := r.nodes[name]
	if r.isStopping() || n == nil {
		return nil
	}
	if b = r.sameAsLast(n, r.unclaimed(n, b)); len(b.Paths) == 0 && !b.Overflow {
		return nil
	}
	if r.unchangedSources(n, b) {
		r.out.Logf(Info, "%s is up to date (%s, sources as at its last success)", name, r.describeBatch(b))
		return nil
	}
	r.journal.changes(len(b.Paths))
	return r.chain(ctx, n, r.describeBatch(b), true)
}

// chain acts on task n as on a change to its files, for reason: a service
// is restarted; a once or plain task is run again, then every task between
// it and the targets that depends on it, and when all succeed the services
// among them are restarted, each after the ones it depends on are ready
// again, replica after replica. watch says a watch asked: a stopped service
// stays stopped. Call it holding triggerMu.
func (r *Runner) chain(ctx context.Context, n *node, reason string, watch bool) error {
	verb, after := "re-running", n.t.Name+" ran again"
	if n.t.Kind == tasks.Service {
		verb, after = "restarting", n.t.Name+" restarted"
	}
	r.out.Logf(Info, "%s: %s (%s)", n.t.Name, verb, reason)
	affected := r.downstream(n)
	for _, m := range affected {
		if m.t.Kind == tasks.Service || (m != n && !closed(m.finished)) {
			continue // services come next; a task not yet run will run by itself
		}
		why := reason
		if m != n {
			why = after
		}
		if err := r.runOnce(m, nil, true, why); err != nil {
			if !errors.Is(err, context.Canceled) {
				r.out.Logf(Error, "%s failed; running services keep running", m.t.Name)
			}
			return err
		}
		m.markReady()
	}
	var first error
	failed := map[*node]bool{} // services whose restart failed, and those after them
	for _, m := range affected {
		if m.t.Kind != tasks.Service || !closed(m.launched) {
			continue
		}
		if slices.ContainsFunc(m.deps, func(d *node) bool { return failed[d] }) {
			failed[m] = true
			r.out.Logf(Warn, "%s: not restarted (what it depends on failed to restart); it keeps running", m.t.Name)
			continue
		}
		why, keep := reason, watch
		if m != n { // a service the user stopped stays so when what it depends on changes
			r.out.Logf(Info, "%s: restarting (%s)", m.t.Name, after)
			why, keep = after, true
		}
		units := m.unitList()
		for i, u := range units {
			err := r.send(ctx, u, newCommand(opRestart, keep, why))
			if err == nil || errors.Is(err, errRetired) {
				continue
			}
			if first == nil {
				first = err
			}
			failed[m] = true
			if rest := units[i+1:]; len(rest) > 0 && !errors.Is(err, ErrStopping) {
				// a rolling restart stops at a replica that fails: the others
				// keep serving the old version
				var left []string
				for _, v := range rest {
					left = append(left, v.name)
				}
				r.out.Logf(Warn, "%s: rolling restart stopped: %s failed; left as they were: %s", m.t.Name, u.name, strings.Join(left, ", "))
			}
			break
		}
	}
	return first
}

// unchangedSources reports whether b holds only sources of once task n and
// n is up to date: a tool that rewrote a file it owns with the same
// content (npm install rewrites package-lock.json each time) is no reason
// to run n again, and without this check n would trigger itself forever.
func (r *Runner) unchangedSources(n *node, b watch.Batch) bool {
	if n.t.Kind != tasks.Once || len(n.t.Sources) == 0 || b.Overflow || len(b.Paths) == 0 {
		return false
	}
	for _, p := range b.Paths {
		if !n.t.IsSource(p) {
			return false
		}
	}
	_, ok := r.upToDate(n, false)
	return ok
}

// unclaimed returns b without the changes that n's process already saw,
// or that a trigger of a task n depends on has acted on or will: a server
// and its build that both watch the source folder restart the server
// once, after the build. A change is claimed when n started again after
// the batch's last change (an editor's re-touch of a file right after a
// save), or when a watched task upstream of n counts it too (at a
// threshold no higher than n's).
func (r *Runner) unclaimed(n *node, b watch.Batch) watch.Batch {
	if !b.Last.IsZero() && !b.Overflow && n.startedSince(b.Last) {
		r.out.Logf(Debug, "%s: started again after %s", n.t.Name, r.describeBatch(b))
		return watch.Batch{}
	}
	var up []*node
	for _, name := range r.order {
		if m := r.nodes[name]; m != n && m.watcher != nil && m.need <= n.need && slices.Contains(r.downstream(m), n) {
			up = append(up, m)
		}
	}
	if len(up) == 0 {
		return b
	}
	kept := b
	kept.Paths = nil
	for _, p := range b.Paths {
		claimed := ""
		for _, m := range up {
			if m.watcher.Counts(p) {
				claimed = m.t.Name
				break
			}
		}
		if claimed == "" {
			kept.Paths = append(kept.Paths, p)
		} else {
			r.out.Logf(Debug, "%s: %s is %s's to act on", n.t.Name, r.rel([]string{p})[0], claimed)
		}
	}
	return kept
}

// downstream returns n and every node that depends on it, transitively, in
// plan order.
func (r *Runner) downstream(n *node) []*node {
	in := map[*node]bool{n: true}
	var out []*node
	for _, name := range r.order {
		m := r.nodes[name]
		for _, d := range m.deps {
			if in[d] {
				in[m] = true
			}
		}
		if in[m] {
			out = append(out, m)
		}
	}
	return out
}

// describeBatch says what changed, for the log: "3 files changed: a.go,
// b.go, c.go, ...".
func (r *Runner) describeBatch(b watch.Batch) string {
	if b.Overflow && len(b.Paths) == 0 {
		return "events were lost (queue overflow)"
	}
	rel := r.rel(b.Paths)
	shown := rel[:min(len(rel), 3)]
	list := strings.Join(shown, ", ")
	if len(rel) > len(shown) {
		list += ", ..."
	}
	noun := "files"
	if len(rel) == 1 {
		noun = "file"
	}
	return fmt.Sprintf("%d %s changed: %s", len(rel), noun, list)
}

// rel returns paths relative to the project folder where they are inside it.
func (r *Runner) rel(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		if rel, err := filepath.Rel(r.cfg.Dir, p); err == nil && !strings.HasPrefix(rel, "..") {
			p = rel
		}
		out[i] = p
	}
	return out
}

// closed reports whether ch is closed.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
