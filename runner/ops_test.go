package runner

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/procman/procman/tasks"
)

// services returns a config of services running the test binary as child
// modes: name -> args; deps as given.
func services(defs map[string][]string, deps map[string][]string) *tasks.Config {
	cfg := &tasks.Config{Tasks: map[string]*tasks.Task{}, Interval: time.Hour, Env: childEnv()}
	for name, args := range defs {
		cfg.Tasks[name] = &tasks.Task{
			Name: name, Kind: tasks.Service, Restart: tasks.RestartAlways, Backoff: 10 * time.Millisecond, Replicas: 1,
			StopSignal: syscall.SIGTERM, StopTimeout: time.Second, Deps: deps[name],
			Cmd: tasks.Command{Argv: childCmd(args[0], args[1:]...), Raw: strings.Join(args, " ")},
		}
		cfg.Names = append(cfg.Names, name)
	}
	return cfg
}

// runUntilEnd runs r on targets until the test ends.
func runUntilEnd(t *testing.T, r *Runner, targets ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, targets) }()
	t.Cleanup(func() { cancel(); <-done })
}

// newRunner returns a supervising Runner for cfg whose messages go to errs.
func newRunner(cfg *tasks.Config, errs *syncBuffer, clock Clock) *Runner {
	return New(cfg, Options{Out: NewOutput(io.Discard, errs, OutputOptions{}), Clock: clock, Supervise: true})
}

// info returns the ps row of name.
func info(r *Runner, name string) TaskInfo {
	for _, ti := range r.Snapshot() {
		if ti.Name == name {
			return ti
		}
	}
	return TaskInfo{}
}

// waitStatus waits until name has status s.
func waitStatus(t *testing.T, r *Runner, name string, s Status) TaskInfo {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ti := info(r, name)
		if ti.Status == s {
			return ti
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is %s (%s), not %s", name, ti.Status, ti.Reason, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRestart_TenAtOnceLeaveOne(t *testing.T) {
	var errs syncBuffer
	r := newRunner(services(map[string][]string{"web": {"sleep"}}, nil), &errs, nil)
	runUntilEnd(t, r, "web")
	first := waitStatus(t, r, "web", Running).PID
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Restart(context.Background(), []string{"web"}, "test"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	ti := waitStatus(t, r, "web", Running)
	if ti.PID == first || !alive(ti.PID) || alive(first) {
		t.Fatalf("pid %d (alive %v), first %d (alive %v)", ti.PID, alive(ti.PID), first, alive(first))
	}
	starts := strings.Count(errs.String(), "web started")
	if starts < 2 || starts > 11 {
		t.Errorf("%d starts for 10 restarts", starts)
	}
	u := r.nodes["web"].unit()
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.starts != starts {
		t.Errorf("unit counted %d starts, the log %d", u.starts, starts)
	}
}

func TestStop_SurvivesTheRestartPolicy(t *testing.T) {
	var errs syncBuffer
	r := newRunner(services(map[string][]string{"crashy": {"exit", "1"}}, nil), &errs, nil)
	runUntilEnd(t, r, "crashy")
	waitLog(t, &errs, "crashy started", 2) // it crashes and comes back
	if err := r.Stop(context.Background(), []string{"crashy"}, "test"); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, r, "crashy", Stopped)
	before := strings.Count(errs.String(), "crashy started")
	time.Sleep(200 * time.Millisecond) // twenty backoffs' worth: bounds "never"
	if after := strings.Count(errs.String(), "crashy started"); after != before {
		t.Fatalf("a stopped service started again (%d starts, then %d)", before, after)
	}
	// Without a ready probe, started is ready: start returns, and the
	// restart policy has it again.
	if err := r.Start(context.Background(), []string{"crashy"}, "test"); err != nil {
		t.Fatal(err)
	}
	waitLog(t, &errs, "crashy started", before+2)
}

func TestStop_DuringBackoffCancelsTheRestart(t *testing.T) {
	clock := newFakeClock()
	var errs syncBuffer
	cfg := services(map[string][]string{"crashy": {"exit", "1"}}, nil)
	cfg.Tasks["crashy"].Backoff = time.Minute
	r := newRunner(cfg, &errs, clock)
	runUntilEnd(t, r, "crashy")
	waitStatus(t, r, "crashy", Backoff)
	if err := r.Stop(context.Background(), []string{"crashy"}, "test"); err != nil {
		t.Fatal(err)
	}
	clock.mu.Lock()
	clock.now = clock.now.Add(time.Hour)
	for _, w := range clock.waiters {
		w.ch <- clock.now
	}
	clock.waiters = nil
	clock.mu.Unlock()
	time.Sleep(50 * time.Millisecond) // bounds "no restart"
	if ti := info(r, "crashy"); ti.Status != Stopped || strings.Count(errs.String(), "crashy started") != 1 {
		t.Fatalf("after the backoff: %s, log:\n%s", ti.Status, errs.String())
	}
}

func TestStart_StartsStoppedDepsFirst(t *testing.T) {
	var errs syncBuffer
	r := newRunner(services(map[string][]string{"db": {"sleep"}, "web": {"sleep"}}, map[string][]string{"web": {"db"}}), &errs, nil)
	runUntilEnd(t, r, "web")
	waitStatus(t, r, "web", Running)
	if err := r.Stop(context.Background(), []string{"web", "db"}, "test"); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, r, "db", Stopped)
	if err := r.Start(context.Background(), []string{"web"}, "test"); err != nil {
		t.Fatal(err)
	}
	if db, web := info(r, "db"), info(r, "web"); db.Status != Running || web.Status != Running || !db.Started.Before(web.Started) {
		t.Fatalf("db %s at %v, web %s at %v", db.Status, db.Started, web.Status, web.Started)
	}
}

