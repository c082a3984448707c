package guard

import (
	"bytes"
	"os"
	"strconv"

	"github.com/procman/procman/runner/proc"
)

// alive reports whether group pgid has a member that is not a zombie. A
// process whose parent died is reaped by PID 1, and a PID 1 that does not
// reap (a container's shell, some VM inits) leaves zombies in the group for
// good: they hold no port or file and cannot be killed, so they do not count.
func alive(pgid int) bool {
	if !proc.Exists(pgid) {
		return false
	}
	d, err := os.Open("/proc")
	if err != nil {
		return true // cannot tell: assume the worst
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return true
	}
	want := []byte(strconv.Itoa(pgid))
	for _, name := range names {
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + name + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		// After the command name: state, ppid, pgrp, ...
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(b[i+1:])
		if len(f) < 3 || !bytes.Equal(f[2], want) {
			continue
		}
		if st := f[0]; !bytes.Equal(st, []byte("Z")) && !bytes.Equal(st, []byte("X")) {
			return true
		}
	}
	return false
}
