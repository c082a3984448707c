package tasks

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFingerprint(t *testing.T) {
	tests := []struct {
		name    string
		change  func(dir string) error
		changes bool // whether the fingerprint must change
	}{
		{"nothing", func(string) error { return nil }, false},
		{"source content", func(d string) error { return write(d, "src/a.go", "package a // edited") }, true},
		{"one byte, same length", func(d string) error { return write(d, "src/a.go", "package b") }, true},
		{"contents swapped between files", func(d string) error {
			if err := write(d, "src/a.go", "module m"); err != nil {
				return err
			}
			return write(d, "go.mod", "package a")
		}, true},
		{"source added", func(d string) error { return write(d, "src/new/b.go", "package b") }, true},
		{"source removed", func(d string) error { return os.Remove(filepath.Join(d, "src/a.go")) }, true},
		{"source renamed", func(d string) error {
			return os.Rename(filepath.Join(d, "src/a.go"), filepath.Join(d, "src/c.go"))
		}, true},
		{"unrelated file", func(d string) error { return write(d, "README.md", "changed") }, false},
		{"unmatched file beside sources", func(d string) error { return write(d, "src/notes.txt", "x") }, false},
		{"inside node_modules", func(d string) error { return write(d, "src/node_modules/x.go", "x") }, false},
		{"mode only", func(d string) error { return os.Chmod(filepath.Join(d, "src/a.go"), 0o600) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{"src/a.go": "package a", "go.mod": "module m", "README.md": "hi"})
			task := &Task{Name: "build", Dir: dir, Sources: []string{"src/**/*.go", "go.mod"}}
			before, err := task.Fingerprint()
			if err != nil || len(before) != 16 {
				t.Fatalf("Fingerprint = %q, %v; want 16 hex digits", before, err)
			}
			if err := tt.change(dir); err != nil {
				t.Fatal(err)
			}
			after, err := task.Fingerprint()
			if err != nil {
				t.Fatal(err)
			}
			if changed := after != before; changed != tt.changes {
				t.Errorf("fingerprint changed: %v, want %v", changed, tt.changes)
			}
		})
	}
}

func TestFingerprintSameTreeSameHash(t *testing.T) {
	files := map[string]string{"a/x.txt": "1", "b/y.txt": "2"}
	d1, d2 := writeTree(t, files), writeTree(t, files)
	f1, err1 := (&Task{Dir: d1, Sources: []string{"**"}}).Fingerprint()
	f2, err2 := (&Task{Dir: d2, Sources: []string{"**"}}).Fingerprint()
	if err1 != nil || err2 != nil || f1 != f2 {
		t.Errorf("same content in two folders: %q (%v) vs %q (%v)", f1, err1, f2, err2)
	}
	none, err := (&Task{Dir: d1}).Fingerprint()
	if none != "" || err != nil {
		t.Errorf("no sources: %q, %v; want empty", none, err)
	}
}

func write(dir, rel, content string) error {
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(content), 0o644)
}

func TestIsSource(t *testing.T) {
	task := &Task{Name: "setup", Dir: "/p/web", Sources: []string{"package.json", "src/**/*.js"}}
	for _, tt := range []struct {
		path string
		want bool
	}{
		{"/p/web/package.json", true},
		{"/p/web/src/a/b.js", true},
		{"/p/web/src/a/b.ts", false},
		{"/p/web/other.json", false},
		{"/p/package.json", false},
	} {
		if got := task.IsSource(tt.path); got != tt.want {
			t.Errorf("IsSource(%s) = %v, want %v", tt.path, got, tt.want)
		}
	}
}
