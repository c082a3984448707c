package cli

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/procman/procman/tasks"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite the golden files in ../testdata/ from the output")

// exportProcfile exercises every mapping: a once task and a plain task as
// deps, a shell command with $ in a subfolder, an argv command with quotes
// and %, a task that nothing asks for, env from the config, a task and the
// environment.
const exportProcfile = `name: shop
env:
  GREETING: 'hi 100% "there"'
  MULTI: "one\ntwo"
tasks:
  setup:
    desc: install the tools
    cmd: tool install
    once: true
  gen: tool gen
  serve:
    desc: the web server
    cmd: server --port $PORT
    deps: [setup, gen]
    service: true
    dir: web
    env: {PORT: "3000"}
    backoff: 250ms
    stop_signal: INT
    stop_timeout: 2s
    max_restarts: 3
    ready: {tcp: "3000"}
  worker:
    cmd: [tool, "it's", "$1 50%"]
    service: true
    restart: on-failure
    deps: [serve]
  lint: tool lint
`

// exportProject writes exportProcfile and an executable bin/tool into a
// temporary folder and loads it with PATH holding only bin.
func exportProject(t *testing.T) (*tasks.Config, systemdOptions) {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{"Procfile.yaml": exportProcfile, "bin/tool": "#!/bin/sh\n", "web/.keep": ""} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	environ := []string{"PATH=" + filepath.Join(dir, "bin"), "HOME=/home/someone", "GREETING=from the environment"}
	cfg, err := tasks.Load(filepath.Join(dir, "Procfile.yaml"), tasks.LoadOptions{Environ: environ})
	if err != nil {
		t.Fatal(err)
	}
	return cfg, systemdOptions{Environ: environ, Own: ownEnv(cfg, environ, 0)}
}

func TestExportSystemd_Golden(t *testing.T) {
	cfg, opts := exportProject(t)
	units, warnings, err := systemdUnits(cfg, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %q", warnings)
	}
	var buf bytes.Buffer
	if err := printUnits(&buf, units); err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(buf.String(), cfg.Dir, "/project")
	checkGolden(t, filepath.Join("..", "testdata", "export", "shop.golden"), got)
}

// checkGolden compares got with the golden file, after writing it there
// with -update-golden (then git diff shows what changed).
func checkGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *updateGolden {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -run Golden -update-golden, then git diff):\n%s", golden, got)
	}
}

func TestExportSystemd_VerifiesWithSystemdAnalyze(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("no systemd-analyze")
	}
	cfg, opts := exportProject(t)
	units, _, err := systemdUnits(cfg, []string{"worker", "lint"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "units")
	if err := saveUnits(out, units); err != nil {
		t.Fatal(err)
	}
	args := []string{"verify", "--man=no"}
	for _, u := range units {
		args = append(args, filepath.Join(out, u.Name))
	}
	b, err := exec.Command(analyze, args...).CombinedOutput()
	if err != nil || len(b) > 0 {
		t.Errorf("systemd-analyze %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	for _, u := range units {
		fi, err := os.Stat(filepath.Join(out, u.Name))
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o600) // units with Environment= lines hold the env files' values
		if strings.HasSuffix(u.Name, ".target") {
			want = 0o644
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", u.Name, fi.Mode().Perm(), want)
		}
	}
}

func TestExportSystemd_Selection(t *testing.T) {
	cfg, opts := exportProject(t)
	tests := []struct {
		name    string
		targets []string
		app     string
		want    []string
		err     string
	}{
		{"every service and its deps", nil, "", []string{"shop.target", "shop-gen.service", "shop-setup.service", "shop-serve.service", "shop-worker.service"}, ""},
		{"a plain task alone", []string{"lint"}, "", []string{"shop.target", "shop-lint.service"}, ""},
		{"--app names the units", []string{"lint"}, "my app!", []string{"my-app.target", "my-app-lint.service"}, ""},
		{"unknown task", []string{"nope"}, "", nil, `unknown task "nope" (tasks: gen, lint, serve, setup, worker)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts.App = tt.app
			units, _, err := systemdUnits(cfg, tt.targets, opts)
			if tt.err != "" || err != nil {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			var names []string
			for _, u := range units {
				names = append(names, u.Name)
			}
			if !reflect.DeepEqual(names, tt.want) {
				t.Errorf("units %q, want %q", names, tt.want)
			}
		})
	}
}

func TestExportSystemd_NoServicesAndMissingPrograms(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "Procfile.yaml")
	if err := os.WriteFile(p, []byte("tasks:\n  build: nosuchtool build\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := tasks.Load(p, tasks.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = systemdUnits(cfg, nil, systemdOptions{})
	if want := p + " has no services to export: name the tasks to export"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	units, warnings, err := systemdUnits(cfg, []string{"build"}, systemdOptions{Environ: []string{"PATH=" + dir}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`task "build": "nosuchtool" is not on PATH; ExecStart names it bare and systemd looks for it on its own PATH`}
	if !reflect.DeepEqual(warnings, want) {
		t.Errorf("warnings %q, want %q", warnings, want)
	}
	if !strings.Contains(units[1].Text, "\nExecStart=nosuchtool build\n") {
		t.Errorf("unit:\n%s", units[1].Text)
	}
}

func TestExecLine(t *testing.T) {
	tests := []struct {
		name string
		argv []string
		want string
	}{
		{"plain words", []string{"/usr/bin/node", "server.js", "--port=3000"}, "/usr/bin/node server.js --port=3000"},
		{"shell command", []string{"/bin/sh", "-c", "echo $PORT | tee out"}, `/bin/sh -c 'echo $$PORT | tee out'`},
		{"single quote inside", []string{"/bin/echo", "it's"}, `/bin/echo "it's"`},
		{"backslash and double quote", []string{"/bin/echo", `a\b "c"`}, `/bin/echo 'a\\b "c"'`},
		{"percent is a specifier", []string{"/bin/date", "+%s"}, "/bin/date +%%s"},
		{"empty word and control characters", []string{"/bin/printf", "", "a\nb\x01"}, `/bin/printf '' 'a\nb\x01'`},
		{"semicolon is quoted", []string{"/bin/echo", ";"}, `/bin/echo ';'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := execLine(tt.argv); got != tt.want {
				t.Errorf("execLine(%q) = %s, want %s", tt.argv, got, tt.want)
			}
		})
	}
}

func TestSdDurationAndUnitSafe(t *testing.T) {
	durations := []struct {
		d    time.Duration
		want string
	}{
		{0, "0"}, {5 * time.Second, "5s"}, {90 * time.Second, "90s"}, {500 * time.Millisecond, "500ms"},
		{1500 * time.Millisecond, "1500ms"}, {1500 * time.Microsecond, "1500us"},
	}
	for _, tt := range durations {
		if got := sdDuration(tt.d); got != tt.want {
			t.Errorf("sdDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	names := map[string]string{"shop": "shop", "My App": "My-App", "a//b": "a-b", "café": "caf", "-x-": "x", "": "procman", "x.y_z:1-2": "x.y_z:1-2"}
	for in, want := range names {
		if got := unitSafe(in); got != want {
			t.Errorf("unitSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
