package dotenv

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// env is the outside environment the tests expand against.
var env = map[string]string{"HOME": "/home/u", "PATH": "/bin", "BLANK": ""}

// lookupEnv looks names up in env.
func lookupEnv(name string) (string, bool) {
	v, ok := env[name]
	return v, ok
}

// trickyWant is what testdata/tricky.env holds, in file order.
var trickyWant = []Var{
	{"PLAIN", "hello", 4},
	{"EXPORTED", "yes", 5},
	{"TABBED", "tab after export", 6},
	{"SPACED", "around equals", 7},
	{"INDENTED", "leading tab", 8},
	{"YAML_STYLE", "colon form", 9},
	{"export", "export is a key", 10},
	{"EMPTY_VALUE", "", 11},
	{"ONLY_COMMENT", "", 12},
	{"INLINE", "value", 13},
	{"TAB_COMMENT", "value", 14},
	{"HASH_IN_WORD", "a#b", 15},
	{"HASH_FIRST", "#not a comment", 16},
	{"URL", "http://example.com:8080/p?q=1#frag", 17},
	{"DOTTED.KEY", "dots", 18},
	{"_under", "score", 19},
	{"lower_case", "ok", 20},
	{"EQUALS", "a=b=c", 21},
	{"SINGLE", `literal $PLAIN ${PLAIN} \n # kept`, 22},
	{"SINGLE_ESCAPED_QUOTE", `it\'s`, 23},
	{"SINGLE_COMMENT", "x", 24},
	{"DOUBLE", "tab\tlf\ncr\r quote\" backslash\\ dollar$PLAIN", 25},
	{"DOUBLE_UNKNOWN_ESCAPE", "d.", 26},
	{"DOUBLE_HASH", "a # b", 27},
	{"EMPTY_DOUBLE", "", 28},
	{"EMPTY_SINGLE", "", 29},
	{"EXPAND_DOUBLE", "hello, hello!", 30},
	{"EXPAND_BARE", "hello//home/u/dots/hello.local", 31},
	{"ESCAPED_BARE", `$PLAIN C:\temp\new`, 32},
	{"FROM_ENV", "/home/u", 33},
	{"SELF", "/bin:/extra", 34},
	{"MISSING", "[][]", 35},
	{"DEFAULTS", "unset empty  alt ", 36},
	{"NESTED", "hello-/home/u", 37},
	{"REQUIRED", "hello", 38},
	{"DOLLARS", "cost $5, $, $$, $(cmd)", 39},
	{"PEM", "-----BEGIN KEY-----\nMIIBhello\n# not a comment\n-----END KEY-----", 40},
	{"MULTI_SINGLE", "first\n  second $PLAIN", 44},
	{"AFTER_MULTI", "hello", 46},
	{"PLAIN", "overridden", 47},
	{"REUSE", "overridden", 48},
	{"LAST", "end", 50},
}

// diffVars reports the first difference between got and want.
func diffVars(t *testing.T, got, want []Var) {
	t.Helper()
	for i := 0; i < len(got) || i < len(want); i++ {
		switch {
		case i >= len(got):
			t.Fatalf("missing var %d: want %#v", i, want[i])
		case i >= len(want):
			t.Fatalf("extra var %d: %#v", i, got[i])
		case got[i] != want[i]:
			t.Errorf("var %d:\n got  %#v\n want %#v", i, got[i], want[i])
		}
	}
}

