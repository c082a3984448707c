package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/procman/procman/tasks"
)

const npmPackage = `{"name": "shop", "scripts": {
  "dev": "vite", "start": "node server.js", "build": "vite build",
  "build:css": "tailwindcss -i in.css -o out.css", "test": "vitest run",
  "pretest": "eslint .", "postinstall": "patch-package", "lint": "eslint . --ext .js,.ts"}}`

// initCases are folders and the tasks that procman list would show for the
// Procfile.yaml that init writes there: "name kind deps cmd".
var initCases = []struct {
	name  string
	files map[string]string
	want  []string
}{
	{"npm with its lock file", map[string]string{"package.json": npmPackage, "package-lock.json": "{}", "src/main.js": ""}, []string{
		"build task [install] npm run build",
		"build-css task [install] npm run build:css",
		"dev service [install] npm run dev",
		"install once [] npm install",
		"lint task [install] npm run lint",
		"start task [install] npm run start",
		"test task [install] npm run test",
	}},
	{"pnpm, start is the service", map[string]string{"package.json": `{"scripts": {"start": "node ."}}`, "pnpm-lock.yaml": ""}, []string{
		"install once [] pnpm install",
		"start service [install] pnpm run start",
	}},
	{"yarn, no scripts", map[string]string{"package.json": `{}`, "yarn.lock": ""}, []string{
		"install once [] yarn install",
	}},
	{"go module with a main package", map[string]string{"go.mod": "module example.com/tools/my-app // the app\n\ngo 1.22\n", "go.sum": "", "main.go": "package main\n\nfunc main() {}\n"}, []string{
		"build task [] go build ./...",
		"build-my-app once [] go build -o bin/my-app .",
		"my-app service [build-my-app] ./bin/my-app",
		"test task [] go test ./...",
	}},
	{"go library with an ignored main file", map[string]string{"go.mod": "module example.com/lib\n", "lib.go": "package lib\n", "gen.go": "//go:build ignore\n\npackage main\n"}, []string{
		"build task [] go build ./...",
		"test task [] go test ./...",
	}},
	{"go main package beside tests and another system's files", map[string]string{"go.mod": "module m\n",
		"main.go":        "/* Command m\n   serves. */\n// +build linux darwin\n\npackage main\n",
		"x_plan9.go":     "package other\n",
		"x_plan9_arm.go": "package other\n",
		"main_test.go":   "package main_test\n",
		"os_unix.go":     "//go:build unix && !nosuchtag\n// +build ignore\n\npackage main\n",
		"_old.go":        "package old\n",
		"gen.go":         "// Generator.\n\n// +build ignore\n\npackage tools\n",
		".#main.go":      "not Go: an editor's lock file"}, []string{
		"build task [] go build ./...",
		"build-m once [] go build -o bin/m .",
		"m service [build-m] ./bin/m",
		"test task [] go test ./...",
	}},
	{"go library whose main file is for another system", map[string]string{"go.mod": "module m\n", "lib.go": "package lib\n", "cmd_windows.go": "package main\n", "tool.go": "//go:build plan9\n\npackage main\n", "old.go": "// +build ignore\n\npackage main\n"}, []string{
		"build task [] go build ./...",
		"test task [] go test ./...",
	}},
	{"plain Procfile", map[string]string{"Procfile": "web: bundle exec puma -p $PORT\nworker: bundle exec sidekiq\n"}, []string{
		"web service [] bundle exec puma -p $PORT",
		"worker service [] bundle exec sidekiq",
	}},
	{"Procfile and package.json: the Procfile names the services", map[string]string{"Procfile": "web: npm start\n", "package.json": `{"scripts": {"start": "node .", "dev": "nodemon ."}}`}, []string{
		"dev task [install] npm run dev",
		"install once [] npm install",
		"start task [install] npm run start",
		"web service [install] npm start",
	}},
	{"names taken by an earlier source", map[string]string{"Procfile": "install: ./setup.sh\nbuild: make\n", "package.json": `{"scripts": {"build": "tsc"}}`, "go.mod": "module m\n"}, []string{
		"build service [npm-install] make",
		"go-build task [] go build ./...",
		"install service [npm-install] ./setup.sh",
		"npm-build task [npm-install] npm run build",
		"npm-install once [] npm install",
		"test task [] go test ./...",
	}},
	{"script names with nothing of a task name, and one reserved", map[string]string{"package.json": `{"scripts": {"@@": "a", "-": "b", "~": "c", "procman": "d", "ok": "e"}}`}, []string{
		"install once [] npm install",
		"npm-procman task [install] npm run procman",
		"ok task [install] npm run ok",
		"script-1 task [install] npm run -",
		"script-2 task [install] npm run @@",
		"script-3 task [install] npm run '~'",
	}},
	{"go module named procman", map[string]string{"go.mod": "module github.com/procman/procman\n", "main.go": "package main\n"}, []string{
		"build task [] go build ./...",
		"build-procman once [] go build -o bin/procman .",
		"go-procman service [build-procman] ./bin/procman",
		"test task [] go test ./...",
	}},
	{"nothing known", map[string]string{"README": "hi"}, []string{
		"hello task [] echo hello from procman",
	}},
}

