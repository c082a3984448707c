package control

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"syscall"
)

// AskPS asks the supervisor of the project whose .procman folder is
// stateDir for its tasks, live, once: Dial and Do(Request{Op: OpPS}) for
// procman ps, which asks nothing else and exits. It goes without the net
// package: a blocking socket of its own, connected, written at once and
// read until the reply's newline, and the reply read by hand (decodePS
// says why). So procman ps does not start the netpoller, nor park and
// wake a goroutine for the answer, and the request is there by the time
// the supervisor has accepted the connection, so that it need not wait
// for it (~0.15 ms of a ps here, measured). ctx's end stops the wait.
func AskPS(ctx context.Context, stateDir string) (*PS, error) {
	var fd int
	pid, err := connect(stateDir, func(path string) error {
		var err error
		fd, err = dialBlocking(path)
		return err
	})
	if err != nil {
		return nil, err
	}
	// ctx's end shuts the socket down, unless it is closed already: its
	// number may be another file's by then.
	var mu sync.Mutex
	closed := false
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !closed {
			syscall.Shutdown(fd, syscall.SHUT_RDWR)
		}
	})
	defer func() {
		stop()
		mu.Lock()
		closed = true
		syscall.Close(fd)
		mu.Unlock()
	}()
	req := strconv.AppendInt([]byte(`{"v":`), Version, 10)
	req = append(req, `,"id":1,"op":"`+OpPS+`"}`+"\n"...)
	line, err := roundTrip(fd, req)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("procman pid %d went away: %w", pid, err)
	}
	return psReply(pid, line)
}

// dialBlocking connects a blocking Unix socket to path.
func dialBlocking(path string) (int, error) {
	syscall.ForkLock.RLock() // close-on-exec before any fork sees it
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, err
	}
	for {
		err = syscall.Connect(fd, &syscall.SockaddrUnix{Name: path})
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

// roundTrip writes req to fd and returns the line that answers it,
// without its newline.
func roundTrip(fd int, req []byte) ([]byte, error) {
	for len(req) > 0 {
		n, err := syscall.Write(fd, req)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		req = req[n:]
	}
	buf := make([]byte, 0, 64<<10)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return nil, err
		case n == 0:
			return nil, fmt.Errorf("connection closed before the reply's end (%d bytes)", len(buf))
		}
		if i := bytes.IndexByte(buf[len(buf):len(buf)+n], '\n'); i >= 0 {
			return buf[:len(buf)+i], nil
		}
		buf = buf[:len(buf)+n]
	}
}
