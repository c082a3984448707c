package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync/atomic"
	"time"
)

// defaultDebounce is procman's default watch debounce (SPEC section 2).
const defaultDebounce = 50 * time.Millisecond

// rounds is what one series of saves measured.
type rounds struct {
	lat   []time.Duration // save to the new child's start, one per save
	extra int             // child starts beyond one per save
	// restarts is how many restarts procman logged ("...: restarting
	// child"), which counts too the children killed before they could
	// report; -1 for the floor.
	restarts int
}

// restartRows measures case 1: a save in a tree of cfg.files files to the
// new child's start, for the floor, procman at debounce 0s and procman at
// its default debounce.
func (e *env) restartRows(ctx context.Context, cfg config) []row {
	const name0, nameDef = "restart, debounce 0s", "restart, default debounce (50ms)"
	dir, err := e.caseDir("restart")
	if err != nil {
		return failRows(err, name0, nameDef)
	}
	files, err := makeTree(filepath.Join(dir, "tree"), cfg.files, 20)
	if err != nil {
		return failRows(err, name0, nameDef)
	}
	e.logf("restart: floor, %d saves", cfg.rounds)
	floor, err := e.floorRestart(ctx, dir, files, cfg.rounds)
	if err != nil {
		return failRows(fmt.Errorf("floor: %w", err), name0, nameDef)
	}
	e.logf("restart: procman at debounce 0s, %d saves", cfg.rounds)
	zero, err := e.procmanRestart(ctx, dir, files, cfg.rounds, "0s", 100*time.Millisecond)
	if err != nil {
		return failRows(err, name0, nameDef)
	}
	e.logf("restart: procman at the default debounce, %d saves", cfg.rounds)
	def, err := e.procmanRestart(ctx, dir, files, cfg.rounds, "", 150*time.Millisecond)
	if err != nil {
		return failRows(err, name0, nameDef)
	}
	fMed, fP90 := median(floor.lat), quantile(floor.lat, 0.9)
	zMed, dMed := median(zero.lat), median(def.lat)
	return []row{
		{name: name0 + ": median", unit: dur, floor: secs(fMed), got: secs(zMed),
			target: "≤ 2x floor", verdict: check(zMed <= 2*fMed), note: extraNote(zero, cfg.rounds)},
		{name: name0 + ": p90", unit: dur, floor: secs(fP90), got: secs(quantile(zero.lat, 0.9))},
		{name: nameDef + ": median", unit: dur, floor: secs(fMed + defaultDebounce), got: secs(dMed),
			target: "≤ 60 ms", verdict: check(dMed <= defaultDebounce+10*time.Millisecond),
			note: "floor + debounce; " + extraNote(def, cfg.rounds)},
		{name: nameDef + ": p90", unit: dur, floor: secs(fP90 + defaultDebounce), got: secs(quantile(def.lat, 0.9))},
	}
}

// extraNote says how often procman restarted the child for saves saves.
func extraNote(r rounds, saves int) string {
	return fmt.Sprintf("%d restarts for %d saves, %d extra child starts", r.restarts, saves, r.extra)
}

// failRows returns one failed row per name.
func failRows(err error, names ...string) []row {
	out := make([]row, len(names))
	for i, n := range names {
		out[i] = row{name: n, floor: -1, failText: err.Error(), verdict: fail}
	}
	return out
}

// measure saves one file per round and times each save to the next child
// start; before each save it calls arm, when not nil. After each start it
// waits for quiet, counting further starts as extra restarts.
func measure(ctx context.Context, s *sink, files []string, n int, quiet time.Duration, arm func()) (rounds, error) {
	r := rounds{restarts: -1}
	for i := range n {
		f := files[(i*7919+len(files)/2)%len(files)]
		if arm != nil {
			arm()
		}
		t0 := time.Now()
		if err := writeFile(f, i+1); err != nil {
			return r, err
		}
		st, err := s.next(ctx, 10*time.Second)
		for err == nil && st.at.Before(t0) { // a start from before this save
			r.extra++
			st, err = s.next(ctx, 10*time.Second)
		}
		if err != nil {
			return r, fmt.Errorf("save %d: %w", i+1, err)
		}
		r.lat = append(r.lat, st.at.Sub(t0))
		extra, err := s.settle(ctx, quiet)
		if err != nil {
			return r, err
		}
		r.extra += extra
	}
	return r, nil
}

