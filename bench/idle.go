package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// idleFilesPerDir is how many files each watched folder of the idle tree
// holds.
const idleFilesPerDir = 3

// idleSettle is how long after being ready the floor and procman are left
// before the idle window opens: the last of start-up (procman's state
// write, coalesced for 25 ms) is not idling.
const idleSettle = time.Second

// idleRows measures case 3 on a tree of cfg.idleDirs watched folders, a
// few files in each, plus cfg.idleModules files in an ignored
// node_modules: the time from procman's start to its first child (watches
// set up), then, over cfg.idle doing nothing, the CPU and wakeups of
// procman and its guard beside those of the floor (treeWatch on the same
// tree in a process of its own, idling over the same window), whether
// procman's state file changed, and procman's RSS.
func (e *env) idleRows(ctx context.Context, cfg config) []row {
	const nSetup, nCPU, nWake, nState, nRSS = "idle: watch ready (start to first child)", "idle: CPU of procman and its guard",
		"idle: wakeups of procman and its guard", "idle: state file writes", "idle: RSS of procman"
	names := []string{nSetup, nCPU, nWake, nState, nRSS}
	dir, err := e.caseDir("idle")
	if err != nil {
		return failRows(err, names...)
	}
	e.logf("idle: making %d folders of %d files, and %d files in node_modules", cfg.idleDirs, idleFilesPerDir, cfg.idleModules)
	if _, err := makeTree(filepath.Join(dir, "src"), cfg.idleDirs*idleFilesPerDir, idleFilesPerDir); err != nil {
		return failRows(err, names...)
	}
	if _, err := makeTree(filepath.Join(dir, "node_modules"), cfg.idleModules, 20); err != nil {
		return failRows(err, names...)
	}
	setup, watches, err := e.floorSetup(ctx, dir)
	if err != nil {
		return failRows(fmt.Errorf("floor: %w", err), names...)
	}
	e.logf("idle: the floor's watcher and procman up, then %v idle", cfg.idle)
	m, err := e.procmanIdle(ctx, dir, cfg.idle)
	if err != nil {
		return failRows(err, names...)
	}
	in := " in " + strconv.FormatFloat(cfg.idle.Seconds(), 'f', -1, 64) + " s"
	writes := 0
	if m.stateAfter != m.stateBefore {
		writes = 1
	}
	return []row{
		{name: nSetup, unit: dur, floor: secs(setup), got: secs(m.setup), target: "≤ 150 ms",
			verdict: check(m.setup <= 150*time.Millisecond), note: fmt.Sprintf("%d folders watched by the floor", watches)},
		{name: nCPU, unit: msecs, suffix: in, floor: millis(m.floor.cpu), got: millis(m.procman.cpu), target: "≤ 10 ms (1 tick)",
			verdict: check(m.procman.cpu <= clockTick),
			note: fmt.Sprintf("utime+stime from /proc/PID/stat, in clock ticks (1 tick = %d ms: a difference of n ticks is n-1 to n+1 ticks of CPU); %d procman processes; %s; floor: treeWatch in a process of its own",
				clockTick.Milliseconds(), m.procs, m.socket)},
		{name: nWake, unit: rate, floor: perSec(m.floor.switches, m.window), got: perSec(m.procman.switches, m.window),
			target: "≤ 1/s", verdict: check(perSec(m.procman.switches, m.window) <= 1),
			note: "context switches of all threads, voluntary and not"},
		{name: nState, unit: count, floor: 0, got: float64(writes), target: "0", verdict: check(writes == 0 && m.stateBefore.exists), // a state file never written proves nothing
			note: stateNote(m.stateBefore, m.stateAfter)},
		{name: nRSS, unit: mib, floor: -1, got: float64(m.rss) / (1 << 20), target: "< 20 MiB",
			verdict: check(m.rss < 20<<20), note: m.rssNote},
	}
}

// millis turns d into the float milliseconds an ms row holds.
func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// perSec is n over window, per second.
func perSec(n uint64, window time.Duration) float64 { return float64(n) / window.Seconds() }

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

