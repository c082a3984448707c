package cli

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/mattn/go-isatty"

	"github.com/procman/procman/control"
	"github.com/procman/procman/runner/logs"

	"github.com/procman/procman/runner"
	"github.com/procman/procman/tasks"
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
// recovery, guard, control socket), keeps the tasks' output in the log
// book, and runs them until they end. A supervisor stopped by procman down
// returns nil.
func (p *project) execute(ctx context.Context, sig *signals, targets []string, o runner.Options) error {
	sig.arm()
	order, err := p.cfg.Plan(targets...)
	if err != nil {
		return &usageError{err}
	}
	p.out.Pad(order)
	o.Out, o.Kill, o.RunID = p.out, sig.kill, newRunID()
	o.Progress = p.detached == nil && isatty.IsTerminal(os.Stderr.Fd())
	guarded := o.Supervise
	for _, name := range order {
		guarded = guarded || p.cfg.Tasks[name].Kind == tasks.Service
	}
	s, err := p.open(o.Supervise, guarded, o.RunID)
	if err != nil {
		return err
	}
	defer s.close()
	book, err := logs.Open(p.stateDir(), nil, p.warnf)
	if err != nil {
		p.out.Logf(runner.Warn, "%v: the tasks' output is not kept", err)
	} else {
		if !o.Supervise {
			book.DropTails()
		}
		p.out.Keep(book)
		defer book.Close()
	}
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	if p.detached != nil {
		o.FailFast, o.OnReady = true, p.detached.ready
	}
	r := runner.New(p.cfg, s.options(o))
	var srv *control.Server
	if o.Supervise {
		srv = p.serve(s, r, book, stop)
	}
	if srv != nil {
		defer srv.Close()
	}
	dashboard := make(chan struct{})
	switch {
	case p.dashboard == nil:
		close(dashboard)
	case srv == nil:
		p.out.SetMessages(nil) // nothing to show it on
		close(dashboard)
	default:
		go func() {
			defer close(dashboard)
			p.dashboard(stop, sig.interrupt)
		}()
	}
	err = r.Run(ctx, targets)
	if srv != nil {
		srv.Close() // the dashboard's stream ends: it gives the terminal back
	}
	<-dashboard
	if p.detached != nil {
		p.detached.ended(err)
	}
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errDown), errors.Is(cause, errQuit):
		return nil
	case errors.Is(cause, errDashboard):
		return exitError(1) // it said why
	}
	return err
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
