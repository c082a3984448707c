package proc

import (
	"bytes"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// clockTick is the unit of CPU times in /proc: USER_HZ, 100 on every
// Linux that Go runs on.
const clockTick = 10_000_000 // ns

// pageSize is the unit of RSS in /proc/PID/stat.
var pageSize = uint64(os.Getpagesize())

// GroupsUsage returns the usage of the process groups pgids that have a
// live member, by pgid: one pass over /proc, reading the stat file of
// each process that may belong to one (about 6 µs a process here). A
// group's members have pids from its leader's on, unless pids wrapped
// around since: only those are read, or every process after a wrap.
func GroupsUsage(pgids []int) map[int]Usage {
	if len(pgids) == 0 {
		return nil
	}
	from := slices.Min(pgids)
	if last, err := os.ReadFile("/proc/sys/kernel/ns_last_pid"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(last))); err == nil && n < from {
			from = 0 // pids wrapped since the oldest leader started
		}
	}
	dir, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	defer dir.Close()
	names, err := dir.Readdirnames(-1)
	if err != nil {
		return nil
	}
	out := make(map[int]Usage)
	buf := make([]byte, 512)
	path := make([]byte, 0, 32)
	for _, name := range names {
		if name[0] < '1' || name[0] > '9' {
			continue
		}
		if pid, err := strconv.Atoi(name); err != nil || pid < from {
			continue
		}
		path = append(append(append(path[:0], "/proc/"...), name...), "/stat"...)
		pgid, u, ok := readStat(string(path), buf)
		if ok && slices.Contains(pgids, pgid) {
			sum := out[pgid]
			sum.CPU += u.CPU
			sum.RSS += u.RSS
			out[pgid] = sum
		}
	}
	return out
}

// readStat reads the process group, CPU time and RSS from a stat file;
// false for a zombie or a process gone meanwhile.
func readStat(path string, buf []byte) (int, Usage, bool) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, Usage{}, false
	}
	n, err := unix.Read(fd, buf)
	unix.Close(fd)
	if err != nil || n <= 0 {
		return 0, Usage{}, false
	}
	b := buf[:n]
	i := bytes.LastIndexByte(b, ')') // the command name may hold spaces
	if i < 0 || i+2 >= len(b) {
		return 0, Usage{}, false
	}
	// Fields after the name, from 3 (state): 5 pgrp, 14 utime, 15 stime,
	// 24 rss.
	f := bytes.Fields(b[i+2:])
	if len(f) < 22 || !live(string(f[0])) {
		return 0, Usage{}, false
	}
	pgid, _ := strconv.Atoi(string(f[2]))
	utime, _ := strconv.ParseUint(string(f[11]), 10, 64)
	stime, _ := strconv.ParseUint(string(f[12]), 10, 64)
	rss, _ := strconv.ParseUint(string(f[21]), 10, 64)
	return pgid, Usage{CPU: time.Duration((utime + stime) * clockTick), RSS: rss * pageSize}, true
}
