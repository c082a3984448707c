package runner

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func startChild(t *testing.T, out *Output, timeout time.Duration, mode string, args ...string) *process {
	t.Helper()
	p, err := start(spec{
		name: "child", argv: childCmd(mode, args...), env: childEnv(),
		stopSignal: syscall.SIGTERM, stopTimeout: timeout,
	}, out, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill(); <-p.done })
	return p
}

// within fails the test when ch is not closed within d.
func within(t *testing.T, d time.Duration, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("%s: not within %v", what, d)
	}
}

func TestProcess_ExitCodes(t *testing.T) {
	out := NewOutput(io.Discard, io.Discard, OutputOptions{})
	tests := []struct {
		name string
		args []string
		kill bool
		want int
	}{
		{"success", []string{"exit", "0"}, false, 0},
		{"own code", []string{"exit", "3"}, false, 3},
		{"signal", []string{"sleep"}, true, 128 + 9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := startChild(t, out, time.Second, tc.args[0], tc.args[1:]...)
			if tc.kill {
				p.kill()
			}
			within(t, 10*time.Second, p.done, "exit")
			if p.code != tc.want {
				t.Errorf("code %d, want %d", p.code, tc.want)
			}
		})
	}
}

func TestProcess_StopKillsStubbornGroupAfterTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process tree")
	}
	var stdout syncBuffer
	out := NewOutput(&stdout, io.Discard, OutputOptions{})
	pidfile := filepath.Join(t.TempDir(), "pids")
	p := startChild(t, out, 300*time.Millisecond, "stubborn", pidfile)
	pids := waitPids(t, pidfile, 3)
	begin := time.Now()
	p.stop(context.Background())
	took := time.Since(begin)
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("pid %d still alive after stop", pid)
		}
	}
	if took < 300*time.Millisecond {
		t.Errorf("stop took %v: SIGKILL came before the stop timeout", took)
	}
	if p.code != 128+9 {
		t.Errorf("code %d, want %d (SIGKILL)", p.code, 128+9)
	}
}

func TestProcess_GrandchildHoldingPipeDoesNotHang(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process tree")
	}
	var stdout syncBuffer
	out := NewOutput(&stdout, io.Discard, OutputOptions{})
	p := startChild(t, out, time.Second, "escape")
	within(t, 5*time.Second, p.done, "done while a grandchild in another session holds stdout")
	line := strings.TrimSpace(stdout.String())
	f := strings.Fields(line)
	pid, err := strconv.Atoi(f[len(f)-1])
	if err != nil {
		t.Fatalf("output %q: %v", line, err)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL) // it left our group: clean it up by pid
}

func TestProcess_LeaderExitStopsRestOfGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process tree")
	}
	out := NewOutput(io.Discard, io.Discard, OutputOptions{})
	pidfile := filepath.Join(t.TempDir(), "pids")
	p := startChild(t, out, 200*time.Millisecond, "stubborn", pidfile)
	pids := waitPids(t, pidfile, 3)
	_ = syscall.Kill(pids[0], syscall.SIGKILL) // only the leader
	within(t, 5*time.Second, p.done, "done")
	for _, pid := range pids[1:] {
		if alive(pid) {
			t.Errorf("grandchild %d survived its leader", pid)
		}
	}
}

// waitPids waits for the child to write n pids to path.
func waitPids(t *testing.T, path string, n int) []int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(path)
		if err == nil {
			var pids []int
			for _, f := range strings.Fields(string(b)) {
				pid, _ := strconv.Atoi(f)
				pids = append(pids, pid)
			}
			if len(pids) == n {
				return pids
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no %d pids in %s", n, path)
	return nil
}
