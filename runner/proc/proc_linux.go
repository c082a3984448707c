package proc

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// BootID identifies this boot of the machine; pids and start times recorded
// under another boot mean nothing now.
func BootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// stat returns the fields of /proc/PID/stat after the command name: field 3
// (state) is at index 0.
func stat(pid int) ([]string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return strings.Fields(string(b[i+1:])), nil
}

// StartTime returns when process pid started, in clock ticks since boot. With
// the boot id it tells a process apart from a later one that reused its pid.
func StartTime(pid int) (uint64, error) {
	f, err := stat(pid)
	if err != nil {
		return 0, err
	}
	if len(f) < 20 {
		return 0, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f))
	}
	return strconv.ParseUint(f[19], 10, 64) // field 22: starttime
}

// Alive reports whether group pgid has a member that is not a zombie. A
// zombie cannot be stopped and holds nothing; under an init that does not
// reap orphans (some containers and sandboxes) zombies stay forever, and
// waiting for them would turn every stop into a full stop_timeout.
func Alive(pgid int) bool {
	if !Exists(pgid) {
		return false
	}
	if f, err := stat(pgid); err == nil && len(f) > 2 && f[2] == strconv.Itoa(pgid) && live(f[0]) {
		return true // the leader itself
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	want := strconv.Itoa(pgid)
	for _, e := range ents {
		name := e.Name()
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		pid, _ := strconv.Atoi(name)
		f, err := stat(pid)
		if err == nil && len(f) > 2 && f[2] == want && live(f[0]) {
			return true
		}
	}
	return false
}

// live reports whether a /proc stat state is a running (not dead) process.
func live(state string) bool { return state != "Z" && state != "X" }

// Members returns the pids of the processes in group pgid.
func Members(pgid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := stat(pid)
		if err != nil || len(f) < 3 {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g == pgid { // field 5: pgrp
			pids = append(pids, pid)
		}
	}
	return pids
}

// HasEnv reports whether process pid was started with KEY=VALUE kv in its
// environment.
func HasEnv(pid int, kv string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	for _, e := range bytes.Split(b, []byte{0}) {
		if string(e) == kv {
			return true
		}
	}
	return false
}

// Owned reports whether group pgid is still the one procman started: its
// leader is alive with the recorded start time, or the leader is gone and a
// member still carries procman's run id (envKV, "KEY=VALUE") in its
// environment. While any process is in a group the kernel does not hand its
// number out again, so a group found this way cannot be someone else's.
func Owned(pgid int, leaderStart uint64, envKV string) bool {
	if st, err := StartTime(pgid); err == nil {
		return st == leaderStart
	}
	for _, pid := range Members(pgid) {
		if envKV != "" && HasEnv(pid, envKV) {
			return true
		}
	}
	return false
}
