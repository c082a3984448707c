package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/build/constraint"
	"go/scanner"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/google/shlex"
	"go.yaml.in/yaml/v3"

	"github.com/procman/procman/tasks"
)

// InitCmd is `procman init`.
type InitCmd struct{}

// Run writes a starter Procfile.yaml for the folder from what it finds
// there (package.json, go.mod, a plain Procfile), never over an existing
// one, and checks that procman loads it.
func (c *InitCmd) Run(g *Globals) error {
	if g.Dir != "" {
		if err := os.Chdir(g.Dir); err != nil {
			return &usageError{fmt.Errorf("-C: %w", err)}
		}
	}
	name := "Procfile.yaml"
	if g.File != "" {
		name = g.File
	}
	if ext := strings.ToLower(filepath.Ext(name)); ext != ".yaml" && ext != ".yml" {
		return &usageError{fmt.Errorf("init writes YAML: %s does not end in .yaml or .yml", name)}
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	s, err := detect(wd, g.Port, os.Environ())
	if err != nil {
		return err
	}
	if err := writeNew(name, s.render()); err != nil {
		return err
	}
	if _, err := tasks.Load(name, tasks.LoadOptions{Environ: os.Environ(), Port: g.Port}); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "procman | wrote %s from %s: %s\n", name, s.origin(), s.summary())
	return nil
}

// writeNew creates the file with text, or says that it exists.
func writeNew(name, text string) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return &usageError{fmt.Errorf("%s already exists; procman init never overwrites it", name)}
	}
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("init: %w", err)
	}
	return f.Close()
}

// starterTask is one task of the starter file.
type starterTask struct {
	name, desc, cmd   string
	deps              []string
	once, service     bool
	sources, generate []string
	port              string // env PORT, for entries of a plain Procfile
	watch             string // the watch value as written: "true" or a flow mapping
	note              string // a comment above the watch line: why it watches what it does
}

// starter is what init found: the sources it read and the tasks.
type starter struct {
	from  []string
	tasks []starterTask
}

// addAll appends ts, renaming a task whose name an earlier source took to
// PREFIX-NAME (then PREFIX-NAME-2...), and its deps within ts to match. It
// returns the new names, old to new.
func (s *starter) addAll(prefix string, ts []starterTask) map[string]string {
	taken := map[string]bool{}
	for _, t := range s.tasks {
		taken[t.name] = true
	}
	renamed := map[string]string{}
	first := len(s.tasks)
	for _, t := range ts {
		base := t.name
		for i := 1; taken[t.name]; i++ {
			t.name = prefix + "-" + base
			if i > 1 {
				t.name += fmt.Sprintf("-%d", i)
			}
		}
		renamed[base], taken[t.name] = t.name, true
		s.tasks = append(s.tasks, t)
	}
	for _, t := range s.tasks[first:] {
		for j, d := range t.deps {
			t.deps[j] = renamed[d]
		}
	}
	return renamed
}

// detect reads the folder: a plain Procfile's entries are the services;
// package.json scripts and a go.mod add install, build and test tasks, and
// a service when the Procfile does not name the services already.
func detect(dir string, port int, environ []string) (*starter, error) {
	s := &starter{}
	procfile, err := procfileStarter(dir, port, environ)
	if err != nil {
		return nil, err
	}
	npm, err := npmStarter(dir, len(procfile) == 0)
	if err != nil {
		return nil, err
	}
	gomod := goStarter(dir, len(procfile) == 0)
	for _, src := range []struct {
		name, prefix string
		tasks        []starterTask
	}{{"Procfile", "procfile", procfile}, {"package.json", "npm", npm}, {"go.mod", "go", gomod}} {
		if len(src.tasks) == 0 {
			continue
		}
		s.from = append(s.from, src.name)
		renamed := s.addAll(src.prefix, src.tasks)
		if src.name == "package.json" {
			for i := range procfile { // the services need the node modules
				s.tasks[i].deps = []string{renamed["install"]}
			}
		}
	}
	if len(s.tasks) == 0 {
		s.tasks = []starterTask{{name: "hello", desc: "an example: replace it with your tasks", cmd: "echo hello from procman"}}
	}
	return s, nil
}

