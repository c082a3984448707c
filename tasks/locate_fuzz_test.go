package tasks

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadYAML: Load never panics, and a syntax error's line lies inside
// the file.
func FuzzLoadYAML(f *testing.F) {
	f.Add("tasks:\n  a:\n    cmd: echo a\n   deps: [a]\n")
	f.Add("tasks:\n  a:\n\tcmd: echo a\n")
	f.Add("tasks:\n  a: {cmd: [echo\n")
	f.Add("a: |\n  x\n b: y\n")
	f.Fuzz(func(t *testing.T, text string) {
		dir := t.TempDir()
		path := filepath.Join(dir, "Procfile.yaml")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path, LoadOptions{})
		var list ErrorList
		if err == nil || !errors.As(err, &list) {
			return
		}
		lines := 1 // as YAML counts them: \n, \r\n or a lone \r ends a line
		for i := 0; i < len(text); i++ {
			if text[i] == '\n' || text[i] == '\r' && (i+1 == len(text) || text[i+1] != '\n') {
				lines++
			}
		}
		for _, e := range list {
			if e.Pos.Line > lines {
				t.Fatalf("%v: line %d of a %d-line file", e, e.Pos.Line, lines)
			}
		}
	})
}
