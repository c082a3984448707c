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
	"syscall"
	"time"
)

// throughputReps is how many times each side runs; the median counts.
const throughputReps = 15

// throughputRow measures case 4: two tasks printing cfg.lines lines each
// through `procman run` into a file, against the same two writers into one
// plain pipe read by cat into a file: each side's output file is made
// empty before its timed run, so that neither pays for freeing what the
// other wrote (22 MB of procman's, about 6 ms here, was inside the floor's
// runs until that was seen). procman keeps log files too
// (.procman/logs/TASK.log), removed before each of its runs. Every line
// procman wrote is checked, on its stdout and in the log files.
//
// Each run starts after a sync: the 80 MB that a run of procman leaves
// dirty is written back by the kernel's threads over the next run, on the
// same two cores, and made the floor measured after it 20-30% slower
// (and so the ratio look better than it is).
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
	// The floor starts a third program after the writers, as procman's
	// side does for the task that depends on both.
	pipe := fmt.Sprintf("(seq 1 %s & seq 1 %s & wait) | cat; /bin/true", n, n)
	var floor, got []time.Duration
	e.logf("throughput: %d runs each", throughputReps)
	for range throughputReps {
		syscall.Sync()
		d, err := e.timeRun(ctx, dir, out, "/bin/sh", "-c", pipe)
		if err != nil {
			return failRows(fmt.Errorf("floor: %w", err), name)[0]
		}
		floor = append(floor, d)
		if err := os.RemoveAll(filepath.Join(dir, ".procman", "logs")); err != nil {
			return failRows(err, name)[0]
		}
		syscall.Sync()
		if d, err = e.timeRun(ctx, dir, out, e.procman, "run", "both"); err != nil {
			return failRows(err, name)[0]
		}
		got = append(got, d)
	}
	lost, mixed, err := checkLines(out, cfg.lines, "a", "b")
	if err != nil {
		return failRows(err, name)[0]
	}
	var kept []logFiles
	for _, task := range []string{"a", "b"} {
		k, err := checkLogFiles(filepath.Join(dir, ".procman", "logs"), task)
		if err != nil {
			return failRows(err, name)[0]
		}
		kept = append(kept, k)
	}
	f, g := median(floor), median(got)
	return row{name: name, unit: dur, floor: secs(f), got: secs(g), target: "≤ 1.5x floor",
		verdict: check(g <= f*3/2 && lost == 0 && mixed == 0 && kept[0].ok(cfg.lines) && kept[1].ok(cfg.lines)),
		note: fmt.Sprintf("floor: one pipe to cat, then /bin/true (as procman runs both: true); %d lines lost, %d mixed; log files on: %s",
			lost, mixed, logFilesNote(kept, cfg.lines))}
}

// logFiles is what one task's log files held after a run of `procman
// run` that printed the numbers 1 to n.
type logFiles struct {
	task    string
	lines   int  // lines in TASK.log.1 and TASK.log
	first   int  // the number on the first of them
	last    int  // on the last
	bad     int  // lines not "TIME NUMBER", or not the number after the one before
	rotated bool // TASK.log.1 exists
}

// ok reports whether the files hold the last of the n lines in order,
// each after its time, and those before them only where the file was
// rotated.
func (l logFiles) ok(n int) bool {
	return l.bad == 0 && l.last == n && (l.first == 1 || l.rotated)
}

// logFilesNote says what the log files of the two tasks held.
func logFilesNote(kept []logFiles, n int) string {
	var bad []string
	for _, k := range kept {
		if !k.ok(n) {
			bad = append(bad, fmt.Sprintf("%s.log: %d lines, %d to %d, %d bad", k.task, k.lines, k.first, k.last, k.bad))
		}
	}
	if len(bad) > 0 {
		return "lines missing or wrong: " + strings.Join(bad, "; ")
	}
	a := kept[0]
	if !a.rotated {
		return fmt.Sprintf("a.log holds its %d lines, each after its time", a.lines)
	}
	return fmt.Sprintf("a.log.1 and a.log hold its last %d lines (%d to %d; the first %d rotated away at 10 MiB), each after its time; b's alike",
		a.lines, a.first, a.last, a.first-1)
}

// checkLogFiles reads task's log files in dir, TASK.log.1 (when there is
// one) then TASK.log: each line must be an RFC 3339 time with
// milliseconds, a space, and the number after the one on the line before.
func checkLogFiles(dir, task string) (logFiles, error) {
	l := logFiles{task: task}
	path := filepath.Join(dir, task+".log")
	for _, p := range []string{path + ".1", path} {
		f, err := os.Open(p)
		if os.IsNotExist(err) && p != path {
			continue
		}
		if err != nil {
			return l, err
		}
		l.rotated = l.rotated || p != path
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			stamp, text, _ := strings.Cut(sc.Text(), " ")
			v, err := strconv.Atoi(text)
			if l.lines == 0 {
				l.first = v
			}
			if err != nil || !logStamp(stamp) || (l.lines > 0 && v != l.last+1) {
				l.bad++
			}
			l.lines++
			l.last = v
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return l, err
		}
	}
	return l, nil
}

// logStamp reports whether s is an RFC 3339 time with milliseconds, as
// 2006-01-02T15:04:05.000Z or 2006-01-02T15:04:05.000+02:00.
func logStamp(s string) bool {
	if len(s) < 24 || s[19] != '.' || strings.Trim(s[20:23], "0123456789") != "" {
		return false
	}
	if z := s[23:]; z != "Z" && (len(z) != 6 || (z[0] != '+' && z[0] != '-')) {
		return false
	}
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
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
