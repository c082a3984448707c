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

// execute runs targets with o: it checks them, pads the output to the
// names that print in their plan, opens the session (a supervisor's with
// o.Supervise: lock, crash recovery, guard, control socket), keeps the
// tasks' output in the log book, and runs them until they end. A
// supervisor stopped by procman down returns nil.
func (p *project) execute(ctx context.Context, sig *signals, targets []string, o runner.Options) error {
	sig.arm()
	order, err := p.cfg.Plan(targets...)
	if err != nil {
		return &usageError{err}
	}
	p.out.Pad(printedNames(p.cfg, order, o.Formation))
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
		if endsWhenDone(p.cfg, order, o) {
			o.OnReady = nil // it says "done" as it ends, not "ready" just before
		}
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

// printedNames returns the names whose lines a run of order prints: a
// task's own, or for a service that starts with more than one replica
// (formation's count, else its replicas:) NAME.1 ... NAME.N, as the runner
// names them; none for a service that starts with none.
func printedNames(cfg *tasks.Config, order []string, formation map[string]int) []string {
	var names []string
	for _, name := range order {
		t := cfg.Tasks[name]
		n := 1
		if t.Kind == tasks.Service {
			n = t.Replicas
			if c, ok := formation[name]; ok {
				n = c
			}
		}
		switch {
		case n == 1:
			names = append(names, name)
		case n > 1:
			for i := 1; i <= n; i++ {
				names = append(names, fmt.Sprintf("%s.%d", name, i))
			}
		}
	}
	return names
}

// endsWhenDone reports whether a run of order with o ends by itself as
// soon as every task has finished: no service, nothing watched. The
// background process of procman up -d then says how it went only when its
// run has ended, so that up -d returns once it has gone: a second up -d
// right after finds no supervisor in its way.
func endsWhenDone(cfg *tasks.Config, order []string, o runner.Options) bool {
	if o.Persist {
		return false
	}
	for _, name := range order {
		t := cfg.Tasks[name]
		if t.Kind == tasks.Service || (o.Watch && t.Watch != nil) {
			return false
		}
	}
	return true
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
