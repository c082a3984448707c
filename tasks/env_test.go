package tasks

import (
	"reflect"
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
