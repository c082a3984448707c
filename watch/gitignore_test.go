package watch

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		name, pat, s string
		want         bool
	}{
		{"literal", "main.go", "main.go", true},
		{"literal differs", "main.go", "main.gox", false},
		{"star suffix", "*.log", "app.log", true},
		{"star empty", "*.log", ".log", true},
		{"star backtracks", "a*b*c", "aXbYbZc", true},
		{"star no match", "a*b", "aXc", false},
		{"question", "file?.go", "file1.go", true},
		{"question is one byte", "file?.go", "file10.go", false},
		{"class", "[abc].txt", "b.txt", true},
		{"class miss", "[abc].txt", "d.txt", false},
		{"class range", "[a-c]x", "cx", true},
		{"class bang negates", "[!x]y", "ay", true},
		{"class bang negated miss", "[!x]y", "xy", false},
		{"class caret negates", "[^x]y", "xy", false},
		{"class bracket first", "[]a]", "]", true},
		{"named class", "[[:digit:]]x", "7x", true},
		{"named class miss", "[[:digit:]]x", "ax", false},
		{"unterminated class", "[abc", "a", false},
		{"escaped star", `\*`, "*", true},
		{"escaped star literal", `\*`, "a", false},
		{"escaped space", `a\ `, "a ", true},
		{"double star in segment", "a**b", "aXXb", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := globMatch(tt.pat, tt.s); got != tt.want {
				t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pat, tt.s, got, tt.want)
			}
		})
	}
}