// procfileStarter turns a plain Procfile's entries into services that keep
// the PORT foreman would give them.
func procfileStarter(dir string, port int, environ []string) ([]starterTask, error) {
	p := filepath.Join(dir, "Procfile")
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	cfg, err := tasks.Load(p, tasks.LoadOptions{Environ: environ, Port: port})
	if err != nil {
		return nil, err
	}
	names := append([]string(nil), cfg.Names...)
	sort.Slice(names, func(i, j int) bool { return cfg.Tasks[names[i]].Pos.Line < cfg.Tasks[names[j]].Pos.Line })
	out := make([]starterTask, len(names))
	for i, n := range names {
		t := cfg.Tasks[n]
		out[i] = starterTask{name: n, cmd: t.Cmd.Raw, service: true, port: t.Env["PORT"]}
	}
	return out, nil
}

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
	for _, name := range sortedKeys(pkg.Scripts) {
		if npmLifecycle[name] || isHook(name, pkg.Scripts) {
			continue
		}
		t := starterTask{name: taskName(name), desc: clip(pkg.Scripts[name]), cmd: m.run + " " + tasks.ShellQuote(name), deps: []string{"install"}}
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

// goStarter turns go.mod into build and test tasks and, when the module's
// root is a main package and withService, a once task building it into bin/
// (skipped while the sources are unchanged, re-run when they change) and a
// service running it.
func goStarter(dir string, withService bool) []starterTask {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return nil
	}
	out := []starterTask{
		{name: "build", desc: "compile every package", cmd: "go build ./..."},
		{name: "test", desc: "run the tests", cmd: "go test ./..."},
	}
	if !withService || !isMainPackage(dir) {
		return out
	}
	bin := taskName(path.Base(modulePath(data)))
	if bin == "" || bin == "." || bin == "build" || bin == "test" {
		bin = "app"
	}
	sources := []string{"**/*.go", "go.mod"}
	if exists(filepath.Join(dir, "go.sum")) {
		sources = append(sources, "go.sum")
	}
	return append(out,
		starterTask{name: "build-" + bin, desc: "build bin/" + bin, cmd: "go build -o bin/" + bin + " .", once: true,
			sources: sources, generate: []string{"bin/" + bin}, watch: `{ignore: ["bin/**"]}`},
		starterTask{name: bin, desc: "run bin/" + bin, cmd: "./bin/" + bin, deps: []string{"build-" + bin}, service: true})
}

// isMainPackage reports whether the Go files that build in dir (not tests,
// not those a //go:build line or a file name excludes on this system) are
// all in package main. It reads only the top of each file; go/build would
// do the same, but it brings go/parser and the toolchain's tables into
// every start of procman.
func isMainPackage(dir string) bool {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return false
	}
	found := false
	for _, f := range files {
		base := filepath.Base(f)
		if strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_") || strings.HasSuffix(base, "_test.go") || !buildsHere(base) {
			continue // what go build leaves out (an editor's .#main.go lock among them)
		}
		src, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		name, ok := goPackage(src)
		if !ok {
			continue // excluded by its //go:build line
		}
		if name != "main" {
			return false
		}
		found = true
	}
	return found
}

// goPackage returns the package clause of a Go file, with ok false when
// its build constraints exclude the file here: the //go:build line, or
// without one every // +build line.
func goPackage(src []byte) (name string, ok bool) {
	var s scanner.Scanner
	fset := token.NewFileSet()
	s.Init(fset.AddFile("", -1, len(src)), src, nil, scanner.ScanComments)
	var goBuild constraint.Expr
	var plusBuild []constraint.Expr
	for {
		_, tok, lit := s.Scan()
		switch tok {
		case token.COMMENT:
			if expr, err := constraint.Parse(lit); err == nil {
				if constraint.IsGoBuild(lit) {
					goBuild = expr
				} else {
					plusBuild = append(plusBuild, expr)
				}
			}
		case token.PACKAGE:
			if goBuild != nil {
				plusBuild = []constraint.Expr{goBuild}
			}
			for _, expr := range plusBuild {
				if !expr.Eval(buildTag) {
					return "", false
				}
			}
			_, tok, lit = s.Scan()
			return lit, tok == token.IDENT
		default:
			return "", false
		}
	}
}

// buildTag reports whether a //go:build tag holds here; release tags
// (go1.N) and cgo are taken as set.
func buildTag(tag string) bool {
	switch tag {
	case runtime.GOOS, runtime.GOARCH, "gc", "cgo":
		return true
	case "unix":
		return runtime.GOOS != "windows" && runtime.GOOS != "plan9" && runtime.GOOS != "js" && runtime.GOOS != "wasip1"
	}
	return strings.HasPrefix(tag, "go1.")
}

