package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/procman/procman/runner/state"
	"github.com/procman/procman/tui"
)

// UiCmd is `procman ui`.
type UiCmd struct{}

// Run opens the dashboard on the running supervisor; q and Ctrl-C leave
// it running (Ctrl-C exits 130).
func (c *UiCmd) Run(ctx context.Context, g *Globals) error {
	if !tui.IsTerminal(os.Stdout) || !tui.IsTerminal(os.Stdin) {
		return &usageError{fmt.Errorf("procman ui needs a terminal: use procman ps and procman logs -f from scripts")}
	}
	title := ""
	if cfg := g.quietLoad(); cfg != nil {
		title = cfg.Name
	}
	dir, err := g.projectDir()
	if err != nil {
		return err
	}
	if title == "" {
		title = filepath.Base(dir)
	}
	// The dashboard is one goroutine's work at a time (a batch decoded,
	// a frame drawn): with one P the runtime does not also wake a second
	// thread to look for work at each hand-over between goroutines.
	runtime.GOMAXPROCS(1)
	src, err := tui.Connect(filepath.Join(dir, state.Dir))
	if err != nil {
		return err
	}
	defer src.Close()
	gone, err := tui.Run(ctx, src, tui.Options{Color: g.useColor(), Title: title})
	if gone != "" {
		fmt.Fprintf(os.Stderr, "procman | %s\n", gone)
	}
	switch {
	case errors.Is(err, tui.ErrInterrupted):
		return exitError(130) // as Ctrl-C ends any command; the supervisor goes on
	case err != nil && ctx.Err() == nil:
		return err
	}
	return nil
}
