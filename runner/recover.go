package runner

import (
	"sync"
	"syscall"

	"github.com/procman/procman/runner/proc"
	"github.com/procman/procman/runner/state"
	"github.com/procman/procman/tasks"
)

// Recover cleans up after a supervisor that died without doing so itself
// (and whose guard died too): it stops the process groups recorded in the
// state that are provably procman's own (same boot, same leader start time,
// or procman's run id in a member's environment), each with its task's
// stop signal and timeout, and says what it stopped. Call it holding the
// supervisor lock, before starting anything.
func Recover(store *state.Store, cfg *tasks.Config, out *Output) error {
	st, err := store.Read()
	if err != nil {
		return err
	}
	orphans := st.Orphans()
	if !st.Active && len(orphans) == 0 {
		return nil
	}
	if len(orphans) > 0 {
		out.Logf(Warn, "procman pid %d ended without stopping its tasks; cleaning up", st.PID)
	}
	var wg sync.WaitGroup
	for _, o := range orphans {
		sig, timeout := syscall.SIGTERM, tasks.DefaultStopTimeout
		t := cfg.Tasks[o.Task]
		if base, _, ok := tasks.SplitReplica(o.Task); t == nil && ok {
			t = cfg.Tasks[base] // a replica, web.2
		}
		if t != nil {
			sig, timeout = t.StopSignal, t.StopTimeout
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			killed := proc.Stop(o.PGID, sig, timeout)
			how := "stopped"
			if killed {
				how = "killed"
			}
			out.Logf(Warn, "%s %s (pgid %d), left running by procman pid %d", how, o.Task, o.PGID, st.PID)
		}()
	}
	wg.Wait()
	return store.Update(func(s *state.State) {
		s.Active = false
		for _, t := range s.Tasks {
			if t.Running {
				t.Running, t.PGID, t.Status = false, nil, "stopped"
			}
		}
	})
}
