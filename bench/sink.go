package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// started is one report of the child helper: it started at at.
type started struct {
	pid int
	at  time.Time // the child's own clock reading, first thing in main
}

// sink receives the child helper's start reports on a unix datagram socket.
type sink struct {
	path string
	conn *net.UnixConn
	c    chan started
	done chan struct{} // closed when the reader has returned

	mu   sync.Mutex
	pids []int // every child that reported, for the sweep
}

// newSink listens on dir/s.
func newSink(dir string) (*sink, error) {
	path := filepath.Join(dir, "s")
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, err
	}
	s := &sink{path: path, conn: conn, c: make(chan started, 4096), done: make(chan struct{})}
	go s.read()
	return s, nil
}

// read turns datagrams into reports until the socket is closed.
func (s *sink) read() {
	defer close(s.done)
	buf := make([]byte, 256)
	for {
		n, _, err := s.conn.ReadFromUnix(buf)
		if err != nil {
			return
		}
		f := strings.Fields(string(buf[:n]))
		if len(f) != 2 {
			continue
		}
		pid, err1 := strconv.Atoi(f[0])
		ns, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		s.mu.Lock()
		s.pids = append(s.pids, pid)
		s.mu.Unlock()
		select {
		case s.c <- started{pid: pid, at: time.Unix(0, ns)}:
		default: // nobody counts this many; the pid is kept for the sweep
		}
	}
}

// next returns the next report, waiting at most timeout.
func (s *sink) next(ctx context.Context, timeout time.Duration) (started, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case st := <-s.c:
		return st, nil
	case <-t.C:
		return started{}, fmt.Errorf("no child started within %v", timeout)
	case <-ctx.Done():
		return started{}, ctx.Err()
	}
}

// settle counts reports until none arrived for quiet.
func (s *sink) settle(ctx context.Context, quiet time.Duration) (int, error) {
	n := 0
	for {
		_, err := s.next(ctx, quiet)
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		if err != nil {
			return n, nil // quiet
		}
		n++
	}
}

// countUntil counts reports until deadline.
func (s *sink) countUntil(ctx context.Context, deadline time.Time) (int, error) {
	n := 0
	for {
		_, err := s.next(ctx, time.Until(deadline))
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		if err != nil {
			return n, nil // the deadline
		}
		n++
	}
}

// children returns the pids of every child that reported.
func (s *sink) children() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.pids...)
}

// close stops listening.
func (s *sink) close() error {
	err := s.conn.Close()
	<-s.done
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
