package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// markVar is set in the environment of every process the benchmark starts,
// to the run's temp folder: cleanup signals only processes that carry it.
const markVar = "PROCMAN_BENCH_MARK"

// env is what every case shares: the built binaries and the run's temp
// folder, removed by close.
type env struct {
	root    string                        // procman's module
	tmp     string                        // the run's temp folder
	procman string                        // the procman binary built for this run
	child   string                        // the child helper (bench/child)
	logf    func(format string, a ...any) // progress, to stderr
}

// setup builds procman and the child helper into a new temp folder.
// procman is built as a release is (README, Install): static, with
// CGO_ENABLED=0.
func setup(ctx context.Context, logf func(string, ...any)) (*env, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "pmbench")
	if err != nil {
		return nil, err
	}
	e := &env{root: root, tmp: tmp, procman: filepath.Join(tmp, "procman"), child: filepath.Join(tmp, "child"), logf: logf}
	for _, b := range [][2]string{{e.procman, "."}, {e.child, "./bench/child"}} {
		if err := e.build(ctx, b[0], b[1], "CGO_ENABLED=0"); err != nil {
			e.close()
			return nil, err
		}
	}
	return e, nil
}

// build runs go build -o out pkg in procman's module, with env added.
func (e *env) build(ctx context.Context, out, pkg string, env ...string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = e.root
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// moduleRoot returns the folder of procman's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run the benchmark inside procman's module (go run ./bench)")
	}
	return filepath.Dir(mod), nil
}

// close removes the temp folder.
func (e *env) close() { _ = os.RemoveAll(e.tmp) }

// caseDir makes an empty folder for one case.
func (e *env) caseDir(name string) (string, error) {
	dir := filepath.Join(e.tmp, name)
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	return dir, os.MkdirAll(dir, 0o755)
}

// tidy removes a case's folder and waits for the disk to take the
// removal, so that the next case does not measure its writeback.
func (e *env) tidy(name string) {
	_ = os.RemoveAll(filepath.Join(e.tmp, name))
	syscall.Sync()
}

// environ is the environment of every process the benchmark starts.
func (e *env) environ(extra ...string) []string {
	env := append(os.Environ(), markVar+"="+e.tmp, "NO_COLOR=1")
	return append(env, extra...)
}

// childEnv is the child's environment: where to report, how long to live.
func childEnv(sock string) []string {
	return []string{"PROCMAN_BENCH_SOCK=" + sock, "PROCMAN_BENCH_LIFE=4m"}
}

// startChild starts the child helper as the leader of a new process group,
// the way procman starts a task, reporting to sock.
func (e *env) startChild(sock string) (*exec.Cmd, error) {
	cmd := exec.Command(e.child)
	cmd.Env = e.environ(childEnv(sock)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd, cmd.Start()
}

// stopGroup ends the group cmd leads with SIGTERM and reaps the leader.
func stopGroup(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	_ = cmd.Wait()
}

// sweep SIGKILLs the process groups led by pids that are still alive and
// still ours (they carry the run's mark): what a failed procman left.
func (e *env) sweep(pids []int) (left int) {
	for _, pid := range pids {
		if pid > 1 && syscall.Kill(pid, 0) == nil && carries(pid, markVar+"="+e.tmp) {
			left++
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	return left
}

// pause waits d, or until ctx is done.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// inTurn runs steps one after another, starting with step i (mod their
// number): the sides of an interleaved measurement take turns going
// first, so that none always runs right after the same other one and
// pays for what that one left behind (a supervisor still closing a
// connection, a state write, runtime threads winding down).
func inTurn(i int, steps ...func() error) error {
	for k := range steps {
		if err := steps[(i+k)%len(steps)](); err != nil {
			return err
		}
	}
	return nil
}
