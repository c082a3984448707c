package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary be the idle case's floor watcher, as the
// benchmark's binary is when re-executed with floorWatchVar set.
func TestMain(m *testing.M) {
	if root := os.Getenv(floorWatchVar); root != "" {
		os.Exit(floorWatchMain(root))
	}
	os.Exit(m.Run())
}

// TestSmoke runs every case at tiny sizes: the program builds procman,
// measures, prints a row per measure without errors, writes the Markdown
// table, and leaves no process behind.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds procman and starts processes; skipped under -short")
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // the run's folder, and the mark its processes carry, are below tmp
	md := filepath.Join(tmp, "results.md")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"-q", "-rounds", "3", "-saves", "3", "-save-gap", "100ms", "-files", "40", "-storm", "100",
		"-node-saves", "2", "-node-gap", "200ms", "-npm-install=false", "-idle", "200ms",
		"-idle-dirs", "30", "-idle-modules", "100", "-lines", "2000", "-runs", "3", "-services", "5",
		"-ps-runs", "10", "-ps-services", "3", "-restarts", "3", "-log-lines", "10",
		"-replica-services", "2", "-replicas", "3", "-rolls", "2", "-ui-runs", "2", "-ui-window", "300ms", "-ui-lines", "200",
		"-before-commit", "", "-out", md}, &stdout, &stderr)
	if code != 0 && code != 1 {
		t.Fatalf("exit code %d; stderr:\n%s\nstdout:\n%s", code, stderr.String(), stdout.String())
	}
	table := stdout.String()
	if strings.Contains(table, "error:") {
		t.Errorf("a case could not be measured:\n%s", table)
	}
	for _, want := range []string{
		"restart, debounce 0s: median", "restart, default debounce (auto): p90",
		"restart, 3 saves 100ms apart: restarts logged", "restart, 3 saves 100ms apart: child starts",
		"storm: restarts after rewriting the tree", "node: save to new answer: median", "node: save to new answer: p90",
		"idle: watch ready", "idle: CPU of procman and its guard", "idle: wakeups of procman and its guard",
		"idle: state file writes", "idle: RSS of procman", "throughput: 2 x 2000 lines to a file", "startup: run noop",
		"scale: 5 services all started", "scale: 5 services all stopped", "scale: RSS of procman with 5 services",
		"control: ps, 5 services: median", "control: ps, 3 services: median", "control: restart: median",
		"control: logs -f latency: median", "control: logs -f latency: p99",
		"replicas: 2 services x 3 all started", "replicas: 2 services x 3 all stopped", "replicas: rolling restart of 3: median",
		"dashboard: first screen: median", "dashboard: first screen with the tasks: median", "dashboard: CPU, 2 tasks printing 1,000 lines/s each", "dashboard: CPU, idle",
		"dashboard: redraws, idle", "dashboard: RSS with 200 lines",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("no row %q in:\n%s", want, table)
		}
	}
	if !strings.Contains(table, "0 lines lost, 0 mixed; log files on: a.log holds its 2000 lines, each after its time") {
		t.Errorf("procman lost or mixed lines, or its log files did:\n%s", table)
	}
	if !regexp.MustCompile(`(?m)^startup: run noop, linked with the dashboard +skipped: no -before-commit`).MatchString(table) {
		t.Errorf("the startup row against the build before the dashboard was not skipped without -before-commit:\n%s", table)
	}
	if !regexp.MustCompile(`(?m)^control: restart: median .*; 0 extra child starts`).MatchString(table) ||
		!regexp.MustCompile(`(?m)^replicas: rolling restart .*; 0 extra child starts`).MatchString(table) ||
		!strings.Contains(table, "0 lines lost (floor 0)") {
		t.Errorf("procman restart started web, or a replica of it, more than once, or procman logs -f lost lines:\n%s", table)
	}
	if !regexp.MustCompile(`(?m)^storm: restarts after rewriting the tree +1 +[12] `).MatchString(table) {
		t.Errorf("the storm did not restart the child once or twice:\n%s", table)
	}
	data, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "Measured on ") || !strings.Contains(string(data), "\n| case | floor | procman | ratio | target | ok | note |\n|---|") {
		t.Errorf("Markdown table:\n%s", data)
	}
	if left := marked(tmp); len(left) > 0 {
		t.Errorf("processes left running: %v", left)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 1 {
		t.Errorf("temp folder not tidied: %v", entries)
	}
}

