package control

import (
	"net"

	"golang.org/x/sys/unix"
)

// maxSocketPath is the longest path a Unix socket's address holds: 104
// bytes of sun_path, the last a NUL.
const maxSocketPath = 103

// peerUID returns the uid of the process at the other end of c
// (LOCAL_PEERCRED, what getpeereid reads).
func peerUID(c *net.UnixConn) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Xucred
	var cerr error
	err = raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptXucred(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	return int(cred.Uid), nil
}
