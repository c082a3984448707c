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

// replicasProcfile has services of several replicas (with a numeric PORT
// and an argv, with PORT and a shell command, without PORT), one of none
// with a dep that only it needs, and tasks that depend on them.
const replicasProcfile = `name: shop
tasks:
  seed: tool seed
  db:
    cmd: tool db
    service: true
    replicas: 0
    deps: [seed]
  migrate:
    cmd: tool migrate
    deps: [db]
  web:
    desc: the web server
    cmd: [tool, serve, "it's", "$1 50%"]
    service: true
    replicas: 3
    env: {PORT: "3000", PS: web}
    deps: [migrate]
  api:
    cmd: tool api --port $PORT 2>&1
    service: true
    replicas: 2
    env: {PORT: "4000"}
  worker:
    cmd: tool work 100%
    service: true
    replicas: 2
    deps: [web, db]
  cron:
    cmd: tool cron
    service: true
    deps: [web]
`

// exportProject writes exportProcfile and an executable bin/tool into a
// temporary folder and loads it with PATH holding only bin.
func exportProject(t *testing.T) (*tasks.Config, systemdOptions) {
	t.Helper()
	return exportProjectOf(t, exportProcfile)
}

// exportProjectOf writes procfile as Procfile.yaml and an executable
// bin/tool, which prints $PORT and its arguments one a line, into a
// temporary folder and loads it with PATH holding only bin.
func exportProjectOf(t *testing.T, procfile string) (*tasks.Config, systemdOptions) {
	t.Helper()
	dir := t.TempDir()
	tool := "#!/bin/sh\nprintf '%s\\n' \"$PORT\" \"$@\"\n"
	for name, text := range map[string]string{"Procfile.yaml": procfile, "bin/tool": tool, "web/.keep": ""} {
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
	for _, tt := range []struct{ name, procfile, golden string }{
		{"every mapping", exportProcfile, "shop.golden"},
		{"replicas", replicasProcfile, "replicas.golden"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, opts := exportProjectOf(t, tt.procfile)
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
			checkGolden(t, filepath.Join("..", "testdata", "export", tt.golden), got)
		})
	}
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
	for _, tt := range []struct {
		name, procfile string
		targets        []string
	}{
		{"a service and a plain task", exportProcfile, []string{"worker", "lint"}},
		{"replicas", replicasProcfile, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, opts := exportProjectOf(t, tt.procfile)
			units, _, err := systemdUnits(cfg, tt.targets, opts)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "units")
			if err := saveUnits(out, units); err != nil {
				t.Fatal(err)
			}
			args := []string{"verify", "--man=no"}
			for _, name := range verifiable(units) {
				args = append(args, filepath.Join(out, name))
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
		})
	}
}

