package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// startupWarmup is how many unmeasured runs of each side come first.
const startupWarmup = 20

// startupRows are the startup case's rows: startupRow, then beforeRow.
func (e *env) startupRows(ctx context.Context, cfg config) []row {
	r := e.startupRow(ctx, cfg)
	return []row{r, e.beforeRow(ctx, cfg)}
}

// startupRow measures case 5: `procman run noop` (cmd: "true") against
// `sh -c true`, cfg.runs runs each, interleaved; the medians count. The
// procman measured is the release build (CGO_ENABLED=0); a plain
// `go build` on a machine with a C compiler links libc dynamically (kong
// imports os/user, and procman net), which the note reports beside it.
func (e *env) startupRow(ctx context.Context, cfg config) row {
	const name = "startup: run noop"
	dir, err := e.caseDir("startup")
	if err != nil {
		return failRows(err, name)[0]
	}
	if err := os.WriteFile(filepath.Join(dir, "Procfile.yaml"), []byte("tasks:\n  noop: {cmd: \"true\"}\n"), 0o644); err != nil {
		return failRows(err, name)[0]
	}
	cgo := filepath.Join(e.tmp, "procman-cgo")
	if err := e.build(ctx, cgo, ".", "CGO_ENABLED=1"); err != nil {
		cgo = "" // no C compiler here: only the release build
	}
	e.logf("startup: %d runs each", cfg.runs)
	var floor, got, withCgo []time.Duration
	for i := range startupWarmup + cfg.runs {
		var f, g, c time.Duration
		steps := []func() error{
			func() (err error) { f, err = e.timeRun(ctx, dir, "", "/bin/sh", "-c", "true"); return err },
			func() (err error) { g, err = e.timeRun(ctx, dir, "", e.procman, "run", "noop"); return err },
		}
		if cgo != "" {
			steps = append(steps, func() (err error) { c, err = e.timeRun(ctx, dir, "", cgo, "run", "noop"); return err })
		}
		if err := inTurn(i, steps...); err != nil {
			return failRows(err, name)[0]
		}
		if i >= startupWarmup {
			floor, got, withCgo = append(floor, f), append(got, g), append(withCgo, c)
		}
	}
	f, g := median(floor), median(got)
	note := fmt.Sprintf("floor: sh -c true; medians of %d; procman p90 %s", cfg.runs, fmtDur(quantile(got, 0.9)))
	if cgo != "" {
		note += fmt.Sprintf("; cgo build %s", fmtDur(median(withCgo)))
	}
	return row{name: name, unit: dur, floor: secs(f), got: secs(g), target: "≤ floor + 3 ms",
		verdict: check(g <= f+3*time.Millisecond), note: note}
}
