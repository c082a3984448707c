package runner

import (
	"os"
	"time"

	"github.com/procman/procman/runner/proc"
	"github.com/procman/procman/runner/state"
	"github.com/procman/procman/tasks"
)

// journal records the run's transitions in the state file. Posts never wait
// for the disk: the store coalesces them in the background. A nil store
// records nothing.
type journal struct {
	store      *state.Store
	supervisor bool // up/watch: record process groups and the supervisor
	now        func() time.Time
}

func (j *journal) post(fn func(*state.State)) {
	if j.store != nil {
		j.store.Post(fn)
	}
}

// begin records the supervisor of this run.
func (j *journal) begin(runID string) {
	if !j.supervisor {
		return
	}
	pid, boot := os.Getpid(), proc.BootID()
	j.post(func(s *state.State) {
		s.Active, s.PID, s.RunID, s.BootID = true, pid, runID, boot
	})
}

// end records a clean end of the supervisor: nothing of it is running.
func (j *journal) end() {
	if !j.supervisor {
		return
	}
	pid := os.Getpid()
	j.post(func(s *state.State) {
		if s.PID != pid {
			return
		}
		s.Active = false
		for _, t := range s.Tasks {
			if t.Running {
				t.Running, t.PGID, t.Status = false, nil, "stopped"
			}
		}
	})
}

// started records a new process of task name.
func (j *journal) started(name string, p *process, restart bool) {
	at := p.started
	pgid, leader := p.pgid, p.leaderStart
	sup := j.supervisor
	j.post(func(s *state.State) {
		t := s.Task(name)
		t.Runs++
		if restart {
			t.Restarts++
		}
		t.LastStart, t.Status = &at, "running"
		if sup {
			t.Running, t.PGID, t.LeaderStart = true, &pgid, leader
		}
	})
}

// ready records that service name passed its ready probe.
func (j *journal) ready(name string) {
	j.post(func(s *state.State) { s.Task(name).Status = "ready" })
}

// exited records the end of a process of task name; msg, when not empty,
// goes to the error log.
func (j *journal) exited(name string, p *process, msg string) {
	code, at := p.code, j.now()
	pgid := p.pgid
	j.post(func(s *state.State) {
		t := s.Task(name)
		t.LastExit, t.LastEnd = &code, &at
		if t.PGID != nil && *t.PGID == pgid {
			t.Running, t.PGID = false, nil
		}
		t.Status = "exited"
		if msg != "" {
			t.Status = "failed"
			s.AddError(at, name, msg)
		}
	})
}

// failed records an error of task name that is not an exit: a service
// marked failed, a start that failed.
func (j *journal) failed(name, msg string) {
	at := j.now()
	j.post(func(s *state.State) {
		s.Task(name).Status = "failed"
		s.AddError(at, name, msg)
	})
}

// succeeded records the sources fingerprint of a once task's success.
func (j *journal) succeeded(name, fingerprint string) {
	j.post(func(s *state.State) { s.Task(name).Fingerprint = fingerprint })
}

// changes adds n acted-on file changes to the event counter.
func (j *journal) changes(n int) {
	j.post(func(s *state.State) { s.EventCounter += int64(n) })
}

// elsewhere is what the state file says of a service that another
// procman (an up or watch of the project) supervises.
type elsewhere struct {
	pid   int  // that procman's
	ready bool // every replica is ready (the state does not tell a restart's backoff from a service left down)
}

// supervisedElsewhere reports whether service name (or one of its
// replicas) is supervised right now by another procman, whatever its
// state (running, between restarts, stopped), and what the state says.
func (j *journal) supervisedElsewhere(name string) (elsewhere, bool) {
	if j.store == nil || j.supervisor {
		return elsewhere{}, false
	}
	st, err := j.store.Status()
	if err != nil || !st.Active {
		return elsewhere{}, false
	}
	e, ok := elsewhere{pid: st.PID, ready: true}, false
	for key, t := range st.Tasks {
		if base, _, replica := tasks.SplitReplica(key); key == name || replica && base == name {
			ok = true
			e.ready = e.ready && t.Status == "ready"
		}
	}
	e.ready = e.ready && ok
	return e, ok
}
