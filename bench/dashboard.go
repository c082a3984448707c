package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Marks in procman ui's output: the footer, the last row of every full
// frame (the first frame is written whole, in one flush); the title once
// a ps answered; the title before.
const (
	footerMark     = "q quit"
	psMark         = " · pid "
	connectingMark = "connecting…"
)

// Thresholds of the dashboard's rows.
const (
	uiFirstScreen = 100 * time.Millisecond
	uiBusyShare   = 0.03  // of one core, with two tasks printing
	uiIdleShare   = 0.001 // of one core, with nothing printed
	uiRedraws     = 1.0   // a second, idle: the uptimes move
	uiRSS         = 30 << 20
	uiWarmup      = 2                // unmeasured openings first
	uiSettle      = 2 * time.Second  // after the first screen, before a window opens (at most the window)
	uiTick        = time.Millisecond // the busy tasks' tick: 1,000 lines a second each
)

// dashboardRows measures the dashboard case: `procman ui` under a
// pseudo-terminal against a running `procman up -d`: its first screen (any,
// and the first with the tasks) on a project of controlSmall quiet
// services, and its CPU and wakeups there
// over cfg.uiWindow; its CPU over as long with two tasks printing 1,000
// lines a second each; its RSS once a task printed cfg.uiLines lines. The
// floor of the first screen is `procman ps` (a start and a round trip);
// that of the windows a `procman logs -f -n 0` open over the same window
// (the same stream, nothing drawn); that of the RSS, procman ui's on the
// quiet project.
func (e *env) dashboardRows(ctx context.Context, cfg config) []row {
	in := " in " + strconv.FormatFloat(cfg.uiWindow.Seconds(), 'f', -1, 64) + " s"
	nFirst, nTasks := "dashboard: first screen: median", "dashboard: first screen with the tasks: median"
	nBusy := "dashboard: CPU, 2 tasks printing 1,000 lines/s each"
	nIdle, nWake := "dashboard: CPU, idle", "dashboard: redraws, idle"
	nRSS := fmt.Sprintf("dashboard: RSS with %d lines", cfg.uiLines)
	names := []string{nFirst, nTasks, nBusy, nIdle, nWake, nRSS}
	if runtime.GOOS != "linux" {
		return skipRows("CPU, wakeups and RSS come from /proc: Linux only", names...)
	}
	dir, err := e.caseDir("dashboard")
	if err != nil {
		return failRows(err, names...)
	}
	quiet, busy, lines := filepath.Join(dir, "quiet"), filepath.Join(dir, "busy"), filepath.Join(dir, "lines")
	child := strconv.Quote(e.child)
	var b strings.Builder
	b.WriteString("tasks:\n")
	for _, t := range []string{"a", "b"} {
		fmt.Fprintf(&b, "  %s: {cmd: [%s], service: true, env: {PROCMAN_BENCH_TICK: %s, PROCMAN_BENCH_LIFE: 5m}}\n", t, child, uiTick)
	}
	linesProcfile := fmt.Sprintf("tasks:\n  lines: {cmd: [%s], service: true, env: {PROCMAN_BENCH_LINES: %q, PROCMAN_BENCH_LIFE: 5m}}\n",
		child, strconv.Itoa(cfg.uiLines))
	if err := errors.Join(writeProcfile(quiet, e.controlProcfile(controlSmall, "")), writeProcfile(busy, b.String()),
		writeProcfile(lines, linesProcfile)); err != nil {
		return failRows(err, names...)
	}
	var idleRSS uint64
	e.logf("dashboard: procman up -d, %d quiet services; procman ui opened %d times, then %v idle", controlSmall, cfg.uiRuns, cfg.uiWindow)
	q := e.underUp(ctx, quiet, []string{nFirst, nTasks, nIdle, nWake}, func() ([]row, error) {
		first, err := e.firstScreenRows(ctx, nFirst, nTasks, quiet, cfg.uiRuns)
		if err != nil {
			return nil, err
		}
		w, err := e.uiWindow(ctx, quiet, cfg.uiWindow)
		if err != nil {
			return nil, err
		}
		idleRSS = w.rss
		return append(first, idleCPURow(nIdle, in, w), wakeupsRow(nWake, w)), nil
	})
	e.logf("dashboard: procman up -d, 2 tasks printing every %v; procman ui open %v", uiTick, cfg.uiWindow)
	bz := e.underUp(ctx, busy, []string{nBusy}, func() ([]row, error) {
		w, err := e.uiWindow(ctx, busy, cfg.uiWindow)
		if err != nil {
			return nil, err
		}
		return []row{busyCPURow(nBusy, in, w)}, nil
	})
	e.logf("dashboard: procman up -d, a task printing %d lines; procman ui", cfg.uiLines)
	mem := e.underUp(ctx, lines, []string{nRSS}, func() ([]row, error) {
		r, err := e.uiLinesRow(ctx, nRSS, lines, cfg.uiLines, min(uiSettle, cfg.uiWindow), idleRSS)
		return []row{r}, err
	})
	return []row{q[0], q[1], bz[0], q[2], q[3], mem[0]}
}

