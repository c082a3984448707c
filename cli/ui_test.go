package cli

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
	"github.com/creack/pty"

	"github.com/procman/procman/control"
)

// asProcman makes the test binary run as procman (see TestMain).
const asProcman = "PROCMAN_TEST_AS_PROCMAN"

// dashboardProject is a project for the dashboard tests: a chatty api
// with a ready probe and a web of two replicas.
const dashboardProject = `name: shop
tasks:
  api:
    cmd: sh -c 'echo api listening; while sleep 0.1; do echo api tick; done'
    service: true
    ready: {log: listening}
  web:
    cmd: sh -c 'echo web $PS up; while sleep 0.3; do echo "GET / 200"; done'
    service: true
    replicas: 2
`

// uiProject writes dashboardProject in a short temporary folder (a test's
// own may be too deep for a socket) and returns it.
func uiProject(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pmui")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "Procfile.yaml"), []byte(dashboardProject), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// procman runs the test binary as procman in dir and returns its output.
func procman(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), asProcman+"=1", "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("procman %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// ps asks dir's supervisor for its tasks, by name.
func ps(t *testing.T, dir string) map[string]control.Task {
	t.Helper()
	c, err := control.Dial(filepath.Join(dir, ".procman"))
	if err != nil {
		t.Fatalf("ps: %v", err)
	}
	defer c.Close()
	rep, err := c.Do(control.Request{Op: control.OpPS}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]control.Task{}
	for _, tk := range rep.PS.Tasks {
		out[tk.Name] = tk
	}
	return out
}

// term is a program under a pseudo-terminal, read by a terminal emulator.
type term struct {
	t    *testing.T
	cmd  *exec.Cmd
	pty  *os.File
	mu   sync.Mutex
	emu  *vt.Emulator
	done chan error
}

// openTerm starts procman args in dir under a cols x rows terminal.
func openTerm(t *testing.T, dir string, cols, rows int, args ...string) *term {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = []string{asProcman + "=1", "TERM=xterm-256color", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "GORACE=atexit_sleep_ms=0"}
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)})
	if err != nil {
		t.Fatal(err)
	}
	tm := &term{t: t, cmd: cmd, pty: f, emu: vt.NewEmulator(cols, rows), done: make(chan error, 1)}
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := f.Read(buf)
			tm.mu.Lock()
			tm.emu.Write(buf[:n])
			tm.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go io.Copy(f, tm.emu) // the emulator's answers to the program's queries
	go func() { tm.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
		f.Close()
	})
	return tm
}

// screen is the emulator's screen as text.
func (tm *term) screen() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.emu.String()
}

// waitScreen waits until cond holds for the screen.
func (tm *term) waitScreen(what string, cond func(string) bool) string {
	tm.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := tm.screen()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("no %s on the screen within 10s:\n%s", what, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// has is a waitScreen condition: every part is on the screen.
func has(parts ...string) func(string) bool {
	return func(s string) bool {
		for _, p := range parts {
			if !strings.Contains(s, p) {
				return false
			}
		}
		return true
	}
}

// press types keys into the terminal.
func (tm *term) press(keys string) {
	tm.t.Helper()
	if _, err := tm.pty.Write([]byte(keys)); err != nil {
		tm.t.Fatal(err)
	}
}

// resize changes the terminal's size, as a window manager would.
func (tm *term) resize(cols, rows int) {
	tm.mu.Lock()
	tm.emu.Resize(cols, rows)
	tm.mu.Unlock()
	if err := pty.Setsize(tm.pty, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)}); err != nil {
		tm.t.Fatal(err)
	}
}

// wait waits for the program to exit, and returns how.
func (tm *term) wait() error {
	tm.t.Helper()
	select {
	case err := <-tm.done:
		return err
	case <-time.After(15 * time.Second):
		tm.t.Fatalf("the program did not exit; screen:\n%s", tm.screen())
	}
	return nil
}