func TestOperations_BadNames(t *testing.T) {
	var errs syncBuffer
	cfg := services(map[string][]string{"web": {"sleep"}}, map[string][]string{"web": {"setup"}})
	cfg.Tasks["setup"] = &tasks.Task{Name: "setup", Kind: tasks.Once, Cmd: tasks.Command{Argv: childCmd("exit", "0")}, StopSignal: syscall.SIGTERM, StopTimeout: time.Second}
	cfg.Names = append(cfg.Names, "setup")
	r := newRunner(cfg, &errs, nil)
	runUntilEnd(t, r, "web")
	waitStatus(t, r, "web", Running)
	var unknown *UnknownTaskError
	if err := r.Restart(context.Background(), []string{"nope"}, "test"); !errors.As(err, &unknown) || err.Error() != `no task "nope" in this run: it has setup, web` {
		t.Errorf("restart nope: %v", err)
	}
	var notSvc *NotServiceError
	if err := r.Stop(context.Background(), []string{"setup"}, "test"); !errors.As(err, &notSvc) || err.Error() != "setup is a once task: only services can be stopped" {
		t.Errorf("stop setup: %v", err)
	}
	if ti := info(r, "setup"); ti.Status != Exited || ti.LastExit == nil || *ti.LastExit != 0 {
		t.Errorf("setup: %+v", ti)
	}
}

// pending returns a config where service web waits for once task setup,
// which exits with code once the file it returns exists.
func pending(t *testing.T, code string) (*tasks.Config, string) {
	gate := filepath.Join(t.TempDir(), "gate")
	cfg := services(map[string][]string{"web": {"sleep"}}, map[string][]string{"web": {"setup"}})
	cfg.Tasks["setup"] = &tasks.Task{Name: "setup", Kind: tasks.Once, Cmd: tasks.Command{Argv: childCmd("waitfile", gate, code)}, StopSignal: syscall.SIGTERM, StopTimeout: time.Second}
	cfg.Names = append(cfg.Names, "setup")
	return cfg, gate
}

// returns fails the test when op does not return within 10 s, and
// returns its error.
func returns(t *testing.T, what string, op func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- op() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s hangs", what)
		return nil
	}
}

func TestStop_BeforeTheFirstStartKeepsItStopped(t *testing.T) {
	var errs syncBuffer
	cfg, gate := pending(t, "0")
	r := newRunner(cfg, &errs, nil)
	runUntilEnd(t, r, "web")
	waitStatus(t, r, "setup", Running)
	if err := returns(t, "stop of a waiting service", func() error { return r.Stop(context.Background(), []string{"web"}, "test") }); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, r, "web", Stopped)
	os.WriteFile(gate, nil, 0o644)
	waitStatus(t, r, "setup", Exited)
	time.Sleep(100 * time.Millisecond) // bounds "it did not start"
	if ti := info(r, "web"); ti.Status != Stopped || strings.Contains(errs.String(), "web started") {
		t.Fatalf("web %s after its deps: a stopped service started:\n%s", ti.Status, errs.String())
	}
	if err := r.Start(context.Background(), []string{"web"}, "test"); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, r, "web", Running)
}

func TestRestart_OfAWaitingServiceWaitsForItsStart(t *testing.T) {
	var errs syncBuffer
	cfg, gate := pending(t, "0")
	r := newRunner(cfg, &errs, nil)
	runUntilEnd(t, r, "web")
	waitStatus(t, r, "setup", Running)
	done := make(chan error, 1)
	go func() { done <- r.Restart(context.Background(), []string{"web"}, "test") }()
	time.Sleep(50 * time.Millisecond) // the restart waits
	os.WriteFile(gate, nil, 0o644)
	if err := returns(t, "restart", func() error { return <-done }); err != nil {
		t.Fatal(err)
	}
	if ti := info(r, "web"); ti.Status != Running || strings.Count(errs.String(), "web started") != 1 {
		t.Fatalf("web %s, log:\n%s", ti.Status, errs.String())
	}
}

