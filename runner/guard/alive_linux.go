package guard

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/procman/procman/runner/proc"
)

// censusMaxAge is how long a scan of /proc answers for: groups stopped in
// parallel share scans instead of each reading every process's stat.
const censusMaxAge = 10 * time.Millisecond

// liveness tells whether a group has a member that is not a zombie. A
// process whose parent died is reaped by PID 1, and a PID 1 that does not
// reap (a container's shell, some VM inits) leaves zombies in the group for
// good: they hold no port or file and cannot be killed, so they do not count.
// The zero value is ready to use; it is safe for concurrent use.
type liveness struct {
	mu   sync.Mutex
	at   time.Time    // when live was taken
	live map[int]bool // process groups with a live member, as of at
}

// alive reports whether group pgid has a live member. The usual answers
// cost a syscall or one read: no process in the group at all, or a live
// leader. Only a group whose leader is gone needs a scan of /proc.
func (l *liveness) alive(pgid int) bool {
	if !proc.Exists(pgid) {
		return false
	}
	if state, pgrp, err := stat(strconv.Itoa(pgid)); err == nil && pgrp == pgid && live(state) {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.live == nil || time.Since(l.at) > censusMaxAge {
		l.live, l.at = census(), time.Now()
	}
	return l.live[pgid]
}

// aliveNow is alive without a census older than the call.
func (l *liveness) aliveNow(pgid int) bool {
	l.mu.Lock()
	l.live = nil
	l.mu.Unlock()
	return l.alive(pgid)
}

// census returns the process groups that have a live member.
func census() map[int]bool {
	groups := map[int]bool{}
	d, err := os.Open("/proc")
	if err != nil {
		return groups
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	for _, name := range names {
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		if state, pgrp, err := stat(name); err == nil && live(state) {
			groups[pgrp] = true
		}
	}
	return groups
}

// stat returns the state and process group of process pid from
// /proc/PID/stat.
func stat(pid string) (state byte, pgrp int, err error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// After the command name: state, ppid, pgrp, ...
	f := bytes.Fields(b[bytes.LastIndexByte(b, ')')+1:])
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, os.ErrInvalid
	}
	pgrp, err = strconv.Atoi(string(f[2]))
	return f[0][0], pgrp, err
}

// live reports whether a process in state is neither a zombie nor dead.
func live(state byte) bool { return state != 'Z' && state != 'X' }
