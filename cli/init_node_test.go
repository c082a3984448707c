package cli

import (
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/procman/procman/tasks"
)

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
