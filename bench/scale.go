package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// startedLine is procman's log line for a service, or a replica of one,
// it started: "s007 started (pid N)", "s007.3 started (pid N)".
var startedLine = regexp.MustCompile(`\| (s\d+(?:\.\d+)?) started \(pid (\d+)\)`)

// scaleRows measures case 6: `procman up` with cfg.services services
// (`sleep 60`): the time from procman's start to its stderr's last
// "started" line, its RSS then, and the time from SIGINT to its exit. The
// floor starts and stops as many `sleep 60` groups itself.
func (e *env) scaleRows(ctx context.Context, cfg config) []row {
	nStart := fmt.Sprintf("scale: %d services all started", cfg.services)
	nStop := fmt.Sprintf("scale: %d services all stopped", cfg.services)
	nRSS := fmt.Sprintf("scale: RSS of procman with %d services", cfg.services)
	names := []string{nStart, nStop, nRSS}
	dir, err := e.caseDir("scale")
	if err != nil {
		return failRows(err, names...)
	}
	e.logf("scale: %d services", cfg.services)
	fStart, fStop, err := e.floorScale(cfg.services, nil, "sleep", "60")
	if err != nil {
		return failRows(fmt.Errorf("floor: %w", err), names...)
	}
	var b strings.Builder
	b.WriteString("tasks:\n")
	for i := range cfg.services {
		fmt.Fprintf(&b, "  s%03d: {cmd: sleep 60, service: true}\n", i)
	}
	m, err := e.procmanScale(ctx, dir, b.String(), cfg.services)
	if err != nil {
		return failRows(err, names...)
	}
	return []row{
		{name: nStart, unit: dur, floor: secs(fStart), got: secs(m.start), target: "≤ 1 s", verdict: check(m.start <= time.Second)},
		{name: nStop, unit: dur, floor: secs(fStop), got: secs(m.stop), target: "≤ 1 s", verdict: check(m.stop <= time.Second)},
		{name: nRSS, unit: mib, floor: -1, got: float64(m.rss) / (1 << 20), target: "< 50 MiB", verdict: check(m.rss < 50<<20)},
	}
}

// floorScale starts n process groups of argv (env added to their
// environment), then SIGTERMs and reaps them all.
func (e *env) floorScale(n int, env []string, argv ...string) (start, stop time.Duration, err error) {
	cmds := make([]*exec.Cmd, 0, n)
	t0 := time.Now()
	for range n {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = e.environ(env...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err = cmd.Start(); err != nil {
			break
		}
		cmds = append(cmds, cmd)
	}
	start = time.Since(t0)
	t1 := time.Now()
	for _, cmd := range cmds {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	}
	for _, cmd := range cmds {
		_ = cmd.Wait()
	}
	return start, time.Since(t1), err
}

// scaleMeasure is what procman did with many services.
type scaleMeasure struct {
	start time.Duration // its start to the last "started" line
	stop  time.Duration // SIGINT to its exit
	rss   uint64        // VmRSS once all started, bytes
}

// procmanScale runs `procman up` in dir on procfile, whose services
// (sNNN, or their replicas sNNN.i) start n processes.
func (e *env) procmanScale(ctx context.Context, dir, procfile string, n int) (scaleMeasure, error) {
	var m scaleMeasure
	if err := os.WriteFile(filepath.Join(dir, "Procfile.yaml"), []byte(procfile), 0o644); err != nil {
		return m, err
	}
	p, err := e.startProcman(dir, nil, nil, "up")
	if err != nil {
		return m, err
	}
	seen := startedSet{names: map[string]bool{}}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = p.log.waitFor(wctx, func(lines []logLine) bool {
		seen.scan(lines)
		return len(seen.pids) >= n
	})
	cancel()
	if err == nil {
		m.start = seen.last.Sub(p.began)
		s, serr := sampleProc(p.pid())
		m.rss, err = s.rss, serr
	}
	sent := p.interrupt()
	if perr := p.end(); err == nil {
		err = perr
	}
	m.stop = p.ended.Sub(sent)
	if left := e.sweep(seen.pids); left > 0 && err == nil {
		err = fmt.Errorf("procman left %d services running", left)
	}
	return m, err
}

// startedSet is the services (or replicas) procman's stderr says it
// started.
type startedSet struct {
	names map[string]bool // services or replicas seen
	pids  []int           // their pids, in log order
	last  time.Time       // when the last new one was read
	done  int             // lines scanned so far
}

// scan reads the lines not scanned yet.
func (s *startedSet) scan(lines []logLine) {
	for _, l := range lines[s.done:] {
		m := startedLine.FindStringSubmatch(l.text)
		if m == nil || s.names[m[1]] {
			continue
		}
		s.names[m[1]] = true
		pid, _ := strconv.Atoi(m[2])
		s.pids = append(s.pids, pid)
		s.last = l.at
	}
	s.done = len(lines)
}
