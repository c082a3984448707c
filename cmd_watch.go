package main

import (
	"context"

	"github.com/procman/procman/runner"
)

// WatchCmd is `procman watch TASK`.
type WatchCmd struct {
	Task   string `arg:"" help:"The task to run and re-run (or restart) on changes."`
	Force  bool   `help:"Run once tasks even when they are up to date."`
	DryRun bool   `help:"Print the plan and run nothing."`
}

// Run runs the task after its deps and re-runs or restarts it, and what
// depends on the changed task, whenever watched files change; until Ctrl-C.
func (c *WatchCmd) Run(ctx context.Context, g *Globals, sig *signals) error {
	p, err := g.load()
	if err != nil {
		return err
	}
	if c.DryRun {
		return p.dryRun(c.Task)
	}
	if err := p.pad(c.Task); err != nil {
		return err
	}
	runID := newRunID()
	s, err := p.open(true, runID)
	if err != nil {
		return err
	}
	defer s.close()
	r := runner.New(p.cfg, s.options(runner.Options{
		Out:       p.out,
		Force:     c.Force,
		Supervise: true,
		RunID:     runID,
		Kill:      sig.kill,
		Watch:     true,
		Persist:   true,
	}))
	return r.Run(ctx, []string{c.Task})
}
