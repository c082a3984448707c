package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// rollSlack is what a rolling restart may take beyond its floor: the
// supervisor's own work between one replica and the next.
const rollSlack = 20 * time.Millisecond

// replicasRows measures the replicas case: `procman up` of
// cfg.replicaSvcs services of cfg.replicas replicas each (the child),
// to all started and all stopped, beside the scale case's rows and against
// the benchmark starting and stopping as many children itself; then
// rolling restarts of a service of cfg.replicas replicas (rollRow).
func (e *env) replicasRows(ctx context.Context, cfg config) []row {
	n := cfg.replicaSvcs * cfg.replicas
	nStart := fmt.Sprintf("replicas: %d services x %d all started", cfg.replicaSvcs, cfg.replicas)
	nStop := fmt.Sprintf("replicas: %d services x %d all stopped", cfg.replicaSvcs, cfg.replicas)
	nRoll := fmt.Sprintf("replicas: rolling restart of %d: median", cfg.replicas)
	dir, err := e.caseDir("replicas")
	if err != nil {
		return failRows(err, nStart, nStop, nRoll)
	}
	e.logf("replicas: %d services x %d replicas", cfg.replicaSvcs, cfg.replicas)
	life := "PROCMAN_BENCH_LIFE=5m"
	fStart, fStop, err := e.floorScale(n, []string{life}, e.child)
	if err != nil {
		return append(failRows(fmt.Errorf("floor: %w", err), nStart, nStop), e.rollRow(ctx, cfg, dir, nRoll))
	}
	var b strings.Builder
	b.WriteString("tasks:\n")
	for i := range cfg.replicaSvcs {
		fmt.Fprintf(&b, "  s%03d: {cmd: [%s], service: true, replicas: %d, env: {PROCMAN_BENCH_LIFE: 5m}}\n",
			i, strconv.Quote(e.child), cfg.replicas)
	}
	scale := filepath.Join(dir, "scale")
	if err := os.MkdirAll(scale, 0o755); err != nil {
		return failRows(err, nStart, nStop, nRoll)
	}
	m, err := e.procmanScale(ctx, scale, b.String(), n)
	if err != nil {
		return append(failRows(err, nStart, nStop), e.rollRow(ctx, cfg, dir, nRoll))
	}
	return []row{
		{name: nStart, unit: dur, floor: secs(fStart), got: secs(m.start), target: "≤ 1 s", verdict: check(m.start <= time.Second),
			note: fmt.Sprintf("%d processes, the child; floor: the benchmark starts and stops %d children itself; procman's RSS then %.1f MiB",
				n, n, float64(m.rss)/(1<<20))},
		{name: nStop, unit: dur, floor: secs(fStop), got: secs(m.stop), target: "≤ 1 s", verdict: check(m.stop <= time.Second)},
		e.rollRow(ctx, cfg, dir, nRoll),
	}
}

// roll is what one rolling restart took.
type roll struct {
	first time.Duration // the command's start to the first new replica's report
	last  time.Duration // to the last one's
	exit  time.Duration // to the command's exit
	extra int           // reports from before the command
}

