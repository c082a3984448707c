package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// beforeNoise is how much slower than the build before the dashboard
// procman's start-up may measure: the run-to-run noise of two medians.
const beforeNoise = 1.03

// beforeRow measures whether linking the dashboard slowed `procman run
// noop` down: this procman against one built the same way from
// cfg.before (the commit before the dashboard landed), cfg.runs runs each
// after startupWarmup, alternating which goes first; the medians count.
// The note gives both binaries' sizes. Without cfg.before the row is
// skipped.
func (e *env) beforeRow(ctx context.Context, cfg config) row {
	const name = "startup: run noop, linked with the dashboard"
	if cfg.before == "" {
		return skipRows("no -before-commit", name)[0]
	}
	dir := filepath.Join(e.tmp, "startup")
	// The old build runs in a folder of its own, with the same Procfile:
	// neither reads the state and log files the other wrote.
	oldDir := filepath.Join(e.tmp, "startup-before")
	procfile, err := os.ReadFile(filepath.Join(dir, "Procfile.yaml"))
	if err == nil {
		err = writeProcfile(oldDir, string(procfile))
	}
	if err != nil {
		return failRows(err, name)[0]
	}
	old := filepath.Join(e.tmp, "procman-before")
	e.logf("startup: building procman at %s", cfg.before)
	rev, err := e.buildAt(ctx, cfg.before, old)
	if err != nil {
		return failRows(err, name)[0]
	}
	e.logf("startup: run noop, this build against %s, %d runs each", rev, cfg.runs)
	var floor, got []time.Duration
	for i := range startupWarmup + cfg.runs {
		var took [2]time.Duration
		err := inTurn(i,
			func() (err error) { took[0], err = e.timeRun(ctx, oldDir, "", old, "run", "noop"); return err },
			func() (err error) { took[1], err = e.timeRun(ctx, dir, "", e.procman, "run", "noop"); return err })
		if err != nil {
			return failRows(err, name)[0]
		}
		if i >= startupWarmup {
			floor, got = append(floor, took[0]), append(got, took[1])
		}
	}
	f, g := median(floor), median(got)
	note := fmt.Sprintf("floor: procman built from %s; medians of %d alternating runs; p90 %s against %s; %s",
		rev, cfg.runs, fmtDur(quantile(got, 0.9)), fmtDur(quantile(floor, 0.9)), sizesNote(old, e.procman))
	return row{name: name, unit: dur, floor: secs(f), got: secs(g), target: "≤ floor x 1.03",
		verdict: check(float64(g) <= float64(f)*beforeNoise), note: note}
}

// buildAt builds procman as setup does (CGO_ENABLED=0) from git revision
// rev of procman's repository, exported into a temp folder removed after,
// to out. It returns the revision as "HASH (subject)".
func (e *env) buildAt(ctx context.Context, rev, out string) (string, error) {
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = e.root
		var stderr strings.Builder
		cmd.Stderr = &stderr
		b, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return strings.TrimSpace(string(b)), nil
	}
	desc, err := git("log", "-1", "--format=%h (%s)", rev+"^{commit}")
	if err != nil {
		return "", err
	}
	src, err := os.MkdirTemp(e.tmp, "before")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(src)
	archive := exec.CommandContext(ctx, "git", "archive", rev+"^{commit}")
	archive.Dir = e.root
	tar := exec.CommandContext(ctx, "tar", "-x", "-C", src)
	if tar.Stdin, err = archive.StdoutPipe(); err != nil {
		return "", err
	}
	var stderr strings.Builder
	archive.Stderr, tar.Stderr = &stderr, &stderr
	if err := tar.Start(); err != nil {
		return "", err
	}
	aerr := archive.Run()
	if err := errors.Join(aerr, tar.Wait()); err != nil {
		return "", fmt.Errorf("git archive %s | tar -x: %w: %s", rev, err, strings.TrimSpace(stderr.String()))
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build at %s: %w\n%s", rev, err, b)
	}
	return desc, nil
}

// sizesNote says how big the two binaries are, as built (not stripped).
func sizesNote(old, cur string) string {
	a, err1 := os.Stat(old)
	b, err2 := os.Stat(cur)
	if err := errors.Join(err1, err2); err != nil {
		return "sizes: " + err.Error()
	}
	return fmt.Sprintf("binaries as built (CGO_ENABLED=0, not stripped): %d bytes before, %d now (%+d, %+.1f%%)",
		a.Size(), b.Size(), b.Size()-a.Size(), 100*float64(b.Size()-a.Size())/float64(a.Size()))
}
