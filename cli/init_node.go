package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/google/shlex"

	"github.com/procman/procman/tasks"
)

// nodeManager is how one package manager installs and runs scripts.
type nodeManager struct {
	lock, install, run, marker string
}

// nodeManagers are checked in order: the first whose lock file exists wins,
// npm otherwise. yarn leaves no marker that all its versions write.
var nodeManagers = []nodeManager{
	{"pnpm-lock.yaml", "pnpm install", "pnpm run", "node_modules/.modules.yaml"},
	{"yarn.lock", "yarn install", "yarn run", ""},
	{"package-lock.json", "npm install", "npm run", "node_modules/.package-lock.json"},
}

// npmLifecycle are scripts that the package manager runs by itself.
var npmLifecycle = map[string]bool{
	"install": true, "preinstall": true, "postinstall": true, "prepare": true,
	"prepublish": true, "prepublishOnly": true, "prepack": true, "postpack": true,
	"publish": true, "version": true, "uninstall": true, "dependencies": true,
}

// npmStarter turns package.json into an install once task, then a task
// per script: the service (see serviceScript) when withService, the others
// plain tasks. Hooks (preX, postX) and lifecycle scripts are left to the
// package manager. With a service, the install watches package.json and
// the lock file: a change re-runs it, and the service restarts after it. A service that
// watches its own files (vite, next dev) gets no watch: restarting it on
// each save would throw its hot reload away. Any other is restarted when a
// source file changes, but not on package.json or the lock file, which the
// install re-run and its writes account for.
func npmStarter(dir string, withService bool) ([]starterTask, error) {
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	var pkg struct{ Scripts map[string]string }
	if err == nil {
		err = json.Unmarshal(data, &pkg)
	}
	if err != nil {
		return nil, fmt.Errorf("init: package.json: %w", err)
	}
	m := nodeManagers[len(nodeManagers)-1]
	for _, c := range nodeManagers {
		if exists(filepath.Join(dir, c.lock)) {
			m = c
			break
		}
	}
	install := starterTask{name: "install", desc: "install the node modules", cmd: m.install, once: true, sources: []string{"package.json", m.lock}}
	if m.marker != "" {
		install.generate = []string{m.marker}
	}
	out := []starterTask{install}
	service := ""
	if withService {
		service = serviceScript(pkg.Scripts)
	}
	unnamed := 0 // scripts whose names hold no character a task name may
	for _, name := range sortedKeys(pkg.Scripts) {
		if npmLifecycle[name] || isHook(name, pkg.Scripts) {
			continue
		}
		task := taskName(name)
		if task == "" {
			unnamed++
			task = fmt.Sprintf("script-%d", unnamed)
		}
		t := starterTask{name: task, desc: clip(pkg.Scripts[name]), cmd: m.run + " " + tasks.ShellQuote(name), deps: []string{"install"}}
		if name == service {
			t.service = true
			out[0].watch = "{paths: [package.json, " + m.lock + "]}"
			out[0].note = "re-runs when package.json or " + m.lock + " changes (a git pull), then " + t.name + " restarts;\n" +
				"the install's own rewrite of " + m.lock + " with the same content does not count"
			if what, w, ok := selfWatching(scriptCommand(pkg.Scripts[name], pkg.Scripts)); ok {
				t.note = what + " watches its own files" + w.how + ": procman restarts it only when the install re-runs"
			} else {
				t.watch, t.note = "{ignore: [package.json, "+m.lock+"]}", "procman restarts it when a source file changes"
				if fi, err := os.Stat(filepath.Join(dir, "src")); err == nil && fi.IsDir() {
					t.watch = "{paths: [src]}"
				}
				if what, _, ok := selfWatching(scriptCommand(pkg.Scripts["dev"], pkg.Scripts)); ok && name != "dev" {
					t.note += ", as " + what + " does for dev"
				}
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// isHook reports whether npm runs the script around another one by itself.
func isHook(name string, scripts map[string]string) bool {
	for _, p := range []string{"pre", "post"} {
		if rest, ok := strings.CutPrefix(name, p); ok && scripts[rest] != "" {
			return true
		}
	}
	return false
}

// How a self-watching program reacts to a change, as the comment says it.
const (
	hotReload = " (hot reload)"
	restarts  = " (it restarts the program)" // what procman's watch would do
	rebuilds  = " (it rebuilds)"
)

// selfWatcher is a program that watches files by itself when a script runs
// it so. Its first argument (its subcommand) must be one of cmds ("" for
// none, or a flag), or not one of not, or it takes any arguments (all); or
// it is given one of flags (also as --flag=value).
type selfWatcher struct {
	tool  string // the program's name; "*" for any
	cmds  []string
	not   []string
	all   bool
	flags []string
	how   string // hotReload, restarts, rebuilds or "" (unknown)
}

// selfWatchers are the dev servers and watchers procman leaves to watch
// their own files. The one table of them.
var selfWatchers = []selfWatcher{
	{tool: "vite", not: []string{"build", "preview", "optimize"}, how: hotReload},
	{tool: "next", cmds: []string{"", "dev"}, how: hotReload},
	{tool: "nuxt", cmds: []string{"", "dev"}, how: hotReload},
	{tool: "nuxi", cmds: []string{"dev"}, how: hotReload},
	{tool: "astro", cmds: []string{"dev"}, how: hotReload},
	{tool: "webpack", cmds: []string{"serve"}, how: hotReload},
	{tool: "webpack-cli", cmds: []string{"serve"}, how: hotReload},
	{tool: "webpack-dev-server", all: true, how: hotReload},
	{tool: "react-scripts", cmds: []string{"start"}, how: hotReload},
	{tool: "ng", cmds: []string{"serve", "s"}, how: hotReload},
	{tool: "parcel", not: []string{"build"}, how: hotReload},
	{tool: "vue-cli-service", cmds: []string{"serve"}, how: hotReload},
	{tool: "svelte-kit", cmds: []string{"dev"}, how: hotReload},
	{tool: "remix", cmds: []string{"dev", "vite:dev"}, how: hotReload},
	{tool: "gatsby", cmds: []string{"develop"}, how: hotReload},
	{tool: "ember", cmds: []string{"serve", "server", "s"}, how: hotReload},
	{tool: "vitepress", cmds: []string{"", "dev"}, how: hotReload},
	{tool: "docusaurus", cmds: []string{"start"}, how: hotReload},
	{tool: "storybook", cmds: []string{"dev"}, how: hotReload},
	{tool: "expo", cmds: []string{"start"}, how: hotReload},
	{tool: "wrangler", cmds: []string{"dev"}, how: hotReload},
	{tool: "live-server", all: true, how: hotReload},
	{tool: "bun", flags: []string{"--hot"}, how: hotReload},
	{tool: "nodemon", all: true, how: restarts},
	{tool: "ts-node-dev", all: true, how: restarts},
	{tool: "tsnd", all: true, how: restarts},
	{tool: "tsx", cmds: []string{"watch"}, how: restarts},
	{tool: "node", flags: []string{"--watch", "--watch-path"}, how: restarts},
	{tool: "bun", flags: []string{"--watch"}, how: restarts},
	{tool: "deno", flags: []string{"--watch"}, how: restarts},
	{tool: "air", all: true, how: rebuilds},
	{tool: "tsc", flags: []string{"--watch", "-w"}, how: rebuilds},
	{tool: "webpack", flags: []string{"--watch", "-w"}, how: rebuilds},
	{tool: "rollup", flags: []string{"--watch", "-w"}, how: rebuilds},
	{tool: "*", flags: []string{"--watch"}},
}

// selfWatching reports whether the command words run a program that
// watches its own files, and names it as the comment shows it: "vite",
// "next dev", "node --watch".
func selfWatching(words []string) (name string, w selfWatcher, ok bool) {
	if len(words) == 0 {
		return "", selfWatcher{}, false
	}
	tool, args := path.Base(words[0]), words[1:]
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub = args[0]
	}
	for _, w := range selfWatchers {
		if w.tool != tool && w.tool != "*" {
			continue
		}
		for _, a := range args {
			for _, f := range w.flags {
				if a == f || strings.HasPrefix(a, f+"=") {
					return tool + " " + f, w, true
				}
			}
		}
		if slices.Contains(w.cmds, sub) {
			return strings.TrimSpace(tool + " " + sub), w, true
		}
		if w.all || w.not != nil && !slices.Contains(w.not, sub) {
			return tool, w, true
		}
	}
	return "", selfWatcher{}, false
}

// scriptCommand returns the words of the command a package.json script
// runs last (after && ; | &), without what only sets it up (NAME=value,
// env, cross-env, npx, pnpm exec and their kin), and followed into the
// script it names when it runs one (npm run dev, yarn dev). nil when the
// script cannot be split.
func scriptCommand(script string, scripts map[string]string) []string {
	for range 5 { // scripts that run each other in a loop end here
		words, err := shlex.Split(lastCommand(script))
		if err != nil {
			return nil
		}
		words = unwrapCommand(words)
		name, rest := scriptRun(words)
		next, ok := scripts[name]
		switch {
		case name == "":
			return words
		case !ok:
			return unwrapCommand(rest) // yarn vite, pnpm run vite: the program
		}
		script = next
	}
	return nil
}

// lastCommand returns the last command of a shell command line: what
// follows its last unquoted ; & | ( ) or newline.
func lastCommand(line string) string {
	var quote byte
	last, start := "", 0
	cut := func(end int) {
		if c := strings.TrimSpace(line[start:end]); c != "" {
			last = c
		}
	}
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' {
				i++
			}
		case c == '\\':
			i++
		case c == '\'' || c == '"':
			quote = c
		case strings.IndexByte(";&|()\n", c) >= 0:
			cut(i)
			start = i + 1
		}
	}
	cut(len(line))
	return last
}

