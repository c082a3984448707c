// Package cli is procman's command line: the kong model with one struct
// per command, the signal-aware context, and the one place that turns
// errors into exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"

	"github.com/procman/procman/runner"
)

// Version is procman's version, set at build time with
// -ldflags "-X github.com/procman/procman/cli.Version=...".
var Version = "dev"

// CLI is procman's command line.
type CLI struct {
	Globals

	Up     UpCmd     `cmd:"" help:"Start every service (or the named tasks) with their deps, and supervise them until Ctrl-C."`
	Run    RunCmd    `cmd:"" help:"Run TASK after its deps, then exit with its status."`
	Watch  WatchCmd  `cmd:"" help:"Run TASK after its deps, and re-run or restart it when watched files change; until Ctrl-C."`
	List   ListCmd   `cmd:"" help:"List the tasks: name, kind, deps, description."`
	Graph  GraphCmd  `cmd:"" help:"Print the dependency graph, as text or Graphviz DOT."`
	Check  CheckCmd  `cmd:"" help:"Validate the config; print every problem and exit 2."`
	Status StatusCmd `cmd:"" help:"Show the persisted state: tasks, last runs, restarts, whether a procman is active, recent errors."`

	Export     ExportCmd     `cmd:"" help:"Export the tasks to another supervisor: systemd units."`
	Completion CompletionCmd `cmd:"" help:"Print a shell completion script: bash, zsh or fish."`
	Init       InitCmd       `cmd:"" help:"Write a starter Procfile.yaml for this folder (never overwrites one)."`
	Complete   CompleteCmd   `cmd:"" name:"__complete" hidden:"" help:"Print completions for the words of a command line (used by the completion scripts)."`
}

// Main is procman without os.Exit: it runs the command line args (without
// the program's name) and returns the exit code, for main to exit with and
// for tests to call.
func Main(args []string) int {
	if len(args) == 1 && args[0] == guardCommand {
		return runGuard()
	}
	if cli, ok := quickRun(args, os.Getenv); ok {
		return runWithSignals(func(sig *signals) error { return cli.Run.Run(sig.ctx, &cli.Globals, sig) })
	}
	var cli CLI
	parser, err := newParser(&cli)
	if err != nil {
		fmt.Fprintf(os.Stderr, "procman: %v\n", err)
		return 2
	}
	code := 0
	func() {
		defer func() {
			v := recover()
			if c, ok := v.(exitCode); ok {
				code = int(c)
			} else if v != nil {
				panic(v)
			}
		}()
		kctx, err := parser.Parse(args)
		if err != nil {
			parser.Errorf("%s", err)
			code = 2
			return
		}
		code = runWithSignals(func(sig *signals) error {
			kctx.BindTo(sig.ctx, (*context.Context)(nil))
			return kctx.Run(&cli.Globals, sig)
		})
	}()
	return code
}

// newParser returns procman's kong parser, filling cli.
func newParser(cli *CLI) (*kong.Kong, error) {
	return kong.New(cli,
		kong.Name("procman"),
		kong.Description("A task runner and process supervisor with a watch mode."),
		kong.UsageOnError(),
		kong.Vars{"version": Version},
		kong.Exit(func(code int) { panic(exitCode(code)) }),
	)
}

// runWithSignals runs a command with Ctrl-C and SIGTERM handled, and
// returns procman's exit code for its outcome.
func runWithSignals(command func(*signals) error) int {
	sig := newSignals()
	defer sig.stop()
	return sig.exitCode(command(sig))
}

// quickRun parses `procman run TASK`, the command that scripts, editors
// and Makefiles repeat most, into what kong would make of it, without
// kong: kong.New builds the whole CLI model by reflection and runs a
// regexp over every help string: 0.7 ms of every run, measured. Any other
// command line, or an environment variable that a flag reads, goes
// through kong; TestQuickRunMatchesKong checks that both agree.
func quickRun(args []string, getenv func(string) string) (*CLI, bool) {
	if len(args) != 2 || args[0] != "run" || args[1] == "" || args[1][0] == '-' {
		return nil, false
	}
	for _, name := range flagEnv {
		if getenv(name) != "" {
			return nil, false
		}
	}
	return &CLI{Globals: Globals{Color: "auto"}, Run: RunCmd{Task: args[1]}}, true
}

// flagEnv lists the environment variables that set flags of `run` (the
// env tags of Globals and RunCmd).
var flagEnv = []string{"PROCMAN_FILE", "PROCMAN_LOG_LEVEL"}

// exitCode carries kong's exit code out of its Exit hook.
type exitCode int

// signals turns the first SIGINT/SIGTERM/SIGHUP into a cancelled context and
// a second one into a cancelled kill context (stop without grace).
type signals struct {
	ctx    context.Context // cancelled on the first signal, with a runner.StopReason
	kill   context.Context // cancelled on the second
	ch     chan os.Signal
	got    chan os.Signal // the first signal, once
	cancel context.CancelCauseFunc
	armed  chan struct{} // closed once the signals reach ch
	done   chan struct{}
}

// newSignals starts catching the signals in the background: signal.Notify
// waits for a thread of its own to start (~0.2 ms here), which overlaps
// with loading the config. Until it has, a signal ends procman as it
// would without it; arm waits for it, and nothing may be started before.
func newSignals() *signals {
	s := &signals{ch: make(chan os.Signal, 2), got: make(chan os.Signal, 1), armed: make(chan struct{}), done: make(chan struct{})}
	var killCancel context.CancelFunc
	s.ctx, s.cancel = context.WithCancelCause(context.Background())
	s.kill, killCancel = context.WithCancel(context.Background())
	go func() {
		signal.Notify(s.ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
		close(s.armed)
	}()
	go func() {
		defer killCancel()
		select {
		case first := <-s.ch:
			s.got <- first
			s.cancel(signalReason(first))
		case <-s.done:
			return
		}
		select {
		case <-s.ch:
		case <-s.done:
		}
	}()
	return s
}

// arm returns once the signals are caught. Whatever starts a process must
// call it first, so that Ctrl-C cannot end procman and leave the process.
func (s *signals) arm() { <-s.armed }

// stop ends the command's contexts and the goroutine that watches the
// signals. The signals stay caught: procman exits next, and giving them
// back (signal.Stop) costs a handshake with os/signal's thread per signal,
// 0.1 ms of every run; one that arrives meanwhile changes nothing.
func (s *signals) stop() {
	close(s.done)
	s.cancel(nil)
}

// signalReason names a signal as the log's stop lines say it.
func signalReason(sig os.Signal) runner.StopReason {
	switch sig {
	case syscall.SIGINT:
		return "Ctrl-C"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return runner.StopReason(sig.String())
}

// exitCode maps the outcome of a command to procman's exit code: 128+N when
// a signal N ended the run, 2 for usage and config errors, the failing
// task's own code, 1 otherwise.
func (s *signals) exitCode(err error) int {
	select {
	case sig := <-s.got:
		s.got <- sig
		if err == nil || errors.Is(err, context.Canceled) || isExit(err) {
			return 128 + int(sig.(syscall.Signal))
		}
	default:
	}
	return errorCode(err)
}
