// Package proc controls process groups: start a command as a group leader,
// signal a whole group, stop it with a grace period, and tell whether a
// recorded group is still provably the one procman started.
package proc

import (
	"context"
	"errors"
	"syscall"
	"time"
)

// Attr returns the attributes that start a command as the leader of a new
// process group, so that the whole group can be signalled at once.
func Attr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// Signal sends sig to every process in group pgid. It reports false, and no
// error, when the group no longer exists.
func Signal(pgid int, sig syscall.Signal) (bool, error) {
	if pgid <= 1 {
		return false, errors.New("refusing to signal process group <= 1")
	}
	err := syscall.Kill(-pgid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return false, nil
	}
	if errors.Is(err, syscall.EPERM) {
		// Only zombies or processes of another user are left: nothing we can
		// signal is running.
		return false, nil
	}
	return err == nil, err
}

// Exists reports whether any process (zombies included) is in group pgid.
func Exists(pgid int) bool {
	if pgid <= 1 {
		return false
	}
	return syscall.Kill(-pgid, 0) == nil
}

// Wait returns when group pgid has no live member (see Alive) or ctx is
// done. The kernel gives no event when a group empties, so it checks on a
// short, growing period (1 ms up to 50 ms). It reports whether the group
// is gone.
func Wait(ctx context.Context, pgid int) bool {
	d := time.Millisecond
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return !Alive(pgid)
		case <-t.C:
		}
		if !Alive(pgid) {
			return true
		}
		t.Reset(d)
		if d < 50*time.Millisecond {
			d *= 2
		}
	}
}

// Stop ends group pgid: sig to the whole group, up to timeout for it to
// exit, then SIGKILL to what is left. The leader's parent must be reaping it
// (cmd.Wait running), or its zombie keeps the group alive until timeout. It
// returns whether SIGKILL was needed.
func Stop(pgid int, sig syscall.Signal, timeout time.Duration) (killed bool) {
	if ok, _ := Signal(pgid, sig); !ok {
		return false
	}
	if sig != syscall.SIGKILL && sig != syscall.SIGCONT {
		// A stopped process would never see the signal.
		_, _ = Signal(pgid, syscall.SIGCONT)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if Wait(ctx, pgid) {
		return false
	}
	ok, _ := Signal(pgid, syscall.SIGKILL)
	kctx, kcancel := context.WithTimeout(context.Background(), time.Second)
	defer kcancel()
	Wait(kctx, pgid)
	return ok
}
