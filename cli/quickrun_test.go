package cli

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestQuickRunMatchesKong checks the fast path of `procman run TASK`
// against kong: where quickRun takes a command line, kong must parse it
// into the same CLI.
func TestQuickRunMatchesKong(t *testing.T) {
	taken := 0
	for _, tc := range []struct {
		args []string
		env  map[string]string
		take bool
	}{
		{[]string{"run", "noop"}, nil, true},
		{[]string{"run", "build.all_x-1"}, nil, true},
		{[]string{"run", "help"}, nil, true},
		{[]string{"run", "run"}, nil, true},
		{[]string{"run", "two words"}, nil, true},
		{[]string{"run", "noop"}, map[string]string{"NO_COLOR": "1", "PORT": "8080"}, true},
		{[]string{"run", "noop"}, map[string]string{"PROCMAN_FILE": "other.yaml"}, false},
		{[]string{"run", "noop"}, map[string]string{"PROCMAN_LOG_LEVEL": "debug"}, false},
		{[]string{"run", "--force", "noop"}, nil, false},
		{[]string{"run", "noop", "--dry-run"}, nil, false},
		{[]string{"run", "noop", "--", "-v"}, nil, false},
		{[]string{"run", "-"}, nil, false},
		{[]string{"run", "--help"}, nil, false},
		{[]string{"run"}, nil, false},
		{[]string{"up", "noop"}, nil, false},
		{[]string{"-C", "dir", "run"}, nil, false},
	} {
		name := strings.Join(tc.args, " ")
		t.Run(name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			quick, ok := quickRun(tc.args, func(k string) string { return tc.env[k] })
			if ok != tc.take {
				t.Fatalf("quickRun took it: %v, want %v", ok, tc.take)
			}
			if !ok {
				return
			}
			taken++
			var cli CLI
			parser, err := newParser(&cli)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := parser.Parse(tc.args); err != nil {
				t.Fatalf("kong: %v", err)
			}
			if !reflect.DeepEqual(*quick, cli) {
				t.Errorf("quickRun gave\n%+v\nkong gave\n%+v", *quick, cli)
			}
		})
	}
	if taken == 0 {
		t.Error("quickRun took no command line")
	}
}

// TestFlagEnvIsComplete keeps flagEnv in step with the env tags of the
// flags `run` takes.
func TestFlagEnvIsComplete(t *testing.T) {
	var tagged []string
	for _, typ := range []reflect.Type{reflect.TypeFor[Globals](), reflect.TypeFor[RunCmd]()} {
		for f := range typ.Fields() {
			if env := f.Tag.Get("env"); env != "" {
				tagged = append(tagged, strings.Split(env, ",")...)
			}
		}
	}
	slices.Sort(tagged)
	want := slices.Clone(flagEnv)
	slices.Sort(want)
	if !slices.Equal(tagged, want) {
		t.Errorf("env tags of run's flags: %v; flagEnv: %v", tagged, want)
	}
}

func TestLogsFollow(t *testing.T) {
	tests := []struct{ in, want string }{
		{"logs -f web", "logs --follow web"},
		{"-f p.yaml logs -f -n 5", "-f p.yaml logs --follow -n 5"},
		{"--color never logs web -f", "--color never logs web --follow"},
		{"-f logs.yaml up", "-f logs.yaml up"},
		{"run logs -f", "run logs -f"},
		{"logs -- -f", "logs -- -f"},
	}
	for _, tt := range tests {
		if got := strings.Join(logsFollow(strings.Fields(tt.in)), " "); got != tt.want {
			t.Errorf("logsFollow(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