func TestLoad_TrickyFile(t *testing.T) {
	got, err := Load("testdata/tricky.env", lookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	diffVars(t, got, trickyWant)
}

// TestParse_WindowsFile reads the tricky file as a Windows editor would
// save it: a byte-order mark and CRLF line endings change nothing.
func TestParse_WindowsFile(t *testing.T) {
	data, err := os.ReadFile("testdata/tricky.env")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "\r") {
		t.Fatal("testdata/tricky.env should have LF line endings")
	}
	crlf := "\uFEFF" + strings.ReplaceAll(string(data), "\n", "\r\n")
	got, err := Parse("win.env", []byte(crlf), lookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	diffVars(t, got, trickyWant)
}

func TestParse_Values(t *testing.T) {
	tests := []struct {
		name   string
		data   string
		lookup func(string) (string, bool)
		want   []Var
	}{
		{"empty file", "", nil, nil},
		{"only comments and blanks", "# a\n\n  \t\n#b", nil, nil},
		{"no final newline", "A=1", nil, []Var{{"A", "1", 1}}},
		{"nil lookup expands to empty", "A=[$HOME]", nil, []Var{{"A", "[]", 1}}},
		{"file wins over lookup", "HOME=/x\nA=$HOME", lookupEnv,
			[]Var{{"HOME", "/x", 1}, {"A", "/x", 2}}},
		{"later definition not seen earlier", "A=$B\nB=1", nil,
			[]Var{{"A", "", 1}, {"B", "1", 2}}},
		{"duplicate keys both returned", "A=1\nA=2", nil,
			[]Var{{"A", "1", 1}, {"A", "2", 2}}},
		{"lookup value not re-expanded", "A=$X", func(string) (string, bool) { return `$Y\n`, true },
			[]Var{{"A", `$Y\n`, 1}}},
		{"bare name stops at dot", "A.B=1\nC=$A.B", nil,
			[]Var{{"A.B", "1", 1}, {"C", ".B", 2}}},
		{"escaped dollar in braces default", `A="${X:-\$Y}"`, nil, []Var{{"A", "$Y", 1}}},
		{"nested braces in default", "A=${X:-${Y:-z}}", nil, []Var{{"A", "z", 1}}},
		{"dash default keeps set empty", "A=${BLANK-d}", lookupEnv, []Var{{"A", "", 1}}},
		{"lone CR ends a line", "A=1\r\rB=2\r", nil, []Var{{"A", "1", 1}, {"B", "2", 3}}},
		{"CR inside CRLF multi-line value dropped", "A=\"1\r\n2\"\r\n", nil,
			[]Var{{"A", "1\n2", 1}}},
		{"escaped newline in double quotes", "A=\"1\\\n2\"\nB=3", nil,
			[]Var{{"A", "1\n2", 1}, {"B", "3", 3}}},
		{"yaml document marker skipped", "---\nA: 1\n---\nB: 2", nil,
			[]Var{{"A", "1", 2}, {"B", "2", 4}}},
		{"colon at end of line is yaml form", "A:", nil, []Var{{"A", "", 1}}},
		{"equals before colon wins", "A=b: c", nil, []Var{{"A", "b: c", 1}}},
		{"colon before equals wins", "A: b=c", nil, []Var{{"A", "b=c", 1}}},
		{"export followed by equals", "export = 1", nil, []Var{{"export", "1", 1}}},
		{"quoted after spaces", `A =   "x y"  `, nil, []Var{{"A", "x y", 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(".env", []byte(tt.data), tt.lookup)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name string
		file string
		data string
		want string
	}{
		{"line without equals", ".env", "A=1\n\noops\n", `.env:3: want KEY=VALUE, got "oops"`},
		{"name is used as given", "config/dev.env", "oops", `config/dev.env:1: want KEY=VALUE, got "oops"`},
		{"export without value", ".env", "export FOO", `.env:1: want KEY=VALUE, got "export FOO"`},
		{"colon without blank", ".env", "http://example.com", `.env:1: want KEY=VALUE, got "http://example.com"`},
		{"indented garbage trimmed in message", ".env", "\t oops \t", `.env:1: want KEY=VALUE, got "oops"`},
		{"key starts with digit", ".env", "1A=x", `.env:1: invalid key "1A"`},
		{"key with dash", ".env", "# c\nFOO-BAR=x", `.env:2: invalid key "FOO-BAR"`},
		{"key with space", ".env", "FOO BAR=x", `.env:1: invalid key "FOO BAR"`},
		{"exported bad key", ".env", "export 1A=x", `.env:1: invalid key "1A"`},
		{"key with non-ASCII letter", ".env", "CAFÉ=x", `.env:1: invalid key "CAFÉ"`},
		{"empty key", ".env", "=x", `.env:1: missing key`},
		{"unterminated double quote names its line", ".env", "A=1\nB=\"abc\nline\n", `.env:2: unterminated double quote`},
		{"unterminated single quote", ".env", "A='abc", `.env:1: unterminated single quote`},
		{"escaped closing double quote", ".env", `A="abc\"`, `.env:1: unterminated double quote`},
		{"escaped closing single quote", ".env", `A='abc\'`, `.env:1: unterminated single quote`},
		{"text after closing quote", ".env", `A="a"b`, `.env:1: unexpected "b" after closing quote`},
		{"text after multi-line value", ".env", "A='a\nb' c # d\n", `.env:2: unexpected "c # d" after closing quote`},
		{"unclosed brace", ".env", "A=${B", `.env:1: "${" without matching "}"`},
		{"unclosed brace in double quotes", ".env", `A="${B"`, `.env:1: "${" without matching "}"`},
		{"space in reference", ".env", "A=${B C}", `.env:1: bad variable reference "${B C}"`},
		{"unknown operator", ".env", "A=${B:x}", `.env:1: bad variable reference "${B:x}"`},
		{"lone colon operator", ".env", "A=${B:}", `.env:1: bad variable reference "${B:}"`},
		{"empty reference", ".env", "A=${}", `.env:1: bad variable reference "${}"`},
		{"bad reference in default", ".env", "A=${X:-${1}}", `.env:1: bad variable reference "${1}"`},
		{"bad reference names its line", ".env", "A=\"x\ny\n${1}\"", `.env:3: bad variable reference "${1}"`},
		{"required variable unset", ".env", "A=${NOPE?}", `.env:1: required variable NOPE is not set`},
		{"required variable empty", ".env", "B=\nA=${B:?set B first}", `.env:2: required variable B is not set: set B first`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.file, []byte(tt.data), nil)
			if err == nil {
				t.Fatalf("no error; got %#v", got)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got  %s\n want %s", err, tt.want)
			}
			if got != nil {
				t.Errorf("vars returned with the error: %#v", got)
			}
		})
	}
}

func TestLoad_Errors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.env")
	if err := os.WriteFile(bad, []byte("A=1\nnope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.env")

	_, err := Load(missing, nil)
	if want := "open " + missing + ": no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("missing file: got %v, want %s", err, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v does not match fs.ErrNotExist", err)
	}
	_, err = Load(bad, nil)
	if want := bad + `:2: want KEY=VALUE, got "nope"`; err == nil || err.Error() != want {
		t.Errorf("bad file: got %v, want %s", err, want)
	}
}

