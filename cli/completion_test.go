package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// completeCases drive complete with procman's real command tree; the task
// names come from a stub that records where it was asked to look.
var completeCases = []struct {
	name  string
	words []string
	want  []string // candidate words, descriptions cut off
	where string   // "dir|file" the names were asked for, when they were
}{
	{"commands", []string{""}, []string{"up", "run", "watch", "list", "graph", "check", "status", "ps", "restart", "stop", "start", "scale", "logs", "attach", "down", "ui", "export", "completion", "init"}, ""},
	{"command prefix", []string{"c"}, []string{"check", "completion"}, ""},
	{"task names for run", []string{"run", "b"}, []string{"bootstrap", "build"}, "|"},
	{"task names for up, again after one", []string{"up", "serve", ""}, []string{"bootstrap", "build", "serve"}, "|"},
	{"task names under -C and -f", []string{"-C", "sub", "--file=x.yaml", "watch", "s"}, []string{"serve"}, "sub|x.yaml"},
	{"run takes one task, then args", []string{"run", "build", ""}, []string{":file"}, ""},
	{"after -- the task's args", []string{"run", "build", "--", "-x", ""}, []string{":file"}, ""},
	{"global flags", []string{"--co"}, []string{"--color"}, ""},
	{"command flags after a task", []string{"up", "serve", "--no"}, []string{"--no-prefix", "--no-watch"}, ""},
	{"enum flag values", []string{"--color", ""}, []string{"auto", "always", "never"}, ""},
	{"enum flag values by prefix", []string{"--log-level", "d"}, []string{"debug"}, ""},
	{"a file flag", []string{"-f", ""}, []string{":file"}, ""},
	{"a folder flag", []string{"-C", ""}, []string{":dir"}, ""},
	{"a bool flag takes no value", []string{"--debug", "l"}, []string{"list", "logs"}, ""},
	{"shells", []string{"completion", ""}, []string{"bash", "zsh", "fish"}, ""},
	{"export formats", []string{"export", ""}, []string{"systemd"}, ""},
	{"export systemd tasks", []string{"export", "systemd", "se"}, []string{"serve"}, "|"},
	{"export systemd --out", []string{"export", "systemd", "--out", ""}, []string{":dir"}, ""},
	{"nothing after list", []string{"list", ""}, nil, ""},
	{"hidden commands stay hidden", []string{"__"}, nil, ""},
	{"no words at all", nil, []string{"up", "run", "watch", "list", "graph", "check", "status", "ps", "restart", "stop", "start", "scale", "logs", "attach", "down", "ui", "export", "completion", "init"}, ""},
}

func TestComplete(t *testing.T) {
	parser, err := kong.New(&CLI{}, kong.Name("procman"), kong.Vars{"version": "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range completeCases {
		t.Run(tt.name, func(t *testing.T) {
			where := ""
			names := func(dir, file string) []string {
				where = dir + "|" + file
				return []string{"bootstrap\tonce", "build\tcompile it", "serve\tthe web server"}
			}
			var got []string
			for _, c := range complete(parser.Model.Node, tt.words, names) {
				word, _, _ := strings.Cut(c, "\t")
				got = append(got, word)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("complete(%q) = %q, want %q", tt.words, got, tt.want)
			}
			if where != tt.where {
				t.Errorf("names asked for %q, want %q", where, tt.where)
			}
		})
	}
}

func TestComplete_Descriptions(t *testing.T) {
	parser, err := kong.New(&CLI{}, kong.Name("procman"), kong.Vars{"version": "test"})
	if err != nil {
		t.Fatal(err)
	}
	names := func(dir, file string) []string { return []string{"serve\tthe web server"} }
	got := complete(parser.Model.Node, []string{"run", ""}, names)
	if want := []string{"serve\tthe web server"}; !reflect.DeepEqual(got, want) {
		t.Errorf("tasks: %q, want %q", got, want)
	}
	got = complete(parser.Model.Node, []string{"ini"}, names)
	if want := []string{"init\tWrite a starter Procfile.yaml for this folder (never overwrites one)."}; !reflect.DeepEqual(got, want) {
		t.Errorf("commands: %q, want %q", got, want)
	}
}

func TestTaskCandidates(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"Procfile.yaml":   "tasks:\n  build: {cmd: go build, desc: \"compile\\nit all\"}\n  serve: {cmd: ./serve, service: true}\n",
		"other.yaml":      "tasks:\n  lint: go vet\n",
		"broken/Procfile": "not a procfile\n",
	})
	t.Setenv("PROCMAN_FILE", "")
	tests := []struct {
		name, dir, file string
		want            []string
	}{
		{"the folder's Procfile.yaml", dir, "", []string{"build\tcompile", "serve\tservice"}},
		{"-f relative to -C", dir, "other.yaml", []string{"lint\ttask"}},
		{"-f absolute", "/", filepath.Join(dir, "other.yaml"), []string{"lint\ttask"}},
		{"a config with errors", filepath.Join(dir, "broken"), "", nil},
		{"no config", t.TempDir(), "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := taskCandidates(tt.dir, tt.file); !reflect.DeepEqual(got, tt.want) && len(got)+len(tt.want) > 0 {
				t.Errorf("taskCandidates(%q, %q) = %q, want %q", tt.dir, tt.file, got, tt.want)
			}
		})
	}
}

// TestCompletionScripts_Syntax checks each script with its shell's own
// parser, for the shells that are installed.
func TestCompletionScripts_Syntax(t *testing.T) {
	for shell, script := range completionScripts {
		t.Run(shell, func(t *testing.T) {
			path, err := exec.LookPath(shell)
			if err != nil {
				t.Skipf("no %s", shell)
			}
			f := filepath.Join(t.TempDir(), "procman."+shell)
			if err := os.WriteFile(f, []byte(script), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(path, "-n", f).CombinedOutput(); err != nil || len(out) > 0 {
				t.Errorf("%s -n: %v\n%s", shell, err, out)
			}
		})
	}
}
