package runner

import (
	"context"
	"errors"
	"io"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/procman/procman/tasks"
)

// fakeClock is a Clock that moves only when the test says so.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*waiter
	changed chan struct{} // closed and replaced when a waiter is added
}

type waiter struct {
	d  time.Duration
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Unix(1e9, 0), changed: make(chan struct{})}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := &waiter{d: d, at: c.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		w.ch <- c.now
		return w.ch
	}
	c.waiters = append(c.waiters, w)
	close(c.changed)
	c.changed = make(chan struct{})
	return w.ch
}

// waitFor blocks until someone waits for exactly d, then moves the clock
// to that moment.
func (c *fakeClock) waitFor(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		var found *waiter
		for _, w := range c.waiters {
			if w.d == d {
				found = w
				break
			}
		}
		changed := c.changed
		if found != nil {
			c.now = found.at
			kept := c.waiters[:0]
			for _, w := range c.waiters {
				if !w.at.After(c.now) {
					w.ch <- c.now
				} else {
					kept = append(kept, w)
				}
			}
			c.waiters = kept
		}
		c.mu.Unlock()
		if found != nil {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("nobody waited for %v", d)
		}
	}
}

// serviceConfig returns a config with one service running the test binary
// as child mode args.
func serviceConfig(t *tasks.Task, args ...string) *tasks.Config {
	t.Cmd = tasks.Command{Argv: childCmd(args[0], args[1:]...), Raw: strings.Join(args, " ")}
	t.Kind = tasks.Service
	if t.Replicas == 0 {
		t.Replicas = 1
	}
	t.StopSignal = syscall.SIGTERM
	if t.StopTimeout == 0 {
		t.StopTimeout = time.Second
	}
	if t.Restart == "" {
		t.Restart = tasks.RestartAlways
	}
	return &tasks.Config{
		Tasks:    map[string]*tasks.Task{t.Name: t},
		Names:    []string{t.Name},
		Interval: time.Hour,
		Env:      childEnv(),
	}
}

func TestSupervise_ProbeTimeoutFailsStartThenRetries(t *testing.T) {
	clock := newFakeClock()
	cfg := serviceConfig(&tasks.Task{
		Name: "db", Backoff: time.Second, MaxRestarts: 1,
		Ready: &tasks.Ready{Log: regexp.MustCompile("never"), Timeout: 30 * time.Second},
	}, "sleep")
	var errs syncBuffer
	r := New(cfg, Options{Out: NewOutput(io.Discard, &errs, OutputOptions{}), Clock: clock, Supervise: true})
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background(), []string{"db"}) }()

	clock.waitFor(t, 30*time.Second) // first start never gets ready
	clock.waitFor(t, time.Second)    // the backoff before restart 1
	clock.waitFor(t, 30*time.Second) // second start times out too
	select {
	case err := <-done:
		if !errors.Is(err, ErrServiceFailed) {
			t.Fatalf("Run: %v, want ErrServiceFailed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("Run did not end after max_restarts:\n%s", errs.String())
	}
	log := errs.String()
	for _, want := range []string{
		`db: not ready after 30s: no output line matched "never"`,
		"db: restarting in 1s (restart 1)",
		"db failed after 1 restarts",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if n := strings.Count(log, "db started"); n != 2 {
		t.Errorf("started %d times, want 2", n)
	}
}

func TestSupervise_RestartRequestSkipsBackoff(t *testing.T) {
	clock := newFakeClock()
	cfg := serviceConfig(&tasks.Task{Name: "web", Backoff: time.Minute}, "sleep")
	var errs syncBuffer
	r := New(cfg, Options{Out: NewOutput(io.Discard, &errs, OutputOptions{}), Clock: clock, Supervise: true})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, []string{"web"}) }()
	waitLog(t, &errs, "web started", 1)
	go r.Restart(context.Background(), []string{"web"}, "test")
	waitLog(t, &errs, "web started", 2)
	cancel()
	<-done
	if strings.Contains(errs.String(), "restarting in") {
		t.Errorf("a requested restart waited for the backoff:\n%s", errs.String())
	}
}

// waitLog waits until s holds want n times.
func waitLog(t *testing.T, s *syncBuffer, want string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(s.String(), want) < n {
		if time.Now().After(deadline) {
			t.Fatalf("log has not %d × %q:\n%s", n, want, s.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRestart_ThatTimesOutSaysWhy(t *testing.T) {
	clock := newFakeClock()
	cfg := serviceConfig(&tasks.Task{
		Name: "db", Backoff: time.Second,
		Ready: &tasks.Ready{Log: regexp.MustCompile("never"), Timeout: 30 * time.Second},
	}, "sleep")
	var errs syncBuffer
	r := New(cfg, Options{Out: NewOutput(io.Discard, &errs, OutputOptions{}), Clock: clock, Supervise: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- r.Run(ctx, []string{"db"}) }()
	waitLog(t, &errs, "db started", 1)
	restarted := make(chan error, 1)
	go func() { restarted <- r.Restart(context.Background(), []string{"db"}, "test") }()
	waitLog(t, &errs, "db started", 2)
	clock.waitFor(t, 30*time.Second)
	var failed *TaskError
	err := <-restarted
	if want := `db: not ready after 30s: no output line matched "never"`; !errors.As(err, &failed) || err.Error() != want || failed.Since.IsZero() {
		t.Errorf("restart: %v (%#v), want %q with the start time", err, failed, want)
	}
	cancel()
	<-ran
}
