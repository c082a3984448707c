package runner

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the children that runner tests start (the
// os/exec tests' pattern): PROCMAN_TEST_CHILD selects what it does, and
// every child ends by itself within childLife.
const childLife = 30 * time.Second

func TestMain(m *testing.M) {
	if mode := os.Getenv("PROCMAN_TEST_CHILD"); mode != "" {
		child(mode, os.Args[2:])
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childCmd returns argv that runs the test binary as child mode with args.
func childCmd(mode string, args ...string) []string {
	return append([]string{os.Args[0], "-test.run=^$", mode}, args...)
}

// childEnv is the environment that makes the test binary a child.
func childEnv() []string {
	return append(os.Environ(), "PROCMAN_TEST_CHILD=1")
}

func child(_ string, args []string) {
	go func() { time.Sleep(childLife); os.Exit(99) }()
	mode, args := args[0], args[1:]
	switch mode {
	case "exit": // exit CODE
		code, _ := strconv.Atoi(args[0])
		os.Exit(code)
	case "print": // print N: N numbered lines on stdout
		n, _ := strconv.Atoi(args[0])
		for i := range n {
			fmt.Printf("line %d\n", i)
		}
	case "sleep": // sleep: until killed
		select {}
	case "waitfile": // waitfile PATH CODE: exit CODE once PATH exists
		for {
			if _, err := os.Stat(args[0]); err == nil {
				code, _ := strconv.Atoi(args[1])
				os.Exit(code)
			}
			time.Sleep(5 * time.Millisecond)
		}
	case "pidsleep": // pidsleep DIR: write the pid to DIR/PID, then sleep until killed
		os.WriteFile(filepath.Join(args[0], strconv.Itoa(os.Getpid())), nil, 0o644)
		select {}
	case "stubpid": // stubpid DIR: ignore SIGTERM, write the pid to DIR/PID, sleep until killed
		signal.Ignore(syscall.SIGTERM)
		os.WriteFile(filepath.Join(args[0], strconv.Itoa(os.Getpid())), nil, 0o644)
		select {}
	case "failif": // failif PATH: exit 1 at once when PATH exists, else say "ready" and sleep
		if _, err := os.Stat(args[0]); err == nil {
			os.Exit(1)
		}
		fmt.Println("ready")
		select {}
	case "stubborn": // stubborn PIDFILE: ignore SIGTERM, start two stubborn grandchildren, write all pids
		signal.Ignore(syscall.SIGTERM)
		pids := []int{os.Getpid()}
		for range 2 {
			c := exec.Command(os.Args[0], "-test.run=^$", "grandchild")
			c.Env = os.Environ()
			if err := c.Start(); err != nil {
				panic(err)
			}
			pids = append(pids, c.Process.Pid)
		}
		writePids(args[0], pids)
		fmt.Println("ready")
		select {}
	case "grandchild": // ignore SIGTERM and sleep
		signal.Ignore(syscall.SIGTERM)
		select {}
	case "escape": // escape: a grandchild in a new session holds stdout for 10s; the leader exits
		c := exec.Command(os.Args[0], "-test.run=^$", "sleep")
		c.Env = os.Environ()
		c.Stdout = os.Stdout
		c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := c.Start(); err != nil {
			panic(err)
		}
		fmt.Printf("escaped %d\n", c.Process.Pid)
	default:
		fmt.Fprintf(os.Stderr, "unknown child mode %q\n", mode)
		os.Exit(2)
	}
}

// writePids writes pids to path, one a line, atomically.
func writePids(path string, pids []int) {
	var b []byte
	for _, p := range pids {
		b = strconv.AppendInt(b, int64(p), 10)
		b = append(b, '\n')
	}
	if err := os.WriteFile(path+".tmp", b, 0o600); err != nil {
		panic(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		panic(err)
	}
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	for i := len(b) - 1; i > 0; i-- {
		if b[i] == ')' {
			return i+2 < len(b) && b[i+2] != 'Z'
		}
	}
	return true
}
