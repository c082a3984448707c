package tasks

import (
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

func TestParseCommandRouting(t *testing.T) {
	sh := func(raw string) Command { return shellCommand(raw) }
	argv := func(raw string, words ...string) Command { return Command{Argv: words, Raw: raw} }
	tests := []struct {
		name string
		raw  string
		want Command
	}{
		{"plain words", "npm start", argv("npm start", "npm", "start")},
		{"double quotes", `echo "a b" c`, argv(`echo "a b" c`, "echo", "a b", "c")},
		{"single quotes glued", `echo 'it'"'"'s'`, argv(`echo 'it'"'"'s'`, "echo", "it's")},
		{"escaped blank", `touch a\ b`, argv(`touch a\ b`, "touch", "a b")},
		{"flag with equals is not an assignment", "node --port=3 app.js", argv("node --port=3 app.js", "node", "--port=3", "app.js")},
		{"trailing newline dropped", "go test ./...\n", argv("go test ./...", "go", "test", "./...")},
		{"pipe", "echo hi | tr a-z A-Z", sh("echo hi | tr a-z A-Z")},
		{"and", "npm ci && npm start", sh("npm ci && npm start")},
		{"variable", "echo $HOME", sh("echo $HOME")},
		{"glob", "rm -f *.o", sh("rm -f *.o")},
		{"redirect", "date > now.txt", sh("date > now.txt")},
		{"tilde", "ls ~", sh("ls ~")},
		{"subshell", "(cd web; make)", sh("(cd web; make)")},
		{"quoted pipe still goes to the shell", "grep 'a|b' f", sh("grep 'a|b' f")},
		{"comment", "make # don't", sh("make # don't")},
		{"several lines", "echo a\necho b\n", sh("echo a\necho b")},
		{"builtin cd", "cd web", sh("cd web")},
		{"builtin exec", "exec node app.js", sh("exec node app.js")},
		{"keyword", "while true do", sh("while true do")},
		{"assignment", "NODE_ENV=test node app.js", sh("NODE_ENV=test node app.js")},
		{"here-document is not quote-checked", "cat <<EOF\ndon't\nEOF", sh("cat <<EOF\ndon't\nEOF")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCommand(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseCommand(%q) =\n%#v\nwant\n%#v", tt.raw, got, tt.want)
			}
		})
	}
}

func TestParseCommandErrors(t *testing.T) {
	tests := []struct {
		name, raw, want string
	}{
		{"blank", " \t\n", "empty command"},
		{"unterminated double", `echo "hi`, `unterminated " quote`},
		{"unterminated single in shell syntax", `echo 'hi | cat`, `unterminated ' quote`},
		{"escaped quote does not open", `echo \"hi`, ""},
		{"escaped quote inside double", `echo "a\"b`, `unterminated " quote`},
		{"quote in a comment is fine", "echo hi # it's", ""},
		{"hash inside a word is not a comment", "echo a#'b", `unterminated ' quote`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCommand(tt.raw)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("ParseCommand(%q) error %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestWithArgsStrings(t *testing.T) {
	tests := []struct {
		name string
		cmd  Command
		args []string
		want Command
	}{
		{
			name: "argv gets words",
			cmd:  Command{Argv: []string{"go", "test"}, Raw: "go test"},
			args: []string{"-run", "Test A"},
			want: Command{Argv: []string{"go", "test", "-run", "Test A"}, Raw: "go test -run 'Test A'"},
		},
		{
			name: "shell gets quoted words",
			cmd:  shellCommand("echo $X"),
			args: []string{"a b", "it's", "", "$Y", "ok/path.go"},
			want: shellCommand(`echo $X 'a b' 'it'\''s' '' '$Y' ok/path.go`),
		},
		{
			name: "no args",
			cmd:  shellCommand("echo $X"),
			want: shellCommand("echo $X"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := append([]string(nil), tt.cmd.Argv...)
			got := tt.cmd.WithArgs(tt.args)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("WithArgs =\n%#v\nwant\n%#v", got, tt.want)
			}
			if !reflect.DeepEqual(tt.cmd.Argv, before) {
				t.Errorf("WithArgs changed the original: %q", tt.cmd.Argv)
			}
		})
	}
}

// TestWithArgsRoundTrip runs the commands: every argument must reach the
// program exactly as given, whether the command is argv or shell, and Raw
// must mean the same when a shell reads it.
func TestWithArgsRoundTrip(t *testing.T) {
	args := []string{"a b", "it's", `"q"`, "$HOME", "", "*", "x\ny", "--flag=1", `back\slash`, "é"}
	want := strings.Join(args, "\n") + "\n"
	for _, raw := range []string{`printf '%s\n'`, `true; printf '%s\n'`} {
		c, err := ParseCommand(raw)
		if err != nil {
			t.Fatal(err)
		}
		c = c.WithArgs(args)
		for name, argv := range map[string][]string{"Argv": c.Argv, "Raw": {"/bin/sh", "-c", c.Raw}} {
			out, err := exec.Command(argv[0], argv[1:]...).Output()
			if err != nil {
				t.Fatalf("%s: run %q: %v", raw, argv, err)
			}
			if string(out) != want {
				t.Errorf("%s (shell %v) via %s printed %q, want %q", raw, c.Shell, name, out, want)
			}
		}
	}
}
