package guard

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startGuard starts this test binary as a guard; it ends at cleanup.
func startGuard(t testing.TB) *Client {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(roleEnv, "guard")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := Start(ctx, exe, nil, "PROCMAN_RUN_ID=clienttest", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestStart_Errors(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		exe     string
		role    string
		timeout time.Duration
		want    string
	}{
		{"no such program", "/nonexistent/procman", "guard", 10 * time.Second,
			"start guard: fork/exec /nonexistent/procman: no such file or directory"},
		{"exits before ready", exe, "broken", 10 * time.Second,
			"start guard: exited before it was ready: exit status 3"},
		{"says something else", exe, "chatty", 10 * time.Second,
			`start guard: guard said "hello\n", want "ready\n"`},
		{"never ready", exe, "mute", 50 * time.Millisecond,
			"start guard: context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(roleEnv, tt.role)
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			c, err := Start(ctx, tt.exe, nil, "PROCMAN_RUN_ID=x", nil)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Start error = %v, want %q", err, tt.want)
			}
			if c != nil {
				t.Errorf("Start returned a client with its error")
			}
		})
	}
}

func TestClient_AddValidates(t *testing.T) {
	tests := []struct {
		name    string
		pgid    int
		sig     syscall.Signal
		timeout time.Duration
		task    string
		want    string
	}{
		{"pgid 1", 1, syscall.SIGTERM, time.Second, "web", `add "web" (pgid 1): process group must be > 1`},
		{"pgid 0", 0, syscall.SIGTERM, time.Second, "web", `add "web" (pgid 0): process group must be > 1`},
		{"signal 0", 50, 0, time.Second, "web", `add "web" (pgid 50): unknown signal 0`},
		{"negative timeout", 50, syscall.SIGTERM, -time.Second, "web", `add "web" (pgid 50): negative stop timeout -1s`},
		{"long name", 50, syscall.SIGTERM, time.Second, strings.Repeat("a", 1025),
			`add "` + strings.Repeat("a", 1025) + `" (pgid 50): task name longer than 1024 bytes`},
	}
	c := &Client{} // never reached: Add validates first
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Add(tt.task, tt.pgid, 1, tt.sig, tt.timeout)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Add error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestClient_CloseEndsGuard(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	c := startGuard(t)
	if err := c.Add("web", 99999, 1, syscall.SIGTERM, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-c.exited:
	default:
		t.Fatal("Close returned before the guard exited")
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	err := c.Add("web", 4242, 1, syscall.SIGTERM, time.Second)
	if want := `add "web" (pgid 4242): guard closed`; err == nil || err.Error() != want || !errors.Is(err, ErrClosed) {
		t.Errorf("Add after Close = %v, want %q", err, want)
	}
	err = c.Remove(4242)
	if want := "remove pgid 4242: guard closed"; err == nil || err.Error() != want {
		t.Errorf("Remove after Close = %v, want %q", err, want)
	}
}

// TestClient_DeadGuardIsAnError: writing to a guard that died returns
// EPIPE; it does not kill procman with SIGPIPE or block it.
func TestClient_DeadGuardIsAnError(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	c := startGuard(t)
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-c.exited
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"add", func() error { return c.Add("web", 4242, 1, syscall.SIGTERM, time.Second) },
			`add "web" (pgid 4242): write |1: broken pipe`},
		{"remove", func() error { return c.Remove(4242) }, "remove pgid 4242: write |1: broken pipe"},
		{"close", c.Close, "close guard: write |1: broken pipe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil || err.Error() != tt.want || !errors.Is(err, syscall.EPIPE) {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestClient_StuckGuardDoesNotBlock: a guard that stopped reading (here
// SIGSTOPped) fills the pipe; Add then fails after writeTimeout instead of
// hanging procman.
func TestClient_StuckGuardDoesNotBlock(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes, waits for a write timeout")
	}
	c := startGuard(t)
	if err := c.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.cmd.Process.Signal(syscall.SIGCONT) }()
	began := time.Now()
	var err error
	for i := 0; i < 10000 && err == nil; i++ { // far more than a pipe holds
		err = c.Add("web", 4000000+i, 1, syscall.SIGTERM, time.Second)
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Add to a stuck guard = %v, want a deadline error", err)
	}
	if took := time.Since(began); took > writeTimeout+2*time.Second {
		t.Errorf("Add blocked %v", took)
	}
	if err2 := c.Remove(5); !errors.Is(err2, os.ErrDeadlineExceeded) {
		t.Errorf("Remove after a lost guard = %v, want the same error at once", err2)
	}
}