func TestStart_OfAServiceWhoseDepFailedIsAnswered(t *testing.T) {
	var errs syncBuffer
	cfg, gate := pending(t, "1")
	r := newRunner(cfg, &errs, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- r.Run(ctx, []string{"web"}) }()
	waitStatus(t, r, "setup", Running)
	done := make(chan error, 1)
	go func() { done <- r.Start(context.Background(), []string{"web"}, "test") }()
	time.Sleep(50 * time.Millisecond) // the start waits
	os.WriteFile(gate, nil, 0o644)
	err := returns(t, "start of a service whose dep failed", func() error { return <-done })
	if err == nil {
		t.Fatal("start: no error, and web never started")
	}
	<-ran
}

func TestScale_WhileStoppingLeavesNoProcess(t *testing.T) {
	for range 5 {
		dir := t.TempDir()
		cfg := services(map[string][]string{"web": {"pidsleep", dir}}, nil)
		var errs syncBuffer
		r := newRunner(cfg, &errs, nil)
		ctx, cancel := context.WithCancel(context.Background())
		ran := make(chan error, 1)
		go func() { ran <- r.Run(ctx, []string{"web"}) }()
		waitStatus(t, r, "web", Running)
		scaled := make(chan error, 1)
		go func() { scaled <- r.Scale(context.Background(), map[string]int{"web": 4}, "test") }()
		cancel()
		<-ran
		returns(t, "scale", func() error { return <-scaled })
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			pid, _ := strconv.Atoi(e.Name())
			if alive(pid) {
				syscall.Kill(pid, syscall.SIGKILL)
				t.Fatalf("pid %d of a replica outlived the run:\n%s", pid, errs.String())
			}
		}
	}
}

func TestRun_ServiceOfNoReplicasWaitsForScale(t *testing.T) {
	var errs syncBuffer
	cfg := services(map[string][]string{"web": {"sleep"}}, nil)
	r := New(cfg, Options{Out: NewOutput(io.Discard, &errs, OutputOptions{}), Supervise: true, Formation: map[string]int{"web": 0}})
	runUntilEnd(t, r, "web")
	if err := returns(t, "scale", func() error { return r.Scale(context.Background(), map[string]int{"web": 1}, "test") }); err != nil {
		t.Fatalf("scale of a run with no replicas: %v", err)
	}
	waitStatus(t, r, "web", Running)
}

func TestRestart_KeepsAStoppedDependentStopped(t *testing.T) {
	var errs syncBuffer
	r := newRunner(services(map[string][]string{"api": {"sleep"}, "web": {"sleep"}}, map[string][]string{"web": {"api"}}), &errs, nil)
	runUntilEnd(t, r, "web")
	waitStatus(t, r, "web", Running)
	if err := r.Stop(context.Background(), []string{"web"}, "test"); err != nil {
		t.Fatal(err)
	}
	if err := returns(t, "restart", func() error { return r.Restart(context.Background(), []string{"api"}, "test") }); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(errs.String(), "api started"); n != 2 {
		t.Fatalf("api started %d times, want 2:\n%s", n, errs.String())
	}
	if ti := info(r, "web"); ti.Status != Stopped || strings.Count(errs.String(), "web started") != 1 {
		t.Fatalf("web %s after api restarted: a stopped dependent started:\n%s", ti.Status, errs.String())
	}
}

// noneAlive fails the test when a pid written into dir (child modes
// pidsleep, stubpid) still runs, and kills it.
func noneAlive(t *testing.T, dir string, log *syncBuffer) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		pid, _ := strconv.Atoi(e.Name())
		if alive(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("pid %d of a replica outlived the run:\n%s", pid, log.String())
		}
	}
}

