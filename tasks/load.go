package tasks

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Find returns the config file to use in dir: Procfile.yaml, else a plain
// Procfile; error "no Procfile.yaml or Procfile in DIR" otherwise.
func Find(dir string) (string, error) {
	for _, name := range []string{"Procfile.yaml", "Procfile"} {
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		switch {
		case err == nil && !fi.IsDir():
			return p, nil
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("find config: %w", err)
		}
	}
	return "", fmt.Errorf("no Procfile.yaml or Procfile in %s", dir)
}

// LoadOptions are the command-line inputs to loading.
type LoadOptions struct {
	Environ []string // the process environment (os.Environ())
	Port    int      // --port base for plain Procfiles; 0 = not given
}

// logLevels are the values log_level accepts.
var logLevels = []string{"trace", "debug", "info", "warn", "error"}

// Load reads and validates a Procfile.yaml, or a plain foreman Procfile when
// the file's base name is not *.yaml/*.yml. On problems it returns ErrorList
// holding every problem found (not just the first), sorted by position. A
// file that cannot be read is a plain error.
func Load(path string, opts LoadOptions) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c := &Config{
		File:          abs,
		Dir:           filepath.Dir(abs),
		Name:          filepath.Base(filepath.Dir(abs)),
		Interval:      DefaultInterval,
		WatchDefaults: Watch{Debounce: DefaultDebounce, ChangesNeeded: DefaultChangesNeeded},
		Tasks:         map[string]*Task{},
	}
	p := &parser{file: path}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		p.loadYAML(c, data, opts)
	default:
		p.loadProcfile(c, data, opts)
	}
	if len(p.errs) > 0 {
		sortErrors(p.errs, path)
		return nil, p.errs
	}
	return c, nil
}

// topLevel holds the top-level keys whose parsing waits for others.
type topLevel struct {
	env      []envVar
	envFiles []item // nil: the default .env
	watch    *yaml.Node
	tasks    *yaml.Node
	tasksKey *yaml.Node
}

// loadYAML parses Procfile.yaml data into c.
func (p *parser) loadYAML(c *Config, data []byte, opts LoadOptions) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p.errs = append(p.errs, locateYAML(data, fromYAML(p.file, err))...)
		return
	}
	var root *yaml.Node
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		root = resolve(doc.Content[0])
	}
	var top topLevel
	switch {
	case root == nil || isNull(root):
	case root.Kind != yaml.MappingNode:
		p.errorf(scope{}, root, "want a mapping at the top level, got %s", describe(root))
		return
	default:
		p.mapping(scope{}, root, p.topHandlers(c, &top), "tasks")
	}
	env := newEnvList(opts.Environ)
	p.loadEnvFiles(filepath.Dir(p.file), top.envFiles, env)
	for _, v := range top.env {
		env.set(v.key, v.val)
	}
	c.Env = env.pairs()
	if top.watch != nil {
		c.WatchDefaults = p.topWatch(top.watch)
	}
	p.tasks(c, &top)
}

// topHandlers parses the top-level keys into c and top.
func (p *parser) topHandlers(c *Config, top *topLevel) handlers {
	s := scope{}
	return handlers{
		"name": func(f field) { c.Name, _ = p.str(s, "name", f.val) },
		"log_level": func(f field) {
			v, ok := p.str(s, "log_level", f.val)
			if ok && !slices.Contains(logLevels, v) {
				p.errorf(s, f.val, "bad log_level %q: want trace, debug, info, warn or error", v)
				return
			}
			c.LogLevel = v
		},
		"debug": func(f field) { c.Debug, _ = p.boolean(s, "debug", f.val) },
		"interval": func(f field) {
			if d, ok := p.duration(s, "interval", f.val, true); ok {
				c.Interval = d
			}
		},
		"env": func(f field) { top.env = p.envMap(s, "env", f.val) },
		"env_file": func(f field) {
			items, _ := p.list(s, "env_file", f.val, "a file name or a list of them")
			top.envFiles = append([]item{}, items...)
		},
		"watch": func(f field) { top.watch = f.val },
		"tasks": func(f field) { top.tasks, top.tasksKey = f.val, f.key },
	}
}

// tasks parses the tasks mapping into c and checks the graph.
func (p *parser) tasks(c *Config, top *topLevel) {
	n := resolve(top.tasks)
	if isNull(n) {
		n = nil
	}
	if n != nil && n.Kind != yaml.MappingNode {
		p.typeError(scope{}, "tasks", n, "a mapping of task names to tasks")
		return
	}
	depPos := map[string][]Pos{}
	if n != nil {
		for _, f := range p.fields(scope{}, n) {
			t, pos := p.task(c, f.key, f.val)
			c.Tasks[t.Name] = t
			depPos[t.Name] = pos
		}
	}
	if len(c.Tasks) == 0 {
		p.errs = append(p.errs, &Error{File: p.file, Pos: nodePos(top.tasksKey), Msg: "no tasks defined"})
		return
	}
	c.Names = sortedNames(c.Tasks)
	p.checkReplicaNames(c)
	p.checkGraph(c, depPos)
}

// checkReplicaNames reports a task named like a replica of a service
// (web.2 beside a service web): procman ps, logs and restart would not
// know which is meant.
func (p *parser) checkReplicaNames(c *Config) {
	for _, name := range c.Names {
		base, num, ok := SplitReplica(name)
		if !ok {
			continue
		}
		if t := c.Tasks[base]; t != nil && t.Kind == Service {
			p.errs = append(p.errs, &Error{File: p.file, Pos: c.Tasks[name].Pos,
				Msg: fmt.Sprintf("task %q is named like replica %d of service %q: rename it", name, num, base)})
		}
	}
}

// SplitReplica splits a replica's name, NAME.i (i from 1), into the
// task's name and i.
func SplitReplica(name string) (task string, i int, ok bool) {
	dot := strings.LastIndexByte(name, '.')
	if dot <= 0 || dot == len(name)-1 {
		return "", 0, false
	}
	n, err := strconv.Atoi(name[dot+1:])
	if err != nil || n < 1 || name[dot+1] == '0' || name[dot+1] == '+' {
		return "", 0, false
	}
	return name[:dot], n, true
}

func sortedNames(m map[string]*Task) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