// waitPS waits until cond holds for dir's ps.
func waitPS(t *testing.T, dir, what string, cond func(map[string]control.Task) bool) map[string]control.Task {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := ps(t, dir)
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(got, "", " ")
			t.Fatalf("ps: no %s within 10s: %s", what, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestUI_DrivesASupervisorInARealTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts procman and a dashboard under a pseudo-terminal")
	}
	dir := uiProject(t)
	procman(t, dir, "up", "-d")
	t.Cleanup(func() { procman(t, dir, "down") })
	before := ps(t, dir)

	tm := openTerm(t, dir, 80, 24, "ui")
	tm.waitScreen("the rows of the project", has("procman · shop", "api", "ready", "web", "2/2 up", "  web.1", "  web.2", "| api tick", "q quit"))

	// r restarts the selected service: a new pid
	tm.press("r")
	after := waitPS(t, dir, "a new api", func(p map[string]control.Task) bool {
		return p["api"].PID != nil && *p["api"].PID != *before["api"].PID && p["api"].Status == "ready"
	})
	tm.waitScreen("the note", has("api restarted"))

	// s stops it, s again starts it
	tm.press("s")
	waitPS(t, dir, "api stopped", func(p map[string]control.Task) bool { return p["api"].Status == "stopped" })
	tm.waitScreen("api's row stopped", func(s string) bool {
		for _, line := range strings.Split(s, "\n") {
			if strings.HasPrefix(line, "api ") && strings.Contains(line, " stopped ") {
				return true
			}
		}
		return false
	})
	tm.press("s")
	waitPS(t, dir, "api started", func(p map[string]control.Task) bool {
		return p["api"].Status == "ready" && *p["api"].PID != *after["api"].PID
	})

	// / filters the output
	tm.press("/GET\r")
	tm.waitScreen("only GET lines", func(s string) bool {
		return strings.Contains(s, "filter: GET") && strings.Contains(s, "| GET / 200") && !strings.Contains(s, "api tick")
	})
	tm.press("\x1b")
	tm.waitScreen("every line again", has("| api tick"))

	// a resize redraws, and 80x24 again fits
	tm.resize(100, 30)
	tm.waitScreen("a wider rule", func(s string) bool {
		for _, line := range strings.Split(s, "\n") {
			if strings.HasPrefix(line, "── output") && len([]rune(line)) == 100 {
				return true
			}
		}
		return false
	})
	tm.resize(80, 24)
	s := tm.waitScreen("the 80x24 layout", func(s string) bool {
		lines := strings.Split(s, "\n")
		return len(lines) == 24 && strings.HasPrefix(lines[23], "j/k move") && strings.Contains(s, "  web.2")
	})
	for i, line := range strings.Split(s, "\n") {
		if n := len([]rune(line)); n > 80 {
			t.Errorf("line %d is %d wide: %q", i, n, line)
		}
	}

	// q leaves the dashboard; the services go on
	tm.press("q")
	if err := tm.wait(); err != nil {
		t.Fatalf("ui exited: %v", err)
	}
	if p := ps(t, dir); p["api"].Status != "ready" || p["web.1"].PID == nil {
		t.Errorf("after q: %+v", p)
	}

	// Ctrl-C too, and procman ui exits 130, as an interrupted command does
	tm = openTerm(t, dir, 80, 24, "ui")
	tm.waitScreen("the dashboard again", has("procman · shop", "2/2 up"))
	tm.press("\x03")
	if err := tm.wait(); exitStatus(err) != 130 {
		t.Errorf("ui after Ctrl-C: %v, want exit 130", err)
	}
	if p := ps(t, dir); p["api"].Status != "ready" || p["web.1"].PID == nil {
		t.Errorf("after Ctrl-C: %+v", p)
	}
}

// exitStatus is the exit code of a program that ended with err (from
// exec.Cmd.Wait), -1 when it did not exit.
func exitStatus(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

func TestUpTUI_QuitStopsEverything(t *testing.T) {
	if testing.Short() {
		t.Skip("starts procman and a dashboard under a pseudo-terminal")
	}
	tests := []struct {
		name, key, reason string
		code              int
	}{
		{"q", "q", "quit from the dashboard", 0},
		{"ctrl+c", "\x03", "Ctrl-C", 130}, // as Ctrl-C stops procman up
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := uiProject(t)
			tm := openTerm(t, dir, 80, 24, "up", "--tui")
			tm.waitScreen("the dashboard", has("procman · shop", "api", "ready", "2/2 up", "| api tick"))
			pids := ps(t, dir)
			tm.press(tt.key)
			if err := tm.wait(); exitStatus(err) != tt.code {
				t.Fatalf("up --tui exited: %v, want exit %d", err, tt.code)
			}
			if _, err := control.Dial(filepath.Join(dir, ".procman")); err != control.ErrNoSupervisor {
				t.Errorf("a supervisor still answers: %v", err)
			}
			for name, tk := range pids {
				if tk.PID != nil && alive(*tk.PID) {
					t.Errorf("%s (pid %d) still runs", name, *tk.PID)
				}
			}
			tm.waitScreen("why it stopped", has("api: stopping ("+tt.reason+")"))
		})
	}
}

func TestUpTUI_SigtermGivesTheTerminalBack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts procman and a dashboard under a pseudo-terminal")
	}
	dir := uiProject(t)
	tm := openTerm(t, dir, 80, 24, "up", "--tui")
	tm.waitScreen("the dashboard", has("procman · shop", "2/2 up"))
	tm.cmd.Process.Signal(syscall.SIGTERM)
	err := tm.wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 143 {
		t.Errorf("up --tui after SIGTERM: %v, want exit 143", err)
	}
	tm.mu.Lock()
	alt := tm.emu.IsAltScreen()
	tm.mu.Unlock()
	if alt {
		t.Errorf("the terminal was left on the alternate screen:\n%s", tm.screen())
	}
}

func TestUpTUI_SecondCtrlCKillsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts procman and a dashboard under a pseudo-terminal")
	}
	dir := uiProject(t)
	stubborn := `name: shop
tasks:
  api:
    cmd: sh -c 'trap "" TERM; echo api up; while true; do sleep 0.1; done'
    service: true
    stop_timeout: 60s
`
	if err := os.WriteFile(filepath.Join(dir, "Procfile.yaml"), []byte(stubborn), 0o644); err != nil {
		t.Fatal(err)
	}
	tm := openTerm(t, dir, 80, 24, "up", "--tui")
	tm.waitScreen("the dashboard", has("procman · shop", "api up"))
	pids := ps(t, dir)
	tm.press("\x03") // the dashboard's Ctrl-C: the first
	tm.waitScreen("the first Ctrl-C's stop", has("api: stopping (Ctrl-C)"))
	start := time.Now()
	tm.press("\x03") // the terminal's again: SIGINT, the second
	if err := tm.wait(); exitStatus(err) != 130 {
		t.Fatalf("up --tui exited: %v, want exit 130", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the second Ctrl-C took %v: it waited for api's stop_timeout", d)
	}
	if pid := pids["api"].PID; pid != nil && alive(*pid) {
		t.Errorf("api (pid %d) still runs", *pid)
	}
}
