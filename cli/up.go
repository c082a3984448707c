package cli

import (
	"context"
	"fmt"

	"github.com/procman/procman/runner"
)

// UpCmd is `procman up [TASK...]`.
type UpCmd struct {
	Tasks     []string `arg:"" optional:"" help:"Tasks to start (default: every service)."`
	Force     bool     `help:"Run once tasks even when they are up to date."`
	DryRun    bool     `help:"Print the plan and run nothing."`
	NoWatch   bool     `help:"Do not watch files, even where tasks have a watch block."`
	Detach    bool     `short:"d" help:"Run in the background: return once every service is ready (printing ps) or every task is done, or one failed to start."`
	Formation string   `short:"m" placeholder:"NAME=N,..." help:"Replicas of services for this run, as foreman's -m: web=2,worker=0 (all=N for the others)."`
	TUI       bool     `name:"tui" help:"Show the dashboard instead of the prefixed output; q stops everything, as Ctrl-C does."`
}

// Run starts the services and supervises them until Ctrl-C.
func (c *UpCmd) Run(ctx context.Context, g *Globals, sig *signals) error {
	p, err := g.load()
	if err != nil {
		return err
	}
	targets := c.Tasks
	if len(targets) == 0 {
		targets = p.cfg.Services()
		if len(targets) == 0 {
			return &usageError{fmt.Errorf("%s has no services to start: mark long-running tasks `service: true`, or name the tasks to run", p.cfg.File)}
		}
	}
	counts, err := formation(c.Formation, p.cfg)
	if err != nil {
		return err
	}
	if c.DryRun {
		return p.dryRun(targets...)
	}
	if c.Detach {
		return c.background(ctx, g, p)
	}
	if p.detached = detachedChild(); p.detached != nil {
		p.out = g.backgroundOutput(p.cfg)
	}
	if c.TUI {
		c.withDashboard(g, p)
	}
	return p.execute(ctx, sig, targets, runner.Options{Force: c.Force, Supervise: true, Watch: !c.NoWatch, Formation: counts})
}
