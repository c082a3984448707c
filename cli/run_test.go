package cli

import (
	"slices"
	"testing"

	"github.com/procman/procman/runner"
	"github.com/procman/procman/tasks"
)

func TestPrintedNames(t *testing.T) {
	cfg := &tasks.Config{Tasks: map[string]*tasks.Task{
		"setup":  {Name: "setup", Kind: tasks.Once, Replicas: 1},
		"web":    {Name: "web", Kind: tasks.Service, Replicas: 2},
		"worker": {Name: "worker", Kind: tasks.Service, Replicas: 1},
		"clock":  {Name: "clock", Kind: tasks.Service, Replicas: 0},
	}}
	order := []string{"setup", "web", "worker", "clock"}
	tests := []struct {
		name      string
		formation map[string]int
		want      []string
	}{
		{"replicas:", nil, []string{"setup", "web.1", "web.2", "worker"}},
		{"-m", map[string]int{"web": 1, "worker": 2, "clock": 1}, []string{"setup", "web", "worker.1", "worker.2", "clock"}},
		{"-m none", map[string]int{"web": 0}, []string{"setup", "worker"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := printedNames(cfg, order, tc.formation); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEndsWhenDone(t *testing.T) {
	cfg := &tasks.Config{Tasks: map[string]*tasks.Task{
		"setup": {Name: "setup", Kind: tasks.Once},
		"build": {Name: "build", Kind: tasks.Plain},
		"gen":   {Name: "gen", Kind: tasks.Plain, Watch: &tasks.Watch{}},
		"web":   {Name: "web", Kind: tasks.Service},
	}}
	tests := []struct {
		name  string
		order []string
		o     runner.Options
		want  bool
	}{
		{"once and plain tasks", []string{"setup", "build"}, runner.Options{Supervise: true, Watch: true}, true},
		{"a service", []string{"setup", "web"}, runner.Options{Supervise: true, Watch: true}, false},
		{"a watched task", []string{"gen"}, runner.Options{Supervise: true, Watch: true}, false},
		{"a watched task, --no-watch", []string{"gen"}, runner.Options{Supervise: true}, true},
		{"procman watch", []string{"build"}, runner.Options{Supervise: true, Watch: true, Persist: true}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := endsWhenDone(cfg, tc.order, tc.o); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
