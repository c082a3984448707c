package tasks

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// specExample is the Procfile.yaml from SPEC.md section 2.
const specExample = `name: shop
log_level: info
debug: false
interval: 5s
env: {NODE_ENV: development}
env_file: [.env]
watch:
  ignore: ["*.log"]
  debounce: 50ms
  changes_needed: 1

tasks:
  setup:
    cmd: npm install
    once: true
    sources: [package.json, package-lock.json]
    generates: [node_modules/.package-lock.json]
    watch:
      paths: [package.json, package-lock.json]
  serve:
    desc: the web server
    cmd: npm start
    deps: [setup]
    service: true
    dir: web
    env: {PORT: "3000"}
    restart: always
    backoff: 500ms
    max_restarts: 0
    stop_signal: TERM
    stop_timeout: 5s
    ready:
      log: "listening on"
      timeout: 30s
    watch:
      paths: [src]
      ignore: ["*.test.js", "dist/**"]
      changes_needed: 3
      debounce: 20ms
`

func TestLoadSpecExample(t *testing.T) {
	c, dir, err := loadYAMLText(t, specExample, map[string]string{".env": "SECRET=s3\n"}, LoadOptions{Environ: []string{"HOME=/home/u"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "shop" || c.LogLevel != "info" || c.Debug || c.Interval != 5*time.Second {
		t.Errorf("top level: name %q, log_level %q, debug %v, interval %v", c.Name, c.LogLevel, c.Debug, c.Interval)
	}
	if c.File != filepath.Join(dir, "Procfile.yaml") || c.Dir != dir {
		t.Errorf("File %q, Dir %q", c.File, c.Dir)
	}
	wantEnv := []string{"HOME=/home/u", "SECRET=s3", "NODE_ENV=development"}
	if !reflect.DeepEqual(c.Env, wantEnv) {
		t.Errorf("Env = %q, want %q", c.Env, wantEnv)
	}
	if !reflect.DeepEqual(c.Names, []string{"serve", "setup"}) {
		t.Errorf("Names = %q", c.Names)
	}
	setup := c.Tasks["setup"]
	wantSetup := &Task{
		Name: "setup", Cmd: Command{Argv: []string{"npm", "install"}, Raw: "npm install"},
		Kind: Once, Dir: dir, Env: map[string]string{}, Restart: RestartNever, Replicas: 1,
		Backoff: DefaultBackoff, StopSignal: syscall.SIGTERM, StopTimeout: DefaultStopTimeout,
		Watch: &Watch{
			Paths:    []string{filepath.Join(dir, "package.json"), filepath.Join(dir, "package-lock.json")},
			Ignore:   []string{"*.log"},
			Debounce: 50 * time.Millisecond, ChangesNeeded: 1,
		},
		Sources:   []string{"package.json", "package-lock.json"},
		Generates: []string{"node_modules/.package-lock.json"},
		Pos:       Pos{Line: 13, Col: 3},
	}
	if !reflect.DeepEqual(setup, wantSetup) {
		t.Errorf("setup =\n%+v\nwant\n%+v", setup, wantSetup)
	}
	serve := c.Tasks["serve"]
	if serve.Ready == nil || serve.Ready.Log == nil || !serve.Ready.Log.MatchString("now listening on :3000") {
		t.Fatalf("serve.Ready = %+v, want a log probe matching the line", serve.Ready)
	}
	serve.Ready.Log = nil // compared above
	wantServe := &Task{
		Name: "serve", Desc: "the web server",
		Cmd:  Command{Argv: []string{"npm", "start"}, Raw: "npm start"},
		Deps: []string{"setup"}, Kind: Service, Dir: filepath.Join(dir, "web"),
		Env: map[string]string{"PORT": "3000"}, Restart: RestartAlways, Replicas: 1,
		Backoff: 500 * time.Millisecond, StopSignal: syscall.SIGTERM, StopTimeout: 5 * time.Second,
		Ready: &Ready{Timeout: 30 * time.Second},
		Watch: &Watch{
			Paths:    []string{filepath.Join(dir, "web", "src")},
			Ignore:   []string{"*.log", "*.test.js", "dist/**"},
			Debounce: 20 * time.Millisecond, ChangesNeeded: 3,
		},
		Pos: Pos{Line: 20, Col: 3},
	}
	if !reflect.DeepEqual(serve, wantServe) {
		t.Errorf("serve =\n%+v\nwant\n%+v", serve, wantServe)
	}
}

func TestLoadDefaults(t *testing.T) {
	c := mustLoad(t, "tasks:\n  build: go build ./...\n")
	dir := c.Dir
	if c.Name != filepath.Base(dir) || c.LogLevel != "" || c.Interval != DefaultInterval {
		t.Errorf("Name %q (dir %q), LogLevel %q, Interval %v", c.Name, dir, c.LogLevel, c.Interval)
	}
	if want := (Watch{Debounce: DebounceAuto, ChangesNeeded: 1}); !reflect.DeepEqual(c.WatchDefaults, want) {
		t.Errorf("WatchDefaults = %+v, want %+v", c.WatchDefaults, want)
	}
	want := &Task{
		Name: "build", Cmd: Command{Argv: []string{"go", "build", "./..."}, Raw: "go build ./..."},
		Kind: Plain, Dir: dir, Env: map[string]string{}, Restart: RestartNever, Replicas: 1,
		Backoff: DefaultBackoff, StopSignal: syscall.SIGTERM, StopTimeout: DefaultStopTimeout,
		Pos: Pos{Line: 2, Col: 3},
	}
	if got := c.Tasks["build"]; !reflect.DeepEqual(got, want) {
		t.Errorf("build =\n%+v\nwant\n%+v", got, want)
	}
}

// taskOptionTests check one parsed field of task "t" each.
var taskOptionTests = []struct {
	name string
	yaml string // the task "t", indented under tasks:
	got  func(c *Config, t *Task) any
	want func(c *Config) any
}{
	{
		name: "service defaults",
		yaml: "cmd: x\nservice: true",
		got:  func(_ *Config, t *Task) any { return []any{t.Kind, t.Restart, t.Backoff, t.MaxRestarts, t.Ready} },
		want: func(*Config) any { return []any{Service, RestartAlways, DefaultBackoff, 0, (*Ready)(nil)} },
	},
	{
		name: "watch true watches the task dir with the top-level defaults",
		yaml: "cmd: x\ndir: sub/dir\nwatch: true",
		got:  func(_ *Config, t *Task) any { return *t.Watch },
		want: func(c *Config) any {
			return Watch{Paths: []string{filepath.Join(c.Dir, "sub", "dir")}, Ignore: []string{"tmp/**"}, Debounce: time.Second, ChangesNeeded: 2}
		},
	},
	{
		name: "watch false is no watch",
		yaml: "cmd: x\nwatch: false",
		got:  func(_ *Config, t *Task) any { return t.Watch },
		want: func(*Config) any { return (*Watch)(nil) },
	},
	{
		name: "watch list is paths relative to dir",
		yaml: "cmd: x\ndir: web\nwatch: [src, ../shared, /abs/x]",
		got:  func(_ *Config, t *Task) any { return t.Watch.Paths },
		want: func(c *Config) any {
			return []string{filepath.Join(c.Dir, "web", "src"), filepath.Join(c.Dir, "shared"), "/abs/x"}
		},
	},
	{
		name: "absolute dir",
		yaml: "cmd: x\ndir: /tmp/../srv",
		got:  func(_ *Config, t *Task) any { return t.Dir },
		want: func(*Config) any { return "/srv" },
	},
	{
		name: "stop signal spellings",
		yaml: "cmd: x\nstop_signal: sigint",
		got:  func(_ *Config, t *Task) any { return t.StopSignal },
		want: func(*Config) any { return syscall.SIGINT },
	},
	{
		name: "tcp probe port number",
		yaml: "cmd: x\nservice: true\nready: {tcp: 3000, timeout: 2s}",
		got:  func(_ *Config, t *Task) any { return *t.Ready },
		want: func(*Config) any { return Ready{TCP: "127.0.0.1:3000", Timeout: 2 * time.Second} },
	},
	{
		name: "http probe",
		yaml: "cmd: x\nservice: true\nready: {http: 'http://localhost:8080/health'}",
		got:  func(_ *Config, t *Task) any { return t.Ready.HTTP },
		want: func(*Config) any { return "http://localhost:8080/health" },
	},
	{
		name: "exec probe is routed like cmd",
		yaml: "cmd: x\nservice: true\nready: {exec: 'pg_isready -q || exit 1'}",
		got:  func(_ *Config, t *Task) any { return *t.Ready.Exec },
		want: func(*Config) any { return shellCommand("pg_isready -q || exit 1") },
	},
	{
		name: "env values are stringified",
		yaml: "cmd: x\nenv: {N: 3, B: true, F: 1.50, E: , S: hi}",
		got:  func(_ *Config, t *Task) any { return t.Env },
		want: func(*Config) any { return map[string]string{"N": "3", "B": "true", "F": "1.50", "E": "", "S": "hi"} },
	},
	{
		name: "once with sources",
		yaml: "cmd: x\nonce: true\nsources: '**/*.go'\ngenerates: [bin/app]",
		got:  func(_ *Config, t *Task) any { return []any{t.Kind, t.Sources, t.Generates} },
		want: func(*Config) any { return []any{Once, []string{"**/*.go"}, []string{"bin/app"}} },
	},
	{
		name: "list cmd is argv",
		yaml: "cmd: [echo, 'a b', '$HOME', 5]",
		got:  func(_ *Config, t *Task) any { return t.Cmd },
		want: func(*Config) any {
			return Command{Argv: []string{"echo", "a b", "$HOME", "5"}, Raw: "echo a b $HOME 5"}
		},
	},
}

func TestLoadTaskOptions(t *testing.T) {
	for _, tt := range taskOptionTests {
		t.Run(tt.name, func(t *testing.T) {
			text := "watch: {ignore: ['tmp/**'], debounce: 1s, changes_needed: 2}\ntasks:\n  t:\n    " +
				strings.ReplaceAll(tt.yaml, "\n", "\n    ") + "\n"
			c := mustLoad(t, text)
			got, want := tt.got(c, c.Tasks["t"]), tt.want(c)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %#v, want %#v", got, want)
			}
		})
	}
}

func TestLoadMergeKeys(t *testing.T) {
	c := mustLoad(t, `tasks:
  base: &svc
    cmd: run base
    service: true
    stop_timeout: 1s
  api:
    <<: *svc
    cmd: run api
`)
	api := c.Tasks["api"]
	if api.Kind != Service || api.StopTimeout != time.Second || api.Cmd.Raw != "run api" {
		t.Errorf("api: kind %v, stop_timeout %v, cmd %q", api.Kind, api.StopTimeout, api.Cmd.Raw)
	}
}

func TestFind(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string // base name, or the error with DIR for the folder
	}{
		{"yaml first", map[string]string{"Procfile.yaml": "", "Procfile": ""}, "Procfile.yaml"},
		{"plain Procfile", map[string]string{"Procfile": ""}, "Procfile"},
		{"a folder named Procfile.yaml does not count", map[string]string{"Procfile.yaml/x": "", "Procfile": ""}, "Procfile"},
		{"none", map[string]string{"procfile.yml": ""}, "no Procfile.yaml or Procfile in DIR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, tt.files)
			got, err := Find(dir)
			if err != nil {
				got = err.Error()
			} else {
				if filepath.Dir(got) != dir {
					t.Errorf("Find = %q, not in %q", got, dir)
				}
				got = filepath.Base(got)
			}
			if want := strings.ReplaceAll(tt.want, "DIR", dir); got != want {
				t.Errorf("Find = %q, want %q", got, want)
			}
		})
	}
}

