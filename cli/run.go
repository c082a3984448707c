package cli

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/mattn/go-isatty"

	"github.com/procman/procman/runner"
)

// RunCmd is `procman run TASK [-- ARGS]`.
type RunCmd struct {
	Task   string   `arg:"" help:"The task to run."`
	Args   []string `arg:"" optional:"" help:"Arguments appended to the task's command (after --)."`
	Force  bool     `help:"Run once tasks even when they are up to date."`
	DryRun bool     `help:"Print the plan and run nothing."`
}

// Run runs the task after its deps.
func (c *RunCmd) Run(ctx context.Context, g *Globals, sig *signals) error {
	p, err := g.load()
	if err != nil {
		return err
	}
	if c.DryRun {
		return p.dryRun(c.Task)
	}
	return p.execute(ctx, sig, []string{c.Task}, runner.Options{Force: c.Force, Args: c.Args})
}

// execute runs targets with o: it checks them, pads the output to their
// plan, opens the session (a supervisor's with o.Supervise: lock, crash
// recovery, guard) and runs them until they end.
func (p *project) execute(ctx context.Context, sig *signals, targets []string, o runner.Options) error {
	sig.arm()
	order, err := p.cfg.Plan(targets...)
	if err != nil {
		return &usageError{err}
	}
	p.out.Pad(order)
	o.Out, o.Kill, o.RunID = p.out, sig.kill, newRunID()
	o.Progress = isatty.IsTerminal(os.Stderr.Fd())
	s, err := p.open(o.Supervise, o.RunID)
	if err != nil {
		return err
	}
	defer s.close()
	return runner.New(p.cfg, s.options(o)).Run(ctx, targets)
}

// dryRun prints what running targets would do, in order, and runs nothing.
func (p *project) dryRun(targets ...string) error {
	order, err := p.cfg.Plan(targets...)
	if err != nil {
		return &usageError{err}
	}
	for _, name := range order {
		t := p.cfg.Tasks[name]
		line := fmt.Sprintf("would run %s (%s): %s", name, t.Kind, t.Cmd.Raw)
		if len(t.Deps) > 0 {
			line += " [after " + strings.Join(t.Deps, ", ") + "]"
		}
		p.out.Printf("%s", line)
	}
	return nil
}

// newRunID returns a random id that marks this run's children. It must be
// unique, not secret: math/rand/v2's generator is seeded by the OS, and
// crypto/rand would bring the crypto module's init into every start.
func newRunID() string {
	return fmt.Sprintf("%016x", rand.Uint64())
}
