package proc

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

func TestStop_GroupWithGrandchildren(t *testing.T) {
	cmd := exec.Command("/bin/sh", "-c", "trap '' TERM; sleep 30 & sleep 30 & wait; wait")
	cmd.SysProcAttr = Attr()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	pgid := cmd.Process.Pid
	st, err := StartTime(pgid)
	if err != nil {
		t.Fatal(err)
	}
	if !Owned(pgid, st, "") {
		t.Fatal("Owned: false for the group just started")
	}
	if Owned(pgid, st+1, "") {
		t.Fatal("Owned: true with another leader start time")
	}
	for deadline := time.Now().Add(5 * time.Second); len(Members(pgid)) < 3; {
		if time.Now().After(deadline) {
			t.Fatalf("group members: %v, want the shell and two sleeps", Members(pgid))
		}
		time.Sleep(5 * time.Millisecond) // the shell sets its trap, then forks
	}
	begin := time.Now()
	if killed := Stop(pgid, syscall.SIGTERM, 200*time.Millisecond); !killed {
		t.Error("Stop did not need SIGKILL for a shell that ignores TERM")
	}
	if took := time.Since(begin); took < 200*time.Millisecond || took > 3*time.Second {
		t.Errorf("Stop took %v, want the 200ms timeout plus a moment", took)
	}
	<-done
	if Alive(pgid) {
		t.Error("group still alive after Stop")
	}
}

func TestSignal_RefusesInit(t *testing.T) {
	if _, err := Signal(1, syscall.SIGTERM); err == nil {
		t.Fatal("Signal(1) did not refuse")
	}
}

func TestBootID(t *testing.T) {
	if _, err := os.Stat("/proc/sys/kernel/random/boot_id"); err != nil {
		t.Skip("no boot id here")
	}
	if a, b := BootID(), BootID(); a == "" || a != b {
		t.Fatalf("BootID: %q then %q", a, b)
	}
}
