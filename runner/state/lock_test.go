package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/procman/procman/runner/proc"
)

func TestAcquire_AnotherProcessHoldsTheLock(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	for _, tc := range []struct {
		name string
		end  func(t *testing.T, h *helper)
	}{
		{"holder exits", func(t *testing.T, h *helper) { h.wait(t) }},
		{"holder is killed", func(t *testing.T, h *helper) {
			_ = h.cmd.Process.Signal(syscall.SIGKILL)
			_ = h.cmd.Wait()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openStore(t)
			h := startHelper(t, "acquire", filepath.Dir(s.dir))
			h.expect(t, "locked")
			child := h.cmd.Process.Pid

			release, err := s.Acquire()
			var busy *BusyError
			if !errors.As(err, &busy) || busy.PID != child {
				t.Fatalf("Acquire: %v, want BusyError{PID: %d}", err, child)
			}
			if want := fmt.Sprintf("another procman (pid %d) is supervising this project", child); err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			if release != nil {
				t.Error("release func returned with an error")
			}
			wantSupervisor(t, s, child, true, "holder running")

			tc.end(t, h)
			wantSupervisor(t, s, child, false, "after the holder ended")
			release, err = s.Acquire()
			if err != nil {
				t.Fatal(err)
			}
			wantSupervisor(t, s, os.Getpid(), true, "holding it")
			release()
			release() // twice is harmless
			wantSupervisor(t, s, os.Getpid(), false, "released")
		})
	}
}

func TestAcquire_TwiceInOneProcessIsBusy(t *testing.T) {
	s, _ := openStore(t)
	release, err := s.Acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	other, err := Open(filepath.Dir(s.dir))
	if err != nil {
		t.Fatal(err)
	}
	_, err = other.Acquire()
	if want := fmt.Sprintf("another procman (pid %d) is supervising this project", os.Getpid()); err == nil || err.Error() != want {
		t.Errorf("second Acquire: %v, want %q", err, want)
	}
}

func TestSupervisor_NeverRun(t *testing.T) {
	s, _ := openStore(t)
	wantSupervisor(t, s, 0, false, "never run")
	if _, err := os.Stat(s.path(supervisorFile)); !os.IsNotExist(err) {
		t.Errorf("Supervisor or Probe created the lock file: %v", err)
	}
	if pid, active := Probe(filepath.Join(t.TempDir(), "none", Dir)); pid != 0 || active {
		t.Errorf("no .procman folder: Probe() = %d, %v; want 0, false", pid, active)
	}
}

// wantSupervisor checks that Supervisor and Probe both say pid, active.
func wantSupervisor(t *testing.T, s *Store, pid int, active bool, when string) {
	t.Helper()
	if p, a := s.Supervisor(); p != pid || a != active {
		t.Errorf("%s: Supervisor() = %d, %v; want %d, %v", when, p, a, pid, active)
	}
	if p, a := Probe(s.dir); p != pid || a != active {
		t.Errorf("%s: Probe() = %d, %v; want %d, %v", when, p, a, pid, active)
	}
}

// TestStatus_CorrectsWhatIsStale writes the state a SIGKILLed supervisor
// leaves, one task's group still alive and one gone, and checks what Status
// makes of it.
func TestStatus_CorrectsWhatIsStale(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	s, _ := openStore(t)
	h := startHelper(t, "group", filepath.Dir(s.dir))
	h.expect(t, "ready")
	pgid := h.cmd.Process.Pid
	start, err := proc.StartTime(pgid)
	if err != nil {
		t.Fatal(err)
	}
	gone := pgid // the same group with another leader start time is not ours
	err = s.Update(func(st *State) {
		st.Active, st.PID, st.BootID = true, 999999, proc.BootID()
		live, dead := st.Task("live"), st.Task("dead")
		live.Running, live.PGID, live.LeaderStart = true, &pgid, start
		dead.Running, dead.PGID, dead.LeaderStart = true, &gone, start+1
	})
	if err != nil {
		t.Fatal(err)
	}

	st, err := s.Status()
	if err != nil {
		t.Fatal(err)
	}
	if st.Active || st.PID != 999999 {
		t.Errorf("active %v pid %d, want false and the recorded 999999", st.Active, st.PID)
	}
	if live := st.Tasks["live"]; !live.Running || live.PGID == nil || *live.PGID != pgid {
		t.Errorf("live: running %v pgid %v, want true %d", live.Running, live.PGID, pgid)
	}
	if dead := st.Tasks["dead"]; dead.Running || dead.PGID != nil {
		t.Errorf("dead: running %v pgid %v, want false and null", dead.Running, dead.PGID)
	}
	if o := st.Orphans(); fmt.Sprint(o) != fmt.Sprint([]Orphan{{Task: "live", PGID: pgid}}) {
		t.Errorf("Orphans() = %v", o)
	}

	release, err := s.Acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if st, _ := s.Status(); !st.Active || st.PID != os.Getpid() {
		t.Errorf("while supervised: active %v pid %d, want true %d", st.Active, st.PID, os.Getpid())
	}
	h.wait(t)
	if st, _ := s.Status(); st.Tasks["live"].Running {
		t.Error("live still running after its group ended")
	}
}

func TestOrphans_OtherBootIsNeverOurs(t *testing.T) {
	pid := os.Getpid()
	start, err := proc.StartTime(pid)
	if err != nil {
		t.Skip(err)
	}
	st := New()
	st.BootID = "another boot"
	t1 := st.Task("web")
	t1.Running, t1.PGID, t1.LeaderStart = true, &pid, start
	if o := st.Orphans(); o != nil {
		t.Errorf("Orphans() = %v, want none", o)
	}
}
