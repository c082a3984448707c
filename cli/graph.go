package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/procman/procman/tasks"
)

// GraphCmd is `procman graph [--dot]`.
type GraphCmd struct {
	Dot bool `help:"Print Graphviz DOT."`
}

// Run prints the dependency graph.
func (c *GraphCmd) Run(g *Globals) error {
	p, err := g.load()
	if err != nil {
		return err
	}
	if c.Dot {
		writeDot(os.Stdout, p.cfg)
	} else {
		writeTree(os.Stdout, p.cfg)
	}
	return nil
}

// writeTree prints each task that nothing depends on as the root of a tree
// of its deps; a subtree already printed is named, not repeated.
func writeTree(w io.Writer, cfg *tasks.Config) {
	seen := map[string]bool{}
	var walk func(name, indent string, last, root bool)
	walk = func(name, indent string, last, root bool) {
		t := cfg.Tasks[name]
		branch, next := "", ""
		if !root {
			branch, next = "├── ", "│   "
			if last {
				branch, next = "└── ", "    "
			}
		}
		more := ""
		if seen[name] && len(t.Deps) > 0 {
			more = " (see above)"
		}
		fmt.Fprintf(w, "%s%s%s (%s)%s\n", indent, branch, name, t.Kind, more)
		if seen[name] {
			return
		}
		seen[name] = true
		for i, d := range t.Deps {
			walk(d, indent+next, i == len(t.Deps)-1, false)
		}
	}
	for _, name := range cfg.Names {
		if len(cfg.Dependents(name)) == 0 {
			walk(name, "", true, true)
		}
	}
}

// writeDot prints the graph in Graphviz DOT: an edge from each task to each
// of its deps, services as boxes, once tasks as ellipses with a double line.
func writeDot(w io.Writer, cfg *tasks.Config) {
	fmt.Fprintf(w, "digraph %q {\n\trankdir=LR;\n", cfg.Name)
	for _, name := range cfg.Names {
		shape := "ellipse"
		switch cfg.Tasks[name].Kind {
		case tasks.Service:
			shape = "box"
		case tasks.Once:
			shape = "doublecircle"
		}
		fmt.Fprintf(w, "\t%q [shape=%s];\n", name, shape)
	}
	for _, name := range cfg.Names {
		for _, d := range cfg.Tasks[name].Deps {
			fmt.Fprintf(w, "\t%q -> %q;\n", name, d)
		}
	}
	fmt.Fprintln(w, "}")
}
