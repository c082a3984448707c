package main

import (
	"math"
	"slices"
	"time"
)

// quantile returns the q-quantile (0 < q <= 1) of ds by the nearest-rank
// method: the smallest sample with at least q of the samples at or below it.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// median is quantile(ds, 0.5).
func median(ds []time.Duration) time.Duration { return quantile(ds, 0.5) }

// secs turns d into the float seconds rows hold.
func secs(d time.Duration) float64 { return d.Seconds() }

// check returns pass when ok, else fail.
func check(ok bool) verdict {
	if ok {
		return pass
	}
	return fail
}
