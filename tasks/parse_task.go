package tasks

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"go.yaml.in/yaml/v3"
)

// validTaskName reports whether name holds only what a task name may in
// Procfile.yaml: letters, digits, '_', '.' and '-'.
func validTaskName(name string) bool {
	for _, r := range name {
		if !isAlnum(r) && r != '_' && r != '.' && r != '-' {
			return false
		}
	}
	return name != ""
}

// ReservedName is the name procman's own messages go under: the prefix of
// its lines, and .procman/logs/procman.log of a detached supervisor. No
// task may take it, in any case (the log files of Procman and procman are
// one file on macOS).
const ReservedName = "procman"

// IsReserved reports whether name is ReservedName, in any case.
func IsReserved(name string) bool { return strings.EqualFold(name, ReservedName) }

// reservedMsg is the error for a task named ReservedName.
func reservedMsg(name string) string {
	return fmt.Sprintf("task name %q is reserved for procman's own messages: rename the task", name)
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// serviceOnly are the keys that only make sense on a service.
var serviceOnly = []string{"ready", "restart", "backoff", "max_restarts", "replicas"}

// signals are the stop_signal names procman accepts (without SIG).
var signals = map[string]syscall.Signal{
	"TERM": syscall.SIGTERM, "INT": syscall.SIGINT, "HUP": syscall.SIGHUP,
	"QUIT": syscall.SIGQUIT, "KILL": syscall.SIGKILL, "USR1": syscall.SIGUSR1,
	"USR2": syscall.SIGUSR2, "WINCH": syscall.SIGWINCH,
}

// taskSpec is a task while it is parsed: the keys as written, kept for the
// checks that need several of them.
type taskSpec struct {
	t       *Task
	s       scope
	name    *yaml.Node            // the task's key in tasks:
	keys    map[string]*yaml.Node // key node of every key written
	depPos  []Pos                 // position of each entry of t.Deps
	once    bool
	service bool
	hasCmd  bool
	dir     string
	ready   *yaml.Node
	watch   *yaml.Node
}

// task parses one entry of tasks:. A string or list value is shorthand for
// a task with just that cmd.
func (p *parser) task(c *Config, nameNode, val *yaml.Node) (*Task, []Pos) {
	name := nameNode.Value
	ts := &taskSpec{
		t:    &Task{Name: name, Pos: nodePos(nameNode), Env: map[string]string{}},
		s:    scope{prefix: fmt.Sprintf("task %q: ", name)},
		name: nameNode,
		keys: map[string]*yaml.Node{},
	}
	if !validTaskName(name) {
		p.errorf(scope{}, nameNode, "bad task name %q: use letters, digits, '_', '.' and '-'", name)
	} else if IsReserved(name) {
		p.errorf(scope{}, nameNode, "%s", reservedMsg(name))
	}
	switch v := resolve(val); {
	case isNull(v):
	case v.Kind == yaml.MappingNode:
		p.mapping(ts.s, v, p.taskHandlers(ts), "cmd")
	case v.Kind == yaml.ScalarNode || v.Kind == yaml.SequenceNode:
		ts.t.Cmd, _ = p.command(ts.s, "cmd", v)
		ts.hasCmd = true
	default:
		p.typeError(scope{}, fmt.Sprintf("task %q", name), v, "a mapping, a command string or a list")
	}
	if ts.keys["replicas"] == nil {
		ts.t.Replicas = 1
	}
	p.finishTask(c, ts)
	return ts.t, ts.depPos
}

// taskHandlers parses each key of a task into ts.
func (p *parser) taskHandlers(ts *taskSpec) handlers {
	t, s := ts.t, ts.s
	hs := handlers{
		"desc":         func(f field) { t.Desc, _ = p.str(s, "desc", f.val) },
		"cmd":          func(f field) { t.Cmd, _ = p.command(s, "cmd", f.val); ts.hasCmd = true },
		"deps":         func(f field) { p.deps(ts, f.val) },
		"service":      func(f field) { ts.service, _ = p.boolean(s, "service", f.val) },
		"once":         func(f field) { ts.once, _ = p.boolean(s, "once", f.val) },
		"dir":          func(f field) { ts.dir, _ = p.str(s, "dir", f.val) },
		"env":          func(f field) { p.taskEnv(ts, f.val) },
		"restart":      func(f field) { t.Restart = p.restart(s, f.val) },
		"backoff":      func(f field) { t.Backoff, _ = p.duration(s, "backoff", f.val, false) },
		"max_restarts": func(f field) { t.MaxRestarts, _ = p.count(s, "max_restarts", f.val, 0) },
		"replicas":     func(f field) { t.Replicas, _ = p.count(s, "replicas", f.val, 0) },
		"stop_signal":  func(f field) { t.StopSignal = p.signal(s, f.val) },
		"stop_timeout": func(f field) { t.StopTimeout, _ = p.duration(s, "stop_timeout", f.val, false) },
		"ready":        func(f field) { ts.ready = f.val },
		"watch":        func(f field) { ts.watch = f.val },
		"sources":      func(f field) { t.Sources = p.globs(s, "sources", f.val) },
		"generates":    func(f field) { t.Generates = p.globs(s, "generates", f.val) },
	}
	// Remember where each key was written, for checks across keys.
	for k, h := range hs {
		hs[k] = func(f field) { ts.keys[k] = f.key; h(f) }
	}
	return hs
}

// finishTask applies defaults and checks what needs several keys.
func (p *parser) finishTask(c *Config, ts *taskSpec) {
	t, s := ts.t, ts.s
	if !ts.hasCmd {
		p.errorf(s, ts.name, "missing cmd")
	}
	switch {
	case ts.service && ts.once:
		p.errorf(s, ts.keys["once"], "once and service cannot both be true")
		t.Kind = Service
	case ts.service:
		t.Kind = Service
	case ts.once:
		t.Kind = Once
	}
	t.Dir = c.Dir
	if ts.dir != "" {
		t.Dir = absIn(c.Dir, ts.dir)
	}
	if t.Kind != Service {
		for _, k := range serviceOnly {
			if n := ts.keys[k]; n != nil {
				p.errorf(s, n, "%s is only for services (add service: true)", k)
			}
		}
	}
	if t.Restart == "" {
		t.Restart = RestartNever
		if t.Kind == Service {
			t.Restart = RestartAlways
		}
	}
	if ts.keys["backoff"] == nil {
		t.Backoff = DefaultBackoff
	}
	if t.StopSignal == 0 {
		t.StopSignal = syscall.SIGTERM
	}
	if ts.keys["stop_timeout"] == nil {
		t.StopTimeout = DefaultStopTimeout
	}
	if ts.ready != nil && t.Kind == Service {
		t.Ready = p.ready(s, ts.keys["ready"], ts.ready)
	}
	if ts.watch != nil {
		t.Watch = p.taskWatch(s, ts.watch, t.Dir, c.WatchDefaults)
	}
}

// absIn makes p absolute, relative to dir when it is not already.
func absIn(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

// command parses a cmd: a string routed by ParseCommand, or a list taken
// as argv.
func (p *parser) command(s scope, key string, n *yaml.Node) (Command, bool) {
	n = resolve(n)
	switch {
	case isNull(n):
		p.errorf(s, n, "empty %s", key)
	case n.Kind == yaml.ScalarNode:
		c, err := ParseCommand(n.Value)
		if errors.Is(err, errEmptyCommand) {
			p.errorf(s, n, "empty %s", key)
			return Command{}, false
		}
		if err != nil {
			p.errorf(s, n, "%s: %v", key, err)
			return Command{}, false
		}
		return c, true
	case n.Kind == yaml.SequenceNode:
		items, ok := p.list(s, key, n, "")
		if ok && len(items) == 0 {
			p.errorf(s, n, "empty %s", key)
			return Command{}, false
		}
		argv := make([]string, len(items))
		for i, it := range items {
			argv[i] = it.val
		}
		return ArgvCommand(argv), ok
	default:
		p.typeError(s, key, n, "a command string or a list of arguments")
	}
	return Command{}, false
}

// deps reads the deps list and where each entry was written.
func (p *parser) deps(ts *taskSpec, n *yaml.Node) {
	items, _ := p.list(ts.s, "deps", n, "a list of task names")
	for _, it := range items {
		if slices.Contains(ts.t.Deps, it.val) {
			p.errorf(ts.s, it.node, "deps: %q is listed twice", it.val)
			continue
		}
		ts.t.Deps = append(ts.t.Deps, it.val)
		ts.depPos = append(ts.depPos, nodePos(it.node))
	}
}

func (p *parser) taskEnv(ts *taskSpec, n *yaml.Node) {
	for _, v := range p.envMap(ts.s, "env", n) {
		ts.t.Env[v.key] = v.val
	}
}

func (p *parser) restart(s scope, n *yaml.Node) string {
	v, ok := p.str(s, "restart", n)
	switch {
	case !ok:
	case v == RestartAlways || v == RestartOnFailure || v == RestartNever:
		return v
	default:
		p.errorf(s, n, "bad restart %q: want always, on-failure or never", v)
	}
	return ""
}

func (p *parser) signal(s scope, n *yaml.Node) syscall.Signal {
	v, ok := p.str(s, "stop_signal", n)
	if !ok {
		return 0
	}
	if sig, ok := signals[strings.TrimPrefix(strings.ToUpper(v), "SIG")]; ok {
		return sig
	}
	p.errorf(s, n, "bad stop_signal %q: want TERM, INT, HUP, QUIT, KILL, USR1, USR2 or WINCH", v)
	return 0
}

// globs reads a list of glob patterns and checks each.
func (p *parser) globs(s scope, key string, n *yaml.Node) []string {
	items, _ := p.list(s, key, n, "a list of globs")
	var out []string
	for _, it := range items {
		if err := CheckGlob(it.val); err != nil {
			p.errorf(s, it.node, "%s: %v", s.key(key), err)
			continue
		}
		out = append(out, it.val)
	}
	return out
}
