package runner

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/procman/procman/runner/proc"
	"github.com/procman/procman/tasks"
)

// Status is what a task (or a replica) is doing, as procman ps shows it.
type Status string

// The statuses of SPEC section 6.
const (
	Pending  Status = "pending"  // waiting for its deps
	Starting Status = "starting" // started, its ready probe not passed yet
	Running  Status = "running"  // running (a service without a probe, or a task)
	Ready    Status = "ready"    // a service whose ready probe passed
	Backoff  Status = "backoff"  // a service waiting to be restarted
	Stopped  Status = "stopped"  // stopped by procman stop, or as the run ended
	Exited   Status = "exited"   // ended, and stays so: a task done, a service its policy leaves down
	Failed   Status = "failed"   // failed: a task's non-zero exit, a service out of restarts
	Skipped  Status = "skipped"  // not run: up to date, or a dependency failed
)

// TaskInfo is one row of procman ps: a task, or one replica of a service.
type TaskInfo struct {
	Name     string     // the task, or NAME.i for a replica
	Task     string     // the task it belongs to
	Kind     tasks.Kind // once, plain task or service
	Status   Status     // what it is doing
	Reason   string     // why it came to that status, in a few words ("3 files changed")
	Since    time.Time  // when
	PID      int        // its process group, 0 when nothing runs
	Started  time.Time  // when that process started; zero when none
	Restarts int        // restarts of a service
	LastExit *int       // how its last process ended; nil before the first end
	CPU      *float64   // percent of one core since the previous Snapshot, or since it started; nil when unknown
	RSS      *uint64    // bytes of the whole process group; nil when unknown
}

// Snapshot returns every task of the run and every replica, in plan order,
// with the CPU and memory of each running process group.
func (r *Runner) Snapshot() []TaskInfo {
	select {
	case <-r.planned:
	default:
		return nil // not planned yet: nothing runs
	}
	now := r.clock.Now()
	var units []*unit
	var groups []int
	for _, name := range r.order {
		for _, u := range r.nodes[name].unitList() {
			units = append(units, u)
			u.mu.Lock()
			if u.cur != nil {
				groups = append(groups, u.cur.pgid)
			}
			u.mu.Unlock()
		}
	}
	usage := r.groups.Usage(groups)
	out := make([]TaskInfo, 0, len(units))
	for _, u := range units {
		out = append(out, u.info(now, usage))
	}
	return out
}

// info is u's row of ps at now, given every process group's usage.
func (u *unit) info(now time.Time, usage map[int]proc.Usage) TaskInfo {
	u.mu.Lock()
	defer u.mu.Unlock()
	ti := TaskInfo{
		Name: u.name, Task: u.node.t.Name, Kind: u.node.t.Kind,
		Status: u.status, Reason: u.reason, Since: u.since,
		Restarts: max(0, u.starts-1), LastExit: u.lastExit,
	}
	if u.node.t.Kind != tasks.Service {
		ti.Restarts = 0
	}
	p := u.cur
	if p == nil {
		return ti
	}
	ti.PID, ti.Started = p.pgid, p.started
	us, ok := usage[p.pgid]
	if !ok {
		return ti
	}
	rss := us.RSS
	ti.RSS = &rss
	if cpu, ok := u.sample.percent(p.pgid, p.started, us.CPU, now); ok {
		ti.CPU = &cpu
	}
	return ti
}

// usage is the last CPU reading of a unit's process group.
type usage struct {
	pgid int           // the group read
	cpu  time.Duration // its CPU time then
	at   time.Time     // when
}

// percent returns the CPU use of group pgid (started at started, cpu so
// far) as percent of one core: since the last reading of the same group,
// else since it started; and records this reading.
func (s *usage) percent(pgid int, started time.Time, cpu time.Duration, now time.Time) (float64, bool) {
	from, base := started, time.Duration(0)
	if s.pgid == pgid && !s.at.IsZero() {
		from, base = s.at, s.cpu
	}
	*s = usage{pgid: pgid, cpu: cpu, at: now}
	wall := now.Sub(from)
	if wall <= 0 || cpu < base {
		return 0, false
	}
	return 100 * float64(cpu-base) / float64(wall), true
}

// UnknownTaskError is a name that is neither a task of the run nor a
// replica of one.
type UnknownTaskError struct {
	Name  string
	Known []string // the names that would do
}

func (e *UnknownTaskError) Error() string {
	return fmt.Sprintf("no task %q in this run: it has %s", e.Name, strings.Join(e.Known, ", "))
}

// NotServiceError is an operation only services take, asked of a task.
type NotServiceError struct {
	Name string
	Kind tasks.Kind
	Op   string
}

func (e *NotServiceError) Error() string {
	kind := "plain task"
	if e.Kind == tasks.Once {
		kind = "once task"
	}
	return fmt.Sprintf("%s is a %s: only services can be %s", e.Name, kind, e.Op)
}

// resolve returns the units that names stand for: a task's name stands for
// all its units (a service's replicas), a replica's name for itself. Each
// unit comes once, in the order named.
func (r *Runner) resolve(names []string) ([]*unit, error) {
	var out []*unit
	for _, name := range names {
		us, ok := r.lookup(name)
		if !ok {
			return nil, &UnknownTaskError{Name: name, Known: r.names()}
		}
		for _, u := range us {
			if !slices.Contains(out, u) {
				out = append(out, u)
			}
		}
	}
	return out, nil
}

// lookup returns the units of task or replica name.
func (r *Runner) lookup(name string) ([]*unit, bool) {
	if n, ok := r.nodes[name]; ok {
		return n.unitList(), true
	}
	for _, n := range r.nodes {
		for _, u := range n.unitList() {
			if u.name == name {
				return []*unit{u}, true
			}
		}
	}
	return nil, false
}

// names returns the names of the run's tasks, in plan order.
func (r *Runner) names() []string { return slices.Clone(r.order) }

// ErrStopping answers the operations asked of a run that is ending.
var ErrStopping = errors.New("procman is stopping")

// TaskError is a service that failed to start: it ended, or failed its
// ready probe, before it was ready.
type TaskError struct {
	Task  string
	Err   error
	Since time.Time // when the process that failed started (zero: not known)
}

func (e *TaskError) Error() string { return e.Err.Error() }
func (e *TaskError) Unwrap() error { return e.Err }
