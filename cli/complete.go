package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/procman/procman/tasks"
)

// CompleteCmd is the hidden `procman __complete -- WORD...`: the words after
// "procman" up to the one being completed (the last, maybe empty).
type CompleteCmd struct {
	Words []string `arg:"" optional:"" help:"The words of the command line after procman; the last is completed."`
}

// Run prints one candidate a line, "WORD" or "WORD<tab>DESCRIPTION", or
// ":file" or ":dir" when the shell should complete a path.
func (c *CompleteCmd) Run(kctx *kong.Context) error {
	for _, line := range complete(kctx.Model.Node, c.Words, taskCandidates) {
		if _, err := fmt.Println(line); err != nil {
			return err
		}
	}
	return nil
}

// cmdLine is what the words before the cursor say.
type cmdLine struct {
	node     *kong.Node   // the deepest command named
	flags    []*kong.Flag // flags of node and its parents
	npos     int          // positional arguments given to node
	pending  *kong.Flag   // the flag whose value is being completed
	dashdash bool         // a "--" was seen: the rest goes to the task
	dir      string       // -C/--dir as given
	file     string       // -f/--file as given
}

// complete returns the candidates for the last of words, given the
// command tree under root. names lists the tasks of the config that
// -C and -f point to.
func complete(root *kong.Node, words []string, names func(dir, file string) []string) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	cl := &cmdLine{}
	cl.enter(root)
	for _, w := range words[:len(words)-1] {
		cl.read(w)
	}
	cur := words[len(words)-1]
	var cands []string
	switch {
	case cl.pending != nil:
		cands = valueCandidates(cl.pending.Value, cl.pending.PlaceHolder)
	case cl.dashdash:
		return []string{":file"}
	case strings.HasPrefix(cur, "-"):
		cands = flagCandidates(cl.flags)
	case cl.npos == 0 && hasCommands(cl.node):
		cands = commandCandidates(cl.node)
	default:
		cands = cl.positional(names)
	}
	return withPrefix(cands, cur)
}

// enter makes n the current command.
func (cl *cmdLine) enter(n *kong.Node) {
	cl.node, cl.npos = n, 0
	cl.flags = append(cl.flags, n.Flags...)
}

// read takes one word before the cursor.
func (cl *cmdLine) read(w string) {
	switch {
	case cl.pending != nil:
		cl.set(cl.pending, w)
		cl.pending = nil
	case cl.dashdash:
		cl.npos++
	case w == "--":
		cl.dashdash = true
	case len(w) > 1 && w[0] == '-':
		name, val, inline := strings.Cut(w, "=")
		f := cl.flag(name)
		switch {
		case f == nil || f.IsBool() || f.IsCounter():
		case inline:
			cl.set(f, val)
		default:
			cl.pending = f
		}
	default:
		if child := findCommand(cl.node, w); child != nil && cl.npos == 0 {
			cl.enter(child)
		} else {
			cl.npos++
		}
	}
}

// set records the global flags that say where the config is.
func (cl *cmdLine) set(f *kong.Flag, val string) {
	switch f.Name {
	case "dir":
		if f.Short == 'C' {
			cl.dir = val
		}
	case "file":
		cl.file = val
	}
}

// flag finds the flag that the word --name or -x names.
func (cl *cmdLine) flag(word string) *kong.Flag {
	for _, f := range cl.flags {
		if word == "--"+f.Name || (f.Short != 0 && word == "-"+string(f.Short)) {
			return f
		}
	}
	return nil
}

// positional returns the candidates for the next positional argument:
// its enum values, or task names when it takes tasks; a path otherwise.
func (cl *cmdLine) positional(names func(dir, file string) []string) []string {
	ps := cl.node.Positional
	if len(ps) == 0 {
		return nil
	}
	p := ps[len(ps)-1]
	if cl.npos < len(ps) {
		p = ps[cl.npos]
	} else if !p.IsCumulative() {
		return nil
	}
	if p.Name == "task" || p.Name == "tasks" {
		return names(cl.dir, cl.file)
	}
	return valueCandidates(p, "")
}

// valueCandidates are the values of an enum, or a path for a flag whose
// placeholder says PATH or DIR.
func valueCandidates(v *kong.Value, placeholder string) []string {
	switch {
	case v.Enum != "":
		var out []string
		for _, e := range v.EnumSlice() {
			if e != "" {
				out = append(out, e)
			}
		}
		return out
	case placeholder == "PATH":
		return []string{":file"}
	case placeholder == "DIR":
		return []string{":dir"}
	case v.Flag == nil && v.IsCumulative():
		return []string{":file"}
	}
	return nil
}

// flagCandidates are the long flags in scope, with their help.
func flagCandidates(flags []*kong.Flag) []string {
	var out []string
	for _, f := range flags {
		if !f.Hidden {
			out = append(out, "--"+f.Name+"\t"+firstLine(f.Help))
		}
	}
	return out
}

// commandCandidates are the visible subcommands of n, with their help.
func commandCandidates(n *kong.Node) []string {
	var out []string
	for _, c := range n.Children {
		if !c.Hidden {
			out = append(out, c.Name+"\t"+firstLine(c.Help))
		}
	}
	return out
}

// hasCommands reports whether n has visible subcommands.
func hasCommands(n *kong.Node) bool { return len(commandCandidates(n)) > 0 }

// findCommand returns the subcommand of n that word names, or nil.
func findCommand(n *kong.Node, word string) *kong.Node {
	for _, c := range n.Children {
		if c.Name == word {
			return c
		}
		for _, a := range c.Aliases {
			if a == word {
				return c
			}
		}
	}
	return nil
}

// withPrefix keeps the candidates whose word starts with prefix; ":file"
// and ":dir" pass through.
func withPrefix(cands []string, prefix string) []string {
	var out []string
	for _, c := range cands {
		word, _, _ := strings.Cut(c, "\t")
		if strings.HasPrefix(word, prefix) || c == ":file" || c == ":dir" {
			out = append(out, c)
		}
	}
	return out
}

// firstLine is the first line of a help text, for a one-line description.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// taskCandidates lists the tasks of the config that procman would load
// with -C dir and -f file, each with its description or kind. A config
// that does not load yields none: completion never prints errors.
func taskCandidates(dir, file string) []string {
	if dir == "" {
		dir = "."
	}
	if file == "" {
		file = os.Getenv("PROCMAN_FILE")
	}
	path := filepath.Join(dir, file)
	if file == "" {
		var err error
		if path, err = tasks.Find(dir); err != nil {
			return nil
		}
	} else if filepath.IsAbs(file) {
		path = file
	}
	cfg, err := tasks.Load(path, tasks.LoadOptions{Environ: os.Environ()})
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(cfg.Names))
	for _, name := range cfg.Names {
		t := cfg.Tasks[name]
		desc := t.Desc
		if desc == "" {
			desc = t.Kind.String()
		}
		out = append(out, name+"\t"+firstLine(desc))
	}
	return out
}
