package control

import (
	"net"

	"golang.org/x/sys/unix"
)

// hungUp reports whether the client at the other end of c has closed its
// socket, not only its sending half. Both end the requests (EOF), but a
// client that half-closes after its request (echo REQUEST | nc -U) still
// reads the replies, while one that closed (Ctrl-C of procman logs -f)
// reads nothing more: its stream can end at once rather than at the next
// line it would be sent. A closed peer shows as POLLHUP; a half-closed
// one does not.
func hungUp(c *net.UnixConn) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return false
	}
	hup := false
	rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if n, err := unix.Poll(fds, 0); err == nil && n > 0 {
			hup = fds[0].Revents&unix.POLLHUP != 0
		}
	})
	return hup
}
