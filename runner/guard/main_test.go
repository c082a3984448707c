package guard

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/procman/procman/runner/proc"
)

// The test binary re-executes itself in the role named by roleEnv.
const (
	roleEnv     = "GUARD_TEST_ROLE"
	runEnvEnv   = "GUARD_TEST_RUN_ENV"  // the fake procman's run env
	timeoutEnv  = "GUARD_TEST_TIMEOUT"  // the fake procman's stop timeout
	dirEnv      = "GUARD_TEST_DIR"      // where trapped SIGTERMs are noted
	gracefulEnv = "GUARD_TEST_GRACEFUL" // "1": a trapper exits on SIGTERM
)

// childLifetime is how long fake children live when nobody stops them, so
// that a failing test leaves nothing behind for long.
const childLifetime = 30 * time.Second

func TestMain(m *testing.M) {
	switch role := os.Getenv(roleEnv); role {
	case "":
		// Under -race a process sleeps 1s at exit by default: the fake
		// children and the guard this test starts must exit promptly.
		os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
		os.Exit(m.Run())
	case "guard":
		if err := Main(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	case "procman":
		os.Exit(fakeProcman(os.Args[1:]))
	case "leader":
		fakeLeader()
	case "grandchild":
		signal.Ignore(syscall.SIGTERM)
		fmt.Printf("member %d\n", os.Getpid())
		time.Sleep(childLifetime)
		os.Exit(0)
	case "trapper":
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		fmt.Printf("member %d\n", os.Getpid())
		trap(term)
	case "broken":
		os.Exit(3)
	case "mute": // never says ready
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	case "chatty":
		fmt.Print("hello\n")
		os.Exit(0)
	default:
		fmt.Fprintf(os.Stderr, "unknown role %q\n", role)
		os.Exit(2)
	}
}

// self returns a command that runs the test binary in role.
func self(role string, args ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), roleEnv+"="+role)
	return cmd
}

// fakeLeader traps SIGTERM, starts two grandchildren that ignore it, and
// lives for childLifetime.
func fakeLeader() {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	for range 2 {
		c := self("grandchild")
		c.Stdout = os.Stdout
		if err := c.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	fmt.Printf("member %d\n", os.Getpid())
	trap(term)
}

// trap notes each SIGTERM in dirEnv as term-PID, and exits on the first one
// when gracefulEnv is "1", or else after childLifetime.
func trap(term <-chan os.Signal) {
	end := time.After(childLifetime)
	for {
		select {
		case <-term:
			name := filepath.Join(os.Getenv(dirEnv), "term-"+strconv.Itoa(os.Getpid()))
			_ = os.WriteFile(name, nil, 0o644)
			if os.Getenv(gracefulEnv) == "1" {
				os.Exit(0)
			}
		case <-end:
			os.Exit(0)
		}
	}
}

// fakeProcman starts a guard and runs args, a plan of:
//
//	spawn NAME             start a fakeLeader group and add it
//	adopt NAME PGID START  add a group the test started
//	drop PGID              remove a group
//	close                  say goodbye, print "closed" and exit 0
//
// printing "guard PID", "group NAME PGID START" and finally "ready", then waits
// for stdin to end.
func fakeProcman(args []string) int {
	runEnv := os.Getenv(runEnvEnv)
	timeout, err := time.ParseDuration(os.Getenv(timeoutEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// The guard inherits this environment: it runs this binary as the guard.
	os.Setenv(roleEnv, "guard")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := Start(ctx, exe, nil, runEnv, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("guard %d\n", c.Pid())
	for len(args) > 0 {
		var n int
		n, err = fakeStep(c, args, runEnv, timeout)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if n == 0 {
			fmt.Println("closed")
			return 0
		}
		args = args[n:]
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 1
}

// fakeStep runs the first step of a fakeProcman plan and returns how many
// words it used, 0 after close.
func fakeStep(c *Client, args []string, runEnv string, timeout time.Duration) (int, error) {
	switch args[0] {
	case "spawn":
		cmd := self("leader")
		cmd.Env = append(cmd.Env, runEnv)
		cmd.Stdout = os.Stdout
		cmd.SysProcAttr = proc.Attr()
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		pid := cmd.Process.Pid
		st, err := proc.StartTime(pid)
		if err != nil {
			return 0, err
		}
		fmt.Printf("group %s %d %d\n", args[1], pid, st)
		return 2, c.Add(args[1], pid, st, syscall.SIGTERM, timeout)
	case "adopt":
		pgid, _ := strconv.Atoi(args[2])
		st, _ := strconv.ParseUint(args[3], 10, 64)
		return 4, c.Add(args[1], pgid, st, syscall.SIGTERM, timeout)
	case "drop":
		pgid, _ := strconv.Atoi(args[1])
		return 2, c.Remove(pgid)
	case "close":
		return 0, c.Close()
	}
	return 0, fmt.Errorf("bad plan step %q", args[0])
}

// lines reads lines from a pipe, each read bounded by a deadline.
type lines struct {
	f  *os.File
	br *bufio.Reader
}

func newLines(f *os.File) *lines { return &lines{f: f, br: bufio.NewReader(f)} }

// next returns the next line without its newline; io.EOF at the end, or
// os.ErrDeadlineExceeded when none came by deadline.
func (l *lines) next(deadline time.Time) (string, error) {
	if err := l.f.SetReadDeadline(deadline); err != nil {
		return "", err
	}
	s, err := l.br.ReadString('\n')
	if err != nil && s != "" && err == io.EOF {
		err = fmt.Errorf("unterminated line %q", s)
	}
	return strings.TrimSuffix(s, "\n"), err
}

// trapper is a process group the test started: a process that traps
// SIGTERM, noting it in dir.
type trapper struct {
	pid   int
	start uint64
	done  chan struct{} // closed once it exited and was reaped
}

// startTrapper starts a trapper with runEnv in its environment and waits
// until it traps SIGTERM. The test kills it at cleanup if it still runs.
func startTrapper(t *testing.T, runEnv, dir string, graceful bool) *trapper {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := self("trapper")
	cmd.Env = append(cmd.Env, runEnv, dirEnv+"="+dir)
	if graceful {
		cmd.Env = append(cmd.Env, gracefulEnv+"=1")
	}
	cmd.Stdout = w
	cmd.SysProcAttr = proc.Attr()
	err = cmd.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	tr := &trapper{pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(tr.done)
	}()
	t.Cleanup(func() {
		select {
		case <-tr.done:
		default:
			_ = cmd.Process.Kill()
			<-tr.done
		}
	})
	if line, err := newLines(r).next(time.Now().Add(20 * time.Second)); err != nil || line != fmt.Sprintf("member %d", tr.pid) {
		t.Fatalf("trapper said %q, %v", line, err)
	}
	if tr.start, err = proc.StartTime(tr.pid); err != nil {
		t.Fatal(err)
	}
	return tr
}

// termed reports whether process pid noted a SIGTERM in dir.
func termed(dir string, pid int) bool {
	_, err := os.Stat(filepath.Join(dir, "term-"+strconv.Itoa(pid)))
	return err == nil
}
