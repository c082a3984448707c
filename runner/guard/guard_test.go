package guard

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/procman/procman/runner/proc"
)

// adopted is a group the test starts and the fake procman records.
type adopted struct {
	name       string
	graceful   bool // exits on SIGTERM; else only SIGKILL ends it
	wrongStart bool // recorded with a leader start time that is not its own
	drop       bool // removed before procman ends
}

// endCase is one way a fake procman ends, and what must follow.
type endCase struct {
	name  string
	spawn []string  // groups the fake procman starts: a leader trapping SIGTERM, two grandchildren ignoring it
	adopt []adopted // groups the test starts and the fake procman records
	close bool      // a clean goodbye instead of SIGKILL
	want  []string  // the guard's stderr; {NAME} is NAME's pgid, {procman} procman's pid
}

// endTimeout is the fake procman's stop timeout.
const endTimeout = 300 * time.Millisecond

// TestGuard_ProcmanEnds runs a fake procman that starts a real guard and
// real process groups, ends it (SIGKILL, or a clean Close), and checks what
// a user would see: which processes are left, and the guard's messages.
func TestGuard_ProcmanEnds(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a fake procman, a guard and process trees")
	}
	killedLine := "procman | guard: killed %s (pgid {%[1]s}) left by procman pid {procman}: still running 300ms after SIGTERM"
	tests := []endCase{
		{
			name:  "SIGKILL stops every group, grandchildren included",
			spawn: []string{"worker", "web"},
			adopt: []adopted{{name: "db", graceful: true}},
			want: []string{
				"procman | guard: stopped db (pgid {db}) left by procman pid {procman}",
				fmt.Sprintf(killedLine, "web"),
				fmt.Sprintf(killedLine, "worker"),
			},
		},
		{
			name:  "clean close signals nothing",
			adopt: []adopted{{name: "db"}},
			close: true,
		},
		{
			name:  "removed group is not signalled",
			spawn: []string{"web"},
			adopt: []adopted{{name: "db", drop: true}},
			want:  []string{fmt.Sprintf(killedLine, "web")},
		},
		{
			name:  "group whose leader start differs is left alone",
			adopt: []adopted{{name: "api", wrongStart: true}},
			want:  []string{"procman | guard: left api (pgid {api}) alone: not provably procman's"},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runEndCase(t, i, tt) })
	}
}

