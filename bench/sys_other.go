//go:build !linux

package main

// Elsewhere: the benchmark compiles, and the cases that need inotify or
// /proc report that they cannot be measured here.

import (
	"errors"
	"runtime"
	"time"
)

// clockTick is the unit of CPU times the idle case reports in (Linux's
// USER_HZ); elsewhere nothing is measured in it.
const clockTick = 10 * time.Millisecond

// errUnsupported is what the Linux-only measurements return elsewhere.
var errUnsupported = errors.New("needs Linux (inotify, /proc)")

// treeWatch is the floor's watcher; Linux only.
type treeWatch struct{ watches int }

// newTreeWatch fails: the floor is written against inotify.
func newTreeWatch(root, skip string) (*treeWatch, error) { return nil, errUnsupported }

func (t *treeWatch) next() (bool, error) { return false, errUnsupported }
func (t *treeWatch) wake()               {}
func (t *treeWatch) close()              {}

// procSample is what /proc says about one process.
type procSample struct {
	cpu      time.Duration
	rss      uint64
	switches uint64
}

// sampleProc fails: there is no /proc.
func sampleProc(pid int) (procSample, error) { return procSample{}, errUnsupported }

// pidsOf finds nothing without /proc.
func pidsOf(exe string) []int { return nil }

// processes cannot count without /proc: 0.
func processes() int { return 0 }

// pidsCarrying finds nothing without /proc.
func pidsCarrying(kv string) []int { return nil }

// waitGone has nothing to wait for: pidsOf finds no process here.
func waitGone(pid int, timeout time.Duration) bool { return true }

// machine describes this computer for the results.
func machine() string { return runtime.GOOS + "/" + runtime.GOARCH }

// carries cannot tell without /proc: the benchmark's processes end by
// themselves there.
func carries(pid int, kv string) bool { return false }
