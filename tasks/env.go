package tasks

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/procman/procman/tasks/dotenv"
)

// envList is an ordered environment: one entry per key, in the order the
// keys first appeared; a later value replaces an earlier one in place.
type envList struct {
	keys []string
	vals map[string]string
}

// newEnvList reads KEY=VALUE pairs; entries without '=' are dropped.
func newEnvList(environ []string) *envList {
	e := &envList{vals: map[string]string{}}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			e.set(k, v)
		}
	}
	return e
}

func (e *envList) set(k, v string) {
	if _, ok := e.vals[k]; !ok {
		e.keys = append(e.keys, k)
	}
	e.vals[k] = v
}

func (e *envList) lookup(k string) (string, bool) {
	v, ok := e.vals[k]
	return v, ok
}

// pairs returns the environment as KEY=VALUE strings.
func (e *envList) pairs() []string {
	out := make([]string, len(e.keys))
	for i, k := range e.keys {
		out[i] = k + "=" + e.vals[k]
	}
	return out
}

// Environ returns c.Env with t.Env on top: later wins, one entry per key.
// Keys of t.Env that c.Env lacks come last, sorted.
func (c *Config) Environ(t *Task) []string {
	e := newEnvList(c.Env)
	keys := make([]string, 0, len(t.Env))
	for k := range t.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		e.set(k, t.Env[k])
	}
	return e.pairs()
}

// ReplicaEnviron is the environment of replica i (from 1) of service t
// when it runs as one of count (more than one): Environ, with PS=NAME.i,
// as foreman sets it, and PORT plus i-1 when t has a numeric PORT (a plain
// Procfile's entry k, base + 100 k, so base + 100 k + i - 1, foreman's
// numbering).
func (c *Config) ReplicaEnviron(t *Task, i int) []string {
	e := newEnvList(c.Environ(t))
	e.set("PS", fmt.Sprintf("%s.%d", t.Name, i))
	if v, ok := e.lookup("PORT"); ok && i > 1 {
		if port, err := strconv.Atoi(v); err == nil {
			e.set("PORT", strconv.Itoa(port+i-1))
		}
	}
	return e.pairs()
}

// envVar is one key of an env mapping in the config.
type envVar struct {
	key, val string
}

// envMap reads a mapping of names to scalar values; numbers and booleans
// are taken as written, nothing as "".
func (p *parser) envMap(s scope, key string, n *yaml.Node) []envVar {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.typeError(s, key, n, "a mapping of names to values")
		return nil
	}
	var out []envVar
	for _, f := range p.fields(s, n) {
		name := f.key.Value
		if name == "" || strings.ContainsAny(name, "=\x00") {
			p.errorf(s, f.key, "%s: bad variable name %q", s.key(key), name)
			continue
		}
		v := resolve(f.val)
		if v.Kind != yaml.ScalarNode {
			p.typeError(s, key+"."+name, v, "a string, number or boolean")
			continue
		}
		val := v.Value
		if isNull(v) {
			val = ""
		}
		out = append(out, envVar{name, val})
	}
	return out
}

// loadEnvFiles reads the dotenv files into env, each file seeing the
// environment so far. files nil means the default: .env in dir when it
// exists. dir is the config's folder as given to Load, so that messages
// name the files the way the user wrote the path.
func (p *parser) loadEnvFiles(dir string, files []item, env *envList) {
	if files == nil {
		def := filepath.Join(dir, ".env")
		if fi, err := os.Stat(def); err != nil || fi.IsDir() {
			return
		}
		files = []item{{val: ".env"}}
	}
	for _, f := range files {
		path := f.val
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		vars, err := dotenv.Load(path, env.lookup)
		if errors.Is(err, fs.ErrNotExist) {
			p.errorf(scope{}, f.node, "env_file %q does not exist", f.val)
			continue
		}
		if err != nil {
			p.errs = append(p.errs, fromLines(err, p.file, nodePos(f.node))...)
			continue
		}
		for _, v := range vars {
			env.set(v.Key, v.Value)
		}
	}
}