// runEndCase runs one endCase.
func runEndCase(t *testing.T, i int, tt endCase) {
	dir := t.TempDir()
	runEnv := fmt.Sprintf("PROCMAN_RUN_ID=guardtest-%d-%d", os.Getpid(), i)
	vars := map[string]int{}
	var plan []string
	trappers := map[string]*trapper{}
	for _, a := range tt.adopt {
		tr := startTrapper(t, runEnv, dir, a.graceful)
		trappers[a.name], vars[a.name] = tr, tr.pid
		start := tr.start
		if a.wrongStart {
			start++
		}
		plan = append(plan, "adopt", a.name, strconv.Itoa(tr.pid), strconv.FormatUint(start, 10))
		if a.drop {
			plan = append(plan, "drop", strconv.Itoa(tr.pid))
		}
	}
	for _, name := range tt.spawn {
		plan = append(plan, "spawn", name)
	}
	if tt.close {
		plan = append(plan, "close")
	}
	pm := startFakeProcman(t, plan, runEnv, dir, endTimeout)
	pm.readUntilReady(t, 3*len(tt.spawn))
	vars["procman"] = pm.cmd.Process.Pid
	maps.Copy(vars, pm.groups)

	ended, deadline := pm.end(t, tt.close)
	// The guard holds the last copy of the stderr pipe: EOF means it exited.
	got, err := pm.readStderr(deadline)
	if err != nil {
		t.Fatalf("guard not done by the deadline (%v); said %q", err, got)
	}
	t.Logf("guard done %v after procman ended", time.Since(ended).Round(time.Millisecond))
	if want := expand(tt.want, vars); !slices.Equal(got, want) {
		t.Errorf("guard said:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Its stderr closes as it exits, a moment before it is a zombie.
	if !exits(pm.guard, 2*time.Second) {
		t.Errorf("guard (pid %d) still running", pm.guard)
	}
	for _, pid := range pm.members {
		if running(pid) {
			t.Errorf("member pid %d of a spawned group still running", pid)
		}
	}
	for name, pgid := range pm.groups {
		if !termed(dir, pgid) {
			t.Errorf("%s (pgid %d) got no SIGTERM before SIGKILL", name, pgid)
		}
	}
	for _, a := range tt.adopt {
		checkAdopted(t, a, trappers[a.name], dir, tt.close)
	}
}

// expand replaces {NAME} in lines by vars[NAME].
func expand(lines []string, vars map[string]int) []string {
	var out []string
	for _, l := range lines {
		for name, v := range vars {
			l = strings.ReplaceAll(l, "{"+name+"}", strconv.Itoa(v))
		}
		out = append(out, l)
	}
	return out
}

// checkAdopted checks that an adopted group was stopped, or left alone,
// as it should.
func checkAdopted(t *testing.T, a adopted, tr *trapper, dir string, closed bool) {
	t.Helper()
	if a.drop || a.wrongStart || closed {
		if !running(tr.pid) {
			t.Errorf("%s (pgid %d) was stopped; it should be left alone", a.name, tr.pid)
		}
		if termed(dir, tr.pid) {
			t.Errorf("%s (pgid %d) got SIGTERM; it should be left alone", a.name, tr.pid)
		}
		return
	}
	if running(tr.pid) {
		t.Errorf("%s (pgid %d) still running", a.name, tr.pid)
	}
	if !termed(dir, tr.pid) {
		t.Errorf("%s (pgid %d) got no SIGTERM", a.name, tr.pid)
	}
}

// fakePM is a running fake procman.
type fakePM struct {
	cmd     *exec.Cmd
	out     *lines
	errs    *lines
	runEnv  string
	guard   int            // the guard's pid
	groups  map[string]int // spawned groups by name
	members []int          // the processes of spawned groups
}

// startFakeProcman starts a fake procman running plan. It ends by itself
// when the test ends (its stdin closes).
func startFakeProcman(t *testing.T, plan []string, runEnv, dir string, timeout time.Duration) *fakePM {
	t.Helper()
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := self("procman", plan...)
	cmd.Env = append(cmd.Env, runEnvEnv+"="+runEnv, timeoutEnv+"="+timeout.String(), dirEnv+"="+dir)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	err = cmd.Start()
	inR.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		inW.Close()
		outR.Close()
		errR.Close()
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return &fakePM{cmd: cmd, runEnv: runEnv, out: newLines(outR), errs: newLines(errR), groups: map[string]int{}}
}

// end waits for a fake procman that closes, or sends the guard the signals
// `pkill procman` would, which it must ignore, then SIGKILLs procman. It
// returns when procman ended and the deadline for the guard to be done.
func (pm *fakePM) end(t *testing.T, closes bool) (ended, deadline time.Time) {
	t.Helper()
	ended, deadline = time.Now(), time.Now().Add(5*time.Second)
	if !closes {
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
			if err := syscall.Kill(pm.guard, sig); err != nil {
				t.Fatalf("signal guard: %v", err)
			}
		}
		ended = time.Now()
		deadline = ended.Add(endTimeout + time.Second) // the contract
		if err := pm.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
	}
	if err := pm.cmd.Wait(); closes != (err == nil) {
		t.Fatalf("fake procman: %v", err)
	}
	return ended, deadline
}

// readUntilReady reads the fake procman's stdout until it is ready (or
// closed) and members processes of its groups have reported.
func (pm *fakePM) readUntilReady(t *testing.T, members int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	ready := false
	for !ready || len(pm.members) < members {
		line, err := pm.out.next(deadline)
		if err != nil {
			said, _ := pm.readStderr(time.Now().Add(time.Second))
			t.Fatalf("fake procman: %v; stderr: %q", err, said)
		}
		f := strings.Fields(line)
		switch {
		case line == "ready" || line == "closed":
			ready = true
		case len(f) == 2 && f[0] == "guard":
			pm.guard, _ = strconv.Atoi(f[1])
		case len(f) == 2 && f[0] == "member":
			pid, _ := strconv.Atoi(f[1])
			pm.members = append(pm.members, pid)
		case len(f) == 4 && f[0] == "group":
			pgid, _ := strconv.Atoi(f[2])
			start, _ := strconv.ParseUint(f[3], 10, 64)
			pm.groups[f[1]] = pgid
			t.Cleanup(func() { // should the guard have failed
				if proc.Owned(pgid, start, pm.runEnv) {
					_, _ = proc.Signal(pgid, syscall.SIGKILL)
				}
			})
		default:
			t.Fatalf("fake procman said %q", line)
		}
	}
	if pm.guard == 0 {
		t.Fatal("fake procman did not say the guard's pid")
	}
}

// readStderr reads stderr to its end, which must come by deadline.
func (pm *fakePM) readStderr(deadline time.Time) ([]string, error) {
	var got []string
	for {
		line, err := pm.errs.next(deadline)
		if errors.Is(err, io.EOF) {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		got = append(got, line)
	}
}

// exits reports whether process pid, not a child of this test, stops
// running within d. The kernel tells only a parent when a process ends, so
// this looks on a growing period.
func exits(pid int, d time.Duration) bool {
	end := time.Now().Add(d)
	for wait := time.Millisecond; running(pid); wait = min(2*wait, 50*time.Millisecond) {
		if time.Now().After(end) {
			return false
		}
		time.Sleep(wait)
	}
	return true
}
