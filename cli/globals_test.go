package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGlobals_FindsTheConfig checks -C and -f as every command applies
// them: load (run, up, check...), projectDir (status, ps, logs...), and one
// after the other (up -d prints ps; logs loads, then dials), which must
// not go into a relative -C folder twice. A -f that names no file is a
// usage error (exit 2) for all of them.
func TestGlobals_FindsTheConfig(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"sub/Procfile.yaml": "tasks:\n  web: {cmd: sleep 30, service: true}\n",
		"sub/other.yaml":    "tasks:\n  api: {cmd: sleep 30, service: true}\n",
		"empty/.keep":       "",
	})
	tests := []struct {
		name string
		g    Globals
		want string // the project's folder under dir, or the error with DIR for dir
	}{
		{"-C a relative folder", Globals{Dir: "sub"}, "sub"},
		{"-C and -f in it", Globals{Dir: "sub", File: "other.yaml"}, "sub"},
		{"-f a file", Globals{File: "sub/other.yaml"}, "sub"},
		{"-f a missing file", Globals{File: "nope.yaml"}, "-f nope.yaml: no such file: name an existing Procfile.yaml or Procfile"},
		{"-f a folder", Globals{File: "sub"}, "-f sub is a folder: name the Procfile.yaml or Procfile in it, or use -C sub"},
		{"-C a folder without a config", Globals{Dir: "empty"}, "no Procfile.yaml or Procfile in DIR/empty"},
		{"-C a missing folder", Globals{Dir: "nope"}, "-C: chdir nope: no such file or directory"},
	}
	for _, tt := range tests {
		for _, how := range []string{"load", "projectDir", "quietLoad then projectDir", "load then projectDir"} {
			t.Run(tt.name+"/"+how, func(t *testing.T) {
				t.Chdir(dir)
				g := tt.g
				got, err := findConfig(&g, how)
				if err != nil {
					var ue *usageError
					if !errors.As(err, &ue) {
						t.Errorf("error %v is no usage error (exit 2)", err)
					}
					got = strings.ReplaceAll(err.Error(), dir, "DIR")
				}
				want := tt.want
				if !strings.Contains(want, " ") {
					want = filepath.Join(dir, want)
				}
				if got != want {
					t.Errorf("got %q, want %q", got, want)
				}
			})
		}
	}
}

// findConfig finds the project's folder as the command in how would.
func findConfig(g *Globals, how string) (string, error) {
	switch how {
	case "load":
		p, err := g.load()
		if err != nil {
			return "", err
		}
		return p.cfg.Dir, nil
	case "load then projectDir":
		if _, err := g.load(); err != nil {
			return "", err
		}
	case "quietLoad then projectDir":
		g.quietLoad()
	}
	return g.projectDir()
}

// TestGlobals_UnreadableConfig: a config file that cannot be read is a
// usage error too, not a failure of procman (exit 1).
func TestGlobals_UnreadableConfig(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file")
	}
	dir := writeFiles(t, map[string]string{"Procfile": "web: run\n"})
	if err := os.Chmod(filepath.Join(dir, "Procfile"), 0); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	_, err := (&Globals{}).load()
	var ue *usageError
	if want := "read config: open Procfile: permission denied"; err == nil || err.Error() != want || !errors.As(err, &ue) {
		t.Errorf("error %v, want usage error %q", err, want)
	}
}
