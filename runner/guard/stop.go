package guard

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/procman/procman/runner/proc"
	"golang.org/x/sys/unix"
)

// killWait bounds the wait for a group to vanish after SIGKILL.
const killWait = time.Second

// stop ends group g the way procman would have: its stop signal, up to its
// stop timeout, then SIGKILL; every signal only while the group is still
// provably procman's. It returns the line to report, or "" when the group
// was already gone.
func (s *server) stop(ctx context.Context, g group) string {
	if !proc.Alive(g.pgid) {
		return ""
	}
	who := fmt.Sprintf("%s (pgid %d)", g.name, g.pgid)
	by := "procman"
	if s.ppid > 0 {
		by = fmt.Sprintf("procman pid %d", s.ppid)
	}
	err := s.signal(g, g.sig)
	if err == nil && g.sig != syscall.SIGKILL && g.sig != syscall.SIGCONT {
		// A stopped process would never see the stop signal.
		err = s.signal(g, syscall.SIGCONT)
	}
	switch {
	case errors.Is(err, errNotOwned):
		return fmt.Sprintf("left %s alone: %v", who, err)
	case err != nil:
		return fmt.Sprintf("stop %s: %v", who, err)
	}
	wctx, cancel := context.WithTimeout(ctx, g.timeout)
	gone := proc.Wait(wctx, g.pgid)
	cancel()
	if gone {
		return fmt.Sprintf("stopped %s left by %s", who, by)
	}
	if err := s.signal(g, syscall.SIGKILL); err != nil {
		return fmt.Sprintf("kill %s: %v", who, err)
	}
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), killWait)
	defer cancel()
	if !proc.Wait(kctx, g.pgid) {
		return fmt.Sprintf("%s still running %v after SIGKILL", who, killWait)
	}
	return fmt.Sprintf("killed %s left by %s: still running %v after %s", who, by, g.timeout, unix.SignalName(g.sig))
}

// signal sends sig to group g if it is still procman's; errNotOwned if not.
// A group that vanished meanwhile is no error.
func (s *server) signal(g group, sig syscall.Signal) error {
	if !proc.Alive(g.pgid) {
		return nil
	}
	if !proc.Owned(g.pgid, g.start, s.runEnv) {
		if !proc.Alive(g.pgid) {
			return nil // it ended meanwhile, taking its proof with it
		}
		return errNotOwned
	}
	if _, err := proc.Signal(g.pgid, sig); err != nil {
		return fmt.Errorf("send %s: %w", unix.SignalName(sig), err)
	}
	return nil
}