// rollRow times cfg.rolls `procman restart web` of a service of
// cfg.replicas replicas without a ready probe, under `procman up -d`:
// from the command's start to the last new replica's report. The floor,
// measured interleaved, is the bench's own rolling restart of as many
// children (floorChild.roll: each killed and started again in turn, then
// their reports) plus a client's start-up (timeNoSupervisor); the target
// allows rollSlack more.
func (e *env) rollRow(ctx context.Context, cfg config, parent, name string) row {
	dir, none := filepath.Join(parent, "roll"), filepath.Join(parent, "none")
	procfile := fmt.Sprintf("tasks:\n  web: {cmd: [%s], service: true, replicas: %d, env: {PROCMAN_BENCH_SOCK: %s, PROCMAN_BENCH_LIFE: 5m}}\n",
		strconv.Quote(e.child), cfg.replicas, strconv.Quote(filepath.Join(dir, "s")))
	if err := errors.Join(writeProcfile(dir, procfile), writeProcfile(none, e.controlProcfile(1, ""))); err != nil {
		return failRows(err, name)[0]
	}
	s, err := newSink(dir)
	if err != nil {
		return failRows(err, name)[0]
	}
	defer s.close()
	e.logf("replicas: procman up -d, web of %d replicas; restart web, %d times", cfg.replicas, cfg.rolls)
	return e.underUp(ctx, dir, []string{name}, func() ([]row, error) {
		for i := range cfg.replicas {
			if _, err := s.next(ctx, 10*time.Second); err != nil {
				return nil, fmt.Errorf("web: %d of %d replicas started: %w", i, cfg.replicas, err)
			}
		}
		fc, err := e.startFloorChild(ctx, filepath.Join(dir, "floor"), cfg.replicas)
		if err != nil {
			return nil, fmt.Errorf("floor: %w", err)
		}
		defer fc.stop()
		var own, client []time.Duration
		var rolls []roll
		for i := range cfg.rolls {
			err := inTurn(i,
				func() error {
					o, err := fc.roll(ctx)
					own = append(own, o)
					return err
				},
				func() error {
					c, err := e.timeNoSupervisor(ctx, none)
					client = append(client, c)
					return err
				},
				func() error {
					r, err := e.rollOnce(ctx, dir, s, cfg.replicas)
					rolls = append(rolls, r)
					if err != nil {
						return err
					}
					return pause(ctx, 50*time.Millisecond) // the supervisor's state write
				})
			if err != nil {
				return nil, err
			}
		}
		extra, err := s.settle(ctx, 100*time.Millisecond)
		if err != nil {
			return nil, err
		}
		for _, r := range rolls {
			extra += r.extra
		}
		return []row{rollResult(name, cfg.replicas, rolls, own, client, extra)}, nil
	})[0]
}

// rollOnce runs `procman restart web` in dir and waits for n new reports
// on s.
func (e *env) rollOnce(ctx context.Context, dir string, s *sink, n int) (roll, error) {
	var r roll
	t0 := time.Now()
	took, err := e.timeRun(ctx, dir, "", e.procman, "restart", "web")
	if err != nil {
		return r, err
	}
	r.exit = took
	pids := map[int]bool{}
	for len(pids) < n {
		st, err := s.next(ctx, 10*time.Second)
		if err != nil {
			return r, fmt.Errorf("web: %d of %d replicas restarted: %w", len(pids), n, err)
		}
		if st.at.Before(t0) {
			r.extra++
			continue
		}
		if len(pids) == 0 {
			r.first = st.at.Sub(t0)
		}
		pids[st.pid] = true
		r.last = max(r.last, st.at.Sub(t0))
	}
	return r, nil
}

// rollResult is the rolling restart's row: the medians, and in the note
// how the time splits.
func rollResult(name string, n int, rolls []roll, own, client []time.Duration, extra int) row {
	var first, last, exit, gap []time.Duration
	for _, r := range rolls {
		first, last, exit = append(first, r.first), append(last, r.last), append(exit, r.exit)
		if n > 1 {
			gap = append(gap, (r.last-r.first)/time.Duration(n-1))
		}
	}
	o, c, g := median(own), median(client), median(last)
	floor := o + c
	note := fmt.Sprintf("restart web (%d replicas, no ready probe) to the last new replica's start; floor: the benchmark's own rolling restart of %d children %s + client start-up %s; medians of %d, each side first in turn; split: to the first new replica %s, then %s a replica, the command returned %s after its start; %d extra child starts",
		n, n, fmtDur(o), fmtDur(c), len(rolls), fmtDur(median(first)), fmtDur(median(gap)), fmtDur(median(exit)), extra)
	return row{name: name, unit: dur, floor: secs(floor), got: secs(g), target: "≤ floor + 20 ms",
		verdict: check(g <= floor+rollSlack && extra == 0), note: note}
}