// firstScreenRows open procman ui in dir runs times (after uiWarmup),
// each time until its footer was written and the frame after the first
// ps answered (the title names the supervisor's pid), then quit it;
// interleaved with as many `procman ps`. The medians count: the first
// screen, whatever it shows (named first), and the first with the tasks
// (named tasks).
func (e *env) firstScreenRows(ctx context.Context, first, tasks, dir string, runs int) ([]row, error) {
	var floor, got, withTasks []time.Duration
	connecting := 0
	for i := range uiWarmup + runs {
		var f time.Duration
		var u *uiProc
		var at, withPS, conn time.Time
		err := inTurn(i,
			func() (err error) { f, err = e.timeRun(ctx, dir, "", e.procman, "ps"); return err },
			func() (err error) {
				if u, err = e.startUI(dir, footerMark, psMark, connectingMark); err != nil {
					return err
				}
				at, err = u.waitMark(ctx, footerMark, 10*time.Second)
				if err == nil {
					withPS, err = u.waitMark(ctx, psMark, 10*time.Second)
				}
				conn, _, _ = u.scr.seen(connectingMark)
				if qerr := u.quit(); err == nil {
					err = qerr
				}
				return err
			})
		if err != nil {
			return nil, err
		}
		if i >= uiWarmup {
			floor, got, withTasks = append(floor, f), append(got, at.Sub(u.began)), append(withTasks, withPS.Sub(u.began))
			if !conn.IsZero() && !conn.After(at) {
				connecting++
			}
		}
	}
	f, g, t := median(floor), median(got), median(withTasks)
	return []row{
		{name: first, unit: dur, floor: secs(f), got: secs(g), target: "≤ 100 ms", verdict: check(g <= uiFirstScreen),
			note: fmt.Sprintf("procman ui under an %dx%d pty, start to its footer (%q) read; %d of %d such first frames said %q (no ps answer yet); floor: procman ps, start to exit; medians of %d; p90 %s against %s",
				uiCols, uiRows, footerMark, connecting, runs, connectingMark, runs, fmtDur(quantile(got, 0.9)), fmtDur(quantile(floor, 0.9)))},
		{name: tasks, unit: dur, floor: secs(f), got: secs(t), target: "≤ 100 ms", verdict: check(t <= uiFirstScreen),
			note: fmt.Sprintf("start to the frame whose title names the supervisor (%q: a ps answered); p90 %s; the same frame as the first when procman ui had its first ps before drawing",
				strings.TrimSpace(psMark), fmtDur(quantile(withTasks, 0.9)))},
	}, nil
}

// uiMeasure is what procman ui, and a `procman logs -f -n 0` beside it,
// did over a window.
type uiMeasure struct {
	window time.Duration
	ui     procSample // procman ui's CPU and switches in the window
	floor  procSample // the logs client's
	rss    uint64     // procman ui's VmRSS at the end
	bytes  uint64     // written to the terminal in the window
	reads  uint64     // reads of the terminal that returned bytes (≈ frames)
	lines  uint64     // lines the logs client printed in the window
}

