package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
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
	for _, t := range ps.Tasks {
		pid, up, exit, cpu, mem := "-", "-", "-", "-", "-"
		if t.PID != nil {
			pid = strconv.Itoa(*t.PID)
		}
		if t.Started != nil {
			up = control.Uptime(now.Sub(*t.Started))
		}
		if t.LastExit != nil {
			exit = strconv.Itoa(*t.LastExit)
		}
		if t.CPU != nil {
			cpu = strconv.FormatFloat(*t.CPU, 'f', 1, 64) + "%"
		}
		if t.RSS != nil {
			mem = control.Bytes(*t.RSS)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", t.Name, t.Kind, t.Status, pid, up, t.Restarts, exit, cpu, mem)
	}
	tw.Flush()
}
