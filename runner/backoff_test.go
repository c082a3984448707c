package runner

import (
	"testing"
	"time"

	"github.com/procman/procman/tasks"
)

// exit is one service exit fed to the backoff.
type exit struct {
	code      int
	bad       bool // failed start
	unhealthy bool // stopped by a failed health check
	uptime    time.Duration
}

// decision is what the backoff said about one exit.
type decision struct {
	v     verdict
	delay time.Duration
}

func TestBackoff(t *testing.T) {
	ms := time.Millisecond
	crash := exit{code: 1, uptime: 200 * ms}
	tests := []struct {
		name   string
		policy string
		max    int
		exits  []exit
		want   []decision
	}{
		{"doubles from backoff", tasks.RestartAlways, 0,
			[]exit{crash, crash, crash, crash},
			[]decision{{restartAfter, 500 * ms}, {restartAfter, time.Second}, {restartAfter, 2 * time.Second}, {restartAfter, 4 * time.Second}}},
		{"capped at 30s", tasks.RestartAlways, 0,
			[]exit{crash, crash, crash, crash, crash, crash, crash, crash},
			[]decision{{restartAfter, 500 * ms}, {restartAfter, time.Second}, {restartAfter, 2 * time.Second}, {restartAfter, 4 * time.Second},
				{restartAfter, 8 * time.Second}, {restartAfter, 16 * time.Second}, {restartAfter, 30 * time.Second}, {restartAfter, 30 * time.Second}}},
		{"reset after 10s up", tasks.RestartAlways, 0,
			[]exit{crash, crash, {code: 1, uptime: 10 * time.Second}},
			[]decision{{restartAfter, 500 * ms}, {restartAfter, time.Second}, {restartAfter, 500 * ms}}},
		{"a start that never got ready is no stable run", tasks.RestartAlways, 1,
			[]exit{{code: 143, bad: true, uptime: time.Minute}, {code: 143, bad: true, uptime: time.Minute}},
			[]decision{{restartAfter, 500 * ms}, {failed, 0}}},
		{"max restarts: starts max+1 times", tasks.RestartAlways, 2,
			[]exit{crash, crash, crash},
			[]decision{{restartAfter, 500 * ms}, {restartAfter, time.Second}, {failed, 0}}},
		{"max restarts counts again after a stable run", tasks.RestartAlways, 1,
			[]exit{crash, {code: 1, uptime: time.Minute}, crash},
			[]decision{{restartAfter, 500 * ms}, {restartAfter, 500 * ms}, {failed, 0}}},
		{"always restarts a clean exit", tasks.RestartAlways, 0,
			[]exit{{code: 0, uptime: ms}},
			[]decision{{restartAfter, 500 * ms}}},
		{"on-failure leaves a clean exit down", tasks.RestartOnFailure, 0,
			[]exit{crash, {code: 0, uptime: ms}},
			[]decision{{restartAfter, 500 * ms}, {finished, 0}}},
		{"on-failure restarts a failed start", tasks.RestartOnFailure, 0,
			[]exit{{code: 0, bad: true}},
			[]decision{{restartAfter, 500 * ms}}},
		{"a failed health check after a stable run starts a fresh count", tasks.RestartAlways, 1,
			[]exit{{code: 143, unhealthy: true, uptime: time.Hour}, {code: 143, unhealthy: true, uptime: time.Hour}},
			[]decision{{restartAfter, 500 * ms}, {restartAfter, 500 * ms}}},
		{"failed health checks in a row use up max restarts", tasks.RestartAlways, 1,
			[]exit{{code: 143, unhealthy: true, uptime: time.Second}, {code: 143, unhealthy: true, uptime: time.Second}},
			[]decision{{restartAfter, 500 * ms}, {failed, 0}}},
		{"on-failure restarts a service stopped by a failed check", tasks.RestartOnFailure, 0,
			[]exit{{code: 0, unhealthy: true, uptime: time.Hour}},
			[]decision{{restartAfter, 500 * ms}}},
		{"never", tasks.RestartNever, 0,
			[]exit{crash},
			[]decision{{finished, 0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackoff(&tasks.Task{Restart: tc.policy, Backoff: 500 * ms, MaxRestarts: tc.max})
			for i, e := range tc.exits {
				v, d := b.next(e.code, e.bad, e.unhealthy, e.uptime)
				if got := (decision{v, d}); got != tc.want[i] {
					t.Errorf("exit %d: got %v, want %v", i+1, got, tc.want[i])
				}
			}
		})
	}
}