// waitPidFiles waits until n processes wrote their pid into dir (child modes
// pidsleep, stubpid).
func waitPidFiles(t *testing.T, dir string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		entries, _ := os.ReadDir(dir)
		if len(entries) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d processes wrote their pid", len(entries), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestScale_DownWhenTheRunStopsLeavesNoProcess(t *testing.T) {
	dir := t.TempDir()
	// proxy depends on web: the run stops it first, 300 ms, and web after
	cfg := services(map[string][]string{"web": {"stubpid", dir}, "proxy": {"stubpid", dir}}, map[string][]string{"proxy": {"web"}})
	cfg.Tasks["web"].Replicas = 3
	cfg.Tasks["web"].StopTimeout = 300 * time.Millisecond
	cfg.Tasks["proxy"].StopTimeout = 300 * time.Millisecond
	var errs syncBuffer
	r := newRunner(cfg, &errs, nil)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- r.Run(ctx, []string{"proxy"}) }()
	waitStatus(t, r, "proxy", Running)
	waitPidFiles(t, dir, 4) // they ignore SIGTERM now
	scaled := make(chan error, 1)
	go func() { scaled <- r.Scale(context.Background(), map[string]int{"web": 1}, "test") }()
	waitLog(t, &errs, "web.3: stopping", 1) // it ignores SIGTERM: the scale waits on it
	cancel()                                // the run stops while web.2 waits its turn
	returns(t, "run", func() error { return <-ran })
	returns(t, "scale", func() error { return <-scaled })
	noneAlive(t, dir, &errs)
}

func TestRestart_OfAReplicaScaledAwayMeanwhile(t *testing.T) {
	dir := t.TempDir()
	cfg := services(map[string][]string{"api": {"stubpid", dir}, "web": {"sleep"}}, nil)
	cfg.Tasks["api"].StopTimeout = 300 * time.Millisecond // its restart takes that long
	cfg.Tasks["web"].Replicas = 3
	var errs syncBuffer
	r := newRunner(cfg, &errs, nil)
	runUntilEnd(t, r, "api", "web")
	waitStatus(t, r, "web.3", Running)
	waitPidFiles(t, dir, 1) // api ignores SIGTERM now
	restarted := make(chan error, 1)
	go func() { restarted <- r.Restart(context.Background(), []string{"api", "web.3"}, "test") }()
	waitLog(t, &errs, "api: restarting", 1) // it ignores SIGTERM: 300 ms to go
	if err := r.Scale(context.Background(), map[string]int{"web": 2}, "test"); err != nil {
		t.Fatal(err)
	}
	err := returns(t, "restart", func() error { return <-restarted })
	if err == nil || !strings.Contains(err.Error(), "web.3 was scaled away") {
		t.Fatalf("restart of api and of web.3, scaled away meanwhile: %v\n%s", err, errs.String())
	}
}

func TestRestart_RollingStopsAtAFailingReplica(t *testing.T) {
	broken := filepath.Join(t.TempDir(), "broken")
	cfg := services(map[string][]string{"web": {"failif", broken}}, nil)
	web := cfg.Tasks["web"]
	web.Replicas = 2
	web.Ready = &tasks.Ready{Log: regexp.MustCompile("ready"), Timeout: 30 * time.Second}
	web.Backoff = time.Hour // a failed replica stays down for the test
	var errs syncBuffer
	r := newRunner(cfg, &errs, nil)
	runUntilEnd(t, r, "web")
	waitStatus(t, r, "web.2", Ready)
	before := info(r, "web.2").PID
	os.WriteFile(broken, nil, 0o644) // the new version exits at once
	err := returns(t, "restart", func() error { return r.Restart(context.Background(), []string{"web"}, "test") })
	if err == nil {
		t.Fatal("restart: no error, and web.1 failed")
	}
	if ti := info(r, "web.2"); ti.Status != Ready || ti.PID != before {
		t.Fatalf("web.2 %s, pid %v (was %v): the rollout went on past web.1's failure:\n%s", ti.Status, ti.PID, before, errs.String())
	}
	if !strings.Contains(errs.String(), "web: rolling restart stopped: web.1 failed; left as they were: web.2") {
		t.Errorf("no word of the stopped rollout:\n%s", errs.String())
	}
}

func TestScale_DownOfAWaitingServiceAnswersItsCommands(t *testing.T) {
	var errs syncBuffer
	cfg, gate := pending(t, "0")
	cfg.Tasks["web"].Replicas = 3
	r := newRunner(cfg, &errs, nil)
	runUntilEnd(t, r, "web")
	waitStatus(t, r, "setup", Running)
	restarted := make(chan error, 1)
	go func() { restarted <- r.Restart(context.Background(), []string{"web.3"}, "test") }()
	time.Sleep(50 * time.Millisecond) // the restart waits for web's start
	if err := r.Scale(context.Background(), map[string]int{"web": 2}, "test"); err != nil {
		t.Fatal(err)
	}
	err := returns(t, "restart of a replica scaled away before it started", func() error { return <-restarted })
	if err == nil || !strings.Contains(err.Error(), "scaled away") {
		t.Fatalf("restart of web.3: %v", err)
	}
	os.WriteFile(gate, nil, 0o644)
	waitStatus(t, r, "web.2", Running)
}
