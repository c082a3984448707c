// Package guard makes the process groups procman starts die with procman,
// even when procman is killed with SIGKILL, by the OOM killer or by a panic.
//
// Each procman starts one guard: the procman binary re-executed with a hidden
// subcommand (Main), in a process group of its own, whose stdin is the read
// end of a pipe whose write end only procman holds. procman tells the guard
// every group it starts (Client.Add) and stops (Client.Remove). When procman
// ends, the kernel closes the pipe: after a clean goodbye (Client.Close) the
// guard exits at once, signalling nothing; without one, procman died, and
// the guard stops every recorded group as procman would have (stop_signal,
// stop_timeout, SIGKILL), but only groups still provably procman's
// (proc.Owned), then exits.
//
// Why not PR_SET_PDEATHSIG: it is Linux only, fires when the thread that
// forked the child ends rather than the process, and reaches the direct child
// only: never its grandchildren nor a group's stop_signal / stop_timeout.
package guard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// writeTimeout bounds a message to the guard: a guard that stopped reading
// must not hang procman.
const writeTimeout = time.Second

// closeTimeout bounds the wait for the guard to exit after the goodbye.
const closeTimeout = 2 * time.Second

// ErrClosed is returned by Add and Remove after Close.
var ErrClosed = errors.New("guard closed")

// Client is procman's end of the guard. It is safe for concurrent use.
type Client struct {
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the guard has exited
	waitErr error         // how it exited; read after exited is closed

	mu     sync.Mutex
	ctl    *os.File // write end of the guard's stdin
	lost   error    // the write that failed: the guard hears nothing more
	closed bool
}

// Start launches the guard and returns once it is ready, so that from then
// on a SIGKILL of procman is covered. exe and args run the hidden subcommand
// that calls Main (procman: its own executable and "guard"; tests re-execute
// the test binary). runEnv is "PROCMAN_RUN_ID=<id>", the variable procman
// puts in every child's environment: the guard only signals groups that
// proc.Owned confirms with it. The guard writes its messages to stderr (nil:
// discarded); an *os.File such as os.Stderr lets them reach the user after
// procman died.
// ctx bounds the wait for the guard to be ready, not the guard's life.
func Start(ctx context.Context, exe string, args []string, runEnv string, stderr io.Writer) (*Client, error) {
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start guard: %w", err)
	}
	rdyR, rdyW, err := os.Pipe()
	if err != nil {
		ctlR.Close()
		ctlW.Close()
		return nil, fmt.Errorf("start guard: %w", err)
	}
	defer rdyR.Close()
	cmd := exec.Command(exe, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = ctlR, rdyW, stderr
	cmd.Env = append(os.Environ(), EnvRunEnv+"="+runEnv)
	// Its own group: Ctrl-C and a terminal's SIGHUP reach procman's group,
	// not the guard.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	ctlR.Close()
	rdyW.Close()
	if err != nil {
		ctlW.Close()
		return nil, fmt.Errorf("start guard: %w", err)
	}
	c := &Client{cmd: cmd, exited: make(chan struct{}), ctl: ctlW}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	err = c.awaitReady(ctx, rdyR)
	if err == nil {
		err = c.send(encodeHello(os.Getpid()))
	}
	if err != nil {
		c.abort()
		return nil, fmt.Errorf("start guard: %w", err)
	}
	return c, nil
}

// awaitReady waits for the guard to write readyLine on r.
func (c *Client) awaitReady(ctx context.Context, r *os.File) error {
	got := make(chan error, 1)
	go func() {
		b := make([]byte, len(readyLine))
		_, err := io.ReadFull(r, b)
		if err == nil && string(b) != readyLine {
			err = fmt.Errorf("guard said %q, want %q", b, readyLine)
		}
		got <- err
	}()
	select {
	case err := <-got:
		if err == nil {
			return nil
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			// It closed stdout: it exited, or is not the guard.
			select {
			case <-c.exited:
				return fmt.Errorf("exited before it was ready: %v", c.waitErr)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return err
	case <-ctx.Done():
		r.Close() // unblocks the read
		return ctx.Err()
	}
}

// abort kills a guard that failed to start and waits for it.
func (c *Client) abort() {
	c.mu.Lock()
	c.closed = true
	c.ctl.Close()
	c.mu.Unlock()
	_ = c.cmd.Process.Kill()
	<-c.exited
}

// Pid returns the guard's pid.
func (c *Client) Pid() int { return c.cmd.Process.Pid }

// Add tells the guard about a process group procman started for task name:
// its leader's proc.StartTime, and the stop signal and timeout to stop it
// with should procman die. Adding a pgid again replaces its record.
func (c *Client) Add(name string, pgid int, leaderStart uint64, sig syscall.Signal, timeout time.Duration) error {
	g := group{name: name, pgid: pgid, start: leaderStart, sig: sig, timeout: timeout}
	if err := g.validate(); err != nil {
		return fmt.Errorf("add %q (pgid %d): %w", name, pgid, err)
	}
	if err := c.send(encodeAdd(g)); err != nil {
		return fmt.Errorf("add %q (pgid %d): %w", name, pgid, err)
	}
	return nil
}

// Remove tells the guard that procman stopped group pgid itself: the guard
// forgets it and will never signal it.
func (c *Client) Remove(pgid int) error {
	if err := c.send(encodeDel(pgid)); err != nil {
		return fmt.Errorf("remove pgid %d: %w", pgid, err)
	}
	return nil
}

// Close says a clean goodbye: the guard exits at once, signalling nothing.
// procman calls it last, after stopping its groups. It waits for the guard
// to exit, up to a bound after which it kills it. Closing again does
// nothing.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	err := c.write(encodeBye())
	c.closed = true
	c.ctl.Close()
	c.mu.Unlock()
	t := time.NewTimer(closeTimeout)
	defer t.Stop()
	select {
	case <-c.exited:
	case <-t.C:
		_ = c.cmd.Process.Kill()
		return fmt.Errorf("close guard (pid %d): still running %v after goodbye: killed it", c.Pid(), closeTimeout)
	}
	switch {
	case err != nil:
		return fmt.Errorf("close guard: %w", err)
	case c.waitErr != nil:
		return fmt.Errorf("close guard: %w", c.waitErr)
	}
	return nil
}

// send writes one message to the guard.
func (c *Client) send(line string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	return c.write(line)
}

// write writes line with c.mu held. The first failure is kept: a message
// cut short would garble the next, so after it the guard hears nothing
// more. A dead guard gives EPIPE (Go ignores SIGPIPE on this descriptor).
func (c *Client) write(line string) error {
	if c.lost != nil {
		return c.lost
	}
	if err := c.ctl.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		c.lost = err
		return err
	}
	if _, err := io.WriteString(c.ctl, line); err != nil {
		c.lost = err
		return err
	}
	return nil
}
