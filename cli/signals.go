package cli

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/procman/procman/runner"
)

// signals turns the first SIGINT/SIGTERM/SIGHUP into a cancelled context and
// a second one into a cancelled kill context (stop without grace).
type signals struct {
	ctx    context.Context // cancelled on the first signal, with a runner.StopReason
	kill   context.Context // cancelled on the second
	ch     chan os.Signal
	got    chan os.Signal // the first signal, once
	cancel context.CancelCauseFunc
	armed  chan struct{} // closed once the signals reach ch
	done   chan struct{}
}

// newSignals starts catching the signals in the background: signal.Notify
// waits for a thread of its own to start (~0.2 ms here), which overlaps
// with loading the config. Until it has, a signal ends procman as it
// would without it; arm waits for it, and nothing may be started before.
func newSignals() *signals {
	s := &signals{ch: make(chan os.Signal, 2), got: make(chan os.Signal, 1), armed: make(chan struct{}), done: make(chan struct{})}
	var killCancel context.CancelFunc
	s.ctx, s.cancel = context.WithCancelCause(context.Background())
	s.kill, killCancel = context.WithCancel(context.Background())
	go func() {
		signal.Notify(s.ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
		close(s.armed)
	}()
	go func() {
		defer killCancel()
		select {
		case first := <-s.ch:
			s.got <- first
			s.cancel(signalReason(first))
		case <-s.done:
			return
		}
		select {
		case <-s.ch:
		case <-s.done:
		}
	}()
	return s
}

// arm returns once the signals are caught. Whatever starts a process must
// call it first, so that Ctrl-C cannot end procman and leave the process.
func (s *signals) arm() { <-s.armed }

// stop ends the command's contexts and the goroutine that watches the
// signals. The signals stay caught: procman exits next, and giving them
// back (signal.Stop) costs a handshake with os/signal's thread per signal,
// 0.1 ms of every run; one that arrives meanwhile changes nothing.
func (s *signals) stop() {
	close(s.done)
	s.cancel(nil)
}

// interrupt does what a Ctrl-C does: under procman up --tui the terminal
// is raw, and Ctrl-C is a key that the dashboard reads.
func (s *signals) interrupt() {
	select {
	case s.ch <- syscall.SIGINT:
	default: // two signals wait already: the first is being acted on
	}
}

// signalReason names a signal as the log's stop lines say it.
func signalReason(sig os.Signal) runner.StopReason {
	switch sig {
	case syscall.SIGINT:
		return "Ctrl-C"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return runner.StopReason(sig.String())
}

// exitCode maps the outcome of a command to procman's exit code: 128+N when
// a signal N ended the run, 2 for usage and config errors, the failing
// task's own code, 1 otherwise.
func (s *signals) exitCode(err error) int {
	select {
	case sig := <-s.got:
		s.got <- sig
		if err == nil || errors.Is(err, context.Canceled) || isExit(err) {
			return 128 + int(sig.(syscall.Signal))
		}
	default:
	}
	return errorCode(err)
}