// FuzzParse checks that no input makes Parse panic, and that what it
// returns is well-formed: valid keys, lines in order and inside the file.
func FuzzParse(f *testing.F) {
	data, err := os.ReadFile("testdata/tricky.env")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	for _, s := range []string{"", "A=1", "A=\"x", "A='\\'", "A=${B:-${C", "A=${B?}", "\uFEFFA=1\r\n", "export  A: b #c", "A=\"\\\n\"x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		vars, err := Parse(".env", data, lookupEnv)
		if err != nil {
			if !strings.HasPrefix(err.Error(), ".env:") {
				t.Fatalf("error without position: %v", err)
			}
			return
		}
		lines := strings.Count(normalize(data), "\n") + 1
		last := 0
		for _, v := range vars {
			if checkKey(v.Key) != "" || v.Line <= last || v.Line > lines {
				t.Fatalf("bad var %#v after line %d of %d", v, last, lines)
			}
			last = v.Line
		}
	})
}

// BenchmarkParse parses the tricky file repeated to about 10,000 lines.
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/tricky.env")
	if err != nil {
		b.Fatal(err)
	}
	big := []byte(strings.Repeat(string(data), 200))
	b.SetBytes(int64(len(big)))
	for b.Loop() {
		if _, err := Parse(".env", big, lookupEnv); err != nil {
			b.Fatal(err)
		}
	}
}
