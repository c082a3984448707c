package tasks

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*.go", "main.go", true},
		{"*.go", "cmd/main.go", false},
		{"**/*.go", "main.go", true},
		{"**/*.go", "a/b/c/main.go", true},
		{"src/**", "src/a/b.js", true},
		{"src/**", "src", true},
		{"src/**", "srcx/a.js", false},
		{"a/**/b", "a/b", true},
		{"a/**/b", "a/x/y/b", true},
		{"a/**/b", "a/x/y/c", false},
		{"a/**/**/b", "a/x/b", true},
		{"./dist/**", "dist/x", true},
		{"[", "[", false},
		{"file?.txt", "file1.txt", true},
		{"../lib/**", "../lib/x.go", true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.name, func(t *testing.T) {
			if got := Match(tt.pattern, tt.name); got != tt.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
			}
		})
	}
}

func TestCheckGlob(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{"**/*.go", ""},
		{"a/[bc]/d", ""},
		{"", "empty pattern"},
		{"/etc/*", `pattern "/etc/*" must be relative to the task's dir`},
		{"a/[b/c", `bad pattern "a/[b/c": syntax error in pattern`},
		{`x\`, `bad pattern "x\\": syntax error in pattern`},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			got := ""
			if err := CheckGlob(tt.pattern); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("CheckGlob(%q) = %q, want %q", tt.pattern, got, tt.want)
			}
		})
	}
}

// sourceTree is a small project with the folders sources must skip.
var sourceTree = map[string]string{
	"proj/main.go":             "package main",
	"proj/go.mod":              "module x",
	"proj/pkg/a.go":            "package pkg",
	"proj/pkg/a_test.go":       "package pkg",
	"proj/pkg/deep/b.go":       "package deep",
	"proj/web/app.js":          "1",
	"proj/node_modules/m/i.js": "1",
	"proj/.git/HEAD":           "ref",
	"proj/.procman/state.json": "{}",
	"proj/docs/readme.md":      "hi",
	"lib/shared.go":            "package lib",
}

func TestSourceFiles(t *testing.T) {
	root := writeTree(t, sourceTree)
	tests := []struct {
		name    string
		sources []string
		want    []string
	}{
		{"top level only", []string{"*.go"}, []string{"main.go"}},
		{"any depth", []string{"**/*.go"}, []string{"main.go", "pkg/a.go", "pkg/a_test.go", "pkg/deep/b.go"}},
		{"a folder brings its files", []string{"web", "pkg/deep"}, []string{"pkg/deep/b.go", "web/app.js"}},
		{"skipped folders stay out of **", []string{"**/*.js", "**/HEAD"}, []string{"web/app.js"}},
		{"named skipped folders count", []string{"node_modules/**", ".git/HEAD"}, []string{".git/HEAD", "node_modules/m/i.js"}},
		{"overlaps once, sorted", []string{"pkg/*.go", "**/a.go", "go.mod"}, []string{"go.mod", "pkg/a.go", "pkg/a_test.go"}},
		{"outside the dir", []string{"../lib/*.go"}, []string{"../lib/shared.go"}},
		{"missing literal part", []string{"nope/**", "gone.txt"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := &Task{Name: "t", Dir: filepath.Join(root, "proj"), Sources: tt.sources}
			got, err := task.SourceFiles()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SourceFiles = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMissingGenerates(t *testing.T) {
	dir := writeTree(t, map[string]string{"bin/app": "x", "dist/js/a.js": "x", "empty/.keep": ""})
	if err := os.Remove(filepath.Join(dir, "empty/.keep")); err != nil {
		t.Fatal(err)
	}
	task := &Task{Dir: dir, Generates: []string{"bin/app", "bin/other", "dist", "dist/**/*.js", "dist/**/*.css", "empty", "empty/*"}}
	want := []string{"bin/other", "dist/**/*.css", "empty/*"}
	if got := task.MissingGenerates(); !reflect.DeepEqual(got, want) {
		t.Errorf("MissingGenerates = %q, want %q", got, want)
	}
}
