package guard

import (
	"github.com/procman/procman/runner/proc"
	"golang.org/x/sys/unix"
)

// sZomb is p_stat of a zombie in <sys/proc.h>.
const sZomb = 5

// liveness tells whether a group has a member that is not a zombie. The
// zero value is ready to use; it is safe for concurrent use.
type liveness struct{}

// alive reports whether group pgid has a member that is not a zombie. The
// kernel lists a group's members itself.
func (*liveness) alive(pgid int) bool {
	kps, err := unix.SysctlKinfoProcSlice("kern.proc.pgrp", pgid)
	if err != nil {
		return proc.Exists(pgid)
	}
	for _, kp := range kps {
		if kp.Proc.P_stat != sZomb {
			return true
		}
	}
	return false
}

// aliveNow is alive: it never answers from an earlier look.
func (l *liveness) aliveNow(pgid int) bool { return l.alive(pgid) }
