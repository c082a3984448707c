package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/procman/procman/tasks"
)

// InitCmd is `procman init`.
type InitCmd struct{}

// Run writes a starter Procfile.yaml for the folder from what it finds
// there (package.json, go.mod, a plain Procfile), never over an existing
// one, and checks that procman loads it.
func (c *InitCmd) Run(g *Globals) error {
	if err := g.chdir(); err != nil {
		return err
	}
	name := "Procfile.yaml"
	if g.File != "" {
		name = g.File
	}
	if ext := strings.ToLower(filepath.Ext(name)); ext != ".yaml" && ext != ".yml" {
		return &usageError{fmt.Errorf("init writes YAML: %s does not end in .yaml or .yml", name)}
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	s, err := detect(wd, g.Port, os.Environ())
	if err != nil {
		return err
	}
	if err := writeNew(name, s.render()); err != nil {
		return err
	}
	if _, err := tasks.Load(name, tasks.LoadOptions{Environ: os.Environ(), Port: g.Port}); err != nil {
		if rerr := os.Remove(name); rerr != nil {
			return fmt.Errorf("%w\n(and removing %s failed: %v)", err, name, rerr)
		}
		return fmt.Errorf("%w\n(procman init removed the %s it wrote, as it does not load)", err, name)
	}
	fmt.Fprintf(os.Stderr, "procman | wrote %s from %s: %s\n", name, s.origin(), s.summary())
	return nil
}

// writeNew creates the file with text, or says that it exists.
func writeNew(name, text string) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return &usageError{fmt.Errorf("%s already exists; procman init never overwrites it", name)}
	}
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name) // no half-written file that the next init would keep
		return fmt.Errorf("init: %w", err)
	}
	return nil
}

// starterTask is one task of the starter file.
type starterTask struct {
	name, desc, cmd   string
	deps              []string
	once, service     bool
	sources, generate []string
	port              string // env PORT, for entries of a plain Procfile
	watch             string // the watch value as written: "true" or a flow mapping
	note              string // a comment above the watch line: why it watches what it does
}

// starter is what init found: the sources it read and the tasks.
type starter struct {
	from  []string
	tasks []starterTask
}

// addAll appends ts, renaming a task whose name an earlier source took to
// PREFIX-NAME (then PREFIX-NAME-2...), and its deps within ts to match. It
// returns the new names, old to new.
func (s *starter) addAll(prefix string, ts []starterTask) map[string]string {
	taken := map[string]bool{}
	for _, t := range s.tasks {
		taken[t.name] = true
	}
	renamed := map[string]string{}
	first := len(s.tasks)
	for _, t := range ts {
		base := t.name
		for i := 1; taken[t.name] || tasks.IsReserved(t.name); i++ {
			t.name = prefix + "-" + base
			if i > 1 {
				t.name += fmt.Sprintf("-%d", i)
			}
		}
		renamed[base], taken[t.name] = t.name, true
		s.tasks = append(s.tasks, t)
	}
	for _, t := range s.tasks[first:] {
		for j, d := range t.deps {
			t.deps[j] = renamed[d]
		}
	}
	return renamed
}

// detect reads the folder: a plain Procfile's entries are the services;
// package.json scripts and a go.mod add install, build and test tasks, and
// a service when the Procfile does not name the services already.
func detect(dir string, port int, environ []string) (*starter, error) {
	s := &starter{}
	procfile, err := procfileStarter(dir, port, environ)
	if err != nil {
		return nil, err
	}
	npm, err := npmStarter(dir, len(procfile) == 0)
	if err != nil {
		return nil, err
	}
	gomod := goStarter(dir, len(procfile) == 0)
	for _, src := range []struct {
		name, prefix string
		tasks        []starterTask
	}{{"Procfile", "procfile", procfile}, {"package.json", "npm", npm}, {"go.mod", "go", gomod}} {
		if len(src.tasks) == 0 {
			continue
		}
		s.from = append(s.from, src.name)
		renamed := s.addAll(src.prefix, src.tasks)
		if src.name == "package.json" {
			for i := range procfile { // the services need the node modules
				s.tasks[i].deps = []string{renamed["install"]}
			}
		}
	}
	if len(s.tasks) == 0 {
		s.tasks = []starterTask{{name: "hello", desc: "an example: replace it with your tasks", cmd: "echo hello from procman"}}
	}
	return s, nil
}

