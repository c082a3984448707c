package guard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// TestServe_StopsOnEOF runs Serve in this process on real trapper groups:
// what it signals and what it says when procman's pipe ends.
func TestServe_StopsOnEOF(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	tests := []struct {
		name     string
		graceful bool   // the trapper exits on SIGTERM
		msgs     string // after "hello 77" and the add; %d is the pgid, %d its start
		stopped  bool   // whether the trapper must be gone
		want     string
	}{
		{"graceful group is stopped", true, `add %d %d 15 5s "db"`, true,
			"procman | guard: stopped db (pgid %d) left by procman pid 77\n"},
		{"group ignoring SIGTERM is killed", false, `add %d %d 15 100ms "db"`, true,
			"procman | guard: killed db (pgid %d) left by procman pid 77: still running 100ms after SIGTERM\n"},
		{"SIGKILL as stop signal", false, `add %d %d 9 5s "db"`, true,
			"procman | guard: stopped db (pgid %d) left by procman pid 77\n"},
		{"SIGINT as stop signal", false, `add %d %d 2 5s "db"`, true,
			"procman | guard: stopped db (pgid %d) left by procman pid 77\n"},
		{"removed group is left alone", true, "add %d %d 15 5s \"db\"\ndel %[1]d", false, ""},
		{"wrong leader start is left alone", true, `add %d 1%d 15 5s "db"`, false,
			"procman | guard: left db (pgid %d) alone: not provably procman's\n"},
		{"goodbye signals nothing", true, "add %d %d 15 5s \"db\"\nbye", false, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			runEnv := fmt.Sprintf("PROCMAN_RUN_ID=servetest-%d", i)
			tr := startTrapper(t, runEnv, dir, tt.graceful)
			in := "hello 77\n" + fmt.Sprintf(tt.msgs, tr.pid, tr.start) + "\n"
			var out bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := Serve(ctx, strings.NewReader(in), &out, runEnv); err != nil {
				t.Fatalf("Serve: %v", err)
			}
			if want := strings.ReplaceAll(tt.want, "%d", fmt.Sprint(tr.pid)); out.String() != want {
				t.Errorf("Serve said %q, want %q", out.String(), want)
			}
			// The trapper is this test's child: its zombie is not reaped yet.
			if running(tr.pid) == tt.stopped {
				t.Errorf("trapper running = %v after Serve, want %v", !tt.stopped, !tt.stopped)
			}
		})
	}
}

func TestServe_Messages(t *testing.T) {
	tests := []struct {
		name string
		in   io.Reader
		want string
		err  string
	}{
		{"bad messages are reported and skipped",
			strings.NewReader("add 5\nfrob\n\nbye\n"),
			"procman | guard: ignored bad message \"add 5\": add: want 5 arguments, got 1\n" +
				"procman | guard: ignored bad message \"frob\": unknown message \"frob\"\n" +
				"procman | guard: ignored bad message \"\": empty message\n", ""},
		{"nothing is read after goodbye", strings.NewReader("bye\nfrob\n"), "", ""},
		{"EOF with no group says nothing", strings.NewReader("hello 12\n"), "", ""},
		{"read error", io.MultiReader(strings.NewReader("hello 12\n"), iotest.ErrReader(errors.New("boom"))),
			"", "guard: read from procman: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := Serve(context.Background(), tt.in, &out, "PROCMAN_RUN_ID=x")
			if got := fmt.Sprint(err); (tt.err == "" && err != nil) || (tt.err != "" && got != tt.err) {
				t.Errorf("Serve error = %v, want %q", err, tt.err)
			}
			if out.String() != tt.want {
				t.Errorf("Serve said %q, want %q", out.String(), tt.want)
			}
		})
	}
}

func TestServe_ContextCancelledReturnsAtOnce(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() { done <- Serve(ctx, r, &out, "") }()
	if _, err := io.WriteString(w, "hello 5\nadd 99999 1 15 1s \"x\"\n"); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Serve = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if out.Len() != 0 {
		t.Errorf("Serve said %q, want nothing", out.String())
	}
}