// marked returns the processes whose PROCMAN_BENCH_MARK is below dir.
func marked(dir string) []string {
	if runtime.GOOS != "linux" {
		return nil
	}
	var out []string
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		env, err := os.ReadFile(filepath.Join("/proc", p.Name(), "environ"))
		if err == nil && bytes.Contains(env, []byte(markVar+"="+dir)) {
			cmd, _ := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
			out = append(out, p.Name()+": "+strings.ReplaceAll(string(cmd), "\x00", " "))
		}
	}
	return out
}

var flagErrors = []struct {
	name string
	args []string
	want string
}{
	{"unknown case", []string{"-cases", "restart,nap"}, `unknown case "nap" (cases: restart, storm, node, idle, throughput, startup, scale, replicas, control, dashboard)`},
	{"zero size", []string{"-rounds", "0"}, "sizes must be at least 1"},
	{"no save gap", []string{"-save-gap", "0s"}, "sizes must be at least 1"},
	{"no node saves", []string{"-node-saves", "0"}, "sizes must be at least 1"},
	{"no idle window", []string{"-idle", "0s"}, "sizes must be at least 1"},
	{"no ps runs", []string{"-ps-runs", "0"}, "sizes must be at least 1"},
	{"no log lines", []string{"-log-lines", "0"}, "sizes must be at least 1"},
	{"no replicas", []string{"-replicas", "0"}, "sizes must be at least 1"},
	{"no ui window", []string{"-ui-window", "0s"}, "sizes must be at least 1"},
	{"stray argument", []string{"-rounds", "3", "now"}, "unexpected arguments: now"},
}

func TestParseFlags_Errors(t *testing.T) {
	for _, tc := range flagErrors {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseFlags(tc.args, io.Discard)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseFlags_Defaults(t *testing.T) {
	c, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.cases, ",") != "restart,storm,node,idle,throughput,startup,scale,replicas,control,dashboard" || c.rounds != 30 ||
		c.saves != 20 || c.saveGap != 1500*time.Millisecond || c.nodeSaves != 15 || c.nodeGap != time.Second || !c.npmInstall ||
		c.files != 1000 || c.idle != 60*time.Second || c.idleDirs != 2000 || c.idleModules != 50000 ||
		c.lines != 1000000 || c.services != 200 || c.psRuns != 200 || c.psServices != 200 || c.restarts != 30 || c.logLines != 200 ||
		c.replicaSvcs != 20 || c.replicas != 10 || c.rolls != 5 || c.uiRuns != 20 || c.uiWindow != 10*time.Second || c.uiLines != 10000 ||
		c.before != "3dbfe7f^" {
		t.Errorf("defaults = %+v", c)
	}
}

var restartLines = []struct {
	name string
	line string
	want bool
}{
	{"watch: first", "procman | watch: 1 file changed (tree/x): restarting child", true},
	{"task name first", "procman | child: restarting (1 file changed: tree/x)", true},
	{"task name first, many files", "procman | child: restarting (3 files changed: tree/x, tree/y, …)", true},
	{"another task", "procman | children: restarting (1 file changed: tree/x)", false},
	{"a crash's restart", "procman | child restarting in 500ms (restart 1)", false},
	{"a re-run", "procman | watch: 1 file changed (tree/x): re-running child", false},
}

func TestRestartLine(t *testing.T) {
	for _, tc := range restartLines {
		t.Run(tc.name, func(t *testing.T) {
			if got := restartLine.MatchString(tc.line); got != tc.want {
				t.Errorf("restartLine matches %q: %v, want %v", tc.line, got, tc.want)
			}
		})
	}
}

var npmOutputs = []struct {
	name, out, want string
}{
	{"no network", "npm error code ENOTFOUND\nnpm error syscall getaddrinfo\nnpm error A complete log of this run can be found in: /x.log\n", "ENOTFOUND"},
	{"no code", "npm error something odd\nnpm error last words\n", "npm error last words"},
}

func TestNpmWhy(t *testing.T) {
	for _, tc := range npmOutputs {
		t.Run(tc.name, func(t *testing.T) {
			if got := npmWhy(tc.out); got != tc.want {
				t.Errorf("npmWhy = %q, want %q", got, tc.want)
			}
		})
	}
}

var quantiles = []struct {
	name string
	in   []time.Duration
	q    float64
	want time.Duration
}{
	{"empty", nil, 0.5, 0},
	{"one", []time.Duration{7}, 0.9, 7},
	{"median of ten is the fifth", []time.Duration{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 0.5, 5},
	{"p90 of ten is the ninth", []time.Duration{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 0.9, 9},
	{"median of three", []time.Duration{3, 1, 2}, 0.5, 2},
}

func TestQuantile(t *testing.T) {
	for _, tc := range quantiles {
		t.Run(tc.name, func(t *testing.T) {
			if got := quantile(tc.in, tc.q); got != tc.want {
				t.Errorf("quantile(%v, %v) = %v, want %v", tc.in, tc.q, got, tc.want)
			}
		})
	}
}

var lineChecks = []struct {
	name        string
	out         string
	lost, mixed int
}{
	{"whole", "a       | 1\nb       | 1\na       | 2\nb       | 2\n", 0, 0},
	{"a line lost", "a       | 1\nb       | 1\nb       | 2\n", 1, 0},
	{"two lines mixed into one", "a       | 1\nb       | 1\na       | b       | 2\n2\n", 2, 2},
	{"no prefix", "1\nb       | 1\nb       | 2\na       | 1\na       | 2\n", 0, 1},
	{"out of order", "a       | 2\na       | 1\nb       | 1\nb       | 2\n", 1, 1},
}

func TestCheckLines(t *testing.T) {
	for _, tc := range lineChecks {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "out.txt")
			if err := os.WriteFile(p, []byte(tc.out), 0o644); err != nil {
				t.Fatal(err)
			}
			lost, mixed, err := checkLines(p, 2, "a", "b")
			if err != nil || lost != tc.lost || mixed != tc.mixed {
				t.Errorf("checkLines = %d lost, %d mixed, %v; want %d, %d", lost, mixed, err, tc.lost, tc.mixed)
			}
		})
	}
}

