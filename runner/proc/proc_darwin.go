package proc

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// BootID identifies this boot of the machine; pids and start times recorded
// under another boot mean nothing now.
func BootID() string {
	tv, err := unix.SysctlTimeval("kern.boottime")
	if err != nil {
		return ""
	}
	return strconv.FormatInt(tv.Sec, 10) + "." + strconv.FormatInt(int64(tv.Usec), 10)
}

// StartTime returns when process pid started, in microseconds since the
// epoch. With the boot id it tells a process apart from a later one that
// reused its pid.
func StartTime(pid int) (uint64, error) {
	kp, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil {
		return 0, err
	}
	if kp.Proc.P_pid != int32(pid) {
		return 0, unix.ESRCH
	}
	st := kp.Proc.P_starttime
	return uint64(st.Sec)*1e6 + uint64(st.Usec), nil
}

// sZomb is p_stat of a zombie in <sys/proc.h>.
const sZomb = 5

// Alive reports whether group pgid has a member that is not a zombie; the
// kernel lists a group's members itself.
func Alive(pgid int) bool {
	kps, err := unix.SysctlKinfoProcSlice("kern.proc.pgrp", pgid)
	if err != nil {
		return Exists(pgid)
	}
	for _, kp := range kps {
		if kp.Proc.P_stat != sZomb {
			return true
		}
	}
	return false
}

// Owned reports whether group pgid is still the one procman started. On
// macOS only a live leader with the recorded start time proves it; a group
// whose leader is gone is left alone.
func Owned(pgid int, leaderStart uint64, envKV string) bool {
	st, err := StartTime(pgid)
	return err == nil && st == leaderStart
}
