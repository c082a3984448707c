package cli

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
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

// devServerCases are the folders of three kinds of node project, each with
// the file a user edits and the tasks whose watch that edit triggers: a
// dev server that reloads by itself is left alone; a plain node server is
// restarted.
var devServerCases = []struct {
	golden string // ../testdata/init/GOLDEN.golden
	files  map[string]string
	edits  map[string][]string // file: the tasks it triggers
}{
	{"vite", map[string]string{
		"package.json": `{
  "name": "vite-app",
  "private": true,
  "version": "0.0.0",
  "type": "module",
  "scripts": {
    "dev": "vite",
    "build": "vite build",
    "preview": "vite preview"
  },
  "dependencies": {"react": "^18.3.1", "react-dom": "^18.3.1"},
  "devDependencies": {"@vitejs/plugin-react": "^4.3.1", "vite": "^5.4.1"}
}`,
		"package-lock.json": "{}", "index.html": "", "vite.config.js": "", "src/main.jsx": "", "src/App.jsx": ""},
		map[string][]string{"src/App.jsx": nil, "package.json": {"install"}},
	},
	{"next", map[string]string{
		"package.json": `{
  "name": "next-app",
  "version": "0.1.0",
  "private": true,
  "scripts": {
    "dev": "next dev",
    "build": "next build",
    "start": "next start",
    "lint": "next lint"
  },
  "dependencies": {"next": "14.2.5", "react": "^18", "react-dom": "^18"},
  "devDependencies": {"eslint": "^8", "eslint-config-next": "14.2.5", "typescript": "^5"}
}`,
		"pnpm-lock.yaml": "", "next.config.mjs": "", "app/layout.tsx": "", "app/page.tsx": ""},
		map[string][]string{"app/page.tsx": nil, "package.json": {"install"}},
	},
	{"express", map[string]string{
		"package.json": `{
  "name": "express-api",
  "version": "1.0.0",
  "main": "server.js",
  "scripts": {
    "start": "node server.js",
    "dev": "nodemon server.js",
    "test": "node --test"
  },
  "dependencies": {"express": "^4.19.2"},
  "devDependencies": {"nodemon": "^3.1.4"}
}`,
		"package-lock.json": "{}", "server.js": "", "routes/users.js": ""},
		map[string][]string{"routes/users.js": {"start"}, "server.js": {"start"}, "package.json": {"install"}, "package-lock.json": {"install"}},
	},
}