func TestInit_Detect(t *testing.T) {
	for _, tt := range initCases {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			cfg := initAndLoad(t, dir)
			var got []string
			for _, n := range cfg.Names {
				task := cfg.Tasks[n]
				got = append(got, fmt.Sprintf("%s %s %v %s", n, task.Kind, task.Deps, task.Cmd.Raw))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("tasks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestInit_KeepsWhatForemanGave checks the details: PORT as foreman would
// set it; for a vite service, no watch of its own but one on package.json
// for the install; sources and generates.
func TestInit_KeepsWhatForemanGave(t *testing.T) {
	dir := writeFiles(t, map[string]string{"Procfile": "web: run web\napi: run api\n", ".env": "PORT=8000\n"})
	cfg := initAndLoad(t, dir)
	if web, api := cfg.Tasks["web"].Env["PORT"], cfg.Tasks["api"].Env["PORT"]; web != "8000" || api != "8100" {
		t.Errorf("PORT web %q api %q, want 8000 and 8100", web, api)
	}
	dir = writeFiles(t, map[string]string{"package.json": npmPackage, "package-lock.json": "{}", "src/main.js": ""})
	cfg = initAndLoad(t, dir)
	dev, install := cfg.Tasks["dev"], cfg.Tasks["install"]
	if dev.Watch != nil {
		t.Errorf("dev (vite) watch = %+v, want none", dev.Watch)
	}
	if install.Watch == nil || !reflect.DeepEqual(install.Watch.Paths, []string{filepath.Join(dir, "package.json"), filepath.Join(dir, "package-lock.json")}) {
		t.Errorf("install watch = %+v, want paths [package.json package-lock.json]", install.Watch)
	}
	if !reflect.DeepEqual(install.Sources, []string{"package.json", "package-lock.json"}) ||
		!reflect.DeepEqual(install.Generates, []string{"node_modules/.package-lock.json"}) {
		t.Errorf("install sources %q generates %q", install.Sources, install.Generates)
	}
}

func TestInit_Golden(t *testing.T) {
	dir := writeFiles(t, map[string]string{"package.json": npmPackage, "package-lock.json": "{}", "src/main.js": "",
		"go.mod": "module example.com/shop\n", "main.go": "package main\n"})
	s, err := detect(dir, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := s.render()
	checkGolden(t, filepath.Join("..", "testdata", "init", "shop.golden"), got)
}

func TestInit_Errors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"bad package.json", map[string]string{"package.json": "{"}, "init: package.json: unexpected end of JSON input"},
		{"bad Procfile", map[string]string{"Procfile": "web run\n"}, "Procfile:1: want `name: command`\nProcfile: no tasks defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			_, err := detect(dir, 0, nil)
			if err == nil || strings.ReplaceAll(err.Error(), dir+"/", "") != tt.want {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// TestInit_RemovesWhatDoesNotLoad checks that init leaves no file behind
// when the one it wrote does not load (here for the .env beside it): the
// next init would refuse to overwrite it.
func TestInit_RemovesWhatDoesNotLoad(t *testing.T) {
	dir := writeFiles(t, map[string]string{"package.json": `{"scripts": {"start": "node ."}}`, ".env": "oops\n"})
	t.Chdir(dir)
	err := (&InitCmd{}).Run(&Globals{})
	want := ".env:1: want KEY=VALUE, got \"oops\"\n(procman init removed the Procfile.yaml it wrote, as it does not load)"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	if code := errorCode(err); code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	if _, err := os.Stat("Procfile.yaml"); !os.IsNotExist(err) {
		t.Errorf("Procfile.yaml is left: %v", err)
	}
}

func TestYAMLScalarAndFlowList(t *testing.T) {
	for in, want := range map[string]string{
		"npm run build":        "npm run build",
		"echo 'a: b'":          `'echo ''a: b'''`,
		"- dash":               `'- dash'`,
		"two\nlines":           `"two\nlines"`,
		"yes":                  `"yes"`,
		"node server.js -p 80": "node server.js -p 80",
	} {
		if got := yamlScalar(in); got != want {
			t.Errorf("yamlScalar(%q) = %s, want %s", in, got, want)
		}
	}
	var b strings.Builder
	writeFlowList(&b, "sources", []string{"**/*.go", "go.mod", "a, b", "-x"})
	if want := `    sources: ["**/*.go", go.mod, "a, b", "-x"]` + "\n"; b.String() != want {
		t.Errorf("writeFlowList = %q, want %q", b.String(), want)
	}
}

// writeFiles creates the files under a new temporary folder.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// initAndLoad runs init's detection in dir, writes Procfile.yaml and loads
// it as procman check would.
func initAndLoad(t *testing.T, dir string) *tasks.Config {
	t.Helper()
	s, err := detect(dir, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "Procfile.yaml")
	if err := writeNew(p, s.render()); err != nil {
		t.Fatal(err)
	}
	cfg, err := tasks.Load(p, tasks.LoadOptions{})
	if err != nil {
		t.Fatalf("the written file does not load: %v\n%s", err, s.render())
	}
	return cfg
}
