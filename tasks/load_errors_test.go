package tasks

import (
	"strings"
	"testing"
)

// loadErrorTests pin every config error message, with its position.
var loadErrorTests = []struct {
	name  string
	yaml  string
	extra map[string]string // more files beside Procfile.yaml
	want  string
}{
	{
		name: "unknown dependency and cycle",
		yaml: `tasks:
  a:
    cmd: echo a
    deps: [b, x]
  b:
    cmd: echo b
    deps: [a]
`,
		want: `Procfile.yaml:4:15: task "a": unknown dependency "x" (tasks: a, b)
Procfile.yaml:7:12: dependency cycle: a -> b -> a`,
	},
	{
		name: "self dependency",
		yaml: "tasks:\n  c: {cmd: x, deps: [c]}\n",
		want: `Procfile.yaml:2:22: dependency cycle: c -> c`,
	},
	{
		name: "two cycles through one task, each reported once",
		yaml: `tasks:
  a: {cmd: x, deps: [z]}
  m: {cmd: x, deps: [n]}
  n: {cmd: x, deps: [z, m]}
  z: {cmd: x, deps: [n]}
`,
		// DFS from a reaches z, then n, whose dep z closes the first
		// cycle; n's next dep m closes the second, back at n.
		want: `Procfile.yaml:3:22: dependency cycle: n -> m -> n
Procfile.yaml:4:22: dependency cycle: z -> n -> z`,
	},
	{
		name: "unknown key with suggestion",
		yaml: "tasks:\n  a: {cmmd: x}\n",
		want: `Procfile.yaml:2:3: task "a": missing cmd
Procfile.yaml:2:7: task "a": unknown key "cmmd" (did you mean "cmd"?)`,
	},
	{
		name: "unknown top-level key and no tasks",
		yaml: "taks: {}\n",
		want: `Procfile.yaml:1:1: unknown key "taks" (did you mean "tasks"?)
Procfile.yaml: no tasks defined`,
	},
	{
		name: "unknown key without a close match",
		yaml: "tasks:\n  a: {cmd: x, colour: red}\n",
		want: `Procfile.yaml:2:15: task "a": unknown key "colour"`,
	},
	{
		name: "wrong types and service-only keys on a plain task",
		yaml: `tasks:
  a:
    cmd: go build
    deps: {b: 1}
    service: "yes"
    backoff: 5x
    restart: always
    max_restarts: 3
    ready: {log: "("}
`,
		want: `Procfile.yaml:4:11: task "a": deps: want a list of task names, got a mapping
Procfile.yaml:5:14: task "a": service: want true or false, got a string
Procfile.yaml:6:5: task "a": backoff is only for services (add service: true)
Procfile.yaml:6:14: task "a": bad duration "5x" for backoff: use a number with a unit, like 500ms or 5s
Procfile.yaml:7:5: task "a": restart is only for services (add service: true)
Procfile.yaml:8:5: task "a": max_restarts is only for services (add service: true)
Procfile.yaml:9:5: task "a": ready is only for services (add service: true)`,
	},
	{
		name: "bad values",
		yaml: `tasks:
  a: {cmd: "echo 'hi", service: true, once: true, stop_signal: FOO, restart: sometimes, max_restarts: -1}
  b c: {cmd: []}
  d: {}
  e:
    cmd: x
    sources: ["[", "a/**"]
    generates: [/abs/out]
    watch: {changes_needed: 0, debounce: -1s, paths: ["src/*"]}
    env: {A: {b: c}}
`,
		want: `Procfile.yaml:2:12: task "a": cmd: unterminated ' quote
Procfile.yaml:2:39: task "a": once and service cannot both be true
Procfile.yaml:2:64: task "a": bad stop_signal "FOO": want TERM, INT, HUP, QUIT, KILL, USR1, USR2 or WINCH
Procfile.yaml:2:78: task "a": bad restart "sometimes": want always, on-failure or never
Procfile.yaml:2:103: task "a": max_restarts: must not be negative, got -1
Procfile.yaml:3:3: bad task name "b c": use letters, digits, '_', '.' and '-'
Procfile.yaml:3:14: task "b c": empty cmd
Procfile.yaml:4:3: task "d": missing cmd
Procfile.yaml:7:15: task "e": sources: bad pattern "[": syntax error in pattern
Procfile.yaml:8:17: task "e": generates: pattern "/abs/out" must be relative to the task's dir
Procfile.yaml:9:29: task "e": watch.changes_needed: must be at least 1, got 0
Procfile.yaml:9:42: task "e": bad debounce "-1s": use auto (the default) or a duration of zero or more, like 20ms
Procfile.yaml:9:55: task "e": watch.paths: "src/*" is a glob: list files or folders, and filter with ignore
Procfile.yaml:10:14: task "e": env.A: want a string, number or boolean, got a mapping`,
	},
	{
		name: "empty and null cmd",
		yaml: "tasks:\n  a: {cmd: '  '}\n  b: {cmd: }\n  c: ''\n",
		want: `Procfile.yaml:2:12: task "a": empty cmd
Procfile.yaml:3:12: task "b": empty cmd
Procfile.yaml:4:6: task "c": empty cmd`,
	},
	{
		name: "top-level values",
		yaml: "log_level: verbose\ninterval: 0s\nenv_file: missing.env\ndebug: 1\ntasks:\n",
		want: `Procfile.yaml:1:12: bad log_level "verbose": want trace, debug, info, warn or error
Procfile.yaml:2:11: bad duration "0s" for interval: must be more than zero
Procfile.yaml:3:11: env_file "missing.env" does not exist
Procfile.yaml:4:8: debug: want true or false, got a number
Procfile.yaml:5:1: no tasks defined`,
	},
	{
		name: "yaml syntax error",
		yaml: "tasks:\n  a: [\n",
		want: `Procfile.yaml:2:3: did not find expected node content`,
	},
	{
		// yaml.v3 says line 1, where the mapping starts
		name: "yaml syntax error far below where its mapping starts",
		yaml: "tasks:\n  a:\n    cmd: echo a\n  b:\n    cmd: echo b\n   deps: [a]\n  c:\n    cmd: echo c\n",
		want: `Procfile.yaml:6:4: did not find expected key`,
	},
	{
		name: "tab in the indentation",
		yaml: "tasks:\n  a:\n\tcmd: echo a\n",
		want: `Procfile.yaml:3:1: a tab in the indentation: YAML indents with spaces only`,
	},
	{
		name: "unclosed flow mapping",
		yaml: "tasks:\n  a:\n    cmd: echo a\n    env: {A: \"1\"\n  b:\n    cmd: echo b\n",
		want: `Procfile.yaml:4:5: did not find expected ',' or '}'`,
	},
	{
		name: "top level is a list",
		yaml: "- a\n",
		want: `Procfile.yaml:1:1: want a mapping at the top level, got a list`,
	},
	{
		name: "empty file",
		yaml: "",
		want: `Procfile.yaml: no tasks defined`,
	},
	{
		name: "tasks is a list",
		yaml: "tasks: [a, b]\n",
		want: `Procfile.yaml:1:8: tasks: want a mapping of task names to tasks, got a list`,
	},
	{
		name: "https probe",
		yaml: "tasks:\n  a: {cmd: x, service: true, ready: {http: \"https://localhost:8443/up\"}}\n",
		want: `Procfile.yaml:2:44: task "a": ready.http: https is not supported (dev certificates rarely verify); probe http://, or use exec: "curl -fsSk https://localhost:8443/up"`,
	},
	{
		name: "ready probes",
		yaml: `tasks:
  a:
    cmd: x
    service: true
    ready: {log: "(", tcp: "3000x", http: foo, exec: "a 'b", timout: 1s}
  b:
    service: true
    cmd: [x, "", {a: b}]
    ready: {}
  e:
    cmd: run
    service: true
    ready: {tcp: "localhost:80", timeout: 0s}
  f:
    cmd: run
    service: true
    ready: log
`,
		want: `Procfile.yaml:5:18: task "a": bad regexp for ready.log: missing closing ): ` + "`(`" + `
Procfile.yaml:5:23: task "a": ready: want one of log, tcp, http or exec, got log and tcp
Procfile.yaml:5:28: task "a": ready.tcp: want host:port or a port number, got "3000x"
Procfile.yaml:5:43: task "a": ready.http: want an http:// URL, got "foo"
Procfile.yaml:5:54: task "a": ready.exec: unterminated ' quote
Procfile.yaml:5:62: task "a": unknown key "timout" in ready (did you mean "timeout"?)
Procfile.yaml:8:14: task "b": cmd[1]: empty string
Procfile.yaml:8:18: task "b": cmd[2]: want a string, got a mapping
Procfile.yaml:9:5: task "b": ready: want one of log, tcp, http or exec
Procfile.yaml:13:43: task "e": bad duration "0s" for ready.timeout: must be more than zero
Procfile.yaml:17:12: task "f": ready: want a mapping with one of log, tcp, http or exec, got a string`,
	},
	{
		name: "duplicates",
		yaml: "tasks:\n  c: {cmd: x, deps: [d, d]}\n  d: x\n  d: y\n",
		want: `Procfile.yaml:2:25: task "c": deps: "d" is listed twice
Procfile.yaml:4:3: duplicate key "d" (first on line 3)`,
	},
	{
		name: "watch blocks",
		yaml: `watch: {paths: [x], ignore: ["[a"], debounce: 5}
tasks:
  a: {cmd: x, watch: "yes", desc: [a]}
`,
		want: `Procfile.yaml:1:9: unknown key "paths" in watch
Procfile.yaml:1:30: watch.ignore: bad pattern "[a": syntax error in pattern
Procfile.yaml:1:47: bad debounce "5": use auto (the default) or a duration of zero or more, like 20ms
Procfile.yaml:3:22: task "a": watch: want a mapping, a list of paths or true, got a string
Procfile.yaml:3:35: task "a": desc: want a string, got a list`,
	},
	{
		name:  "env file errors name the env file",
		yaml:  "env_file: [bad.env]\nenv: [A]\ntasks: {a: x}\n",
		extra: map[string]string{"bad.env": "A=1\noops\n"},
		want: `Procfile.yaml:2:6: env: want a mapping of names to values, got a list
bad.env:2: want KEY=VALUE, got "oops"`,
	},
	{
		name: "replicas",
		yaml: "tasks:\n  web: {cmd: x, service: true, replicas: -1}\n  job: {cmd: x, replicas: 2}\n  api: {cmd: x, service: true}\n  api.2: {cmd: x}\n",
		want: `Procfile.yaml:2:42: task "web": replicas: must not be negative, got -1
Procfile.yaml:3:17: task "job": replicas is only for services (add service: true)
Procfile.yaml:5:3: task "api.2" is named like replica 2 of service "api": rename it`,
	},
	{
		name: "procman is reserved, in any case",
		yaml: "tasks:\n  procman: x\n  Procman: {cmd: x}\n  procman-web: x\n",
		want: `Procfile.yaml:2:3: task name "procman" is reserved for procman's own messages: rename the task
Procfile.yaml:3:3: task name "Procman" is reserved for procman's own messages: rename the task`,
	},
	{
		name: "numbers out of range",
		yaml: "tasks:\n  a: {cmd: x, service: true, max_restarts: 99999999999, watch: {changes_needed: 1.5}}\n",
		want: `Procfile.yaml:2:44: task "a": max_restarts: "99999999999" is out of range
Procfile.yaml:2:81: task "a": watch.changes_needed: want a whole number, got a number`,
	},
}

