package tasks

import (
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// routingCases are command strings and whether ParseCommand runs them
// directly (argv: the words) or under /bin/sh -c (shell).
var routingCases = []struct {
	name string
	raw  string
	argv []string // nil: a shell command
}{
	{"plain words", "npm start", []string{"npm", "start"}},
	{"double quotes", `echo "a b" c`, []string{"echo", "a b", "c"}},
	{"single quotes glued", `echo 'it'"'"'s'`, []string{"echo", "it's"}},
	{"escaped blank", `touch a\ b`, []string{"touch", "a b"}},
	{"flag with equals is not an assignment", "node --port=3 app.js", []string{"node", "--port=3", "app.js"}},
	{"trailing newline dropped", "go test ./...\n", []string{"go", "test", "./..."}},
	{"pipe", "echo hi | tr a-z A-Z", nil},
	{"pipe without blanks", "a|b", nil},
	{"and", "npm ci && npm start", nil},
	{"variable", "echo $HOME", nil},
	{"glob", "rm -f *.o", nil},
	{"glob ls", "ls *.go", nil},
	{"glob bracket", "ls [ab].go", nil},
	{"closing bracket alone is a word", "echo ]", []string{"echo", "]"}},
	{"redirect", "date > now.txt", nil},
	{"tilde", "ls ~", nil},
	{"tilde path", "cat ~/.npmrc", nil},
	{"tilde inside a word is a word", "git log HEAD~1", []string{"git", "log", "HEAD~1"}},
	{"subshell", "(cd web; make)", nil},
	{"brace", "echo {a,b}", nil},
	{"comment", "make # don't", nil},
	{"comment alone", "echo #c", nil},
	{"hash inside a word", "echo a#b", []string{"echo", "a#b"}},
	{"hash after a quote is inside the word", `echo ""#b`, []string{"echo", "#b"}},
	{"escaped hash", `echo \#b`, []string{"echo", "#b"}},
	{"several lines", "echo a\necho b\n", nil},
	{"builtin cd", "cd web", nil},
	{"builtin exec", "exec node app.js", nil},
	{"keyword", "while true do", nil},
	{"negation", "! grep -q x f", nil},
	{"assignment", "NODE_ENV=test node app.js", nil},
	{"here-document is not quote-checked", "cat <<EOF\ndon't\nEOF", nil},

	// Shell syntax inside quotes is an argument of the program.
	{"sh -c with a quoted script", `sh -c 'echo hi; exec server'`, []string{"sh", "-c", "echo hi; exec server"}},
	{"bash -lc with a double-quoted script", `bash -lc "npm ci && npm start"`, []string{"bash", "-lc", "npm ci && npm start"}},
	{"node -e", `node -e 'a;b'`, []string{"node", "-e", "a;b"}},
	{"quoted pipe is a word", "grep 'a|b' f", []string{"grep", "a|b", "f"}},
	{"semicolon in double quotes", `echo "a;b"`, []string{"echo", "a;b"}},
	{"variable in single quotes", `echo '$X'`, []string{"echo", "$X"}},
	{"printf format", `printf '%s\n' x`, []string{"printf", `%s\n`, "x"}},
	{"glob and tilde in quotes", `ls '*.go' "~"`, []string{"ls", "*.go", "~"}},
	{"hash in quotes", `echo '#c' "#d"`, []string{"echo", "#c", "#d"}},
	{"newline in quotes", "echo 'a\nb'", []string{"echo", "a\nb"}},
	{"escaped semicolon", `echo a\;b`, []string{"echo", "a;b"}},
	{"escapes in double quotes", "echo \"\\$X \\\"q\\\" \\\\ \\`\"", []string{"echo", "$X \"q\" \\ `"}},
	{"unicode", "echo héllo 'wörld'", []string{"echo", "héllo", "wörld"}},

	// sh still expands $ and ` inside double quotes.
	{"variable in double quotes", `echo "$X"`, nil},
	{"home in double quotes", `echo "$HOME"`, nil},
	{"command substitution in double quotes", "echo \"`date`\"", nil},

	// What sh and shlex would read differently goes to the shell.
	{"backslash in double quotes kept by sh", `printf "%s\n" x`, nil},
	{"backslash-newline outside quotes", "echo a\\\nb", nil},
	{"backslash-newline in double quotes", "echo \"a\\\nb\"", nil},
	{"carriage return", "echo a\rb", nil},
	{"not UTF-8", "echo \xff", nil},
	{"not UTF-8 after a backslash", "echo \\\xde", nil},
}

func TestParseCommandRouting(t *testing.T) {
	for _, tt := range routingCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCommand(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			raw := strings.TrimRight(tt.raw, "\n")
			want := shellCommand(raw)
			if tt.argv != nil {
				want = Command{Argv: tt.argv, Raw: raw}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ParseCommand(%q) =\n%#v\nwant\n%#v", tt.raw, got, want)
			}
		})
	}
}

// TestParseCommandDirectMatchesSh checks every command that runs without a
// shell against sh itself: sh must read the same words from it.
func TestParseCommandDirectMatchesSh(t *testing.T) {
	for _, tt := range routingCases {
		if tt.argv == nil {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			if got := shWords(t, tt.raw); !reflect.DeepEqual(got, tt.argv) {
				t.Errorf("sh reads %q as %q, want %q", tt.raw, got, tt.argv)
			}
		})
	}
}

// FuzzParseCommandMatchesSh: whatever ParseCommand runs directly, sh must
// split into the same words.
func FuzzParseCommandMatchesSh(f *testing.F) {
	for _, tt := range routingCases {
		f.Add(tt.raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := ParseCommand(raw)
		if err != nil || c.Shell || strings.ContainsRune(raw, 0) {
			return
		}
		if got := shWords(t, c.Raw); !reflect.DeepEqual(got, c.Argv) {
			t.Errorf("ParseCommand(%q) = %q, but sh reads %q", raw, c.Argv, got)
		}
	})
}

// shWords returns the words sh reads from raw, as the arguments of set.
func shWords(t *testing.T, raw string) []string {
	t.Helper()
	out, err := exec.Command("/bin/sh", "-c", "set -- "+raw+"\nprintf '%s\\0' \"$@\"").Output()
	if err != nil {
		t.Fatalf("sh: set -- %s: %v", raw, err)
	}
	words := strings.Split(string(out), "\x00")
	return words[:len(words)-1]
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
