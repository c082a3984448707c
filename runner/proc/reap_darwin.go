package proc

import "syscall"

// Reap waits for child pid to exit and reaps it.
func Reap(pid int) (syscall.WaitStatus, error) { return wait4(pid) }