// buildsHere applies Go's file name rule: a name ending in _GOOS, _GOARCH
// or _GOOS_GOARCH builds only there.
func buildsHere(name string) bool {
	parts := strings.Split(strings.TrimSuffix(name, ".go"), "_")
	n := len(parts)
	if n >= 3 && knownOS[parts[n-2]] && knownArch[parts[n-1]] {
		return parts[n-2] == runtime.GOOS && parts[n-1] == runtime.GOARCH
	}
	if n >= 2 && knownOS[parts[n-1]] {
		return parts[n-1] == runtime.GOOS
	}
	if n >= 2 && knownArch[parts[n-1]] {
		return parts[n-1] == runtime.GOARCH
	}
	return true
}

var (
	knownOS   = setOf("aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js", "linux", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows")
	knownArch = setOf("386", "amd64", "arm", "arm64", "loong64", "mips", "mips64", "mips64le", "mipsle", "ppc64", "ppc64le", "riscv64", "s390x", "wasm")
)

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// modulePath reads the module line of a go.mod.
func modulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			rest, _, _ = strings.Cut(rest, "//")
			return strings.Trim(strings.TrimSpace(rest), `"`+"`")
		}
	}
	return ""
}

// notTaskChar is what a task name may not hold.
var notTaskChar = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Za-z0-9_.-]+`) })

// taskName makes a script or module name a valid task name.
func taskName(s string) string { return strings.Trim(notTaskChar().ReplaceAllString(s, "-"), "-") }

// clip shortens a command for a description.
func clip(s string) string {
	s = oneLine(s)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// origin names the sources, or says there were none.
func (s *starter) origin() string {
	if len(s.from) == 0 {
		return "nothing it recognised (an example task)"
	}
	return strings.Join(s.from, ", ")
}

// summary lists the tasks with their kinds.
func (s *starter) summary() string {
	parts := make([]string, len(s.tasks))
	for i, t := range s.tasks {
		parts[i] = t.name
		if t.service {
			parts[i] += " (service)"
		} else if t.once {
			parts[i] += " (once)"
		}
	}
	return strings.Join(parts, ", ") + "; procman list shows them"
}

// render writes the starter as Procfile.yaml.
func (s *starter) render() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by procman init from %s.\n", s.origin())
	b.WriteString("# procman list shows the tasks, procman up starts the services, procman\n# run TASK runs one task after its deps.\ntasks:\n")
	for i, t := range s.tasks {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "  %s:\n", t.name)
		if t.desc != "" {
			fmt.Fprintf(&b, "    desc: %s\n", yamlScalar(t.desc))
		}
		fmt.Fprintf(&b, "    cmd: %s\n", yamlScalar(t.cmd))
		writeFlowList(&b, "deps", t.deps)
		if t.once {
			b.WriteString("    once: true\n")
		}
		if t.service {
			b.WriteString("    service: true\n")
		}
		writeFlowList(&b, "sources", t.sources)
		writeFlowList(&b, "generates", t.generate)
		if t.port != "" {
			fmt.Fprintf(&b, "    env: {PORT: %q}\n", t.port)
		}
		if t.note != "" {
			fmt.Fprintf(&b, "    # %s\n", strings.ReplaceAll(t.note, "\n", "\n    # "))
		}
		if t.watch != "" {
			fmt.Fprintf(&b, "    watch: %s\n", t.watch)
		}
	}
	return b.String()
}

// writeFlowList writes a flow list, quoting items that are not plain words.
func writeFlowList(b *strings.Builder, key string, items []string) {
	if len(items) == 0 {
		return
	}
	q := make([]string, len(items))
	for i, it := range items {
		q[i] = it
		if !plainYAML().MatchString(it) {
			q[i] = fmt.Sprintf("%q", it)
		}
	}
	fmt.Fprintf(b, "    %s: [%s]\n", key, strings.Join(q, ", "))
}

// plainYAML matches what YAML reads as the same string unquoted, in a flow
// list too.
var plainYAML = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_./][A-Za-z0-9_./-]*$`) })

// yamlScalar writes s as a YAML scalar: plain when YAML reads it back as
// the same string, double-quoted (JSON syntax, which YAML reads) otherwise.
func yamlScalar(s string) string {
	b, err := yaml.Marshal(s)
	out := strings.TrimSuffix(string(b), "\n")
	if err == nil && !strings.ContainsAny(out, "\n") && !strings.HasPrefix(out, "|") && !strings.HasPrefix(out, ">") {
		return out
	}
	j, _ := json.Marshal(s)
	return string(j)
}
