package proc

import (
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// forkSh starts /bin/sh -c script and returns its pid.
func forkSh(t *testing.T, script string) int {
	t.Helper()
	pid, err := syscall.ForkExec("/bin/sh", []string{"sh", "-c", script}, &syscall.ProcAttr{
		Env: os.Environ(), Files: []uintptr{0, 1, 2}, Sys: Attr(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestReap_ExitAndSignal(t *testing.T) {
	ws, err := Reap(forkSh(t, "exit 5"))
	if err != nil || !ws.Exited() || ws.ExitStatus() != 5 {
		t.Errorf("exit 5: status %v (exited %v, code %d), err %v", ws, ws.Exited(), ws.ExitStatus(), err)
	}
	ws, err = Reap(forkSh(t, "sleep 0.05; kill -TERM $$"))
	if err != nil || !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("killed by TERM: status %v (signaled %v, %v), err %v", ws, ws.Signaled(), ws.Signal(), err)
	}
	pid := forkSh(t, "exit 0")
	if _, err := Reap(pid); err != nil {
		t.Fatal(err)
	}
	if _, err := Reap(pid); err != syscall.ECHILD {
		t.Errorf("second reap of %d: %v, want ECHILD", pid, err)
	}
}

// Reaping many children at once must not tie up a thread each: Reap waits
// on pidfds through the netpoller.
func TestReap_ManyChildrenFewThreads(t *testing.T) {
	const n = 40
	threads := func() int {
		entries, err := os.ReadDir("/proc/self/task")
		if err != nil {
			t.Skip("no /proc/self/task here")
		}
		return len(entries)
	}
	before := threads()
	release := t.TempDir() + "/go"
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		pid := forkSh(t, "while [ ! -e "+release+" ]; do sleep 0.01; done; exit 3")
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws, err := Reap(pid)
			if err != nil {
				t.Error(err)
			}
			codes[i] = ws.ExitStatus()
		}()
	}
	var during int
	for range 20 { // let the waiters settle into their waits
		during = max(during, threads())
		time.Sleep(5 * time.Millisecond) // sampling, not synchronisation
	}
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, c := range codes {
		if c != 3 {
			t.Errorf("child %d: exit %d, want 3", i, c)
		}
	}
	if during-before > n/2 {
		t.Errorf("threads: %d before, up to %d while %d children were reaped", before, during, n)
	}
}
