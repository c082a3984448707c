package tasks

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// parser walks a yaml.Node tree and collects every problem it finds.
type parser struct {
	file string // the path as given to Load, for error messages
	errs ErrorList
}

// scope says where a key sits, for error messages.
type scope struct {
	prefix string // `task "x": ` inside a task, else ""
	block  string // "ready" or "watch" inside such a block, else ""
}

// key returns the dotted name of k within s: "timeout" in ready is
// "ready.timeout".
func (s scope) key(k string) string {
	if s.block == "" {
		return k
	}
	return s.block + "." + k
}

// item is one entry of a YAML list (or a lone scalar) with its node.
type item struct {
	val  string
	node *yaml.Node
}

// field is one key/value pair of a mapping.
type field struct {
	key, val *yaml.Node
}

// handlers maps each known key of a mapping to what parses its value.
type handlers map[string]func(f field)

func nodePos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{}
	}
	return Pos{Line: n.Line, Col: n.Column}
}

// errorf records a problem at n's position, prefixed by s.
func (p *parser) errorf(s scope, n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Pos: nodePos(n), Msg: s.prefix + fmt.Sprintf(format, args...)})
}

// resolve follows aliases to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names the kind of value n holds, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!null":
		return "nothing"
	case "!!bool":
		return "a boolean"
	case "!!int", "!!float":
		return "a number"
	}
	return "a string"
}

// typeError records "KEY: want WANT, got KIND".
func (p *parser) typeError(s scope, key string, n *yaml.Node, want string) {
	p.errorf(s, n, "%s: want %s, got %s", s.key(key), want, describe(n))
}

// fields returns n's key/value pairs in written order, with merge keys (<<)
// expanded: written keys win over merged ones. Duplicate keys are reported.
func (p *parser) fields(s scope, n *yaml.Node) []field {
	var out []field
	seen := map[string]*yaml.Node{}
	var merged []field
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, p.mergeFields(s, v)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			p.errorf(s, k, "keys must be strings, got %s", describe(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.errorf(s, k, "duplicate key %q (first on line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, field{k, v})
	}
	for _, f := range merged {
		if seen[f.key.Value] == nil {
			seen[f.key.Value] = f.key
			out = append(out, f)
		}
	}
	return out
}

// mergeFields returns the pairs a merge key's value brings in: a mapping,
// or a list of mappings where earlier ones win.
func (p *parser) mergeFields(s scope, v *yaml.Node) []field {
	v = resolve(v)
	switch v.Kind {
	case yaml.MappingNode:
		return p.fields(s, v)
	case yaml.SequenceNode:
		var out []field
		for _, m := range v.Content {
			out = append(out, p.mergeFields(s, m)...)
		}
		return out
	}
	p.errorf(s, v, "<<: want a mapping or a list of mappings, got %s", describe(v))
	return nil
}

// mapping parses mapping n with hs; unknown keys are reported, with a
// suggestion when one known key is close. Null values are skipped unless
// keepNull names the key.
func (p *parser) mapping(s scope, n *yaml.Node, hs handlers, keepNull ...string) {
	known := make([]string, 0, len(hs))
	for k := range hs {
		known = append(known, k)
	}
	sort.Strings(known)
	for _, f := range p.fields(s, n) {
		h, ok := hs[f.key.Value]
		if !ok {
			in := ""
			if s.block != "" {
				in = " in " + s.block
			}
			p.errorf(s, f.key, "unknown key %q%s%s", f.key.Value, in, suggest(f.key.Value, known))
			continue
		}
		if isNull(f.val) && !slices.Contains(keepNull, f.key.Value) {
			continue
		}
		h(f)
	}
}

// str reads a scalar as a string; numbers and booleans are taken as written.
func (p *parser) str(s scope, key string, n *yaml.Node) (string, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || isNull(n) {
		p.typeError(s, key, n, "a string")
		return "", false
	}
	return n.Value, true
}

// boolean reads true or false.
func (p *parser) boolean(s scope, key string, n *yaml.Node) (bool, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		p.typeError(s, key, n, "true or false")
		return false, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		p.typeError(s, key, n, "true or false")
		return false, false
	}
	return b, true
}

// count reads a whole number that must be at least least.
func (p *parser) count(s scope, key string, n *yaml.Node, least int) (int, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		p.typeError(s, key, n, "a whole number")
		return 0, false
	}
	v, err := strconv.ParseInt(n.Value, 0, 32)
	if err != nil {
		p.errorf(s, n, "%s: %q is out of range", s.key(key), n.Value)
		return 0, false
	}
	if int(v) < least {
		what := "must not be negative"
		if least > 0 {
			what = fmt.Sprintf("must be at least %d", least)
		}
		p.errorf(s, n, "%s: %s, got %d", s.key(key), what, v)
		return 0, false
	}
	return int(v), true
}

// duration reads a Go duration such as 500ms. It must not be negative, and
// must be positive when positive is set.
func (p *parser) duration(s scope, key string, n *yaml.Node, positive bool) (time.Duration, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		p.typeError(s, key, n, "a duration like 500ms or 5s")
		return 0, false
	}
	d, err := time.ParseDuration(n.Value)
	switch {
	case err != nil:
		p.errorf(s, n, "bad duration %q for %s: use a number with a unit, like 500ms or 5s", n.Value, s.key(key))
	case d < 0:
		p.errorf(s, n, "bad duration %q for %s: must not be negative", n.Value, s.key(key))
	case d == 0 && positive:
		p.errorf(s, n, "bad duration %q for %s: must be more than zero", n.Value, s.key(key))
	default:
		return d, true
	}
	return 0, false
}

// list reads a list of scalars, or a lone scalar as a one-item list. want
// describes the list for type errors ("a list of task names").
func (p *parser) list(s scope, key string, n *yaml.Node, want string) ([]item, bool) {
	n = resolve(n)
	switch {
	case n.Kind == yaml.ScalarNode && !isNull(n):
		return []item{{n.Value, n}}, true
	case n.Kind != yaml.SequenceNode:
		p.typeError(s, key, n, want)
		return nil, false
	}
	out := make([]item, 0, len(n.Content))
	ok := true
	for i, c := range n.Content {
		c = resolve(c)
		if c.Kind != yaml.ScalarNode || isNull(c) {
			p.typeError(s, fmt.Sprintf("%s[%d]", key, i), c, "a string")
			ok = false
			continue
		}
		if c.Value == "" {
			p.errorf(s, c, "%s[%d]: empty string", s.key(key), i)
			ok = false
			continue
		}
		out = append(out, item{c.Value, c})
	}
	return out, ok
}
