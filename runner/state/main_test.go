package state

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the helper processes the tests need, chosen by
// these environment variables (the os/exec test pattern).
const (
	envHelper = "PROCMAN_STATE_HELPER" // the helper to run
	envDir    = "PROCMAN_STATE_DIR"    // its project folder
	envN      = "PROCMAN_STATE_N"      // how many updates "increment" does
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envHelper); mode != "" {
		os.Exit(runHelper(mode))
	}
	os.Exit(m.Run())
}

// runHelper is the main of a helper process. Every helper ends by itself: on
// EOF on stdin (the test closed it, or the test process died), or after a
// minute at most.
func runHelper(mode string) int {
	time.AfterFunc(time.Minute, func() { os.Exit(3) })
	s, err := Open(os.Getenv(envDir))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	stdin := bufio.NewReader(os.Stdin)
	switch mode {
	case "update-loop": // Update in a tight loop until killed
		go func() {
			_, _ = io.Copy(io.Discard, stdin)
			os.Exit(0)
		}()
		for i := 0; ; i++ {
			if err := s.Update(func(st *State) { bulkUpdate(st, i) }); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			if i == 0 {
				fmt.Println("ready")
			}
		}
	case "increment": // wait for "go", then N Updates incrementing the counter
		n, _ := strconv.Atoi(os.Getenv(envN))
		fmt.Println("ready")
		if line, _ := stdin.ReadString('\n'); line != "go\n" {
			return 1
		}
		for range n {
			if err := s.Update(func(st *State) { st.EventCounter++ }); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		return 0
	case "acquire": // hold the supervisor lock until stdin closes
		if _, err := s.Acquire(); err != nil {
			fmt.Println(err)
			return 1
		}
		fmt.Println("locked")
		_, _ = io.Copy(io.Discard, stdin)
		return 0
	case "group": // lead a process group until stdin closes
		fmt.Println("ready")
		_, _ = io.Copy(io.Discard, stdin)
		return 0
	}
	fmt.Fprintln(os.Stderr, "unknown helper", mode)
	return 2
}

// bulkUpdate makes a state of some 40 KB, so that a write takes long enough
// to be killed in the middle of.
func bulkUpdate(st *State, i int) {
	st.EventCounter++
	st.Task(fmt.Sprintf("task%02d", i%40)).Runs++
	st.AddError(time.Unix(int64(i), 0).UTC(), "task", strings.Repeat(strconv.Itoa(i), 300)[:300])
}

// helper is a running helper process.
type helper struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
}

// startHelper starts helper mode on project folder dir. The test's cleanup
// closes its stdin and kills it by pid if it has not ended.
func startHelper(t *testing.T, mode, dir string, env ...string) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envHelper+"="+mode, envDir+"="+dir)
	// A race-enabled helper would otherwise linger a second at exit.
	cmd.Env = append(cmd.Env, "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helper{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(stdout)}
	t.Cleanup(func() {
		_ = stdin.Close()
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return h
}

// expect reads the helper's next line and fails the test unless it is want.
func (h *helper) expect(t *testing.T, want string) {
	t.Helper()
	line, err := h.stdout.ReadString('\n')
	if strings.TrimSuffix(line, "\n") != want {
		t.Fatalf("helper said %q (%v), want %q", line, err, want)
	}
}

// wait closes the helper's stdin and waits for it to exit.
func (h *helper) wait(t *testing.T) {
	t.Helper()
	_ = h.stdin.Close()
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
}
