package proc

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Reap waits for child pid to exit and reaps it. It waits on a pidfd
// through Go's netpoller, so that no thread sits blocked in wait4 for each
// running child (and the Go scheduler keeps that thread's P for other
// work meanwhile); without pidfds (Linux < 5.3) it blocks in wait4.
func Reap(pid int) (syscall.WaitStatus, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return wait4(pid)
	}
	// Non-blocking, so that os.NewFile hands the pidfd to the netpoller
	// (PIDFD_NONBLOCK would say the same, but only from Linux 5.10).
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return wait4(pid)
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return wait4(pid)
	}
	var ws syscall.WaitStatus
	var werr error
	err = rc.Read(func(uintptr) bool {
		for {
			var got int
			got, werr = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
			if werr != syscall.EINTR {
				return got != 0 || werr != nil // reaped, or failed: done
			}
		}
	})
	if err != nil {
		return wait4(pid)
	}
	return ws, werr
}