// verifiable names the units for systemd-analyze verify: every file but
// the templates, and in their stead the instances that other units want
// or require. systemd 252 loads DIR/APP-web@2.service, which does not
// exist, from the template DIR/APP-web@.service beside it.
func verifiable(units []unitFile) []string {
	var names []string
	seen := map[string]bool{}
	for _, u := range units {
		if !strings.HasSuffix(u.Name, "@.service") {
			names = append(names, u.Name)
		}
		for _, line := range strings.Split(u.Text, "\n") {
			k, v, _ := strings.Cut(line, "=")
			if k != "Wants" && k != "Requires" {
				continue
			}
			for _, name := range strings.Fields(v) {
				if strings.Contains(name, "@") && !seen[name] {
					seen[name] = true
					names = append(names, name)
				}
			}
		}
	}
	return names
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

func TestExportSystemd_Replicas(t *testing.T) {
	cfg, opts := exportProjectOf(t, replicasProcfile)
	tests := []struct {
		name    string
		targets []string
		want    []string
	}{
		{"templates for several replicas, no unit for none", nil,
			[]string{"shop.target", "shop-api@.service", "shop-migrate.service", "shop-web@.service", "shop-cron.service", "shop-worker@.service"}},
		{"a service of no replicas alone: an empty target", []string{"db"}, []string{"shop.target"}},
		{"deps that only a service of no replicas needs are left out", []string{"migrate"}, []string{"shop.target", "shop-migrate.service"}},
		{"such a dep can still be named", []string{"seed"}, []string{"shop.target", "shop-seed.service"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			units, _, err := systemdUnits(cfg, tt.targets, opts)
			if err != nil {
				t.Fatal(err)
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
	units, _, err := systemdUnits(cfg, []string{"db"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if text := units[0].Text; strings.Contains(text, "Wants=") || !strings.Contains(text, "\n# db has replicas: 0, so it has no unit and is not wanted.\n") {
		t.Errorf("target of a service of no replicas:\n%s", text)
	}
}

// TestExportSystemd_ReplicaExecStartRuns reads each replica's ExecStart=
// as systemd would for that instance and runs it: bin/tool prints the
// PORT it got and its arguments.
func TestExportSystemd_ReplicaExecStartRuns(t *testing.T) {
	cfg, opts := exportProjectOf(t, replicasProcfile)
	units, _, err := systemdUnits(cfg, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		unit, instance, want string
	}{
		{"shop-web@.service", "1", "3000\nserve\nit's\n$1 50%\n"},
		{"shop-web@.service", "3", "3002\nserve\nit's\n$1 50%\n"},
		{"shop-api@.service", "2", "4001\napi\n--port\n4001\n"},
		{"shop-worker@.service", "2", "\nwork\n100%\n"},
	}
	for _, tt := range tests {
		t.Run(tt.unit+" "+tt.instance, func(t *testing.T) {
			var line string
			for _, u := range units {
				for _, l := range strings.Split(u.Text, "\n") {
					if v, ok := strings.CutPrefix(l, "ExecStart="); ok && u.Name == tt.unit {
						line = v
					}
				}
			}
			if line == "" {
				t.Fatalf("%s has no ExecStart=", tt.unit)
			}
			argv := systemdArgv(t, line, tt.instance)
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Env = opts.Environ
			out, err := cmd.CombinedOutput()
			if err != nil || string(out) != tt.want {
				t.Errorf("ExecStart=%s\nruns %q: %v\n%q, want %q", line, argv, err, out, tt.want)
			}
		})
	}
}

// systemdArgv reads an ExecStart= value as systemd 252 does for instance
// i of a template, for what export writes: %% and %i, words bare or in
// quotes with C escapes, then $$. Anything else fails the test.
func systemdArgv(t *testing.T, line, i string) []string {
	t.Helper()
	escapes := map[byte]string{'n': "\n", 't': "\t", '\\': "\\", '"': `"`, '\'': "'"}
	var argv []string
	var word strings.Builder
	inWord, quote := false, byte(0)
	for k := 0; k < len(line); k++ {
		switch c := line[k]; {
		case c == '%' && k+1 < len(line) && (line[k+1] == '%' || line[k+1] == 'i'):
			if k++; line[k] == 'i' {
				word.WriteString(i)
			} else {
				word.WriteByte('%')
			}
			inWord = true
		case c == '%':
			t.Fatalf("unknown specifier in %s", line)
		case c == '\\' && k+1 < len(line):
			k++
			e, ok := escapes[line[k]]
			if !ok {
				t.Fatalf("unknown escape \\%c in %s", line[k], line)
			}
			word.WriteString(e)
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && !inWord && (c == '\'' || c == '"'):
			quote, inWord = c, true
		case quote == 0 && c == ' ':
			if inWord {
				argv = append(argv, word.String())
				word.Reset()
			}
			inWord = false
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("unterminated quote in %s", line)
	}
	if inWord {
		argv = append(argv, word.String())
	}
	for k, a := range argv {
		if strings.Contains(strings.ReplaceAll(a, "$$", ""), "$") {
			t.Fatalf("systemd would expand a variable in %q", a)
		}
		argv[k] = strings.ReplaceAll(a, "$$", "$")
	}
	return argv
}

func TestPortExecLine(t *testing.T) {
	tests := []struct {
		name  string
		argv  []string
		shell bool
		want  string
	}{
		{"plain argv", []string{"/usr/bin/node", "server.js"}, false,
			`/bin/sh -c 'export PORT=$$((3000 + %i - 1)); exec /usr/bin/node server.js'`},
		{"words quoted for sh, then for systemd", []string{"/bin/tool", "it's", "$1 50%", ""}, false,
			`/bin/sh -c "export PORT=$$((3000 + %i - 1)); exec /bin/tool 'it'\\''s' '$$1 50%%' ''"`},
		{"a shell command runs as it is", []string{"/bin/sh", "-c", "echo $PORT | tee 100%"}, true,
			`/bin/sh -c 'export PORT=$$((3000 + %i - 1)); echo $$PORT | tee 100%%'`},
		{"control characters", []string{"/bin/printf", "a\nb"}, false,
			`/bin/sh -c "export PORT=$$((3000 + %i - 1)); exec /bin/printf 'a\nb'"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := portExecLine(tt.argv, tt.shell, 3000); got != tt.want {
				t.Errorf("portExecLine(%q) = %s, want %s", tt.argv, got, tt.want)
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
