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

// rounds is what one series of saves measured.
type rounds struct {
	lat     []time.Duration // save to the new child's start, one per save a start followed
	extra   int             // child starts beyond one per save
	missed  int             // saves no start followed before the next was due (paced series)
	stalled int             // saves whose own write took over stallWrite (the disk, not the watcher)
	// restarts is how many restarts procman logged (restartLine), which
	// counts too the children killed before they could report; -1 for the
	// floor.
	restarts int
}

// starts is how many children started in the series.
func (r rounds) starts() int { return len(r.lat) + r.extra }

// pace is how a series spaces its saves. Without a gap, each save comes
// once the child settled: no start for quiet after the save's start. With
// one, each comes gap after the one before; a save that no start followed
// by then is missed rather than an error.
type pace struct {
	quiet time.Duration
	gap   time.Duration
}

// restartRows measures case 1: a save in a tree of cfg.files files to the
// new child's start, for the floor, procman at debounce 0s and procman at
// its default debounce; then cfg.saves saves cfg.saveGap apart at the
// default, each of which should restart the child once.
func (e *env) restartRows(ctx context.Context, cfg config) []row {
	name0, nameDef := "restart, debounce 0s", "restart, default debounce (auto)"
	nameSaves := fmt.Sprintf("restart, %d saves %v apart", cfg.saves, cfg.saveGap)
	dir, err := e.caseDir("restart")
	if err != nil {
		return failRows(err, name0, nameDef, nameSaves)
	}
	files, err := makeTree(filepath.Join(dir, "tree"), cfg.files, 20)
	if err != nil {
		return failRows(err, name0, nameDef, nameSaves)
	}
	e.logf("restart: floor, %d saves", cfg.rounds)
	floor, err := e.floorRestart(ctx, dir, files, cfg.rounds)
	if err != nil {
		return failRows(fmt.Errorf("floor: %w", err), name0, nameDef, nameSaves)
	}
	e.logf("restart: procman at debounce 0s, %d saves", cfg.rounds)
	zero, err := e.procmanRestart(ctx, dir, files, cfg.rounds, "0s", pace{quiet: 100 * time.Millisecond})
	if err != nil {
		return failRows(err, name0, nameDef, nameSaves)
	}
	fMed, fP90, zMed := median(floor.lat), quantile(floor.lat, 0.9), median(zero.lat)
	rows := []row{
		{name: name0 + ": median", unit: dur, floor: secs(fMed), got: secs(zMed),
			target: "≤ 2x floor", verdict: check(zMed <= 2*fMed && once(zero, cfg.rounds)), note: extraNote(zero, cfg.rounds)},
		{name: name0 + ": p90", unit: dur, floor: secs(fP90), got: secs(quantile(zero.lat, 0.9)), note: "the floor's series: " + stallNote(floor)},
	}
	e.logf("restart: procman at the default debounce, %d saves", cfg.rounds)
	def, err := e.procmanRestart(ctx, dir, files, cfg.rounds, "", pace{quiet: 150 * time.Millisecond})
	if err != nil {
		return append(rows, failRows(err, nameDef, nameSaves)...)
	}
	dMed := median(def.lat)
	rows = append(rows,
		row{name: nameDef + ": median", unit: dur, floor: secs(fMed), got: secs(dMed),
			target: "≤ floor + 10 ms", verdict: check(dMed <= fMed+10*time.Millisecond && once(def, cfg.rounds)), note: extraNote(def, cfg.rounds)},
		row{name: nameDef + ": p90", unit: dur, floor: secs(fP90), got: secs(quantile(def.lat, 0.9))})
	e.logf("restart: procman at the default debounce, %d saves %v apart", cfg.saves, cfg.saveGap)
	paced, err := e.procmanRestart(ctx, dir, files, cfg.saves, "", pace{gap: cfg.saveGap})
	if err != nil {
		return append(rows, failRows(err, nameSaves)...)
	}
	return append(rows, pacedRows(nameSaves, paced, cfg.saves)...)
}

