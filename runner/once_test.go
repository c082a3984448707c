package runner

import (
	"context"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/procman/procman/tasks"
)

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{1234 * time.Microsecond, "1ms"},
		{312 * time.Millisecond, "312ms"},
		{3140 * time.Millisecond, "3.1s"},
		{41250 * time.Millisecond, "41.2s"},
		{125 * time.Second, "2m5s"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.d); got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestStillRunning(t *testing.T) {
	start := time.Unix(1e9, 0)
	tests := []struct {
		name      string
		now, last time.Duration // after start
		want      string
	}{
		{"silent since it started", 15 * time.Second, 0, "still running (15s)"},
		{"silent for 5s", 30 * time.Second, 25 * time.Second, "still running (30s)"},
		{"printed 4s ago", 30 * time.Second, 26 * time.Second, ""},
		{"long", 135 * time.Second, 0, "still running (2m15s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := stillRunning(start.Add(tt.now), start, start.Add(tt.last))
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("stillRunning = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func TestRunOnce_SaysWhatRunsAndHowLong(t *testing.T) {
	clock := newFakeClock()
	cfg := &tasks.Config{
		Tasks: map[string]*tasks.Task{"setup": {
			Name: "setup", Kind: tasks.Once, StopSignal: syscall.SIGTERM, StopTimeout: time.Second,
			Cmd: tasks.Command{Argv: childCmd("sleep"), Raw: "npm install"},
		}},
		Names: []string{"setup"}, Interval: time.Hour, Env: childEnv(),
	}
	var errs syncBuffer
	r := New(cfg, Options{Out: NewOutput(io.Discard, &errs, OutputOptions{}), Clock: clock, Progress: true})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, []string{"setup"}) }()
	waitLog(t, &errs, "setup: npm install", 1)
	clock.waitFor(t, progressEvery)
	waitLog(t, &errs, "setup: still running (15s)", 1)
	clock.waitFor(t, progressEvery)
	waitLog(t, &errs, "setup: still running (30s)", 1)
	cancel()
	<-done
	if n := strings.Count(errs.String(), "still running"); n != 2 {
		t.Errorf("%d progress lines, want 2:\n%s", n, errs.String())
	}
}
