package tasks

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
)

// graphYAML is a small project: a chain, a diamond, and independent tasks.
const graphYAML = `tasks:
  setup: {cmd: npm ci, once: true}
  gen: {cmd: go generate, deps: [setup]}
  build: {cmd: go build, deps: [gen]}
  base: x
  left: {cmd: x, deps: [base]}
  right: {cmd: x, deps: [base]}
  app: {cmd: x, deps: [right, left]}
  db: {cmd: postgres, service: true}
  migrate: {cmd: x, deps: [db, gen]}
  web: {cmd: x, service: true, deps: [migrate, build]}
  zeta: x
  alpha: x
`

func TestPlan(t *testing.T) {
	c := mustLoad(t, graphYAML)
	tests := []struct {
		name    string
		targets []string
		want    []string
	}{
		{"chain", []string{"build"}, []string{"setup", "gen", "build"}},
		{"diamond: shared dep once, ties by name", []string{"app"}, []string{"base", "left", "right", "app"}},
		{"independent targets by name", []string{"zeta", "alpha"}, []string{"alpha", "zeta"}},
		{"target listed twice", []string{"gen", "gen"}, []string{"setup", "gen"}},
		{"shared deps of several targets once", []string{"build", "migrate"}, []string{"db", "setup", "gen", "build", "migrate"}},
		{"a service and what it needs", []string{"web"}, []string{"db", "setup", "gen", "build", "migrate", "web"}},
		{"no targets: everything", nil, []string{"alpha", "base", "db", "left", "right", "app", "setup", "gen", "build", "migrate", "web", "zeta"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 20 { // map iteration must not leak into the order
				got, err := c.Plan(tt.targets...)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("Plan(%q) = %q, want %q", tt.targets, got, tt.want)
				}
			}
		})
	}
}

func TestPlanErrors(t *testing.T) {
	c := mustLoad(t, "tasks: {b: x, a: x, c: x}\n")
	_, err := c.Plan("a", "x")
	if want := `unknown task "x" (tasks: a, b, c)`; err == nil || err.Error() != want {
		t.Errorf("Plan error %v, want %q", err, want)
	}
	// A Config built by hand skips validation; Plan still refuses a cycle.
	hand := &Config{
		Tasks: map[string]*Task{"a": {Name: "a", Deps: []string{"b"}}, "b": {Name: "b", Deps: []string{"a"}}, "c": {Name: "c"}},
		Names: []string{"a", "b", "c"},
	}
	_, err = hand.Plan()
	if want := "dependency cycle among tasks: a, b"; err == nil || err.Error() != want {
		t.Errorf("Plan error %v, want %q", err, want)
	}
}

func TestDependentsAndServices(t *testing.T) {
	c := mustLoad(t, graphYAML)
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"dependents of base", c.Dependents("base"), []string{"left", "right"}},
		{"dependents of gen", c.Dependents("gen"), []string{"build", "migrate"}},
		{"dependents of a leaf", c.Dependents("web"), nil},
		{"services", c.Services(), []string{"db", "web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

// BenchmarkPlan plans the whole of a 200-task graph where each task needs
// up to three earlier ones.
func BenchmarkPlan(b *testing.B) {
	c := &Config{Tasks: map[string]*Task{}}
	for i := range 200 {
		t := &Task{Name: fmt.Sprintf("t%03d", i)}
		for _, d := range []int{i - 1, i / 2, i / 3} {
			if d >= 0 && d < i && !slices.Contains(t.Deps, fmt.Sprintf("t%03d", d)) {
				t.Deps = append(t.Deps, fmt.Sprintf("t%03d", d))
			}
		}
		c.Tasks[t.Name] = t
	}
	c.Names = sortedNames(c.Tasks)
	b.ReportAllocs()
	for b.Loop() {
		plan, err := c.Plan("t199")
		if err != nil || len(plan) != 200 {
			b.Fatalf("plan of %d tasks, err %v", len(plan), err)
		}
	}
}