// pacedRows are the rows of n saves far enough apart that each must
// restart the child once: the restarts procman logged, and the child's
// starts.
func pacedRows(name string, r rounds, n int) []row {
	target := fmt.Sprintf("= %d", n)
	note := fmt.Sprintf("default debounce; save to start: median %s, p90 %s", fmtDur(median(r.lat)), fmtDur(quantile(r.lat, 0.9)))
	if r.missed > 0 {
		note = fmt.Sprintf("%d saves not followed by a start; %s", r.missed, note)
	}
	return []row{
		{name: name + ": restarts logged", unit: count, floor: float64(n), got: float64(r.restarts),
			target: target, verdict: check(r.restarts == n), note: note},
		{name: name + ": child starts", unit: count, floor: float64(n), got: float64(r.starts()),
			target: target, verdict: check(r.starts() == n)},
	}
}

// once reports whether each of the saves restarted the child once: a
// save that restarts it three times would otherwise pass on the time to
// its first start.
func once(r rounds, saves int) bool {
	return r.extra == 0 && r.restarts == saves && len(r.lat) == saves
}

// extraNote says how often procman restarted the child for saves saves,
// and how many saves the disk held up.
func extraNote(r rounds, saves int) string {
	return fmt.Sprintf("%d restarts for %d saves, %d extra child starts; %s", r.restarts, saves, r.extra, stallNote(r))
}

// stallWrite is how long the bench's own write of a file may take before
// the save counts as held up by the disk: it takes under 2 ms here, and
// now and then over 100 ms (ext4's journal on this VM's disk), which the
// save's time then holds whatever watches it.
const stallWrite = 5 * time.Millisecond

// stallNote says how many of the series' saves the disk held up.
func stallNote(r rounds) string {
	return fmt.Sprintf("%d saves whose own write took over %v", r.stalled, stallWrite)
}

// measure saves one file per round, n rounds spaced by p, and times each
// save to the next child start; before each save it calls arm, when not
// nil. Starts beyond one per save count as extra.
func measure(ctx context.Context, s *sink, files []string, n int, p pace, arm func()) (rounds, error) {
	r := rounds{restarts: -1}
	wait := 10 * time.Second
	if p.gap > 0 {
		wait = p.gap
	}
	for i := range n {
		f := files[(i*7919+len(files)/2)%len(files)]
		if arm != nil {
			arm()
		}
		t0 := time.Now()
		if err := writeFile(f, i+1); err != nil {
			return r, err
		}
		if time.Since(t0) > stallWrite {
			r.stalled++
		}
		deadline := t0.Add(wait)
		st, err := s.next(ctx, time.Until(deadline))
		for err == nil && st.at.Before(t0) { // a start from before this save
			r.extra++
			st, err = s.next(ctx, time.Until(deadline))
		}
		switch {
		case err != nil && p.gap > 0 && ctx.Err() == nil:
			r.missed++
			continue
		case err != nil:
			return r, fmt.Errorf("save %d: %w", i+1, err)
		}
		r.lat = append(r.lat, st.at.Sub(t0))
		var extra int
		if p.gap > 0 {
			extra, err = s.countUntil(ctx, deadline)
		} else {
			extra, err = s.settle(ctx, p.quiet)
		}
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
	r, err := measure(ctx, s, files, n, pace{quiet: 50 * time.Millisecond}, func() { armed.Store(true) })
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

// procmanRestart runs `procman up` on the tree at debounce ("" = the
// default: no debounce key in the Procfile) and measures n saves spaced by
// p.
func (e *env) procmanRestart(ctx context.Context, dir string, files []string, n int, debounce string, p pace) (rounds, error) {
	s, pm, _, err := e.upWithChild(ctx, dir, e.restartProcfile(filepath.Join(dir, "s"), debounce))
	if err != nil {
		return rounds{}, err
	}
	r, err := measure(ctx, s, files, n, p, nil)
	if perr := e.endUp(s, pm); err == nil {
		err = perr
	}
	r.restarts = pm.log.count(restartLine)
	return r, err
}

// restartLine is procman's log line for a watch-triggered restart of the
// child, in either form procman has written it:
//
//	procman | watch: 1 file changed (tree/x): restarting child
//	procman | child: restarting (1 file changed: tree/x)
var restartLine = regexp.MustCompile(`(?:: restarting child|\| child: restarting \(.*\))$`)

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
	p, err := e.startProcman(dir, nil, nil, "up")
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
