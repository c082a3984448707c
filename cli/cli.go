// Package cli is procman's command line: the kong model with one struct
// per command, the signal-aware context, and the one place that turns
// errors into exit codes.
package cli

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/alecthomas/kong"
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

	Ps      PsCmd      `cmd:"" help:"Show the running supervisor's tasks, live: status, pid, uptime, restarts, CPU, memory."`
	Restart RestartCmd `cmd:"" help:"Restart tasks as a change to their files would; wait until they are ready again."`
	Stop    StopCmd    `cmd:"" help:"Stop services and keep them stopped until procman start."`
	Start   StartCmd   `cmd:"" help:"Start stopped services (their deps first); wait until they are ready."`
	Scale   ScaleCmd   `cmd:"" help:"Change the replicas of running services (web=5); wait until the new ones are ready."`
	Logs    LogsCmd    `cmd:"" help:"Print the tasks' last lines (-n), then follow them (-f)."`
	Attach  AttachCmd  `cmd:"" help:"Follow every task's output; Ctrl-C leaves the services running."`
	Down    DownCmd    `cmd:"" help:"Stop the running supervisor as Ctrl-C would; wait until every task stopped."`
	Ui      UiCmd      `cmd:"" help:"Open the dashboard on the running supervisor: its tasks, their output, keys to restart, stop and start."`

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
		kctx, err := parser.Parse(logsFollow(args))
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

// valueFlags are the global flags that take the next word as their value.
var valueFlags = map[string]bool{"-f": true, "--file": true, "-C": true, "--dir": true, "--log-level": true, "--color": true, "--port": true}

// logsFollow returns args with each -f after the logs command made
// --follow: procman logs -f follows, as docker compose logs -f and tail -f
// do, where -f elsewhere is the global --file. A -f before the command is
// still --file.
func logsFollow(args []string) []string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case valueFlags[a]:
			i++
		case strings.HasPrefix(a, "-"):
		case a == "logs":
			out := slices.Clone(args)
			for j := i + 1; j < len(out) && out[j] != "--"; j++ {
				if out[j] == "-f" {
					out[j] = "--follow"
				}
			}
			return out
		default:
			return args
		}
	}
	return args
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
	return &CLI{Globals: Globals{Color: "auto"}, Run: RunCmd{Task: args[1]}, Logs: LogsCmd{Lines: 100}}, true
}

// flagEnv lists the environment variables that set flags of `run` (the
// env tags of Globals and RunCmd).
var flagEnv = []string{"PROCMAN_FILE", "PROCMAN_LOG_LEVEL"}

// exitCode carries kong's exit code out of its Exit hook.
type exitCode int