// TestInit_GoldenDevServers writes the starter file for a Vite, a Next.js
// and an Express project: a source edit restarts only the Express server.
func TestInit_GoldenDevServers(t *testing.T) {
	for _, tt := range devServerCases {
		t.Run(tt.golden, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			cfg := initAndLoad(t, dir)
			text, err := os.ReadFile(filepath.Join(dir, "Procfile.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("..", "testdata", "init", tt.golden+".golden"), string(text))
			for file, want := range tt.edits {
				if got := watchersOf(cfg, filepath.Join(dir, file)); !reflect.DeepEqual(got, want) {
					t.Errorf("an edit of %s triggers %q, want %q", file, got, want)
				}
			}
		})
	}
}

// watchersOf returns the tasks whose watch paths hold file, unless one of
// its ignore patterns without a slash (the kind init writes, which match
// a name at any depth) matches the file's name.
func watchersOf(cfg *tasks.Config, file string) []string {
	var out []string
	for _, n := range cfg.Names {
		w := cfg.Tasks[n].Watch
		if w == nil || !slices.ContainsFunc(w.Paths, func(p string) bool {
			return p == file || strings.HasPrefix(file, p+string(filepath.Separator))
		}) {
			continue
		}
		if !slices.ContainsFunc(w.Ignore, func(pat string) bool {
			ok, _ := path.Match(pat, filepath.Base(file))
			return !strings.Contains(pat, "/") && ok
		}) {
			out = append(out, n)
		}
	}
	return out
}

// selfWatchingCases are package.json scripts and the name init gives the
// program that watches its own files in them ("" for none).
var selfWatchingCases = []struct {
	name, script, want string
}{
	{"vite", "vite", "vite"},
	{"vite with flags", "vite --host --port 3000", "vite"},
	{"vite dev", "vite dev", "vite"},
	{"vite build", "vite build", ""},
	{"vite preview", "vite preview", ""},
	{"vite build --watch", "vite build --watch", "vite --watch"},
	{"next dev", "next dev", "next dev"},
	{"next dev with turbo", "next dev --turbo -p 3001", "next dev"},
	{"next without a command is dev", "next -p 3001", "next"},
	{"next start", "next start", ""},
	{"next build", "next build", ""},
	{"nuxt dev", "nuxt dev", "nuxt dev"},
	{"nuxi dev", "nuxi dev --host", "nuxi dev"},
	{"astro dev", "astro dev", "astro dev"},
	{"astro build", "astro build", ""},
	{"webpack serve", "webpack serve --mode development", "webpack serve"},
	{"webpack-dev-server", "webpack-dev-server --hot", "webpack-dev-server"},
	{"webpack --watch", "webpack --watch", "webpack --watch"},
	{"webpack build", "webpack --mode production", ""},
	{"react-scripts start", "react-scripts start", "react-scripts start"},
	{"react-scripts build", "react-scripts build", ""},
	{"ng serve", "ng serve", "ng serve"},
	{"ng build", "ng build", ""},
	{"parcel", "parcel index.html", "parcel"},
	{"parcel build", "parcel build index.html", ""},
	{"svelte-kit dev", "svelte-kit dev", "svelte-kit dev"},
	{"remix dev", "remix dev", "remix dev"},
	{"gatsby develop", "gatsby develop", "gatsby develop"},
	{"ember serve", "ember serve", "ember serve"},
	{"nodemon", "nodemon server.js", "nodemon"},
	{"npx nodemon", "npx nodemon server.js", "nodemon"},
	{"npx with a flag", "npx --yes vite", "vite"},
	{"node --watch", "node --watch server.js", "node --watch"},
	{"node --watch-path", "node --watch-path=src server.js", "node --watch-path"},
	{"node", "node server.js", ""},
	{"tsx watch", "tsx watch src/index.ts", "tsx watch"},
	{"tsx", "tsx src/index.ts", ""},
	{"ts-node-dev", "ts-node-dev --respawn src/index.ts", "ts-node-dev"},
	{"air", "air -c .air.toml", "air"},
	{"tsc -w", "tsc -w", "tsc -w"},
	{"tsc", "tsc", ""},
	{"any --watch", "esbuild src/app.ts --bundle --watch", "esbuild --watch"},
	{"the last command of a chain", "npm run build && vite", "vite"},
	{"a chain that ends in a plain server", "tsc && node dist/index.js", ""},
	{"operators without blanks", "tsc&&vite", "vite"},
	{"a quoted semicolon is no chain", "vite --base '/a;b/'", "vite"},
	{"assignments first", "NODE_ENV=development nodemon server.js", "nodemon"},
	{"cross-env", "cross-env NODE_ENV=development webpack serve", "webpack serve"},
	{"pnpm exec", "pnpm exec vite", "vite"},
	{"the program's path", "./node_modules/.bin/vite", "vite"},
	{"another script", "npm run serve", "vite"},
	{"another script by yarn", "yarn serve --port 3000", "vite"},
	{"a program by yarn", "yarn vite", "vite"},
	{"scripts in a loop", "npm run loop", ""},
	{"unterminated quote", "vite '", ""},
	{"empty", "", ""},
}

func TestInit_SelfWatching(t *testing.T) {
	scripts := map[string]string{"serve": "vite", "loop": "npm run loop"}
	for _, tt := range selfWatchingCases {
		t.Run(tt.name, func(t *testing.T) {
			got, _, ok := selfWatching(scriptCommand(tt.script, scripts))
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("selfWatching(%q) = %q, %v, want %q", tt.script, got, ok, tt.want)
			}
		})
	}
}

// serviceScriptCases are package.json scripts and the one init supervises.
var serviceScriptCases = []struct {
	name    string
	scripts map[string]string
	want    string
}{
	{"dev first", map[string]string{"dev": "vite", "start": "vite preview"}, "dev"},
	{"start without dev", map[string]string{"start": "node server.js"}, "start"},
	{"nodemon restarts what start runs", map[string]string{"dev": "nodemon server.js", "start": "node server.js"}, "start"},
	{"node --watch restarts what start runs", map[string]string{"dev": "node --watch ./server.js", "start": "node server.js"}, "start"},
	{"nodemon runs the sources, start the build", map[string]string{"dev": "nodemon src/index.ts", "start": "node dist/index.js"}, "dev"},
	{"tsx watch runs the sources, start the build", map[string]string{"dev": "tsx watch src/index.ts", "start": "node dist/index.js"}, "dev"},
	{"nodemon without a file", map[string]string{"dev": "nodemon", "start": "node ."}, "dev"},
	{"a dev server is no restarter", map[string]string{"dev": "next dev", "start": "next start"}, "dev"},
	{"dev without start", map[string]string{"dev": "nodemon server.js"}, "dev"},
}

func TestInit_ServiceScript(t *testing.T) {
	for _, tt := range serviceScriptCases {
		t.Run(tt.name, func(t *testing.T) {
			if got := serviceScript(tt.scripts); got != tt.want {
				t.Errorf("serviceScript(%v) = %q, want %q", tt.scripts, got, tt.want)
			}
		})
	}
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
