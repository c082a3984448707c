package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// controlSmall is how many services the small project runs: web, which
// reports its starts on the sink, and four that only live.
const controlSmall = 5

// controlProcfile is n services running the child for 5 minutes, web
// first, reporting its starts to sock ("" none: every one only lives).
func (e *env) controlProcfile(n int, sock string) string {
	var b strings.Builder
	b.WriteString("tasks:\n")
	child := strconv.Quote(e.child)
	for i := range n {
		name, env := fmt.Sprintf("s%03d", i), ""
		if i == 0 && sock != "" {
			name, env = "web", ", PROCMAN_BENCH_SOCK: "+strconv.Quote(sock)
		}
		fmt.Fprintf(&b, "  %s: {cmd: [%s], service: true, env: {PROCMAN_BENCH_LIFE: 5m%s}}\n", name, child, env)
	}
	return b.String()
}

// controlRows measures the control case: `procman ps` against `procman
// list` on a project of controlSmall services, then on one of
// cfg.psServices, each under a `procman up -d` of its own (one after the
// other: ps reads every process's /proc/PID/stat, so the big project's
// processes would weigh on the small one's ps); `procman restart web` in
// the small one against killing and starting the child plus a client's
// start-up; and the latency of `procman logs -f` (logsRows).
func (e *env) controlRows(ctx context.Context, cfg config) []row {
	nSmall := fmt.Sprintf("control: ps, %d services: median", controlSmall)
	nBig := fmt.Sprintf("control: ps, %d services: median", cfg.psServices)
	nRestart := "control: restart: median"
	names := append([]string{nSmall, nBig, nRestart}, logsNames...)
	dir, err := e.caseDir("control")
	if err != nil {
		return failRows(err, names...)
	}
	small, big, none := filepath.Join(dir, "small"), filepath.Join(dir, "big"), filepath.Join(dir, "none")
	if err := errors.Join(writeProcfile(small, e.controlProcfile(controlSmall, filepath.Join(small, "s"))),
		writeProcfile(big, e.controlProcfile(cfg.psServices, "")), writeProcfile(none, e.controlProcfile(1, ""))); err != nil {
		return failRows(err, names...)
	}
	s, err := newSink(small)
	if err != nil {
		return failRows(err, names...)
	}
	e.logf("control: procman up -d, %d services", controlSmall)
	sm := e.underUp(ctx, small, []string{nSmall, nRestart}, func() ([]row, error) {
		if _, err := s.next(ctx, 10*time.Second); err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
		e.logf("control: ps and list, %d runs each", cfg.psRuns)
		ps, err := e.psRow(ctx, nSmall, small, controlSmall, cfg.psRuns)
		if err != nil {
			return nil, err
		}
		e.logf("control: restart web, %d times", cfg.restarts)
		rs, err := e.restartWebRow(ctx, nRestart, small, none, s, cfg.restarts)
		return []row{ps, rs}, err
	})
	s.close()
	e.logf("control: procman up -d, %d services; ps and list, %d runs each", cfg.psServices, cfg.psRuns)
	bg := e.underUp(ctx, big, []string{nBig}, func() ([]row, error) {
		r, err := e.psRow(ctx, nBig, big, cfg.psServices, cfg.psRuns)
		return []row{r}, err
	})
	return append([]row{sm[0], bg[0], sm[1]}, e.logsRows(ctx, cfg, filepath.Join(dir, "tick"))...)
}

// underUp runs measure while a `procman up -d` runs in dir, then stops
// it: measure's rows, or rows named names that say why they failed.
func (e *env) underUp(ctx context.Context, dir string, names []string, measure func() ([]row, error)) []row {
	if err := e.upDetached(ctx, dir); err != nil {
		return failRows(err, names...)
	}
	rows, err := measure()
	if derr := e.down(ctx, dir); derr != nil {
		err = errors.Join(err, derr)
	}
	if err != nil {
		return failRows(err, names...)
	}
	return rows
}

