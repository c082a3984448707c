// Package state keeps procman's state on disk in .procman/state.json beside
// the Procfile: what ran, how it ended, which process groups are running,
// and the recent errors. Writes are atomic and merged under a lock, so a
// supervisor and a `procman run` beside it never lose each other's updates,
// and a kill at any moment leaves the old state or the new one. The package
// also owns the supervisor lock that lets only one `up` or `watch` run per
// project.
package state

import (
	"maps"
	"slices"
	"time"

	"github.com/procman/procman/runner/proc"
)

// Version is the version of the state file format this package writes. A
// file with a higher version is refused rather than overwritten.
const Version = 1

// MaxErrors is how many errors State keeps; older ones are dropped first.
const MaxErrors = 100

// State is the content of .procman/state.json. The JSON names are the ones
// `procman status --json` prints.
type State struct {
	// Version is the file format version (see Version).
	Version int `json:"version"`
	// Active is whether a supervisor was running as last written; a
	// supervisor killed with SIGKILL leaves it true. Store.Status corrects it
	// from the supervisor lock.
	Active bool `json:"active"`
	// PID is the supervisor's pid, 0 when none has run.
	PID int `json:"pid"`
	// RunID is the random id of the supervisor's run; its children carry it
	// in their environment as PROCMAN_RUN_ID.
	RunID string `json:"run_id"`
	// BootID is proc.BootID() of the boot the recorded pids belong to.
	BootID string `json:"boot_id"`
	// Socket is where the supervisor's control socket is (see package
	// control): in .procman, or elsewhere when the project's path is too
	// long for a socket address. Empty when the supervisor has none.
	Socket string `json:"socket,omitempty"`
	// LastUpdated is when the file was last written; Store sets it.
	LastUpdated time.Time `json:"last_updated"`
	// EventCounter counts the file changes procman has acted on: distinct
	// paths per watch trigger, summed.
	EventCounter int64 `json:"event_counter"`
	// Tasks holds each task's record by task name; never nil once read.
	Tasks map[string]*Task `json:"tasks"`
	// Errors holds the last MaxErrors errors, oldest first; never nil once
	// read.
	Errors []ErrorEntry `json:"errors"`
}

// Task is what the state records about one task.
type Task struct {
	// Runs counts the task's starts.
	Runs int `json:"runs"`
	// Restarts counts the times a service was started again after it ended.
	Restarts int `json:"restarts"`
	// LastExit is the exit code of the last run, null until the first exit.
	LastExit *int `json:"last_exit"`
	// LastStart is when the last run started.
	LastStart *time.Time `json:"last_start"`
	// LastEnd is when the last run ended.
	LastEnd *time.Time `json:"last_end"`
	// Running is whether the task's process group is running.
	Running bool `json:"running"`
	// PGID is the running process group, null when not running.
	PGID *int `json:"pgid"`
	// LeaderStart is proc.StartTime of the group leader; with BootID it
	// proves that a group found later is still procman's own.
	LeaderStart uint64 `json:"leader_start,omitempty"`
	// Status is one of starting, running, ready, exited, failed, stopped,
	// skipped.
	Status string `json:"status,omitempty"`
	// Fingerprint is, for once tasks, the sources fingerprint of the last
	// success.
	Fingerprint string `json:"fingerprint,omitempty"`
}

// ErrorEntry is one recorded error.
type ErrorEntry struct {
	// Time is when the error happened.
	Time time.Time `json:"time"`
	// Task names the task the error belongs to, "" for procman itself.
	Task string `json:"task"`
	// Message is the error text.
	Message string `json:"message"`
}

// New returns an empty state of the current version.
func New() *State {
	return &State{Version: Version, Tasks: map[string]*Task{}, Errors: []ErrorEntry{}}
}

// Task returns the record of task name, adding an empty one when there is
// none yet.
func (s *State) Task(name string) *Task {
	if s.Tasks == nil {
		s.Tasks = map[string]*Task{}
	}
	t := s.Tasks[name]
	if t == nil {
		t = &Task{}
		s.Tasks[name] = t
	}
	return t
}

// AddError records an error of task at now, keeping the last MaxErrors.
func (s *State) AddError(now time.Time, task, msg string) {
	s.Errors = append(s.Errors, ErrorEntry{Time: now, Task: task, Message: msg})
	if n := len(s.Errors) - MaxErrors; n > 0 {
		copy(s.Errors, s.Errors[n:])
		clear(s.Errors[MaxErrors:])
		s.Errors = s.Errors[:MaxErrors]
	}
}

// normalize fills what a file may have left out, so that callers and the
// JSON output never meet a nil map or a null list.
func (s *State) normalize() {
	if s.Version == 0 {
		s.Version = Version
	}
	if s.Tasks == nil {
		s.Tasks = map[string]*Task{}
	}
	for name, t := range s.Tasks {
		if t == nil {
			s.Tasks[name] = &Task{}
		}
	}
	if s.Errors == nil {
		s.Errors = []ErrorEntry{}
	}
}

// Orphan is a process group a previous supervisor left running.
type Orphan struct {
	// Task is the name of the task the group belongs to.
	Task string
	// PGID is the process group to stop.
	PGID int
}

// Orphans returns, sorted by task name, the process groups recorded as
// running that are provably procman's own: recorded under this boot, and
// proc.Owned by leader start time or by the run id in a member's
// environment. Groups that cannot be proven are left out, never guessed.
func (s *State) Orphans() []Orphan {
	if s.BootID == "" || s.BootID != proc.BootID() {
		return nil
	}
	envKV := ""
	if s.RunID != "" {
		envKV = "PROCMAN_RUN_ID=" + s.RunID
	}
	var out []Orphan
	for _, name := range slices.Sorted(maps.Keys(s.Tasks)) {
		t := s.Tasks[name]
		if t == nil || !t.Running || t.PGID == nil || *t.PGID <= 1 {
			continue
		}
		if proc.Owned(*t.PGID, t.LeaderStart, envKV) {
			out = append(out, Orphan{Task: name, PGID: *t.PGID})
		}
	}
	return out
}
