package runner

import (
	"time"

	"github.com/procman/procman/tasks"
)

// Backoff limits the spec fixes.
const (
	maxBackoff   = 30 * time.Second // restart delays double up to this
	stableUptime = 10 * time.Second // a service up this long starts afresh
)

// backoff decides, after a service ended, whether and when it starts again.
// It is a pure function of the exits it is told about, so its tests need no
// clock and no process.
type backoff struct {
	policy      string        // tasks.RestartAlways, OnFailure or Never
	initial     time.Duration // the first delay
	maxRestarts int           // consecutive restarts allowed; 0 = unlimited
	delay       time.Duration // the next delay
	streak      int           // restarts since the service last stayed up stableUptime
}

// newBackoff returns the restart decisions for task t.
func newBackoff(t *tasks.Task) *backoff {
	return &backoff{policy: t.Restart, initial: t.Backoff, maxRestarts: t.MaxRestarts, delay: t.Backoff}
}

// verdict is what happens after a service ended.
type verdict int

const (
	restartAfter verdict = iota // start it again after the delay
	finished                    // the policy says it stays down, and that is fine
	failed                      // restarts used up: the service is marked failed
)

// next is told that the service ended with code (failedStart: it never got
// ready; unhealthy: it was stopped because a health check failed) after
// running for uptime, and says what to do and after what delay. A failed
// check is a failure for on-failure, but a service that was up and ready
// for stableUptime before it still starts a fresh count: health checks
// that fail hours apart do not add up to max_restarts.
func (b *backoff) next(code int, failedStart, unhealthy bool, uptime time.Duration) (verdict, time.Duration) {
	ok := code == 0 && !failedStart && !unhealthy
	switch {
	case b.policy == tasks.RestartNever:
		return finished, 0
	case b.policy == tasks.RestartOnFailure && ok:
		return finished, 0
	}
	if uptime >= stableUptime && !failedStart { // never ready is never "up"
		b.delay, b.streak = b.initial, 0
	}
	if b.maxRestarts > 0 && b.streak >= b.maxRestarts {
		return failed, 0
	}
	d := b.delay
	b.streak++
	b.delay = min(b.delay*2, maxBackoff)
	return restartAfter, d
}
