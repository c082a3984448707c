// Package tasks loads and validates Procfile.yaml (or a plain Procfile) and
// builds the task graph. It never starts a process.
package tasks

import (
	"regexp"
	"syscall"
	"time"
)

// Kind says how a task runs: once per invocation (or while its sources are
// unchanged), every time it is asked for, or as a supervised service.
type Kind int

// The three kinds of task.
const (
	Plain Kind = iota
	Once
	Service
)

// String returns the name `procman list` shows for the kind.
func (k Kind) String() string {
	switch k {
	case Once:
		return "once"
	case Service:
		return "service"
	}
	return "task"
}

// Restart policies for services.
const (
	RestartAlways    = "always"
	RestartOnFailure = "on-failure"
	RestartNever     = "never"
)

// Pos is a position in a config file, for error messages.
type Pos struct {
	Line, Col int
}

// Command is what a task runs: either argv exec'd directly, or a shell
// command line given to /bin/sh -c.
type Command struct {
	Argv  []string // the program and its arguments; for Shell, {"/bin/sh", "-c", Raw}
	Shell bool     // the command holds shell syntax and runs under /bin/sh -c
	Raw   string   // the command as written (a list is joined with spaces)
}

// Ready is a service's readiness probe: exactly one of Log, TCP, HTTP, Exec
// is set.
type Ready struct {
	Log     *regexp.Regexp // matched against each output line
	TCP     string         // host:port that must accept a connection
	HTTP    string         // URL that must answer 2xx or 3xx
	Exec    *Command       // command that must exit 0, run in the task's dir
	Timeout time.Duration  // how long a start may take to become ready
}

// Watch says which files re-run or restart a task when they change.
type Watch struct {
	Paths         []string      // absolute files or folders to watch
	Ignore        []string      // glob patterns (** allowed), relative to the task's dir
	Debounce      time.Duration // quiet time that closes a burst, or DebounceAuto
	ChangesNeeded int           // distinct changed paths needed to trigger
}

// Task is one entry of the task graph, with defaults applied and paths made
// absolute.
type Task struct {
	Name        string
	Desc        string
	Cmd         Command
	Deps        []string // in the order written
	Kind        Kind
	Dir         string            // absolute working directory
	Env         map[string]string // the task's own env keys (on top of Config.Env)
	Restart     string            // RestartAlways, RestartOnFailure or RestartNever
	Backoff     time.Duration     // first restart delay
	MaxRestarts int               // 0 = unlimited
	Replicas    int               // copies of a service, NAME.1 ... NAME.N when more than one (0: none)
	StopSignal  syscall.Signal
	StopTimeout time.Duration
	Ready       *Ready   // nil when the task has no ready probe
	Watch       *Watch   // nil when the task has no watch block
	Sources     []string // glob patterns relative to Dir, ** allowed
	Generates   []string // paths relative to Dir that a success leaves behind
	Pos         Pos      // where the task is declared
}

// Config is a loaded, validated Procfile.
type Config struct {
	File     string // absolute path of the file it was loaded from
	Dir      string // the folder holding File: the project folder
	Name     string // app name for logs
	LogLevel string // trace|debug|info|warn|error, "" when not set
	Debug    bool
	Interval time.Duration // supervision period
	// Env is the environment every task starts from: the process environment,
	// then env files, then the global env key, as KEY=VALUE pairs.
	Env []string
	// WatchDefaults is the top-level watch block: debounce, changes_needed
	// and ignore for every task's watch block (Paths empty), with the
	// spec's defaults where it is silent.
	WatchDefaults Watch
	Tasks         map[string]*Task
	Names         []string // task names, sorted
}

// DebounceAuto is `debounce: auto`: a lone save triggers as soon as it has
// settled, a burst after 50 ms of quiet (the watch package decides).
const DebounceAuto time.Duration = -1

// Defaults that the spec fixes.
const (
	DefaultInterval      = 5 * time.Second
	DefaultDebounce      = DebounceAuto
	DefaultBackoff       = 500 * time.Millisecond
	DefaultStopTimeout   = 5 * time.Second
	DefaultReadyTimeout  = 30 * time.Second
	DefaultChangesNeeded = 1
)
