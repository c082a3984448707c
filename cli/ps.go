package cli

import (
	"bufio"
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
func (c *PsCmd) Run(g *Globals) error {
	cl, _, err := g.dial()
	if err != nil {
		return err
	}
	defer cl.Close()
	rep, err := cl.Do(control.Request{Op: control.OpPS}, nil)
	if err != nil {
		return err
	}
	if c.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep.PS)
	}
	w := bufio.NewWriter(os.Stdout)
	writePS(w, rep.PS, time.Now())
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
			up = Uptime(now.Sub(*t.Started))
		}
		if t.LastExit != nil {
			exit = strconv.Itoa(*t.LastExit)
		}
		if t.CPU != nil {
			cpu = strconv.FormatFloat(*t.CPU, 'f', 1, 64) + "%"
		}
		if t.RSS != nil {
			mem = Bytes(*t.RSS)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", t.Name, t.Kind, t.Status, pid, up, t.Restarts, exit, cpu, mem)
	}
	tw.Flush()
}

// Uptime says how long something has run, to the second or coarser: 42s,
// 3m05s, 2h07m, 3d04h.
func Uptime(d time.Duration) string {
	s := int(d.Seconds())
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
}

// Bytes says a size as a person reads it: 812K, 14.2M, 1.3G.
func Bytes(n uint64) string {
	switch {
	case n < 1<<20:
		return fmt.Sprintf("%dK", (n+512)>>10)
	case n < 1<<30:
		return fmt.Sprintf("%.1fM", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1fG", float64(n)/(1<<30))
}
