package runner

import (
	"context"
	"errors"
	"io"
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