// writeProcfile makes dir and writes procfile into it.
func writeProcfile(dir, procfile string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "Procfile.yaml"), []byte(procfile), 0o644)
}

// psRow times `procman ps` against `procman list` in dir, runs each
// after startupWarmup unmeasured ones, interleaved; the medians count. It
// checks first that ps shows the n services up.
func (e *env) psRow(ctx context.Context, name, dir string, n, runs int) (row, error) {
	if err := e.checkPS(ctx, dir, n); err != nil {
		return row{}, err
	}
	var floor, got []time.Duration
	for i := range startupWarmup + runs {
		var f, g time.Duration
		err := inTurn(i,
			func() (err error) { f, err = e.timeRun(ctx, dir, "", e.procman, "list"); return err },
			func() (err error) { g, err = e.timeRun(ctx, dir, "", e.procman, "ps"); return err })
		if err != nil {
			return row{}, err
		}
		if i >= startupWarmup {
			floor, got = append(floor, f), append(got, g)
		}
	}
	f, g := median(floor), median(got)
	note := fmt.Sprintf("floor: procman list; start to exit, medians of %d interleaved runs, each side first in turn; p90 %s against %s",
		runs, fmtDur(quantile(got, 0.9)), fmtDur(quantile(floor, 0.9)))
	if n := processes(); n > 0 {
		note += fmt.Sprintf("; %d processes on the machine", n)
	}
	return row{name: name, unit: dur, floor: secs(f), got: secs(g), target: "≤ floor + 1 ms",
		verdict: check(g <= f+time.Millisecond), note: note}, nil
}

// checkPS runs `procman ps --json` in dir and checks that it shows n
// tasks, every one running or ready.
func (e *env) checkPS(ctx context.Context, dir string, n int) error {
	cmd := exec.CommandContext(ctx, e.procman, "ps", "--json")
	cmd.Dir, cmd.Env = dir, e.environ()
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("procman ps --json: %w", err)
	}
	var ps struct {
		Tasks []struct{ Name, Status string }
	}
	if err := json.Unmarshal(out, &ps); err != nil {
		return fmt.Errorf("procman ps --json: %w", err)
	}
	up := 0
	for _, t := range ps.Tasks {
		if t.Status == "running" || t.Status == "ready" {
			up++
		}
	}
	if len(ps.Tasks) != n || up != n {
		return fmt.Errorf("procman ps --json: %d tasks, %d up; want %d up", len(ps.Tasks), up, n)
	}
	return nil
}

// restartWebRow times n `procman restart web` in dir, from the client's
// start to the new web's report on s, against the floor: this process
// kills a child's group and starts it again (from the kill to its report,
// on a sink of its own), plus the client's start-up (timeNoSupervisor in
// none). The three run interleaved; the medians count.
func (e *env) restartWebRow(ctx context.Context, name, dir, none string, s *sink, n int) (row, error) {
	fc, err := e.startFloorChild(ctx, filepath.Join(dir, "floor"), 1)
	if err != nil {
		return row{}, fmt.Errorf("floor: %w", err)
	}
	defer fc.stop()
	var kill, client, got []time.Duration
	extra := 0
	for i := range n {
		err := inTurn(i,
			func() error {
				k, err := fc.roll(ctx) // one child: kill, start, its report
				if err != nil {
					return fmt.Errorf("floor: %w", err)
				}
				kill = append(kill, k)
				return nil
			},
			func() error {
				c, err := e.timeNoSupervisor(ctx, none)
				client = append(client, c)
				return err
			},
			func() error {
				t0 := time.Now()
				if _, err := e.timeRun(ctx, dir, "", e.procman, "restart", "web"); err != nil {
					return err
				}
				st, err := s.next(ctx, 10*time.Second)
				for err == nil && st.at.Before(t0) { // a start from before this restart
					extra++
					st, err = s.next(ctx, 10*time.Second)
				}
				if err != nil {
					return fmt.Errorf("web: %w", err)
				}
				got = append(got, st.at.Sub(t0))
				// The supervisor writes its state 25 ms after a restart:
				// not in the next side's time.
				return pause(ctx, 50*time.Millisecond)
			})
		if err != nil {
			return row{}, err
		}
	}
	more, err := s.settle(ctx, 100*time.Millisecond)
	if err != nil {
		return row{}, err
	}
	extra += more
	k, c, g := median(kill), median(client), median(got)
	return row{name: name, unit: dur, floor: secs(k + c), got: secs(g), target: "≤ floor + 2 ms",
		verdict: check(g <= k+c+2*time.Millisecond && extra == 0),
		note: fmt.Sprintf("restart web (no ready probe) to its new child's start; floor: kill and start %s + client start-up (procman ps where no procman runs, to its message) %s; medians of %d, each side first in turn; p90 %s; %d extra child starts",
			fmtDur(k), fmtDur(c), n, fmtDur(quantile(got, 0.9)), extra)}, nil
}

