// Package control lets procman's commands, editors and scripts drive a
// running supervisor (procman up, procman watch) from another terminal:
// the protocol, spoken over a Unix socket beside the project's state; the
// server, which serves the runner's operations to the supervisor's own
// user; and the client that procman ps, restart, stop, start, logs, attach
// and down use.
//
// The protocol is JSON, one object a line, both ways. A client sends a
// Request; the server answers it with a Reply whose "ok" says whether it
// was done, after, for logs, one Reply a line printed (or, with batch_ms,
// one a batch of lines). The README documents it for clients other than
// procman's own.
package control

import "time"

// Version is the protocol version this procman speaks. A request of
// another version is answered with an error of code "version".
const Version = 1

// The operations a Request may ask for.
const (
	OpPS      = "ps"      // the tasks, live; with EveryMS, again and again
	OpRestart = "restart" // what a watch trigger of each task does; answered when ready
	OpStop    = "stop"    // stop services and keep them stopped
	OpStart   = "start"   // start stopped services; answered when ready
	OpLogs    = "logs"    // the last Lines lines, then with Follow the new ones
	OpDown    = "down"    // stop the supervisor; answered when every task stopped
	OpScale   = "scale"   // change the replicas of services; answered when the new ones are ready
)

// Request is one line from a client.
type Request struct {
	V       int            `json:"v"`                  // Version
	ID      int            `json:"id,omitempty"`       // echoed in the replies
	Op      string         `json:"op"`                 // one of the Op constants
	Tasks   []string       `json:"tasks,omitempty"`    // restart, stop, start, logs (none: every task)
	NoWait  bool           `json:"no_wait,omitempty"`  // restart, start: answer once asked, not once ready
	Lines   int            `json:"lines,omitempty"`    // logs: how many of the last lines first
	Follow  bool           `json:"follow,omitempty"`   // logs: then every new line, until the client goes
	BatchMS int            `json:"batch_ms,omitempty"` // logs: the lines in batches (Reply.Lines), new ones at most every BatchMS ms (0: a reply a line, at once)
	EveryMS int            `json:"every_ms,omitempty"` // ps: then again every EveryMS ms, until the client goes (0: once)
	Counts  map[string]int `json:"counts,omitempty"`   // scale: replicas by service
}

// Reply is one line from the server. A request gets exactly one reply
// with OK set, its last; a logs request gets a reply per line (Line) and
// per gap (Skipped) before it; or, when it set BatchMS, a reply per batch
// of lines (Lines): a client that draws frames (the dashboard) then wakes
// once a frame, not once a line. A ps request with EveryMS gets a reply
// with PS at once and then every EveryMS, without OK until the supervisor
// stops: a client that shows the tasks live wakes once a refresh, with no
// timer of its own.
type Reply struct {
	V       int    `json:"v"`
	ID      int    `json:"id,omitempty"`
	OK      *bool  `json:"ok,omitempty"`      // set on the last reply to a request
	Error   *Error `json:"error,omitempty"`   // why it was not done, when OK is false
	PS      *PS    `json:"ps,omitempty"`      // ps
	Line    *Line  `json:"line,omitempty"`    // logs: one line
	Lines   []Line `json:"lines,omitempty"`   // logs with batch_ms: lines, in order
	Skipped int    `json:"skipped,omitempty"` // logs: lines dropped because the client fell behind
}

// Error codes: what a client may act on.
const (
	CodeVersion     = "version"      // a protocol version this procman does not speak
	CodeBadRequest  = "bad-request"  // not a request: bad JSON, a line too long
	CodeUnknownOp   = "unknown-op"   // an op this procman does not know
	CodeUnknownTask = "unknown-task" // a name that is no task of the run
	CodeNotService  = "not-service"  // stop or start of a task that is not a service
	CodeFailed      = "failed"       // a task failed to start or run
	CodeStopping    = "stopping"     // the supervisor is stopping
	CodeDenied      = "denied"       // another user's connection
)

// Error is a request that was not done.
type Error struct {
	Code    string   `json:"code"`            // one of the Code constants
	Message string   `json:"message"`         // for people
	Task    string   `json:"task,omitempty"`  // the task it is about
	Lines   []string `json:"lines,omitempty"` // its last output lines, when it failed
}

func (e *Error) Error() string { return e.Message }

// PS is the running supervisor and its tasks, in plan order (`procman ps
// --json` prints it).
type PS struct {
	PID   int    `json:"pid"`
	Tasks []Task `json:"tasks"`
}

// Task is one row of ps: a task, or one replica of a service. Fields that
// do not apply are null.
type Task struct {
	Name     string     `json:"name"`
	Kind     string     `json:"kind"`   // once, task or service
	Status   string     `json:"status"` // pending, starting, running, ready, backoff, stopped, exited, failed, skipped
	PID      *int       `json:"pid"`
	Started  *time.Time `json:"started"`
	Restarts int        `json:"restarts"`
	LastExit *int       `json:"last_exit"`
	CPU      *float64   `json:"cpu"`              // percent of one core since the previous ps, or since it started
	RSS      *uint64    `json:"rss"`              // bytes, the whole process group
	Task     string     `json:"task"`             // the task it belongs to (for a replica)
	Reason   string     `json:"reason,omitempty"` // why it came to its status ("3 files changed")
	Since    time.Time  `json:"since"`            // when
}

// Line is one line a task printed.
type Line struct {
	Seq    uint64    `json:"seq,omitempty"` // its place among every task's lines (0: read from a file)
	Task   string    `json:"task"`
	Time   time.Time `json:"time"`
	Stream string    `json:"stream,omitempty"` // stdout or stderr (empty: not known)
	Text   string    `json:"text"`
}
