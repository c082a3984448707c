package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

// stormBursts is how many bursts the storm's files are rewritten in, and
// stormGap the pause between bursts: shorter than the default debounce, as
// a checkout's writes are.
const (
	stormBursts = 10
	stormGap    = 5 * time.Millisecond
)

// stormRow measures case 2: cfg.storm files rewritten in bursts under
// `procman up` at the default debounce; the restarts procman logged are
// counted, and the child starts it made.
func (e *env) stormRow(ctx context.Context, cfg config) row {
	const name = "storm: restarts after rewriting the tree"
	dir, err := e.caseDir("storm")
	if err != nil {
		return failRows(err, name)[0]
	}
	files, err := makeTree(filepath.Join(dir, "tree"), cfg.storm, 20)
	if err != nil {
		return failRows(err, name)[0]
	}
	e.logf("storm: %d files in %d bursts", len(files), stormBursts)
	s, p, _, err := e.upWithChild(ctx, dir, e.restartProcfile(filepath.Join(dir, "s"), ""))
	if err != nil {
		return failRows(err, name)[0]
	}
	starts, took, err := storm(ctx, s, files)
	if perr := e.endUp(s, p); err == nil {
		err = perr
	}
	if err != nil {
		return failRows(err, name)[0]
	}
	restarts := p.log.count(restartLine)
	return row{name: name, unit: count, floor: 1, got: float64(restarts), target: "1 or 2",
		verdict: check((restarts == 1 || restarts == 2) && starts == restarts),
		note: fmt.Sprintf("%d files in %d bursts over %v; %d child starts", len(files), stormBursts,
			took.Round(time.Millisecond), starts)}
}

// storm rewrites files in bursts and counts the child's starts until none
// came for a second.
func storm(ctx context.Context, s *sink, files []string) (restarts int, took time.Duration, err error) {
	t0 := time.Now()
	per := (len(files) + stormBursts - 1) / stormBursts
	for i := 0; i < len(files); i += per {
		if i > 0 {
			if err := pause(ctx, stormGap); err != nil {
				return 0, 0, err
			}
		}
		if err := writeAll(files[i:min(i+per, len(files))], 1); err != nil {
			return 0, 0, err
		}
	}
	took = time.Since(t0)
	restarts, err = s.settle(ctx, time.Second)
	return restarts, took, err
}
