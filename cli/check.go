package cli

import (
	"context"
	"fmt"
	"os"
)

// CheckCmd is `procman check`.
type CheckCmd struct{}

// Run validates the config: every problem is printed, exit 2.
func (c *CheckCmd) Run(ctx context.Context, g *Globals) error {
	p, err := g.load()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "procman | %s: %d tasks, no problems\n", p.cfg.File, len(p.cfg.Names))
	return nil
}
