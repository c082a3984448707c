package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/procman/procman/control"
)

// PsCmd is `procman ps [--json]`.
type PsCmd struct {
	JSON bool `help:"Print one JSON object."`
}

// Run prints the running supervisor's tasks, live.
func (c *PsCmd) Run(ctx context.Context, g *Globals) error {
	stateDir, err := g.stateDir()
	if err != nil {
		return err
	}
	ps, err := control.AskPS(ctx, stateDir)
	if err != nil {
		return err
	}
	if c.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ps)
	}
	w := bufio.NewWriter(os.Stdout)
	writePS(w, ps, time.Now())
	return w.Flush()
}

// writePS prints ps as a table: name, kind, status, pid, uptime, restarts,
// last exit, CPU and memory.
func writePS(w io.Writer, ps *control.PS, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tSTATUS\tPID\tUPTIME\tRESTARTS\tEXIT\tCPU\tMEM")
	dash := func(v string) string {
		if v == "" {
			return "-"
		}
		return v
	}
	for _, t := range ps.Tasks {
		pid, up, exit, cpu, mem := t.Cells(now)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", t.Name, t.Kind, t.Status, dash(pid), dash(up), t.Restarts, dash(exit), dash(cpu), dash(mem))
	}
	tw.Flush()
}
