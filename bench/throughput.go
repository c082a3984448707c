package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// throughputReps is how many times each side runs; the median counts.
const throughputReps = 5

// throughputRow measures case 4: two tasks printing cfg.lines lines each
// through `procman run` into a file, against the same two writers into one
// plain pipe read by cat into a file. Every line procman wrote is checked.
func (e *env) throughputRow(ctx context.Context, cfg config) row {
	name := fmt.Sprintf("throughput: 2 x %d lines to a file", cfg.lines)
	dir, err := e.caseDir("throughput")
	if err != nil {
		return failRows(err, name)[0]
	}
	n := strconv.Itoa(cfg.lines)
	procfile := fmt.Sprintf("tasks:\n  a: {cmd: [seq, \"1\", %q]}\n  b: {cmd: [seq, \"1\", %q]}\n  both: {cmd: \"true\", deps: [a, b]}\n", n, n)
	if err := os.WriteFile(filepath.Join(dir, "Procfile.yaml"), []byte(procfile), 0o644); err != nil {
		return failRows(err, name)[0]
	}
	out := filepath.Join(dir, "out.txt")
	pipe := fmt.Sprintf("(seq 1 %s & seq 1 %s & wait) | cat > %s", n, n, shellQuote(out))
	var floor, got []time.Duration
	e.logf("throughput: %d runs each", throughputReps)
	for range throughputReps {
		d, err := e.timeRun(ctx, dir, "", "/bin/sh", "-c", pipe)
		if err != nil {
			return failRows(fmt.Errorf("floor: %w", err), name)[0]
		}
		floor = append(floor, d)
		if d, err = e.timeRun(ctx, dir, out, e.procman, "run", "both"); err != nil {
			return failRows(err, name)[0]
		}
		got = append(got, d)
	}
	lost, mixed, err := checkLines(out, cfg.lines, "a", "b")
	if err != nil {
		return failRows(err, name)[0]
	}
	f, g := median(floor), median(got)
	return row{name: name, unit: dur, floor: secs(f), got: secs(g), target: "≤ 1.5x floor",
		verdict: check(g <= f*3/2 && lost == 0 && mixed == 0),
		note:    fmt.Sprintf("floor: one pipe to cat; %d lines lost, %d mixed", lost, mixed)}
}

// timeRun runs argv in dir, stdout to the file out ("" = /dev/null), and
// returns how long it took.
func (e *env) timeRun(ctx context.Context, dir, out string, argv ...string) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = e.environ()
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		cmd.Stdout = f
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	t0 := time.Now()
	err := cmd.Run()
	d := time.Since(t0)
	if err != nil {
		return 0, fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(stderr.String()))
	}
	return d, nil
}

// checkLines reads procman's output and checks that each task's lines
// arrived whole, prefixed and in order: "a       | 1" to n. Lines that are
// not a task's next line count as mixed; what never arrived, as lost.
func checkLines(path string, n int, names ...string) (lost, mixed int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	next := map[string]int{}
	for _, name := range names {
		next[name] = 1
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " | ")
		name = strings.TrimSpace(name)
		want, known := next[name]
		if !ok || !known || val != strconv.Itoa(want) {
			mixed++
			continue
		}
		next[name] = want + 1
	}
	for _, name := range names {
		lost += n + 1 - next[name]
	}
	return lost, mixed, sc.Err()
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
