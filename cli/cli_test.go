package cli

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	if os.Getenv(asProcman) == "1" { // the dashboard tests run the test binary as procman
		os.Exit(Main(os.Args[1:]))
	}
	testscript.Main(m, map[string]func(){
		"procman": func() { os.Exit(Main(os.Args[1:])) },
		"listen":  fakeListen,
		"sampler": sampler,
	})
}

// fakeListen is the program `listen ADDR DELAY [FOR]`: after DELAY it
// accepts connections on ADDR, for FOR (default 30 s), then stops
// listening but keeps running until 30 s have passed. A connection that
// sends an HTTP request gets "200 OK".
func fakeListen() {
	d, err := time.ParseDuration(os.Args[2])
	if err != nil {
		panic(err)
	}
	time.Sleep(d)
	l, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		panic(err)
	}
	fmt.Println("listening")
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go answerHTTP(c)
		}
	}()
	if len(os.Args) > 3 {
		d, err := time.ParseDuration(os.Args[3])
		if err != nil {
			panic(err)
		}
		time.Sleep(d)
		l.Close()
		fmt.Println("closed")
	}
	time.Sleep(30 * time.Second)
}

// sampler is the program `sampler PIDFILE STOPFILE`: every 10 ms until
// STOPFILE exists (30 s at most), it checks that at least one of the pids
// in PIDFILE is alive, and prints a line for each sample when none is.
// It prints the number of samples at the end.
func sampler() {
	pidfile, stop := os.Args[1], os.Args[2]
	samples := 0
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); samples++ {
		if _, err := os.Stat(stop); err == nil {
			break
		}
		b, _ := os.ReadFile(pidfile)
		up := false
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil && alive(pid) {
				up = true
			}
		}
		if !up {
			fmt.Printf("none running at sample %d\n", samples)
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Printf("%d samples\n", samples)
}

// answerHTTP reads a request's head from c, if any comes, and answers 200.
func answerHTTP(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return // a tcp probe: connected and gone
		}
		if line == "\r\n" {
			break
		}
	}
	_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
}

// TestScripts runs the end-to-end scripts in ../testdata/script: the real
// CLI, real processes, real files.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "../testdata/script",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitfor":   cmdWaitfor,
			"signal":    cmdSignal,
			"gone":      cmdGone,
			"linecheck": cmdLinecheck,
			"childpid":  cmdChildpid,
			"alive":     cmdAlive,
		},
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "1")
			// a race-built procman would sleep 1 s at every exit
			env.Setenv("GORACE", "atexit_sleep_ms=0")
			return nil
		},
	})
}

// waitfor FILE [REGEXP] waits up to 20 s until FILE exists and, when
// REGEXP is given, holds a match. With !, it checks that no match appears
// within 500 ms (an upper bound on what "never" can mean here).
func cmdWaitfor(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: waitfor FILE [REGEXP]")
	}
	var re *regexp.Regexp
	if len(args) == 2 {
		re = regexp.MustCompile(args[1])
	}
	limit := 20 * time.Second
	if neg {
		limit = 500 * time.Millisecond
	}
	deadline := time.Now().Add(limit)
	for {
		b, err := os.ReadFile(ts.MkAbs(args[0]))
		found := err == nil && (re == nil || re.Match(b))
		if found && neg {
			ts.Fatalf("%s: found %v", args[0], re)
		}
		if found {
			return
		}
		if time.Now().After(deadline) {
			if neg {
				return
			}
			ts.Fatalf("%s: no %v within %v; it holds:\n%s", args[0], re, limit, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// signal SIG PIDFILE sends SIG (INT, TERM, KILL, HUP) to the pid in PIDFILE.
func cmdSignal(ts *testscript.TestScript, neg bool, args []string) {
	sigs := map[string]syscall.Signal{"INT": syscall.SIGINT, "TERM": syscall.SIGTERM, "KILL": syscall.SIGKILL, "HUP": syscall.SIGHUP}
	if len(args) != 2 || sigs[args[0]] == 0 {
		ts.Fatalf("usage: signal INT|TERM|KILL|HUP PIDFILE")
	}
	pids := readPids(ts, args[1])
	if len(pids) != 1 {
		ts.Fatalf("%s: want one pid, got %v", args[1], pids)
	}
	ts.Check(syscall.Kill(pids[0], sigs[args[0]]))
}

// gone WITHIN PIDFILE... checks that every pid in the files is gone (or a
// zombie) within the duration.
func cmdGone(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: gone DURATION PIDFILE...")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	var pids []int
	for _, f := range args[1:] {
		pids = append(pids, readPids(ts, f)...)
	}
	deadline := time.Now().Add(d)
	for {
		var left []int
		for _, pid := range pids {
			if alive(pid) {
				left = append(left, pid)
			}
		}
		if len(left) == 0 {
			if neg {
				ts.Fatalf("every pid is gone")
			}
			return
		}
		if time.Now().After(deadline) {
			if neg {
				return
			}
			for _, pid := range left {
				_ = syscall.Kill(pid, syscall.SIGKILL) // ours: the test started them
			}
			ts.Fatalf("still running after %v: %v", d, left)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// linecheck FILE NAME N checks that FILE holds exactly N lines
// "NAME | I" with I counting 1..N in order, among other tasks' lines,
// each line whole.
func cmdLinecheck(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: linecheck FILE NAME N")
	}
	n, err := strconv.Atoi(args[2])
	ts.Check(err)
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	next := 1
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			break
		}
		name, rest, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " | ")
		if !ok {
			ts.Fatalf("line without prefix: %.80q", line)
		}
		if strings.TrimSpace(name) != args[1] {
			continue
		}
		if rest != strconv.Itoa(next) {
			ts.Fatalf("%s: line %q, want %d", args[1], rest, next)
		}
		next++
	}
	if next-1 != n {
		ts.Fatalf("%s: %d lines, want %d", args[1], next-1, n)
	}
}

// childpid PIDFILE WORD OUTFILE writes to OUTFILE the pid of the child of
// the process in PIDFILE whose command line holds WORD (procman's guard).
func cmdChildpid(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: childpid PIDFILE WORD OUTFILE")
	}
	parent := readPids(ts, args[0])[0]
	ents, err := os.ReadDir("/proc")
	ts.Check(err)
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err1 := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		cmdline, err2 := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err1 != nil || err2 != nil {
			continue
		}
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if ppid, _ := strconv.Atoi(f[1]); ppid == parent && strings.Contains(string(cmdline), args[1]) {
			ts.Check(os.WriteFile(ts.MkAbs(args[2]), []byte(strconv.Itoa(pid)+"\n"), 0o644))
			return
		}
	}
	ts.Fatalf("no child of %d with %q", parent, args[1])
}

// alive N PIDFILE waits up to 5 s until exactly N of the pids in PIDFILE
// are alive (zombies are not): a service started just now may not have
// written its pid yet.
func cmdAlive(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: alive N PIDFILE")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	deadline := time.Now().Add(5 * time.Second)
	for {
		var live []int
		for _, pid := range readPids(ts, args[1]) {
			if alive(pid) {
				live = append(live, pid)
			}
		}
		if len(live) == want {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%d alive (%v), want %d", len(live), live, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readPids reads whitespace-separated pids from a file.
func readPids(ts *testscript.TestScript, name string) []int {
	b, err := os.ReadFile(ts.MkAbs(name))
	ts.Check(err)
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			ts.Fatalf("%s: %v", name, err)
		}
		pids = append(pids, pid)
	}
	return pids
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}
