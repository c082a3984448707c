package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// floorWatchVar, when set, makes the benchmark's binary the idle case's
// floor instead (floorWatchMain): a watcher of the tree it names, in a
// process of its own, so that /proc reads its CPU and wakeups as it reads
// procman's. Both main and the tests' TestMain look at it first.
const floorWatchVar = "PROCMAN_BENCH_FLOOR_WATCH"

// floorWatchMain watches root with treeWatch, as the restart floor does,
// skipping node_modules; writes the number of folders watched and a
// newline to stdout; then reads events until its stdin ends (the
// benchmark closed it, or died). It returns the exit code.
func floorWatchMain(root string) int {
	tw, err := newTreeWatch(root, "node_modules")
	if err != nil {
		fmt.Fprintf(os.Stderr, "floor watch: %v\n", err)
		return 1
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		tw.wake()
	}()
	fmt.Printf("%d\n", tw.watches)
	for {
		ok, err := tw.next()
		if err != nil {
			fmt.Fprintf(os.Stderr, "floor watch: %v\n", err)
			return 1
		}
		if !ok {
			return 0
		}
	}
}

// floorWatch is a running floor watcher.
type floorWatch struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser // closing it ends the watcher
}

// startFloorWatch re-executes the benchmark's binary as the floor watcher
// of root, in a process group of its own, and returns once it watches.
func (e *env) startFloorWatch(root string) (*floorWatch, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = e.environ(floorWatchVar + "=" + root)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	fw := &floorWatch{cmd: cmd, stdin: stdin}
	line, rerr := bufio.NewReader(stdout).ReadString('\n')
	if _, err := strconv.Atoi(strings.TrimSpace(line)); err != nil {
		fw.end()
		return nil, fmt.Errorf("floor watcher: %w: %s", errors.Join(rerr, err), strings.TrimSpace(stderr.String()))
	}
	return fw, nil
}

// pid is the watcher's process id.
func (fw *floorWatch) pid() int { return fw.cmd.Process.Pid }

// end closes the watcher's stdin, and SIGKILLs its group when it has not
// exited a second later; it reaps it.
func (fw *floorWatch) end() {
	done := make(chan struct{})
	go func() { _ = fw.cmd.Wait(); close(done) }()
	_ = fw.stdin.Close()
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		_ = syscall.Kill(-fw.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}