func TestParseRule(t *testing.T) {
	tests := []struct {
		name, line string
		ok         bool
		want       rule
	}{
		{"blank", "   ", false, rule{}},
		{"comment", "# x", false, rule{}},
		{"plain", "*.log", true, rule{segs: []string{"*.log"}}},
		{"negated", "!keep.log", true, rule{segs: []string{"keep.log"}, negate: true}},
		{"escaped bang", `\!bang`, true, rule{segs: []string{"!bang"}}},
		{"escaped hash", `\#hash`, true, rule{segs: []string{"#hash"}}},
		{"dir only", "out/", true, rule{segs: []string{"out"}, dirOnly: true}},
		{"anchored", "/build", true, rule{segs: []string{"build"}, anchored: true}},
		{"middle slash anchors", "docs/*.md", true, rule{segs: []string{"docs", "*.md"}, anchored: true}},
		{"double star", "**/tmp", true, rule{segs: []string{"**", "tmp"}, anchored: true}},
		{"trailing spaces", "x   ", true, rule{segs: []string{"x"}}},
		{"escaped trailing space", `x\ `, true, rule{segs: []string{`x\ `}}},
		{"crlf", "x\r\n", true, rule{segs: []string{"x"}}},
		{"only slash", "/", false, rule{}},
		{"only bang", "!", false, rule{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseRule(tt.line)
			if ok != tt.ok || !slices.Equal(got.segs, tt.want.segs) || got.negate != tt.want.negate ||
				got.dirOnly != tt.want.dirOnly || got.anchored != tt.want.anchored {
				t.Errorf("parseRule(%q) = %+v, %v; want %+v, %v", tt.line, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// gitCorpus is a tree of .gitignore files and paths; the test asks real
// git which paths it ignores and compares. Paths ending in "/" are folders.
var gitCorpus = struct {
	files map[string]string
	paths []string
}{
	files: map[string]string{
		".gitignore": strings.Join([]string{
			"# comment", "*.log", "!important.log", "/build", "docs/*.md", "!docs/README.md",
			"**/tmp", "a/**/b", "out/", "cache/**", "!cache/keep", "logs/", "!logs/keep.txt",
			`\#hash`, `\!bang`, `space\ `, "trailing   ", "[abc].txt", "[!x]y.c", "file?.go",
			"*.o", "!keep.o", "deep/**/z.txt", "**/gen/**", "", "star/*/end",
		}, "\n"),
		"sub/.gitignore":        "*.gen\n!important.gen\n/local\nnested/\n!*.log\nx/y\n",
		"sub/deeper/.gitignore": "!local\n*.txt\n!keep.txt\n",
	},
	paths: []string{
		"app.log", "important.log", "sub/app.log", "sub/deeper/app.log", "é.log",
		"build/", "build/x.js", "sub/build/", "sub/build/x.js",
		"docs/", "docs/a.md", "docs/README.md", "docs/x/", "docs/x/a.md",
		"tmp/", "tmp/f", "x/", "x/tmp/", "x/tmp/f",
		"a/", "a/b", "a/x/", "a/x/b", "a/x/y/", "a/x/y/b", "a/bb",
		"out/", "out/f", "y/", "y/out", "y/out2/",
		"cache/", "cache/keep", "cache/x", "cache/sub/", "cache/sub/y",
		"logs/", "logs/a", "logs/keep.txt",
		"#hash", "!bang", "space ", "trailing", "a.txt", "d.txt", "ay.c", "xy.c",
		"file1.go", "file10.go", "m.o", "keep.o",
		"deep/", "deep/z.txt", "deep/q/", "deep/q/r/", "deep/q/r/z.txt",
		"src/", "src/gen/", "src/gen/x.go", "gen/", "gen/y.go",
		"star/", "star/m/", "star/m/end", "star/m/n/", "star/m/n/end",
		"sub/", "sub/a.gen", "sub/important.gen", "sub/local", "sub/deeper/", "sub/deeper/local",
		"sub/nested/", "sub/nested/f", "sub/x/", "sub/x/y", "sub/deeper/x/", "sub/deeper/x/y",
		"sub/deeper/a.txt", "sub/deeper/c.txt", "sub/deeper/keep.txt", "sub/deeper/d.o",
	},
}

// TestIgnored_AgreesWithGit builds the corpus in a temporary repository and
// compares ignoredPath with `git check-ignore` for every path.
func TestIgnored_AgreesWithGit(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	for name, text := range gitCorpus.files {
		writeFile(t, filepath.Join(dir, name), text)
	}
	for _, p := range gitCorpus.paths {
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
				t.Fatal(err)
			}
		} else {
			writeFile(t, filepath.Join(dir, p), "")
		}
	}
	run := func(stdin string, args ...string) string {
		cmd := exec.Command(git, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir, "XDG_CONFIG_HOME="+dir)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.Output()
		if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
			t.Fatalf("git %v: %v", args, err)
		}
		return string(out)
	}
	run("", "init", "-q", ".")
	var stdin strings.Builder
	for _, p := range gitCorpus.paths {
		stdin.WriteString(strings.TrimSuffix(p, "/") + "\x00")
	}
	gitIgnored := map[string]bool{}
	for _, p := range strings.Split(run(stdin.String(), "check-ignore", "--stdin", "-z"), "\x00") {
		gitIgnored[p] = true
	}
	ig := newIgnorer(dir, []string{dir}, nil, t.Logf)
	for _, p := range gitCorpus.paths {
		isDir := strings.HasSuffix(p, "/")
		p = strings.TrimSuffix(p, "/")
		got := ig.ignoredPath(dir, filepath.Join(dir, p), isDir)
		if got != gitIgnored[p] {
			t.Errorf("%s: ignored = %v, git check-ignore says %v", p, got, gitIgnored[p])
		}
	}
	if len(gitIgnored) < 20 {
		t.Errorf("git ignored only %d corpus paths; the corpus is not exercising much", len(gitIgnored))
	}
}

func TestIgnored_BuiltinsAndExtra(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, ".gitignore"), "*.gen\n")
	ig := newIgnorer(dir, []string{dir}, []string{"dist/**", "*.tmp.js", "!keep.gen"}, nil)
	tests := []struct {
		name  string
		path  string
		isDir bool
		want  bool
	}{
		{"plain file", "main.go", false, false},
		{"node_modules", "web/node_modules", true, true},
		{".git folder", ".git", true, true},
		{".git file", "sub/.git", false, true},
		{".procman", ".procman", true, true},
		{"python bytecode cache", "app/__pycache__", true, true},
		{"inside the bytecode cache", "app/__pycache__/mod.cpython-312.pyc", false, true},
		{"inside node_modules", "node_modules/x/index.js", false, true},
		{"vim swap", ".main.go.swp", false, true},
		{"vim swx", ".main.go.swx", false, true},
		{"backup", "main.go~", false, true},
		{"emacs lock", ".#main.go", false, true},
		{"emacs autosave", "#main.go#", false, true},
		{"vim probe", "4913", false, true},
		{"mac finder", ".DS_Store", false, true},
		{"jetbrains new content", "main.go___jb_tmp___", false, true},
		{"jetbrains original", "main.go___jb_old___", false, true},
		{"hash alone", "#", false, false},
		{"gitignore rule", "x.gen", false, true},
		{"extra glob", "dist/app.js", false, true},
		{"extra glob leaves folder", "dist", true, false},
		{"extra basename glob", "src/a.tmp.js", false, true},
		{"extra negation wins over gitignore", "keep.gen", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ig.ignoredPath(dir, filepath.Join(dir, tt.path), tt.isDir); got != tt.want {
				t.Errorf("ignoredPath(%s) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}

// TestIgnored_GitignoreAboveRoot checks that .gitignore files between Base
// and a root apply below the root.
func TestIgnored_GitignoreAboveRoot(t *testing.T) {
	base := t.TempDir()
	writeFile(t, filepath.Join(base, ".gitignore"), "*.gen\n")
	writeFile(t, filepath.Join(base, "web", ".gitignore"), "/src/out\n")
	root := filepath.Join(base, "web", "src")
	ig := newIgnorer(base, []string{root}, nil, nil)
	for p, want := range map[string]bool{"a.gen": true, "out": true, "a.go": false, "x/out": false} {
		if got := ig.ignored(filepath.Join(root, p), false); got != want {
			t.Errorf("ignored(%s) = %v, want %v", p, got, want)
		}
	}
}

// writeFile writes text to path, creating its folder.
func writeFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
