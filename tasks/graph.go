package tasks

import (
	"container/heap"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Plan returns targets and everything they depend on, deps before
// dependents, each task once. Among tasks whose deps are all placed, the
// smallest name comes first, so the order is the same on every run. With
// no targets it plans every task. An unknown target is an error naming the
// known tasks.
func (c *Config) Plan(targets ...string) ([]string, error) {
	if len(targets) == 0 {
		targets = c.Names
	}
	need := map[string]bool{}
	var stack []string
	for _, name := range targets {
		if c.Tasks[name] == nil {
			return nil, fmt.Errorf("unknown task %q (tasks: %s)", name, strings.Join(c.Names, ", "))
		}
		stack = append(stack, name)
	}
	for len(stack) > 0 {
		name := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if need[name] {
			continue
		}
		need[name] = true
		for _, d := range c.Tasks[name].Deps {
			if c.Tasks[d] == nil {
				return nil, fmt.Errorf("task %q: unknown dependency %q", name, d)
			}
			stack = append(stack, d)
		}
	}
	return c.order(need)
}

// order sorts the tasks in need topologically (Kahn's algorithm, smallest
// ready name first).
func (c *Config) order(need map[string]bool) ([]string, error) {
	waiting := map[string]int{} // task -> deps not yet placed
	dependents := map[string][]string{}
	ready := &nameHeap{}
	for name := range need {
		deps := uniq(c.Tasks[name].Deps)
		waiting[name] = len(deps)
		for _, d := range deps {
			dependents[d] = append(dependents[d], name)
		}
		if len(deps) == 0 {
			heap.Push(ready, name)
		}
	}
	plan := make([]string, 0, len(need))
	for ready.Len() > 0 {
		name := heap.Pop(ready).(string)
		plan = append(plan, name)
		for _, dep := range dependents[name] {
			waiting[dep]--
			if waiting[dep] == 0 {
				heap.Push(ready, dep)
			}
		}
	}
	if len(plan) < len(need) {
		var stuck []string
		for name, n := range waiting {
			if n > 0 {
				stuck = append(stuck, name)
			}
		}
		sort.Strings(stuck)
		return nil, fmt.Errorf("dependency cycle among tasks: %s", strings.Join(stuck, ", "))
	}
	return plan, nil
}

func uniq(names []string) []string {
	seen := make(map[string]bool, len(names))
	out := make([]string, 0, len(names))
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// nameHeap is a min-heap of task names.
type nameHeap []string

func (h nameHeap) Len() int           { return len(h) }
func (h nameHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h nameHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nameHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *nameHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Dependents returns the names of the tasks that list name in deps, sorted.
func (c *Config) Dependents(name string) []string {
	var out []string
	for _, n := range c.Names {
		if slices.Contains(c.Tasks[n].Deps, name) {
			out = append(out, n)
		}
	}
	return out
}

// Services returns the service names, sorted.
func (c *Config) Services() []string {
	var out []string
	for _, n := range c.Names {
		if c.Tasks[n].Kind == Service {
			out = append(out, n)
		}
	}
	return out
}

// checkGraph reports unknown dependencies and cycles. depNodes holds, per
// task, the position of each entry of its Deps.
func (p *parser) checkGraph(c *Config, depPos map[string][]Pos) {
	known := strings.Join(c.Names, ", ")
	for _, name := range c.Names {
		for i, d := range c.Tasks[name].Deps {
			if c.Tasks[d] == nil {
				p.errs = append(p.errs, &Error{File: p.file, Pos: depPos[name][i],
					Msg: fmt.Sprintf("task %q: unknown dependency %q (tasks: %s)", name, d, known)})
			}
		}
	}
	const (
		white = iota // not visited
		grey         // on the current path
		black        // done
	)
	color := map[string]int{}
	var path []string
	var visit func(name string)
	visit = func(name string) {
		color[name] = grey
		path = append(path, name)
		for i, d := range c.Tasks[name].Deps {
			switch {
			case c.Tasks[d] == nil:
			case color[d] == grey:
				at := indexOf(path, d)
				cycle := append(append([]string(nil), path[at:]...), d)
				p.errs = append(p.errs, &Error{File: p.file, Pos: depPos[name][i],
					Msg: "dependency cycle: " + strings.Join(cycle, " -> ")})
			case color[d] == white:
				visit(d)
			}
		}
		path = path[:len(path)-1]
		color[name] = black
	}
	for _, name := range c.Names {
		if color[name] == white {
			visit(name)
		}
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
