package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"time"
)

// idleRows measures case 3 on a tree of cfg.idleFiles files plus
// cfg.idleModules in node_modules: the time from procman's start to its
// first child (watches set up), the CPU procman and its guard use over
// cfg.idle doing nothing, and procman's RSS.
func (e *env) idleRows(ctx context.Context, cfg config) []row {
	const nSetup, nCPU, nRSS = "idle: watch ready (start to first child)", "idle: CPU while idle", "idle: RSS of procman"
	names := []string{nSetup, nCPU, nRSS}
	dir, err := e.caseDir("idle")
	if err != nil {
		return failRows(err, names...)
	}
	e.logf("idle: making %d + %d files", cfg.idleFiles, cfg.idleModules)
	if _, err := makeTree(filepath.Join(dir, "src"), cfg.idleFiles, 20); err != nil {
		return failRows(err, names...)
	}
	if _, err := makeTree(filepath.Join(dir, "node_modules"), cfg.idleModules, 20); err != nil {
		return failRows(err, names...)
	}
	floor, watches, err := e.floorSetup(ctx, dir)
	if err != nil {
		return failRows(fmt.Errorf("floor: %w", err), names...)
	}
	e.logf("idle: procman up, then %v idle", cfg.idle)
	m, err := e.procmanIdle(ctx, dir, cfg.idle)
	if err != nil {
		return failRows(err, names...)
	}
	cpuPct := 100 * m.cpu.Seconds() / m.window.Seconds()
	return []row{
		{name: nSetup, unit: dur, floor: secs(floor), got: secs(m.setup), target: "≤ 150 ms",
			verdict: check(m.setup <= 150*time.Millisecond), note: fmt.Sprintf("%d folders watched by the floor", watches)},
		{name: nCPU, unit: pct, floor: 0, got: cpuPct, target: "0.0%", verdict: check(cpuPct < 0.05),
			note: fmt.Sprintf("%v CPU in %v (%d processes); %.1f wakeups/s", m.cpu, m.window.Round(time.Millisecond),
				m.procs, float64(m.switches)/m.window.Seconds())},
		{name: nRSS, unit: mib, floor: -1, got: float64(m.rss) / (1 << 20), target: "< 20 MiB",
			verdict: check(m.rss < 20<<20), note: m.rssNote},
	}
}

// floorSetup is the floor of watch setup: raw inotify on every folder of
// dir except node_modules, then the child started and reporting.
func (e *env) floorSetup(ctx context.Context, dir string) (time.Duration, int, error) {
	s, err := newSink(dir)
	if err != nil {
		return 0, 0, err
	}
	defer func() { s.close(); e.sweep(s.children()) }()
	t0 := time.Now()
	tw, err := newTreeWatch(dir, "node_modules")
	if err != nil {
		return 0, 0, err
	}
	defer tw.close()
	cmd, err := e.startChild(s.path)
	if err != nil {
		return 0, 0, err
	}
	defer stopGroup(cmd)
	st, err := s.next(ctx, 30*time.Second)
	if err != nil {
		return 0, 0, err
	}
	return st.at.Sub(t0), tw.watches, nil
}

// idleMeasure is what procman did on the big tree.
type idleMeasure struct {
	setup    time.Duration // procman's start to its child's
	window   time.Duration // the idle time measured
	cpu      time.Duration // CPU of procman and its guard in the window
	switches uint64        // their threads' context switches in the window
	procs    int           // processes running the procman binary
	rss      uint64        // procman's VmRSS at the end, bytes
	rssNote  string        // the guard's RSS, when there is one
}

// procmanIdle runs `procman up` on dir watching everything, and samples it
// over window once its child started.
func (e *env) procmanIdle(ctx context.Context, dir string, window time.Duration) (idleMeasure, error) {
	var m idleMeasure
	procfile := fmt.Sprintf(`tasks:
  serve:
    cmd: [%s]
    service: true
    env: {PROCMAN_BENCH_SOCK: %s, PROCMAN_BENCH_LIFE: 4m}
    watch:
      paths: [.]
`, strconv.Quote(e.child), strconv.Quote(filepath.Join(dir, "s")))
	s, p, first, err := e.upWithChild(ctx, dir, procfile)
	if err != nil {
		return m, err
	}
	m.setup = first.at.Sub(p.began)
	before, _ := e.sampleAll()
	t0 := time.Now()
	err = pause(ctx, window)
	after, procs := e.sampleAll()
	m.window = time.Since(t0)
	m.cpu, m.switches, m.procs = after.cpu-before.cpu, after.switches-before.switches, procs
	if own, serr := sampleProc(p.pid()); serr == nil {
		m.rss = own.rss
		if after.rss > own.rss {
			m.rssNote = fmt.Sprintf("guard: %.1f MiB more", float64(after.rss-own.rss)/(1<<20))
		}
	} else if err == nil {
		err = serr
	}
	if perr := e.endUp(s, p); err == nil {
		err = perr
	}
	return m, err
}

// sampleAll sums the samples of every process running the procman binary
// (procman and its guard) and says how many there are.
func (e *env) sampleAll() (procSample, int) {
	var sum procSample
	pids := pidsOf(e.procman)
	for _, pid := range pids {
		if s, err := sampleProc(pid); err == nil {
			sum.cpu += s.cpu
			sum.rss += s.rss
			sum.switches += s.switches
		}
	}
	return sum, len(pids)
}