func TestLoadErrors(t *testing.T) {
	for _, tt := range loadErrorTests {
		t.Run(tt.name, func(t *testing.T) {
			c, dir, err := loadYAMLText(t, tt.yaml, tt.extra, LoadOptions{})
			if err == nil {
				t.Fatalf("Load succeeded (%d tasks), want errors:\n%s", len(c.Tasks), tt.want)
			}
			if got := errText(t, err, dir); got != tt.want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// TestLoadErrorsDeterministic loads a config with several cycles many times
// and wants the same report every time.
func TestLoadErrorsDeterministic(t *testing.T) {
	var yaml strings.Builder
	yaml.WriteString("tasks:\n")
	for _, n := range []string{"q", "b", "x", "a", "m", "k"} {
		yaml.WriteString("  " + n + ": {cmd: x, deps: [q, b, x, a, m, k]}\n")
	}
	var first string
	for i := range 20 {
		_, dir, err := loadYAMLText(t, yaml.String(), nil, LoadOptions{})
		got := errText(t, err, dir)
		if i == 0 {
			first = got
			if !strings.HasPrefix(got, "Procfile.yaml:2:") || !strings.Contains(got, "dependency cycle: a -> ") {
				t.Fatalf("unexpected report:\n%s", got)
			}
		} else if got != first {
			t.Fatalf("run %d:\n%s\nfirst run:\n%s", i, got, first)
		}
	}
}