// commandRunners run the program named after them (and their flags).
var commandRunners = map[string]bool{
	"env": true, "cross-env": true, "npx": true, "bunx": true,
	"npm exec": true, "pnpm exec": true, "pnpm dlx": true, "yarn exec": true, "yarn dlx": true,
}

// unwrapCommand drops what only sets up the command: NAME=value words and
// the runners, with their flags.
func unwrapCommand(words []string) []string {
	for len(words) > 0 {
		switch {
		case envAssignment().MatchString(words[0]):
			words = words[1:]
		case commandRunners[words[0]]:
			words = words[1:]
		case len(words) > 1 && commandRunners[words[0]+" "+words[1]]:
			words = words[2:]
		case words[0] == "--" || strings.HasPrefix(words[0], "-") && len(words) > 1:
			words = words[1:] // a runner's flag
		default:
			return words
		}
	}
	return words
}

// envAssignment matches a NAME=value word.
var envAssignment = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`) })

// scriptRun returns the script that words run through the package manager
// (npm run NAME, npm start, pnpm NAME, yarn run NAME, bun NAME), and the
// words from NAME on.
func scriptRun(words []string) (name string, rest []string) {
	if len(words) < 2 || !slices.Contains([]string{"npm", "pnpm", "yarn", "bun"}, words[0]) {
		return "", nil
	}
	rest = words[1:]
	switch {
	case rest[0] == "run" || rest[0] == "run-script":
		rest = rest[1:]
	case words[0] == "npm" && rest[0] != "start" && rest[0] != "test":
		return "", nil
	}
	if len(rest) == 0 {
		return "", nil
	}
	return rest[0], rest
}

// serviceScript picks the script that init makes the service: dev, else
// start. But when dev only restarts on a change the program that start
// runs (nodemon server.js beside node server.js), start: procman's watch
// does what the restarter did, and procman sees each restart.
func serviceScript(scripts map[string]string) string {
	if scripts["dev"] == "" {
		return "start"
	}
	dev, start := scriptCommand(scripts["dev"], scripts), scriptCommand(scripts["start"], scripts)
	if _, w, ok := selfWatching(dev); !ok || w.how != restarts || len(start) < 2 {
		return "dev"
	}
	if _, _, ok := selfWatching(start); ok {
		return "dev"
	}
	i := slices.IndexFunc(start[1:], func(a string) bool { return !strings.HasPrefix(a, "-") })
	if i >= 0 && slices.ContainsFunc(dev[1:], func(a string) bool { return path.Clean(a) == path.Clean(start[1+i]) }) {
		return "start"
	}
	return "dev"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
