package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/procman/procman/control"
)

// RestartCmd is `procman restart TASK...`.
type RestartCmd struct {
	Tasks  []string `arg:"" help:"Tasks (or replicas, web.2) to restart."`
	NoWait bool     `help:"Return at once, not once they are ready again."`
}

// Run does what a watch trigger of each task does, and waits until the
// services it restarted are ready.
func (c *RestartCmd) Run(ctx context.Context, g *Globals) error {
	return operate(ctx, g, control.Request{Op: control.OpRestart, Tasks: c.Tasks, NoWait: c.NoWait}, "restarted")
}

// StopCmd is `procman stop TASK...`.
type StopCmd struct {
	Tasks []string `arg:"" help:"Services (or replicas) to stop; they stay stopped until procman start."`
}

// Run stops the services and keeps them stopped.
func (c *StopCmd) Run(ctx context.Context, g *Globals) error {
	return operate(ctx, g, control.Request{Op: control.OpStop, Tasks: c.Tasks}, "stopped")
}

// StartCmd is `procman start TASK...`.
type StartCmd struct {
	Tasks  []string `arg:"" help:"Stopped services (or replicas) to start, after their deps."`
	NoWait bool     `help:"Return at once, not once they are ready."`
}

// Run starts the services and waits until they are ready.
func (c *StartCmd) Run(ctx context.Context, g *Globals) error {
	return operate(ctx, g, control.Request{Op: control.OpStart, Tasks: c.Tasks, NoWait: c.NoWait}, "started")
}

// DownCmd is `procman down`.
type DownCmd struct{}

// Run stops the supervisor as Ctrl-C would, and returns when every task
// has stopped.
func (c *DownCmd) Run(ctx context.Context, g *Globals) error {
	pid, err := ask(ctx, g, control.Request{Op: control.OpDown})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "procman | procman pid %d stopped every task\n", pid)
	return nil
}

// operate sends req to the supervisor and says what was done.
func operate(ctx context.Context, g *Globals, req control.Request, done string) error {
	if _, err := ask(ctx, g, req); err != nil {
		return err
	}
	if req.NoWait {
		done = "asked to be " + done
	}
	fmt.Fprintf(os.Stderr, "procman | %s %s\n", strings.Join(req.Tasks, ", "), done)
	return nil
}

// ask sends req to the supervisor and waits for its answer, or for
// Ctrl-C: then it stops waiting (what was asked goes on) and returns
// ctx's error, for exit code 130. It returns the supervisor's pid.
func ask(ctx context.Context, g *Globals, req control.Request) (int, error) {
	cl, _, err := g.dial()
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	stop := context.AfterFunc(ctx, func() { cl.Close() })
	defer stop()
	_, err = cl.Do(req, nil)
	if ctx.Err() != nil {
		return cl.PID, ctx.Err()
	}
	return cl.PID, err
}
