package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/procman/procman/runner"
	"github.com/procman/procman/runner/logs"
	"github.com/procman/procman/tui"
)

// errQuit is the cause of a run stopped from its dashboard: up exits 0.
var errQuit = runner.StopReason("quit from the dashboard")

// errDashboard is the cause of a run stopped because its dashboard
// failed (it said why): up exits 1.
var errDashboard = runner.StopReason("the dashboard failed")

// withDashboard sets up procman up --tui: the supervisor runs in this
// process and the dashboard in front of it, a client of its control
// socket as procman ui is. The tasks' output goes to their log files only
// and procman's messages to .procman/logs/procman.log while the
// dashboard shows; q stops everything (up exits 0), Ctrl-C too, as it
// stops up (130). Without a terminal it says so, and up runs as it would
// without --tui.
func (c *UpCmd) withDashboard(g *Globals, p *project) {
	if !tui.IsTerminal(os.Stdout) || !tui.IsTerminal(os.Stdin) {
		p.out.Logf(runner.Warn, "--tui: stdin or stdout is not a terminal: running without the dashboard")
		return
	}
	dir := filepath.Join(p.stateDir(), logs.Dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		p.out.Logf(runner.Warn, "--tui: %v: running without the dashboard", err)
		return
	}
	logFile, err := os.OpenFile(filepath.Join(dir, "procman.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		p.out.Logf(runner.Warn, "--tui: %v: running without the dashboard", err)
		return
	}
	level, _ := g.level(p.cfg)
	p.out = runner.NewOutput(io.Discard, io.Discard, runner.OutputOptions{Timestamps: true, Level: level, Messages: logFile})
	p.out.SetNames(p.cfg.Names)
	p.dashboard = func(stop context.CancelCauseFunc, interrupt func()) {
		defer logFile.Close()
		gone, err := showDashboard(p, g)
		p.out.SetMessages(os.Stderr) // what stopping says goes to the terminal again
		switch {
		case errors.Is(err, tui.ErrInterrupted):
			// In raw mode Ctrl-C is a key, not SIGINT: it counts as the
			// first Ctrl-C, so that the next one (a signal again, the
			// terminal given back) kills at once; up exits 130.
			interrupt()
		case err != nil:
			p.out.Logf(runner.Error, "dashboard: %v; stopping", err)
			stop(errDashboard)
		case gone != "":
			// the run ended by itself (SIGTERM, a failure): it is stopping
		default:
			stop(errQuit)
		}
	}
}

// showDashboard runs the dashboard on p's own supervisor.
func showDashboard(p *project, g *Globals) (string, error) {
	src, err := tui.Connect(p.stateDir())
	if err != nil {
		return "", fmt.Errorf("connect: %w", err)
	}
	defer src.Close()
	return tui.Run(context.Background(), src, tui.Options{Color: g.useColor(), Title: p.cfg.Name, QuitStops: true})
}