// uiWindow opens procman ui in dir and a `procman logs -f -n 0` beside
// it, waits for the ui's first screen and uiSettle (window, when shorter),
// and samples both over window.
func (e *env) uiWindow(ctx context.Context, dir string, window time.Duration) (uiMeasure, error) {
	var m uiMeasure
	lc, err := e.startLogsClient(dir)
	if err != nil {
		return m, err
	}
	defer lc.stop()
	u, err := e.startUI(dir, footerMark)
	if err != nil {
		return m, err
	}
	_, err = u.waitMark(ctx, footerMark, 10*time.Second)
	if err == nil {
		err = pause(ctx, min(uiSettle, window))
	}
	var uiBefore, lcBefore, uiAfter, lcAfter procSample
	var b0, r0, b1, r1, l0 uint64
	t0 := time.Now()
	if err == nil {
		uiBefore, err = sampleProc(u.pid())
		lcBefore, err = orErr(err)(sampleProc(lc.pid()))
		b0, r0 = u.scr.counts()
		l0 = lc.lines.Load()
		t0 = time.Now()
		err = errors.Join(err, pause(ctx, window))
	}
	if err == nil {
		uiAfter, err = sampleProc(u.pid())
		lcAfter, err = orErr(err)(sampleProc(lc.pid()))
		m.window = time.Since(t0)
		b1, r1 = u.scr.counts()
		m.lines = lc.lines.Load() - l0
	}
	if qerr := u.quit(); err == nil {
		err = qerr
	}
	if err != nil {
		return m, err
	}
	m.ui = procSample{cpu: uiAfter.cpu - uiBefore.cpu, switches: uiAfter.switches - uiBefore.switches}
	m.floor = procSample{cpu: lcAfter.cpu - lcBefore.cpu, switches: lcAfter.switches - lcBefore.switches}
	m.rss, m.bytes, m.reads = uiAfter.rss, b1-b0, r1-r0
	return m, nil
}

// orErr keeps the first error: orErr(err)(f()) is f's sample, and err
// when there was one, else f's error.
func orErr(err error) func(procSample, error) (procSample, error) {
	return func(s procSample, e error) (procSample, error) {
		if err != nil {
			return s, err
		}
		return s, e
	}
}

// busyCPURow is the CPU of procman ui while two tasks print.
func busyCPURow(name, in string, m uiMeasure) row {
	limit := time.Duration(uiBusyShare * float64(m.window))
	return row{name: name, unit: msecs, suffix: in, floor: millis(m.floor.cpu), got: millis(m.ui.cpu),
		target: fmt.Sprintf("≤ %.0f%% (%d ms)", 100*uiBusyShare, limit.Milliseconds()), verdict: check(m.ui.cpu <= limit),
		note: fmt.Sprintf("utime+stime of procman ui (1 tick = %d ms), %.1f%% of a core; %.0f lines/s reached procman logs -f (the floor: the same stream, printed to a pipe, nothing drawn); the terminal got %.0f KiB/s in %.1f reads/s (≈ frames); %.0f wakeups/s",
			clockTick.Milliseconds(), 100*m.ui.cpu.Seconds()/m.window.Seconds(), perSec(m.lines, m.window),
			perSec(m.bytes, m.window)/1024, perSec(m.reads, m.window), perSec(m.ui.switches, m.window))}
}

// idleCPURow is the CPU of procman ui while nothing prints.
func idleCPURow(name, in string, m uiMeasure) row {
	limit := max(clockTick, time.Duration(uiIdleShare*float64(m.window)))
	return row{name: name, unit: msecs, suffix: in, floor: millis(m.floor.cpu), got: millis(m.ui.cpu),
		target: fmt.Sprintf("≤ %d ms (%.1f%%)", limit.Milliseconds(), 100*uiIdleShare), verdict: check(m.ui.cpu <= limit),
		note: fmt.Sprintf("%d quiet services; utime+stime (1 tick = %d ms: a difference of n ticks is n-1 to n+1 ticks of CPU); the terminal got %d bytes in %d reads; floor: procman logs -f -n 0 beside it",
			controlSmall, clockTick.Milliseconds(), m.bytes, m.reads)}
}

