package cli

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/procman/procman/tasks"
)

// TestCheckNames pins what procman logs says, with no supervisor running,
// of a name that is no task of the config.
func TestCheckNames(t *testing.T) {
	dir := writeFiles(t, map[string]string{"Procfile.yaml": "tasks:\n  web: {cmd: x, service: true, replicas: 2}\n  build: x\n  db: {cmd: x, service: true}\n"})
	cfg, err := tasks.Load(filepath.Join(dir, "Procfile.yaml"), tasks.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		cfg   *tasks.Config
		names []string
		want  string
	}{
		{"every task", cfg, nil, ""},
		{"tasks and services", cfg, []string{"build", "web", "db"}, ""},
		{"replicas, past the config's count too (up -m, scale)", cfg, []string{"web.2", "web.5", "db.2"}, ""},
		{"a typo", cfg, []string{"web", "wbe"}, "logs: wbe is no task of Procfile.yaml (tasks: build, db, web)"},
		{"a plain task has no replicas", cfg, []string{"build.1"}, "logs: build.1 is no task of Procfile.yaml (tasks: build, db, web)"},
		{"no replica 0", cfg, []string{"web.0"}, "logs: web.0 is no task of Procfile.yaml (tasks: build, db, web)"},
		{"no config to go by", nil, []string{"wbe"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkNames(tt.cfg, tt.names)
			got := ""
			if err != nil {
				got = err.Error()
				if ue := (*usageError)(nil); !errors.As(err, &ue) {
					t.Errorf("error %v is no usage error (exit 2)", err)
				}
			}
			if got != tt.want {
				t.Errorf("checkNames(%q) = %q, want %q", tt.names, got, tt.want)
			}
		})
	}
}