var logFileChecks = []struct {
	name   string
	log1   string // "" none
	log    string
	want   logFiles
	wantOK bool
}{
	{"whole", "", "2026-01-02T03:04:05.006Z 1\n2026-01-02T03:04:05.006Z 2\n2026-01-02T03:04:05.007Z 3\n",
		logFiles{task: "a", lines: 3, first: 1, last: 3}, true},
	{"rotated", "2026-01-02T03:04:05.006Z 2\n", "2026-01-02T03:04:05.006+02:00 3\n",
		logFiles{task: "a", lines: 2, first: 2, last: 3, rotated: true}, true},
	{"first lines gone, not rotated", "", "2026-01-02T03:04:05.006Z 2\n2026-01-02T03:04:05.006Z 3\n",
		logFiles{task: "a", lines: 2, first: 2, last: 3}, false},
	{"a line lost", "", "2026-01-02T03:04:05.006Z 1\n2026-01-02T03:04:05.006Z 3\n",
		logFiles{task: "a", lines: 2, first: 1, last: 3, bad: 1}, false},
	{"seconds only", "", "2026-01-02T03:04:05Z 1\n2026-01-02T03:04:05.006Z 2\n2026-01-02T03:04:05.006Z 3\n",
		logFiles{task: "a", lines: 3, first: 1, last: 3, bad: 1}, false},
	{"no time", "", "1\n2\n3\n", logFiles{task: "a", lines: 3, bad: 3}, false},
	{"last lines missing", "", "2026-01-02T03:04:05.006Z 1\n2026-01-02T03:04:05.006Z 2\n",
		logFiles{task: "a", lines: 2, first: 1, last: 2}, false},
}

func TestCheckLogFiles(t *testing.T) {
	for _, tc := range logFileChecks {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.log1 != "" {
				if err := os.WriteFile(filepath.Join(dir, "a.log.1"), []byte(tc.log1), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(dir, "a.log"), []byte(tc.log), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := checkLogFiles(dir, "a")
			if err != nil || got != tc.want || got.ok(3) != tc.wantOK {
				t.Errorf("checkLogFiles = %+v, %v, ok(3) %v; want %+v, ok %v", got, err, got.ok(3), tc.want, tc.wantOK)
			}
		})
	}
}

