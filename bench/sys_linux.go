package main

// Linux: the floor's raw inotify watcher and the /proc readings.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/procman/procman/runner/proc"
)

// floorMask is what the floor watches on every folder: what an editor's
// save or a checkout makes.
const floorMask = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MODIFY | unix.IN_CLOSE_WRITE |
	unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_ONLYDIR

// treeWatch is the floor's watcher: one inotify watch on every folder of a
// tree, read with poll(2) and read(2), no runtime poller, no channels.
type treeWatch struct {
	fd      int    // the inotify descriptor (blocking)
	wakeR   int    // read end of the pipe that interrupts next
	wakeW   int    // its write end
	buf     []byte // read buffer
	watches int    // folders watched
}

// newTreeWatch watches root and every folder below it, except folders
// named skip.
func newTreeWatch(root, skip string) (*treeWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("pipe: %w", err)
	}
	t := &treeWatch{fd: fd, wakeR: p[0], wakeW: p[1], buf: make([]byte, 64<<10)}
	if err := t.add(root, skip); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

// add watches dir and the folders below it, depth first.
func (t *treeWatch) add(dir, skip string) error {
	if _, err := unix.InotifyAddWatch(t.fd, dir, floorMask); err != nil {
		return fmt.Errorf("watch %s: %w", dir, err)
	}
	t.watches++
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() && e.Name() != skip {
			if err := t.add(filepath.Join(dir, e.Name()), skip); err != nil {
				return err
			}
		}
	}
	return nil
}

// next blocks until events arrive and reads them all (true), or until wake
// was called (false).
func (t *treeWatch) next() (bool, error) {
	fds := []unix.PollFd{{Fd: int32(t.fd), Events: unix.POLLIN}, {Fd: int32(t.wakeR), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("poll: %w", err)
		}
		if fds[1].Revents != 0 {
			return false, nil
		}
		if _, err := unix.Read(t.fd, t.buf); err != nil {
			return false, fmt.Errorf("read inotify: %w", err)
		}
		return true, nil
	}
}

// wake makes a blocked or later next return false.
func (t *treeWatch) wake() { _, _ = unix.Write(t.wakeW, []byte{1}) }

// close releases the descriptors; call it when no next is running.
func (t *treeWatch) close() {
	unix.Close(t.fd)
	unix.Close(t.wakeR)
	unix.Close(t.wakeW)
}

// clockTick is the unit of utime and stime in /proc/PID/stat (USER_HZ).
const clockTick = 10 * time.Millisecond

// procSample is what /proc says about one process.
type procSample struct {
	cpu      time.Duration // utime+stime of every thread, dead ones included
	rss      uint64        // VmRSS, bytes
	switches uint64        // context switches of the live threads
}

// sampleProc reads /proc/PID/stat and the status of PID and its threads.
func sampleProc(pid int) (procSample, error) {
	var s procSample
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return s, fmt.Errorf("/proc/%d/stat: no command field", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return s, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return s, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	s.cpu = time.Duration(ut+st) * clockTick
	status, err := readStatus(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	s.rss = status["VmRSS"] * 1024
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		ts, err := readStatus(fmt.Sprintf("/proc/%d/task/%s/status", pid, t.Name()))
		if err == nil {
			s.switches += ts["voluntary_ctxt_switches"] + ts["nonvoluntary_ctxt_switches"]
		}
	}
	return s, nil
}

// readStatus reads the numeric fields of a /proc status file ("kB" dropped).
func readStatus(path string) (map[string]uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			out[k] = n
		}
	}
	return out, sc.Err()
}

// pidsOf returns the processes running the executable exe (procman and the
// guard it re-executes), in /proc order.
func pidsOf(exe string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if target, err := os.Readlink("/proc/" + e.Name() + "/exe"); err == nil && target == exe {
			out = append(out, pid)
		}
	}
	return out
}

// processes counts the processes on the machine.
func processes() int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			n++
		}
	}
	return n
}

// pidsCarrying returns the processes that have kv ("KEY=value") in their
// environment, in /proc order.
func pidsCarrying(kv string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && carries(pid, kv) {
			out = append(out, pid)
		}
	}
	return out
}

// waitGone waits up to timeout for process pid, which need not be a child
// of this one, to exit, on a pidfd; it reports whether it did. Before
// Linux 5.3 (no pidfd_open) it looks every 10 ms instead.
func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	fd, err := unix.PidfdOpen(pid, 0)
	switch {
	case errors.Is(err, unix.ESRCH):
		return true
	case err != nil:
		for unix.Kill(pid, 0) == nil {
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(10 * time.Millisecond)
		}
		return true
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, max(0, int(time.Until(deadline).Milliseconds())))
		if errors.Is(err, unix.EINTR) && time.Now().Before(deadline) {
			continue
		}
		return err == nil && n > 0
	}
}

// machine describes this computer for the results.
func machine() string {
	model := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	var u unix.Utsname
	kernel := "Linux"
	if unix.Uname(&u) == nil {
		kernel = "Linux " + unix.ByteSliceToString(u.Release[:])
	}
	return fmt.Sprintf("%s, %s", model, kernel)
}

// carries reports whether process pid has kv ("KEY=value") in its
// environment.
func carries(pid int, kv string) bool { return proc.HasEnv(pid, kv) }
