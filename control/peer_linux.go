package control

import (
	"net"

	"golang.org/x/sys/unix"
)

// maxSocketPath is the longest path a Unix socket's address holds: 108
// bytes of sun_path, the last a NUL.
const maxSocketPath = 107

// peerUID returns the uid of the process at the other end of c, as the
// kernel saw it when it connected (SO_PEERCRED).
func peerUID(c *net.UnixConn) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	var cerr error
	err = raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	return int(cred.Uid), nil
}
