package guard

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"sync"
	"syscall"
)

// EnvRunEnv is the environment variable through which Start hands the guard
// its run env ("PROCMAN_RUN_ID=<id>"); Main reads it.
const EnvRunEnv = "PROCMAN_GUARD_RUN_ENV"

// Main is the body of the hidden `procman guard` subcommand that Start
// launches. It ignores the signals meant for procman (SIGINT, SIGTERM,
// SIGHUP), and SIGPIPE and SIGTTOU so that a dead or stopped terminal on
// stderr cannot kill or freeze it; tells Start it is ready on stdout; then
// runs Serve on stdin, writing its messages to stderr.
func Main(ctx context.Context) error {
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE, syscall.SIGTTOU)
	// One thread is plenty for two pipe messages per restart, and waking
	// fewer threads costs procman's restarts a third of the guard's CPU.
	runtime.GOMAXPROCS(1)
	runEnv, ok := os.LookupEnv(EnvRunEnv)
	if !ok {
		return fmt.Errorf("guard: %s is not set: only procman starts the guard", EnvRunEnv)
	}
	if _, err := io.WriteString(os.Stdout, readyLine); err != nil {
		return fmt.Errorf("guard: say ready: %w", err)
	}
	_ = os.Stdout.Close()
	return Serve(ctx, os.Stdin, os.Stderr, runEnv)
}

// Serve is the guard's main loop. It reads the protocol from r and records
// the groups procman starts until either a goodbye, when it returns nil at
// once and signals nothing, or the end of r without one (procman died),
// when it stops every recorded group in parallel, writes what it did to w,
// one "procman | guard: ..." line per group sorted by task name, and
// returns: nil at EOF, the error if reading failed. A group is signalled only
// while proc.Owned(pgid, leaderStart, runEnv) holds. When ctx is done
// Serve returns ctx.Err() without signalling anything, or, while stopping,
// sends SIGKILL without waiting out the stop timeouts.
func Serve(ctx context.Context, r io.Reader, w io.Writer, runEnv string) error {
	s := &server{w: w, runEnv: runEnv, groups: map[int]group{}}
	lines := make(chan string)
	ended := make(chan error, 1)
	quit := make(chan struct{})
	defer close(quit)
	go scan(r, lines, ended, quit)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case line := <-lines:
			if s.handle(line) {
				return nil
			}
		case err := <-ended:
			s.stopAll(ctx)
			if err != nil {
				return fmt.Errorf("guard: read from procman: %w", err)
			}
			return nil
		}
	}
}

// scan sends the lines of r to lines, then the reason reading ended (nil at
// EOF) to ended, until quit is closed. A blocked Read outlives quit until r
// ends; the guard exits right after Serve returns.
func scan(r io.Reader, lines chan<- string, ended chan<- error, quit <-chan struct{}) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		select {
		case lines <- sc.Text():
		case <-quit:
			return
		}
	}
	ended <- sc.Err()
}

// server is the state of one Serve.
type server struct {
	w      io.Writer
	runEnv string        // "PROCMAN_RUN_ID=<id>", for proc.Owned
	ppid   int           // procman's pid from hello; 0 until then
	groups map[int]group // by pgid: what procman started and did not stop
}

// handle applies one line and reports whether it was the goodbye.
func (s *server) handle(line string) (bye bool) {
	m, err := parse(line)
	if err != nil {
		s.say("ignored bad message %q: %v", line, err)
		return false
	}
	switch m.kind {
	case "hello":
		s.ppid = m.pid
	case "add":
		s.groups[m.g.pgid] = m.g
	case "del":
		delete(s.groups, m.g.pgid)
	case "bye":
		return true
	}
	return false
}

// stopAll stops every recorded group in parallel, then reports them in a
// stable order.
func (s *server) stopAll(ctx context.Context) {
	gs := make([]group, 0, len(s.groups))
	for _, g := range s.groups {
		gs = append(gs, g)
	}
	slices.SortFunc(gs, func(a, b group) int {
		return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.pgid, b.pgid))
	})
	reports := make([]string, len(gs))
	var wg sync.WaitGroup
	for i, g := range gs {
		wg.Go(func() { reports[i] = s.stop(ctx, g) })
	}
	wg.Wait()
	for _, r := range reports {
		if r != "" {
			s.say("%s", r)
		}
	}
}

// say writes one message to w. A dead terminal loses it; the guard goes on.
func (s *server) say(format string, args ...any) {
	_, _ = fmt.Fprintf(s.w, "procman | guard: "+format+"\n", args...)
}

// errNotOwned marks a group that is no longer provably procman's.
var errNotOwned = errors.New("not provably procman's")
