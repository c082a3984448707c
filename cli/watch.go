package cli

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
	return p.execute(ctx, sig, []string{c.Task}, runner.Options{Force: c.Force, Supervise: true, Watch: true, Persist: true})
}
