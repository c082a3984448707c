package tasks

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ready parses a service's ready block; key is where it was written.
func (p *parser) ready(ts scope, key, n *yaml.Node) *Ready {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.typeError(ts, "ready", n, "a mapping with one of log, tcp, http or exec")
		return nil
	}
	s := scope{prefix: ts.prefix, block: "ready"}
	r := &Ready{Timeout: DefaultReadyTimeout}
	var given []string
	probe := func(name string, parse func(v *yaml.Node)) func(f field) {
		return func(f field) {
			given = append(given, name)
			if len(given) == 2 {
				p.errorf(ts, f.key, "ready: want one of log, tcp, http or exec, got %s and %s", given[0], given[1])
			}
			parse(f.val)
		}
	}
	p.mapping(s, n, handlers{
		"log":     probe("log", func(v *yaml.Node) { r.Log = p.readyLog(s, v) }),
		"tcp":     probe("tcp", func(v *yaml.Node) { r.TCP = p.readyTCP(s, v) }),
		"http":    probe("http", func(v *yaml.Node) { r.HTTP = p.readyHTTP(s, v) }),
		"exec":    probe("exec", func(v *yaml.Node) { r.Exec = p.readyExec(s, v) }),
		"timeout": func(f field) { r.Timeout, _ = p.duration(s, "timeout", f.val, true) },
	})
	if len(given) == 0 {
		p.errorf(ts, key, "ready: want one of log, tcp, http or exec")
	}
	return r
}

func (p *parser) readyLog(s scope, n *yaml.Node) *regexp.Regexp {
	v, ok := p.str(s, "log", n)
	if !ok {
		return nil
	}
	re, err := regexp.Compile(v)
	if err != nil {
		p.errorf(s, n, "bad regexp for ready.log: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		return nil
	}
	return re
}

// readyTCP reads host:port; a bare port number means 127.0.0.1.
func (p *parser) readyTCP(s scope, n *yaml.Node) string {
	v, ok := p.str(s, "tcp", n)
	if !ok {
		return ""
	}
	if isPort(withVars(v)) {
		return "127.0.0.1:" + v
	}
	if _, port, err := net.SplitHostPort(withVars(v)); err != nil || !isPort(port) {
		p.errorf(s, n, "ready.tcp: want host:port or a port number, got %q", v)
		return ""
	}
	return v
}

// withVars is v with every $VAR and ${VAR} as 1: what a probe's address
// looks like once the task's environment is in (ready: {tcp: $PORT}: each
// replica's own port), for checking its form.
func withVars(v string) string {
	return os.Expand(v, func(string) string { return "1" })
}

func isPort(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func (p *parser) readyHTTP(s scope, n *yaml.Node) string {
	v, ok := p.str(s, "http", n)
	if !ok {
		return ""
	}
	u, err := url.Parse(withVars(v))
	switch {
	case err == nil && u.Scheme == "https":
		p.errorf(s, n, "ready.http: https is not supported (dev certificates rarely verify); probe http://, or use exec: \"curl -fsSk %s\"", v)
		return ""
	case err != nil || u.Scheme != "http" || u.Host == "":
		p.errorf(s, n, "ready.http: want an http:// URL, got %q", v)
		return ""
	}
	return v
}

func (p *parser) readyExec(s scope, n *yaml.Node) *Command {
	c, ok := p.command(scope{prefix: s.prefix}, "ready.exec", n)
	if !ok {
		return nil
	}
	return &c
}

// topWatch parses the top-level watch block: defaults for every task.
func (p *parser) topWatch(n *yaml.Node) Watch {
	w := Watch{Debounce: DefaultDebounce, ChangesNeeded: DefaultChangesNeeded}
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.typeError(scope{}, "watch", n, "a mapping")
		return w
	}
	s := scope{block: "watch"}
	p.mapping(s, n, p.watchHandlers(s, &w, nil))
	return w
}

// watchHandlers parses the keys of a watch block into w; paths (only in a
// task's block) into *paths.
func (p *parser) watchHandlers(s scope, w *Watch, paths *[]item) handlers {
	hs := handlers{
		"ignore": func(f field) {
			w.Ignore = append(w.Ignore, p.globs(s, "ignore", f.val)...)
		},
		"debounce": func(f field) {
			if d, ok := p.debounce(s, f.val); ok {
				w.Debounce = d
			}
		},
		"changes_needed": func(f field) {
			if n, ok := p.count(s, "changes_needed", f.val, 1); ok {
				w.ChangesNeeded = n
			}
		},
	}
	if paths != nil {
		hs["paths"] = func(f field) { *paths, _ = p.list(s, "paths", f.val, "a list of files or folders") }
	}
	return hs
}

// debounce reads `auto` or a duration of zero or more.
func (p *parser) debounce(s scope, n *yaml.Node) (time.Duration, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		p.typeError(s, "debounce", n, "auto or a duration like 20ms")
		return 0, false
	}
	if n.Value == "auto" {
		return DebounceAuto, true
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil || d < 0 {
		p.errorf(s, n, "bad debounce %q: use auto (the default) or a duration of zero or more, like 20ms", n.Value)
		return 0, false
	}
	return d, true
}

// taskWatch parses a task's watch block on top of the defaults: a mapping,
// true (watch dir with the defaults), false (no watching) or a list of
// paths. Paths are made absolute against dir, which they default to.
func (p *parser) taskWatch(ts scope, n *yaml.Node, dir string, def Watch) *Watch {
	n = resolve(n)
	w := def
	w.Ignore = append([]string(nil), def.Ignore...)
	var paths []item
	s := scope{prefix: ts.prefix, block: "watch"}
	switch {
	case n.Kind == yaml.MappingNode:
		p.mapping(s, n, p.watchHandlers(s, &w, &paths))
	case n.Kind == yaml.SequenceNode:
		paths, _ = p.list(ts, "watch", n, "")
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool":
		if on, _ := p.boolean(ts, "watch", n); !on {
			return nil
		}
	default:
		p.typeError(ts, "watch", n, "a mapping, a list of paths or true")
		return nil
	}
	for _, it := range paths {
		if strings.ContainsAny(it.val, "*?[") {
			p.errorf(ts, it.node, "watch.paths: %q is a glob: list files or folders, and filter with ignore", it.val)
			continue
		}
		w.Paths = append(w.Paths, absIn(dir, it.val))
	}
	if len(w.Paths) == 0 {
		w.Paths = []string{filepath.Clean(dir)}
	}
	return &w
}
