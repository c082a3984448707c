package tasks

import (
	"reflect"
	"slices"
	"testing"
)

func TestConfigEnv(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		files   map[string]string
		environ []string
		want    []string
	}{
		{
			name:    "environment, then .env, then env; one entry per key in first-seen order",
			yaml:    "env: {B: yaml, D: yaml}\ntasks: {t: x}\n",
			files:   map[string]string{".env": "C=file\nA=file\n"},
			environ: []string{"A=proc", "B=proc", "junk", "A=proc2"},
			want:    []string{"A=file", "B=yaml", "C=file", "D=yaml"},
		},
		{
			name:    "env files in order, each seeing what came before",
			yaml:    "env_file: [one.env, sub/two.env]\ntasks: {t: x}\n",
			files:   map[string]string{".env": "IGNORED=1\n", "one.env": "X=${HOME}/x\n", "sub/two.env": "Y=${X}/y\nX=two\n"},
			environ: []string{"HOME=/h"},
			want:    []string{"HOME=/h", "X=two", "Y=/h/x/y"},
		},
		{
			name:  "env_file: [] turns the default .env off",
			yaml:  "env_file: []\ntasks: {t: x}\n",
			files: map[string]string{".env": "A=1\n"},
			want:  []string{},
		},
		{
			name:  "env_file as one string",
			yaml:  "env_file: local.env\ntasks: {t: x}\n",
			files: map[string]string{"local.env": "A=1\n"},
			want:  []string{"A=1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := loadYAMLText(t, tt.yaml, tt.files, LoadOptions{Environ: tt.environ})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Env, tt.want) {
				t.Errorf("Env = %q, want %q", c.Env, tt.want)
			}
		})
	}
}

func TestEnviron(t *testing.T) {
	c := &Config{Env: []string{"PATH=/bin", "PORT=5000", "A=1"}}
	tests := []struct {
		name string
		task map[string]string
		want []string
	}{
		{"no task env", nil, []string{"PATH=/bin", "PORT=5000", "A=1"}},
		{"task wins in place, new keys sorted at the end", map[string]string{"Z": "z", "PORT": "3000", "B": "b"},
			[]string{"PATH=/bin", "PORT=3000", "A=1", "B=b", "Z=z"}},
		{"empty value kept", map[string]string{"A": ""}, []string{"PATH=/bin", "PORT=5000", "A="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Environ(&Task{Env: tt.task})
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Environ = %q, want %q", got, tt.want)
			}
		})
	}
	if !reflect.DeepEqual(c.Env, []string{"PATH=/bin", "PORT=5000", "A=1"}) {
		t.Errorf("Environ changed c.Env: %q", c.Env)
	}
}

func TestReplicaEnviron(t *testing.T) {
	c := mustLoad(t, "env: {PORT: \"3000\"}\ntasks:\n  web: {cmd: x, service: true, replicas: 3}\n  worker: {cmd: x, service: true, replicas: 2, env: {PORT: \"\"}}\n")
	for _, tt := range []struct {
		task     string
		i        int
		ps, port string
	}{
		{"web", 1, "web.1", "3000"},
		{"web", 3, "web.3", "3002"},
		{"worker", 2, "worker.2", ""}, // no number: left as it is
	} {
		env := c.ReplicaEnviron(c.Tasks[tt.task], tt.i)
		if !slices.Contains(env, "PS="+tt.ps) || !slices.Contains(env, "PORT="+tt.port) {
			t.Errorf("%s replica %d: PS=%s PORT=%s not in %q", tt.task, tt.i, tt.ps, tt.port, env)
		}
	}
	if got := c.Tasks["web"].Replicas; got != 3 {
		t.Errorf("web.Replicas = %d, want 3", got)
	}
}

func TestSplitReplica(t *testing.T) {
	for _, tt := range []struct {
		name, task string
		i          int
		ok         bool
	}{
		{"web.2", "web", 2, true},
		{"my.app.10", "my.app", 10, true},
		{"web", "", 0, false},
		{"web.0", "", 0, false},
		{"web.02", "", 0, false},
		{"web.", "", 0, false},
		{".2", "", 0, false},
		{"web.x", "", 0, false},
	} {
		task, i, ok := SplitReplica(tt.name)
		if task != tt.task || i != tt.i || ok != tt.ok {
			t.Errorf("SplitReplica(%q) = %q, %d, %v", tt.name, task, i, ok)
		}
	}
}
