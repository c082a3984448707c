package proc

import "time"

// Usage is what a process group uses: the CPU time of its live members
// (user and system, their children's reaped time not included) and their
// resident memory.
type Usage struct {
	CPU time.Duration
	RSS uint64 // bytes
}