var ticks = []struct {
	name, line string
	seq        int64
	ns         int64
	err        string
}{
	{"bare", "7 1700000000123456789", 7, 1700000000123456789, ""},
	{"prefixed", "tick | 8 1700000000123456789", 8, 1700000000123456789, ""},
	{"padded prefix", "tick    | 9 1700000000123456789", 9, 1700000000123456789, ""},
	{"a message", "procman | logs: 3 lines skipped", 0, 0, `not a tick: "procman | logs: 3 lines skipped"`},
	{"one field", "tick | 9", 0, 0, `not a tick: "tick | 9"`},
}

func TestParseTick(t *testing.T) {
	for _, tc := range ticks {
		t.Run(tc.name, func(t *testing.T) {
			seq, sent, err := parseTick(tc.line)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Errorf("parseTick(%q) error = %v, want %q", tc.line, err, tc.err)
				}
				return
			}
			if err != nil || seq != tc.seq || sent.UnixNano() != tc.ns {
				t.Errorf("parseTick(%q) = %d, %d, %v; want %d, %d", tc.line, seq, sent.UnixNano(), err, tc.seq, tc.ns)
			}
		})
	}
}

func TestWriteText(t *testing.T) {
	rows := []row{
		{name: "fast", unit: dur, floor: 0.002, got: 0.0035, target: "≤ 2x floor", verdict: pass},
		{name: "lean", unit: mib, floor: -1, got: 12.25, target: "< 20 MiB", verdict: fail},
		{name: "broken", floor: -1, failText: "no child started within 10s", verdict: fail},
		{name: "absent", floor: -1, failText: "node not found", verdict: skip},
		{name: "idle", unit: msecs, suffix: " in 60 s", floor: 0, got: 10, target: "≤ 10 ms", verdict: pass},
		{name: "awake", unit: rate, floor: 0.25, got: 0.5, target: "≤ 1/s", verdict: pass},
	}
	var b bytes.Buffer
	if err := writeText(&b, rows); err != nil {
		t.Fatal(err)
	}
	want := `case    floor         procman                             ratio  target      ok      note
fast    2.00 ms       3.50 ms                             1.75x  ≤ 2x floor  ok
lean                  12.2 MiB                                   < 20 MiB    MISSED
broken                error: no child started within 10s                     MISSED
absent                skipped: node not found                                skip
idle    0 ms in 60 s  10 ms in 60 s                              ≤ 10 ms     ok
awake   0.25/s        0.50/s                              2.00x  ≤ 1/s       ok
`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
	if !missed(rows) || missed(rows[:1]) || missed(rows[3:]) {
		t.Error("missed does not follow the verdicts")
	}
}

var screenReads = []struct {
	name  string
	reads []string
	want  int // the read (from 1) that completes the mark, 0 none
}{
	{"in one read", []string{"\x1b[24;1H\x1b[90mj/k move · q quit\x1b[0m"}, 1},
	{"cut between reads", []string{"\x1b[24;1H· ? help · q q", "uit\x1b[0m"}, 2},
	{"cut over three reads", []string{"q", " ", "quit"}, 3},
	{"not there", []string{"q", "uit"}, 0},
}

func TestScreenLog_FindsMarks(t *testing.T) {
	for _, tc := range screenReads {
		t.Run(tc.name, func(t *testing.T) {
			s := newScreenLog([]string{footerMark})
			t0 := time.Unix(1000, 0)
			for i, r := range tc.reads {
				s.add([]byte(r), t0.Add(time.Duration(i+1)*time.Second))
			}
			at, _, _ := s.seen(footerMark)
			got := 0
			if !at.IsZero() {
				got = int(at.Sub(t0) / time.Second)
			}
			if got != tc.want {
				t.Errorf("mark read at read %d, want %d", got, tc.want)
			}
			if b, n := s.counts(); n != uint64(len(tc.reads)) || b != uint64(len(strings.Join(tc.reads, ""))) {
				t.Errorf("counts = %d bytes, %d reads", b, n)
			}
		})
	}
}

func TestTerminalEnv(t *testing.T) {
	got := terminalEnv([]string{"HOME=/h", "NO_COLOR=1", "TERM=dumb", "NO_COLORS=x"})
	if want := []string{"HOME=/h", "NO_COLORS=x", "TERM=xterm-256color"}; !slices.Equal(got, want) {
		t.Errorf("terminalEnv = %q, want %q", got, want)
	}
}
