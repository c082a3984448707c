package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/alecthomas/kong"
	"github.com/mattn/go-isatty"

	"github.com/procman/procman/control"
	"github.com/procman/procman/runner"
	"github.com/procman/procman/runner/state"
	"github.com/procman/procman/tasks"
)

// Globals are the flags every command takes.
type Globals struct {
	File       string           `short:"f" env:"PROCMAN_FILE" placeholder:"PATH" help:"Config file (default: Procfile.yaml, else Procfile, in the folder)."`
	Dir        string           `short:"C" placeholder:"DIR" help:"Run as if procman was started in DIR."`
	LogLevel   string           `env:"PROCMAN_LOG_LEVEL" enum:",trace,debug,info,warn,error" default:"" placeholder:"LEVEL" help:"trace, debug, info, warn or error (default: the config's log_level, else info)."`
	Debug      bool             `help:"Log level debug, plus process diagnostics."`
	Color      string           `enum:"auto,always,never" default:"auto" help:"Colour the prefixes: auto, always or never (NO_COLOR is honoured)."`
	NoPrefix   bool             `help:"Print task output lines bare."`
	Timestamps bool             `help:"Put the time before every output line."`
	Port       int              `help:"Base PORT for a plain Procfile (default: PORT, else 5000)."`
	Version    kong.VersionFlag `help:"Print the version and exit."`
}

// project is a loaded config with the output set up to its levels.
type project struct {
	cfg      *tasks.Config
	out      *runner.Output
	detached *detached // set in the background process of procman up -d
	// dashboard, when set, runs procman up --tui's dashboard once the
	// control socket listens; quitting it stops the run with stop.
	dashboard func(stop context.CancelCauseFunc, interrupt func())
}

// stateDir is the project's .procman folder.
func (p *project) stateDir() string { return filepath.Join(p.cfg.Dir, state.Dir) }

// warnf logs a warning.
func (p *project) warnf(format string, args ...any) { p.out.Logf(runner.Warn, format, args...) }

// load finds and loads the config, and sets up procman's output.
func (g *Globals) load() (*project, error) {
	path, err := g.configFile()
	if err != nil {
		return nil, err
	}
	cfg, err := tasks.Load(path, tasks.LoadOptions{Environ: os.Environ(), Port: g.Port})
	if err != nil {
		if list := tasks.ErrorList(nil); !errors.As(err, &list) {
			err = &usageError{err} // a file that cannot be read is a config problem too
		}
		return nil, err
	}
	level, err := g.level(cfg)
	if err != nil {
		return nil, &usageError{err}
	}
	out := runner.NewOutput(os.Stdout, os.Stderr, runner.OutputOptions{
		Color:      g.useColor(),
		NoPrefix:   g.NoPrefix,
		Timestamps: g.Timestamps,
		Level:      level,
	})
	out.SetNames(cfg.Names)
	return &project{cfg: cfg, out: out}, nil
}

// chdir applies -C, once: it clears g.Dir, so that a command that loads
// the config and then dials the supervisor (up -d, logs, ui) does not go
// into a relative DIR a second time.
func (g *Globals) chdir() error {
	if g.Dir == "" {
		return nil
	}
	if err := os.Chdir(g.Dir); err != nil {
		return &usageError{fmt.Errorf("-C: %w", err)}
	}
	g.Dir = ""
	return nil
}

// configFile applies -C and returns the config file to use: the one -f
// names, which must be a file, else Procfile.yaml or Procfile in the
// current folder (by its base name, for shorter error positions).
func (g *Globals) configFile() (string, error) {
	if err := g.chdir(); err != nil {
		return "", err
	}
	if g.File == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		path, err := tasks.Find(wd)
		if err != nil {
			return "", &usageError{err}
		}
		return filepath.Base(path), nil
	}
	flag := "-f " + g.File
	if os.Getenv("PROCMAN_FILE") == g.File {
		flag = "PROCMAN_FILE=" + g.File
	}
	fi, err := os.Stat(g.File)
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", &usageError{fmt.Errorf("%s: no such file: name an existing Procfile.yaml or Procfile", flag)}
	case errors.As(err, &pe):
		return "", &usageError{fmt.Errorf("%s: %w", flag, pe.Err)}
	case err != nil:
		return "", &usageError{fmt.Errorf("%s: %w", flag, err)}
	case fi.IsDir():
		return "", &usageError{fmt.Errorf("%s is a folder: name the Procfile.yaml or Procfile in it, or use -C %s", flag, g.File)}
	}
	return g.File, nil
}

// backgroundOutput is the Output of procman up -d's background process:
// task lines go to their log files only, procman's own messages to its
// stderr (procman.log), time-stamped.
func (g *Globals) backgroundOutput(cfg *tasks.Config) *runner.Output {
	level, _ := g.level(cfg) // checked by load
	out := runner.NewOutput(io.Discard, io.Discard, runner.OutputOptions{Timestamps: true, Level: level, Messages: os.Stderr})
	out.SetNames(cfg.Names)
	return out
}

// level picks procman's log level: flag or env, then --debug, then the
// config's debug and log_level, then info.
func (g *Globals) level(cfg *tasks.Config) (runner.Level, error) {
	switch {
	case g.LogLevel != "":
		return runner.ParseLevel(g.LogLevel)
	case g.Debug || cfg.Debug:
		return runner.Debug, nil
	case cfg.LogLevel != "":
		return runner.ParseLevel(cfg.LogLevel)
	}
	return runner.Info, nil
}

// useColor applies --color, NO_COLOR and whether stdout is a terminal.
func (g *Globals) useColor() bool {
	switch g.Color {
	case "always":
		return true
	case "never":
		return false
	}
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return false
	}
	return isatty.IsTerminal(os.Stdout.Fd())
}

// usageError is a usage or configuration problem: exit code 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// isExit reports whether err is a task's own failure.
func isExit(err error) bool {
	var ee *runner.ExitError
	return errors.As(err, &ee)
}

// errorCode prints err and returns procman's exit code for it.
func errorCode(err error) int {
	if err == nil {
		return 0
	}
	var (
		ee   *runner.ExitError
		list tasks.ErrorList
		one  *tasks.Error
		ue   *usageError
		ce   *control.Error
		xe   exitError
	)
	switch {
	case errors.As(err, &ee):
		if ee.Code > 0 && ee.Code < 256 {
			return ee.Code
		}
		return 1
	case errors.As(err, &list), errors.As(err, &one):
		fmt.Fprintln(os.Stderr, err)
		return 2
	case errors.As(err, &ue):
		fmt.Fprintf(os.Stderr, "procman | %v\n", err)
		return 2
	case errors.Is(err, control.ErrNoSupervisor):
		fmt.Fprintf(os.Stderr, "procman | %v\n", err)
		return 3
	case errors.As(err, &ce):
		return controlCode(ce)
	case errors.As(err, &xe):
		return int(xe)
	case errors.Is(err, context.Canceled):
		return 130
	case errors.Is(err, runner.ErrServiceFailed), errors.Is(err, runner.ErrNotStarted):
		return 1 // the runner said which task and why
	}
	fmt.Fprintf(os.Stderr, "procman | %v\n", err)
	return 1
}
