package cli

import (
	"go/build/constraint"
	"go/scanner"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
)

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