// idleMeasure is what procman and the floor did on the big tree.
type idleMeasure struct {
	setup       time.Duration // procman's start to its child's
	window      time.Duration // the idle time measured
	procman     procSample    // CPU and switches of procman and its guard in the window
	floor       procSample    // those of the floor's watcher in the window
	procs       int           // processes running the procman binary
	stateBefore fileStamp     // .procman/state.json as the window opened
	stateAfter  fileStamp     // and as it closed
	rss         uint64        // procman's VmRSS at the end, bytes
	rssNote     string        // the guard's RSS, when there is one
	socket      string        // whether procman served its control socket (socketNote)
}

// procmanIdle starts the floor's watcher on dir in a process of its own,
// then `procman up` on dir watching everything, and once both are ready
// and settled samples both over window.
func (e *env) procmanIdle(ctx context.Context, dir string, window time.Duration) (idleMeasure, error) {
	var m idleMeasure
	fw, err := e.startFloorWatch(dir)
	if err != nil {
		return m, fmt.Errorf("floor: %w", err)
	}
	defer fw.end()
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
	err = pause(ctx, idleSettle)
	state := filepath.Join(dir, ".procman", "state.json")
	before, _ := e.sampleAll()
	floorBefore, ferr := sampleProc(fw.pid())
	m.stateBefore = stamp(state)
	t0 := time.Now()
	if err == nil {
		err = pause(ctx, window)
	}
	after, procs := e.sampleAll()
	floorAfter, ferr2 := sampleProc(fw.pid())
	m.window = time.Since(t0)
	m.stateAfter = stamp(state)
	m.socket = socketNote(dir)
	m.procman = procSample{cpu: after.cpu - before.cpu, switches: after.switches - before.switches}
	m.floor = procSample{cpu: floorAfter.cpu - floorBefore.cpu, switches: floorAfter.switches - floorBefore.switches}
	m.procs = procs
	if ferr = errors.Join(ferr, ferr2); ferr != nil && err == nil {
		err = fmt.Errorf("floor: %w", ferr)
	}
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

// socketNote says whether the supervisor of the project in dir serves its
// control socket, where its state file says it is.
func socketNote(dir string) string {
	data, err := os.ReadFile(filepath.Join(dir, ".procman", "state.json"))
	var st struct {
		Socket string `json:"socket"`
	}
	if err != nil || json.Unmarshal(data, &st) != nil || st.Socket == "" {
		return "no control socket in .procman/state.json"
	}
	name := st.Socket
	if rel, err := filepath.Rel(dir, st.Socket); err == nil && !strings.HasPrefix(rel, "..") {
		name = rel
	}
	if fi, err := os.Stat(st.Socket); err != nil || fi.Mode().Type() != fs.ModeSocket {
		return "control socket " + name + " missing"
	}
	return "control socket on (" + name + ")"
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

// fileStamp tells one version of a file from another: a write in place
// changes its size or mtime, a write by rename or exchange its inode.
type fileStamp struct {
	exists bool
	size   int64
	mtime  int64 // ns since the epoch
	ino    uint64
}

// stamp reads path's stamp; a file that is not there has the zero stamp.
func stamp(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	st := fileStamp{exists: true, size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = uint64(sys.Ino)
	}
	return st
}

// stateNote says how the state file's stamps compare.
func stateNote(before, after fileStamp) string {
	switch {
	case !before.exists && !after.exists:
		return ".procman/state.json absent throughout"
	case before == after:
		return ".procman/state.json's size, mtime and inode unchanged"
	case !before.exists:
		return ".procman/state.json created in the window"
	case !after.exists:
		return ".procman/state.json removed in the window"
	}
	return fmt.Sprintf(".procman/state.json rewritten at least once: inode %d → %d, size %d → %d, mtime +%v",
		before.ino, after.ino, before.size, after.size, time.Duration(after.mtime-before.mtime).Round(time.Millisecond))
}
