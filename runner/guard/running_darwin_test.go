package guard

import "golang.org/x/sys/unix"

// running reports whether process pid exists and is not a zombie.
func running(pid int) bool {
	kp, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	return err == nil && int(kp.Proc.P_pid) == pid && kp.Proc.P_stat != 5 // SZOMB in <sys/proc.h>
}