func TestLoadUnreadable(t *testing.T) {
	p := filepath.Join(t.TempDir(), "Procfile.yaml")
	_, err := Load(p, LoadOptions{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load of a missing file: %v, want a not-exist error", err)
	}
	if want := "read config: open " + p + ": no such file or directory"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

// BenchmarkLoad loads procman's own Procfile.yaml (three tasks, a watch
// block, env, a ready probe): what every procman command does first.
func BenchmarkLoad(b *testing.B) {
	path, err := filepath.Abs("../Procfile.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		c, err := Load(path, LoadOptions{Environ: os.Environ()})
		if err != nil || len(c.Tasks) != 3 {
			b.Fatalf("%v tasks, err %v", len(c.Tasks), err)
		}
	}
}

func TestLoadDebounce(t *testing.T) {
	tests := []struct {
		name, value string
		want        time.Duration
	}{
		{"auto", "auto", DebounceAuto},
		{"fixed", "20ms", 20 * time.Millisecond},
		{"zero", "0s", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, "watch: {debounce: "+tt.value+"}\ntasks:\n  t: {cmd: x, watch: true}\n")
			if got := c.Tasks["t"].Watch.Debounce; got != tt.want {
				t.Errorf("debounce %s = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

func TestLoadReadyWithVars(t *testing.T) {
	c := mustLoad(t, "tasks:\n  a: {cmd: x, service: true, ready: {tcp: $PORT}}\n  b: {cmd: x, service: true, ready: {http: \"http://127.0.0.1:${PORT}/health\"}}\n")
	if got := c.Tasks["a"].Ready.TCP; got != "127.0.0.1:$PORT" {
		t.Errorf("tcp = %q", got)
	}
	if got := c.Tasks["b"].Ready.HTTP; got != "http://127.0.0.1:${PORT}/health" {
		t.Errorf("http = %q", got)
	}
}