// floorRestart is the physical floor: this process watches the tree with
// raw inotify and, on the first event after a save, SIGTERMs the child's
// group, reaps it and starts the same child again.
func (e *env) floorRestart(ctx context.Context, dir string, files []string, n int) (rounds, error) {
	s, err := newSink(dir)
	if err != nil {
		return rounds{}, err
	}
	defer func() { s.close(); e.sweep(s.children()) }()
	tw, err := newTreeWatch(filepath.Join(dir, "tree"), "node_modules")
	if err != nil {
		return rounds{}, err
	}
	cmd, err := e.startChild(s.path)
	if err != nil {
		tw.close()
		return rounds{}, err
	}
	if _, err := s.next(ctx, 10*time.Second); err != nil {
		stopGroup(cmd)
		tw.close()
		return rounds{}, err
	}
	var armed atomic.Bool
	loopErr := make(chan error, 1)
	go func() {
		for {
			ok, err := tw.next()
			if !ok {
				loopErr <- err
				return
			}
			if !armed.CompareAndSwap(true, false) {
				continue // the rest of a save already acted on
			}
			stopGroup(cmd)
			if cmd, err = e.startChild(s.path); err != nil {
				loopErr <- err
				return
			}
		}
	}()
	r, err := measure(ctx, s, files, n, 50*time.Millisecond, func() { armed.Store(true) })
	tw.wake()
	if lerr := <-loopErr; err == nil {
		err = lerr
	}
	tw.close()
	if cmd.Process != nil && cmd.ProcessState == nil {
		stopGroup(cmd)
	}
	return r, err
}

// restartProcfile is a service running the child, watching tree.
func (e *env) restartProcfile(sock, debounce string) string {
	top := ""
	if debounce != "" {
		top = "watch:\n  debounce: " + debounce + "\n"
	}
	return top + fmt.Sprintf(`tasks:
  child:
    cmd: [%s]
    service: true
    env: {PROCMAN_BENCH_SOCK: %s, PROCMAN_BENCH_LIFE: 4m}
    watch:
      paths: [tree]
`, strconv.Quote(e.child), strconv.Quote(sock))
}

// procmanRestart runs `procman up` on the tree at debounce (""= default)
// and measures n saves.
func (e *env) procmanRestart(ctx context.Context, dir string, files []string, n int, debounce string, quiet time.Duration) (rounds, error) {
	s, p, _, err := e.upWithChild(ctx, dir, e.restartProcfile(filepath.Join(dir, "s"), debounce))
	if err != nil {
		return rounds{}, err
	}
	r, err := measure(ctx, s, files, n, quiet, nil)
	if perr := e.endUp(s, p); err == nil {
		err = perr
	}
	r.restarts = p.log.count(restartLine)
	return r, err
}

// restartLine is procman's log line for a watch-triggered restart of the
// child.
var restartLine = regexp.MustCompile(`: restarting child$`)

// upWithChild writes procfile into dir, starts `procman up` there and
// waits for its first child, which it returns.
func (e *env) upWithChild(ctx context.Context, dir, procfile string) (*sink, *pmProc, started, error) {
	if err := os.WriteFile(filepath.Join(dir, "Procfile.yaml"), []byte(procfile), 0o644); err != nil {
		return nil, nil, started{}, err
	}
	s, err := newSink(dir)
	if err != nil {
		return nil, nil, started{}, err
	}
	p, err := e.startProcman(dir, nil, "up")
	if err != nil {
		s.close()
		return nil, nil, started{}, err
	}
	first, err := s.next(ctx, 30*time.Second)
	if err != nil {
		err = fmt.Errorf("procman up: %w; its stderr ends with:\n%s", err, p.log.tail(5))
		return nil, nil, started{}, errors.Join(err, e.endUp(s, p))
	}
	return s, p, first, nil
}

// endUp stops procman and the sink, and sweeps what procman left.
func (e *env) endUp(s *sink, p *pmProc) error {
	err := p.end()
	s.close()
	if left := e.sweep(s.children()); left > 0 && err == nil {
		err = fmt.Errorf("procman left %d children running", left)
	}
	return err
}
