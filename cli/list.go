package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/procman/procman/tasks"
)

// ListCmd is `procman list`.
type ListCmd struct{}

// Run prints the tasks, one a line: name, kind, deps, description.
func (c *ListCmd) Run(g *Globals) error {
	p, err := g.load()
	if err != nil {
		return err
	}
	w := bufio.NewWriter(os.Stdout)
	writeList(w, p.cfg)
	return w.Flush()
}

func writeList(w io.Writer, cfg *tasks.Config) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, name := range cfg.Names {
		t := cfg.Tasks[name]
		deps := "-"
		if len(t.Deps) > 0 {
			deps = strings.Join(t.Deps, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, t.Kind, deps, t.Desc)
	}
	tw.Flush()
}