// procfileStarter turns a plain Procfile's entries into services that keep
// the PORT foreman would give them.
func procfileStarter(dir string, port int, environ []string) ([]starterTask, error) {
	p := filepath.Join(dir, "Procfile")
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	cfg, err := tasks.Load(p, tasks.LoadOptions{Environ: environ, Port: port})
	if err != nil {
		return nil, err
	}
	names := append([]string(nil), cfg.Names...)
	sort.Slice(names, func(i, j int) bool { return cfg.Tasks[names[i]].Pos.Line < cfg.Tasks[names[j]].Pos.Line })
	out := make([]starterTask, len(names))
	for i, n := range names {
		t := cfg.Tasks[n]
		out[i] = starterTask{name: n, cmd: t.Cmd.Raw, service: true, port: t.Env["PORT"]}
	}
	return out, nil
}

// notTaskChar is what a task name may not hold.
var notTaskChar = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Za-z0-9_.-]+`) })

// taskName makes a script or module name a valid task name, or "" when
// nothing of it is left ("@@", "-").
func taskName(s string) string { return strings.Trim(notTaskChar().ReplaceAllString(s, "-"), "-") }

// clip shortens a command for a description.
func clip(s string) string {
	s = oneLine(s)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// origin names the sources, or says there were none.
func (s *starter) origin() string {
	if len(s.from) == 0 {
		return "nothing it recognised (an example task)"
	}
	return strings.Join(s.from, ", ")
}

// summary lists the tasks with their kinds.
func (s *starter) summary() string {
	parts := make([]string, len(s.tasks))
	for i, t := range s.tasks {
		parts[i] = t.name
		if t.service {
			parts[i] += " (service)"
		} else if t.once {
			parts[i] += " (once)"
		}
	}
	return strings.Join(parts, ", ") + "; procman list shows them"
}

// render writes the starter as Procfile.yaml.
func (s *starter) render() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by procman init from %s.\n", s.origin())
	b.WriteString("# procman list shows the tasks, procman up starts the services, procman\n# run TASK runs one task after its deps.\ntasks:\n")
	for i, t := range s.tasks {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "  %s:\n", t.name)
		if t.desc != "" {
			fmt.Fprintf(&b, "    desc: %s\n", yamlScalar(t.desc))
		}
		fmt.Fprintf(&b, "    cmd: %s\n", yamlScalar(t.cmd))
		writeFlowList(&b, "deps", t.deps)
		if t.once {
			b.WriteString("    once: true\n")
		}
		if t.service {
			b.WriteString("    service: true\n")
		}
		writeFlowList(&b, "sources", t.sources)
		writeFlowList(&b, "generates", t.generate)
		if t.port != "" {
			fmt.Fprintf(&b, "    env: {PORT: %q}\n", t.port)
		}
		if t.note != "" {
			fmt.Fprintf(&b, "    # %s\n", strings.ReplaceAll(t.note, "\n", "\n    # "))
		}
		if t.watch != "" {
			fmt.Fprintf(&b, "    watch: %s\n", t.watch)
		}
	}
	return b.String()
}

// writeFlowList writes a flow list, quoting items that are not plain words.
func writeFlowList(b *strings.Builder, key string, items []string) {
	if len(items) == 0 {
		return
	}
	q := make([]string, len(items))
	for i, it := range items {
		q[i] = it
		if !plainYAML().MatchString(it) {
			q[i] = fmt.Sprintf("%q", it)
		}
	}
	fmt.Fprintf(b, "    %s: [%s]\n", key, strings.Join(q, ", "))
}

// plainYAML matches what YAML reads as the same string unquoted, in a flow
// list too.
var plainYAML = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_./][A-Za-z0-9_./-]*$`) })

// yamlScalar writes s as a YAML scalar: plain when YAML reads it back as
// the same string, double-quoted (JSON syntax, which YAML reads) otherwise.
func yamlScalar(s string) string {
	b, err := yaml.Marshal(s)
	out := strings.TrimSuffix(string(b), "\n")
	if err == nil && !strings.ContainsAny(out, "\n") && !strings.HasPrefix(out, "|") && !strings.HasPrefix(out, ">") {
		return out
	}
	j, _ := json.Marshal(s)
	return string(j)
}