// floorChild is the restart floor: children this process kills and
// starts again itself, reporting their starts on a sink of their own.
type floorChild struct {
	e    *env
	s    *sink
	cmds []*exec.Cmd
}

// startFloorChild makes dir, listens there and starts n children, and
// returns once they reported.
func (e *env) startFloorChild(ctx context.Context, dir string, n int) (*floorChild, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s, err := newSink(dir)
	if err != nil {
		return nil, err
	}
	fc := &floorChild{e: e, s: s}
	for range n {
		cmd, err := e.startChild(s.path)
		if err != nil {
			fc.stop()
			return nil, err
		}
		fc.cmds = append(fc.cmds, cmd)
	}
	for range n {
		if _, err := s.next(ctx, 10*time.Second); err != nil {
			fc.stop()
			return nil, err
		}
	}
	return fc, nil
}

// roll restarts every child in turn, as procman's rolling restart of
// replicas without a ready probe does (the next once the one before has
// started, not once it reported): the time from the first kill to the
// last new child's report.
func (fc *floorChild) roll(ctx context.Context) (time.Duration, error) {
	t0 := time.Now()
	for i, cmd := range fc.cmds {
		stopGroup(cmd)
		next, err := fc.e.startChild(fc.s.path)
		if err != nil {
			return 0, err
		}
		fc.cmds[i] = next
	}
	var last time.Duration
	for range fc.cmds {
		st, err := fc.s.next(ctx, 10*time.Second)
		if err != nil {
			return 0, err
		}
		last = max(last, st.at.Sub(t0))
	}
	return last, nil
}

// stop ends the children and the sink, and sweeps every child that
// reported.
func (fc *floorChild) stop() {
	for _, cmd := range fc.cmds {
		stopChild(cmd)
	}
	fc.s.close()
	fc.e.sweep(fc.s.children())
}

// timeNoSupervisor times `procman ps` in dir, where no procman runs: a
// client's start-up, up to the first byte of its message that there is
// no supervisor (it then exits 3). Its exit is not counted: procman's
// side of these rows stops at the new child's start, before its client
// exits.
func (e *env) timeNoSupervisor(ctx context.Context, dir string) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, e.procman, "ps")
	cmd.Dir, cmd.Env = dir, e.environ()
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	cmd.Stderr = w
	t0 := time.Now()
	err = cmd.Start()
	w.Close()
	if err != nil {
		return 0, err
	}
	first := make([]byte, 1)
	_, rerr := io.ReadFull(r, first)
	d := time.Since(t0)
	rest, _ := io.ReadAll(r)
	err = cmd.Wait()
	var ee *exec.ExitError
	if rerr != nil || !errors.As(err, &ee) || ee.ExitCode() != 3 {
		return 0, fmt.Errorf("procman ps where no procman runs: %v, want exit 3: %s", err, strings.TrimSpace(string(first)+string(rest)))
	}
	return d, nil
}

