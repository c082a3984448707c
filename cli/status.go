package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/procman/procman/runner/state"
)

// StatusCmd is `procman status [--json]`.
type StatusCmd struct {
	JSON bool `help:"Print one JSON object."`
}

// Run prints the persisted state, corrected by what is observable now.
// It works while a supervisor runs, after it crashed, and with a broken
// config (it only needs to know where the project is).
func (c *StatusCmd) Run(g *Globals) error {
	dir, err := g.projectDir()
	if err != nil {
		return err
	}
	store, err := state.Open(dir)
	if err != nil {
		return err
	}
	defer store.Close()
	st, err := store.Status()
	if err != nil {
		return err
	}
	if c.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	w := bufio.NewWriter(os.Stdout)
	writeStatus(w, st, time.Now())
	return w.Flush()
}

// projectDir is the folder of the config file, found as load finds it.
func (g *Globals) projectDir() (string, error) {
	path, err := g.configFile()
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return filepath.Dir(abs), nil
}

func writeStatus(w io.Writer, st *state.State, now time.Time) {
	switch {
	case st.Active:
		fmt.Fprintf(w, "supervisor: active, pid %d\n", st.PID)
	case st.PID != 0:
		fmt.Fprintf(w, "supervisor: not active (last pid %d)\n", st.PID)
	default:
		fmt.Fprintln(w, "supervisor: none has run here")
	}
	if !st.LastUpdated.IsZero() {
		fmt.Fprintf(w, "last updated: %s (%s ago)\n", st.LastUpdated.Format(time.RFC3339), now.Sub(st.LastUpdated).Round(time.Second))
	}
	fmt.Fprintf(w, "file changes acted on: %d\n\n", st.EventCounter)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TASK\tSTATUS\tRUNS\tRESTARTS\tLAST EXIT\tPGID")
	names := make([]string, 0, len(st.Tasks))
	for name := range st.Tasks {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t := st.Tasks[name]
		exit, pgid := "-", "-"
		if t.LastExit != nil {
			exit = strconv.Itoa(*t.LastExit)
		}
		if t.PGID != nil {
			pgid = strconv.Itoa(*t.PGID)
		}
		status := t.Status
		if status == "" {
			status = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", name, status, t.Runs, t.Restarts, exit, pgid)
	}
	tw.Flush()
	if len(st.Errors) == 0 {
		return
	}
	fmt.Fprintln(w, "\nrecent errors:")
	for _, e := range st.Errors[max(0, len(st.Errors)-10):] {
		fmt.Fprintf(w, "  %s  %s: %s\n", e.Time.Format(time.RFC3339), e.Task, e.Message)
	}
}
