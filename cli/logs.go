package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/procman/procman/control"
	"github.com/procman/procman/runner"
	"github.com/procman/procman/runner/logs"
	"github.com/procman/procman/tasks"
)

// LogsCmd is `procman logs [-f] [-n N] [TASK...]`.
type LogsCmd struct {
	Tasks  []string `arg:"" optional:"" help:"Tasks (or replicas) whose output to show (default: every task)."`
	Follow bool     `help:"Then follow new lines, until Ctrl-C (-f after logs)."`
	Lines  int      `short:"n" default:"100" help:"How many of the last lines to show first."`
}

// Run prints the last lines the tasks printed, in the order they printed
// them, shaped as up prints them; from the running supervisor, or, when
// none runs, from the log files the last one left.
func (c *LogsCmd) Run(ctx context.Context, g *Globals) error {
	if c.Lines < 0 {
		return &usageError{fmt.Errorf("logs -n %d: give how many lines to show, 0 or more", c.Lines)}
	}
	return showLogs(ctx, g, c.Tasks, c.Lines, c.Follow, true)
}

// AttachCmd is `procman attach`.
type AttachCmd struct{}

// Run follows every task's output from now on; Ctrl-C leaves the services
// running.
func (c *AttachCmd) Run(ctx context.Context, g *Globals) error {
	return showLogs(ctx, g, nil, 0, true, false)
}

// showLogs prints n lines of the tasks and, with follow, the new ones. With
// files, the log files stand in when no supervisor runs.
func showLogs(ctx context.Context, g *Globals, names []string, n int, follow, files bool) error {
	cfg := g.quietLoad()
	cl, stateDir, err := g.dial()
	if errors.Is(err, control.ErrNoSupervisor) && files {
		if err := checkNames(cfg, names); err != nil {
			return err
		}
		lines, err := logs.ReadFiles(stateDir, names, n)
		if err != nil {
			return err
		}
		out := g.logOutput(cfg, lineNames(lines))
		for _, l := range lines {
			out.Line(l.Task, l.Time, l.Text)
		}
		return nil
	}
	if err != nil {
		return err
	}
	defer cl.Close()
	stop := context.AfterFunc(ctx, func() { cl.Close() })
	defer stop()
	ps, err := cl.Do(control.Request{Op: control.OpPS}, nil)
	if err != nil {
		return err
	}
	var shown []string
	for _, t := range ps.PS.Tasks {
		if len(names) == 0 || slices.Contains(names, t.Name) || slices.Contains(names, t.Task) {
			shown = append(shown, t.Name)
		}
	}
	for _, name := range names {
		if !slices.ContainsFunc(ps.PS.Tasks, func(t control.Task) bool { return t.Name == name || t.Task == name }) {
			return &usageError{fmt.Errorf("logs: %s is no task of procman pid %d; procman ps lists them", name, ps.PS.PID)}
		}
	}
	out := g.logOutput(cfg, shown)
	_, err = cl.Do(control.Request{Op: control.OpLogs, Tasks: names, Lines: n, Follow: follow}, func(r control.Reply) error {
		switch {
		case r.Line != nil:
			out.Line(r.Line.Task, r.Line.Time, []byte(r.Line.Text))
		case r.Skipped > 0:
			out.Logf(runner.Warn, "logs: %d lines skipped", r.Skipped)
		}
		return nil
	})
	if ctx.Err() != nil {
		return nil // Ctrl-C: the exit code says so
	}
	return err
}

// checkNames says which of names is no task of cfg, nor a replica of one of
// its services (any number: up -m and scale change the count), as the
// supervisor says it of the tasks it runs. With no config to go by (a
// broken one), every name goes.
func checkNames(cfg *tasks.Config, names []string) error {
	if cfg == nil {
		return nil
	}
	for _, name := range names {
		if cfg.Tasks[name] != nil {
			continue
		}
		if base, _, ok := tasks.SplitReplica(name); ok && cfg.Tasks[base] != nil && cfg.Tasks[base].Kind == tasks.Service {
			continue
		}
		return &usageError{fmt.Errorf("logs: %s is no task of %s (tasks: %s)", name, filepath.Base(cfg.File), strings.Join(cfg.Names, ", "))}
	}
	return nil
}

// quietLoad loads the config for the task colours, if it loads: logs and
// attach work with a broken one too.
func (g *Globals) quietLoad() *tasks.Config {
	path, err := g.configFile()
	if err != nil {
		return nil
	}
	cfg, err := tasks.Load(path, tasks.LoadOptions{Environ: os.Environ(), Port: g.Port})
	if err != nil {
		return nil
	}
	return cfg
}

// logOutput is an Output for lines of the named tasks, coloured as up
// colours them when cfg is known, padded to the longest name.
func (g *Globals) logOutput(cfg *tasks.Config, names []string) *runner.Output {
	out := runner.NewOutput(os.Stdout, os.Stderr, runner.OutputOptions{
		Color: g.useColor(), NoPrefix: g.NoPrefix, Timestamps: g.Timestamps, Level: runner.Info,
	})
	all := names
	if cfg != nil {
		all = append(slices.Clone(cfg.Names), names...)
	}
	out.SetNames(all)
	out.Pad(names)
	return out
}

// lineNames returns the tasks of lines, each once.
func lineNames(lines []logs.Line) []string {
	var names []string
	for _, l := range lines {
		if !slices.Contains(names, l.Task) {
			names = append(names, l.Task)
		}
	}
	return names
}