// wakeupsRow is how often procman ui redrew, and woke up, while nothing
// printed. The target is the redraws (one a second: the uptimes
// move); the wakeups are the cost of that second's work, most of them
// the Go runtime's monitor thread, which a syscall wakes and which then
// polls until the process is idle again.
func wakeupsRow(name string, m uiMeasure) row {
	got := perSec(m.reads, m.window)
	return row{name: name, unit: rate, floor: -1, got: got,
		target: fmt.Sprintf("≤ %.0f/s", uiRedraws), verdict: check(float64(m.reads) <= uiRedraws*m.window.Seconds()+1), // a window of 10 s may hold 11 of them
		note: fmt.Sprintf("reads of the terminal that returned bytes (≈ frames): %d in %v; wakeups (context switches of all threads): %.1f/s, procman logs -f -n 0 beside it %.1f/s",
			m.reads, m.window.Round(time.Millisecond), perSec(m.ui.switches, m.window), perSec(m.floor.switches, m.window))}
}

// uiLinesRow opens procman ui in dir, whose task prints n lines at start,
// waits until the last of them is on the screen and settle more, and
// reads procman ui's RSS. The floor is its RSS on the quiet project.
func (e *env) uiLinesRow(ctx context.Context, name, dir string, n int, settle time.Duration, idleRSS uint64) (row, error) {
	last := fmt.Sprintf("%d/%d GET", n, n)
	u, err := e.startUI(dir, last)
	if err != nil {
		return row{}, err
	}
	_, err = u.waitMark(ctx, last, 30*time.Second)
	var s procSample
	if err == nil {
		err = pause(ctx, settle)
	}
	if err == nil {
		s, err = sampleProc(u.pid())
	}
	if qerr := u.quit(); err == nil {
		err = qerr
	}
	if err != nil {
		return row{}, err
	}
	kept, err := e.keptLines(ctx, dir, n)
	if err != nil {
		return row{}, err
	}
	return row{name: name, unit: mib, floor: float64(idleRSS) / (1 << 20), got: float64(s.rss) / (1 << 20),
		target: fmt.Sprintf("≤ %d MiB", uiRSS>>20), verdict: check(s.rss <= uiRSS),
		note: fmt.Sprintf("VmRSS of procman ui %v after line %d of %d (100 bytes each) was on its screen; the supervisor kept %d of them for procman ui to ask for (it asks for the last 10,000); floor: procman ui on the quiet project",
			settle, n, n, kept)}, nil
}

// keptLines returns how many lines of the task lines `procman logs -n n`
// in dir shows.
func (e *env) keptLines(ctx context.Context, dir string, n int) (int, error) {
	cmd := exec.CommandContext(ctx, e.procman, "logs", "-n", strconv.Itoa(n), "lines")
	cmd.Dir, cmd.Env = dir, e.environ()
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("procman logs -n %d lines: %w", n, err)
	}
	return bytes.Count(out, []byte(" GET ")), nil
}

// logsClient is a `procman logs -f -n 0` whose output the benchmark
// counts, line by line.
type logsClient struct {
	cmd   *exec.Cmd
	lines atomic.Uint64
	done  chan struct{} // closed when its output ended
}

// startLogsClient starts `procman logs -f -n 0` in dir, in a process
// group of its own.
func (e *env) startLogsClient(dir string) (*logsClient, error) {
	cmd := exec.Command(e.procman, "logs", "-f", "-n", "0")
	cmd.Dir, cmd.Env = dir, e.environ()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	lc := &logsClient{cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(lc.done)
		buf := make([]byte, 64<<10)
		for {
			n, err := out.Read(buf)
			lc.lines.Add(uint64(bytes.Count(buf[:n], []byte("\n"))))
			if err != nil {
				return
			}
		}
	}()
	return lc, nil
}

// pid is the client's process id.
func (lc *logsClient) pid() int { return lc.cmd.Process.Pid }

// stop interrupts the client as Ctrl-C would, SIGKILLs it after 5 s, and
// reaps it.
func (lc *logsClient) stop() {
	_ = syscall.Kill(-lc.pid(), syscall.SIGINT)
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-lc.done:
	case <-t.C:
		_ = syscall.Kill(-lc.pid(), syscall.SIGKILL)
		<-lc.done
	}
	_ = lc.cmd.Wait()
}
