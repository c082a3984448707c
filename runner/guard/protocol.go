package guard

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The protocol procman speaks to its guard on the guard's stdin, one message
// a line:
//
//	hello PID                          procman's pid, for the guard's messages
//	add PGID START SIG TIMEOUT "NAME"  a group procman started: its leader's
//	                                   start time, stop signal (a number),
//	                                   stop timeout (a Go duration) and task
//	                                   name (a Go quoted string)
//	del PGID                           procman stopped the group: forget it
//	bye                                clean goodbye: exit, signal nothing
//
// End of input without "bye" means procman died.

// readyLine is what the guard writes on its stdout once it ignores the
// signals meant for procman and is reading its stdin.
const readyLine = "ready\n"

// maxName bounds a task name, so that a message always fits a line.
const maxName = 1024

// group is a process group procman started and the guard may have to stop.
type group struct {
	name    string         // task name, for messages
	pgid    int            // process group id (the leader's pid)
	start   uint64         // the leader's proc.StartTime
	sig     syscall.Signal // stop_signal
	timeout time.Duration  // stop_timeout, then SIGKILL
}

// message is one parsed line of the protocol.
type message struct {
	kind string // "hello", "add", "del" or "bye"
	pid  int    // hello: procman's pid
	g    group  // add: the group; del: g.pgid only
}

// validate reports what is wrong with g, in the terms of Client.Add.
func (g group) validate() error {
	switch {
	case g.pgid <= 1:
		return errors.New("process group must be > 1")
	case unix.SignalName(g.sig) == "":
		return fmt.Errorf("unknown signal %d", int(g.sig))
	case g.timeout < 0:
		return fmt.Errorf("negative stop timeout %v", g.timeout)
	case len(g.name) > maxName:
		return fmt.Errorf("task name longer than %d bytes", maxName)
	}
	return nil
}

// encodeHello, encodeAdd, encodeDel and encodeBye write the protocol's
// lines.
func encodeHello(pid int) string { return fmt.Sprintf("hello %d\n", pid) }

func encodeAdd(g group) string {
	return fmt.Sprintf("add %d %d %d %s %s\n", g.pgid, g.start, int(g.sig), g.timeout, strconv.Quote(g.name))
}

func encodeDel(pgid int) string { return fmt.Sprintf("del %d\n", pgid) }

func encodeBye() string { return "bye\n" }

// parse reads one line of the protocol, without its newline.
func parse(line string) (message, error) {
	kind, rest, _ := strings.Cut(line, " ")
	switch kind {
	case "hello":
		pid, err := parseInt("pid", rest)
		if err != nil {
			return message{}, fmt.Errorf("hello: %w", err)
		}
		return message{kind: kind, pid: pid}, nil
	case "add":
		g, err := parseAdd(rest)
		if err != nil {
			return message{}, fmt.Errorf("add: %w", err)
		}
		return message{kind: kind, g: g}, nil
	case "del":
		pgid, err := parseInt("pgid", rest)
		if err == nil && pgid <= 1 {
			err = errors.New("process group must be > 1")
		}
		if err != nil {
			return message{}, fmt.Errorf("del: %w", err)
		}
		return message{kind: kind, g: group{pgid: pgid}}, nil
	case "bye":
		if line != "bye" {
			return message{}, errors.New("bye: takes no arguments")
		}
		return message{kind: kind}, nil
	case "":
		return message{}, errors.New("empty message")
	}
	return message{}, fmt.Errorf("unknown message %q", kind)
}

// parseAdd reads the arguments of an add message.
func parseAdd(args string) (group, error) {
	f := strings.SplitN(args, " ", 5)
	if len(f) != 5 {
		return group{}, fmt.Errorf("want 5 arguments, got %d", len(f))
	}
	var g group
	var err error
	if g.pgid, err = parseInt("pgid", f[0]); err != nil {
		return group{}, err
	}
	if g.start, err = strconv.ParseUint(f[1], 10, 64); err != nil {
		return group{}, fmt.Errorf("bad leader start time %q", f[1])
	}
	sig, err := parseInt("signal", f[2])
	if err != nil {
		return group{}, err
	}
	g.sig = syscall.Signal(sig)
	if g.timeout, err = time.ParseDuration(f[3]); err != nil {
		return group{}, fmt.Errorf("bad stop timeout %q", f[3])
	}
	if g.name, err = strconv.Unquote(f[4]); err != nil {
		return group{}, fmt.Errorf("bad task name %s", f[4])
	}
	return g, g.validate()
}

// parseInt reads a decimal int argument called what.
func parseInt(what, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("bad %s %q", what, s)
	}
	return n, nil
}