// stopChild ends cmd's group and reaps it, unless that was done already.
func stopChild(cmd *exec.Cmd) {
	if cmd.Process != nil && cmd.ProcessState == nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
	}
}

// tickEvery is how often the logs rows' task prints a line, and
// tickWarmup how many of its first lines a reader skips: those a client
// still starting up saw late.
const (
	tickEvery  = 20 * time.Millisecond
	tickWarmup = 5
)

// logsNames are the rows of logsRows.
var logsNames = []string{"control: logs -f latency: median", "control: logs -f latency: p99"}

// logsRows measures `procman logs -f -n 0 tick` on a service that prints
// its clock every tickEvery (the child with PROCMAN_BENCH_TICK), under
// procman up -d in dir: for cfg.logLines lines, the time from the task's
// write to the client's line reaching this process. The floor is the same
// task started by this process, its stdout read directly.
func (e *env) logsRows(ctx context.Context, cfg config, dir string) []row {
	procfile := fmt.Sprintf("tasks:\n  tick: {cmd: [%s], service: true, env: {PROCMAN_BENCH_TICK: %s, PROCMAN_BENCH_LIFE: 5m}}\n",
		strconv.Quote(e.child), tickEvery)
	if err := writeProcfile(dir, procfile); err != nil {
		return failRows(err, logsNames...)
	}
	e.logf("control: logs -f, %d lines a side", cfg.logLines)
	floor, flost, err := e.readCmdTicks(ctx, exec.Command(e.child), cfg.logLines, "PROCMAN_BENCH_TICK="+tickEvery.String(), "PROCMAN_BENCH_LIFE=5m")
	if err != nil {
		return failRows(fmt.Errorf("floor: %w", err), logsNames...)
	}
	return e.underUp(ctx, dir, logsNames, func() ([]row, error) {
		client := exec.Command(e.procman, "logs", "-f", "-n", "0", "tick")
		client.Dir = dir
		got, lost, err := e.readCmdTicks(ctx, client, cfg.logLines)
		if err != nil {
			return nil, err
		}
		return tickRows(floor, got, flost, lost, cfg.logLines), nil
	})
}

// tickRows are the rows of logsRows: the medians and p99s of the floor's
// and the client's latencies, lost lines in the note.
func tickRows(floor, got []time.Duration, flost, lost, n int) []row {
	med, p99 := median(got), quantile(got, 0.99)
	return []row{
		{name: logsNames[0], unit: dur, floor: secs(median(floor)), got: secs(med), target: "≤ 2 ms",
			verdict: check(med <= 2*time.Millisecond && lost == 0),
			note: fmt.Sprintf("a line every %v, %d lines after %d; floor: the task's stdout read by the benchmark; %d lines lost (floor %d)",
				tickEvery, n, tickWarmup, lost, flost)},
		{name: logsNames[1], unit: dur, floor: secs(quantile(floor, 0.99)), got: secs(p99), target: "≤ 10 ms",
			verdict: check(p99 <= 10*time.Millisecond)},
	}
}

// readCmdTicks starts cmd (in a process group of its own, env added to
// its environment, its stdout read by tickLines), reads n ticks after
// tickWarmup, then interrupts cmd as Ctrl-C would and reaps it.
func (e *env) readCmdTicks(ctx context.Context, cmd *exec.Cmd, n int, env ...string) ([]time.Duration, int, error) {
	cmd.Env = e.environ(env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	r, w, err := os.Pipe()
	if err != nil {
		return nil, 0, err
	}
	cmd.Stdout = w
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		return nil, 0, err
	}
	done := make(chan struct{})
	lines := tickLines(r, done)
	wait := time.Duration(n+tickWarmup)*tickEvery + 10*time.Second
	lat, lost, err := collectTicks(ctx, lines, n, wait)
	close(done)
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w: %s", filepath.Base(cmd.Path), err, strings.TrimSpace(stderr.String()))
	}
	return lat, lost, nil
}
