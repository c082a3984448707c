package proc

import (
	"bytes"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// clockTick is the unit of CPU times in /proc: USER_HZ, 100 on every
// Linux that Go runs on.
const clockTick = 10_000_000 // ns

// pageSize is the unit of RSS in /proc/PID/stat.
var pageSize = uint64(os.Getpagesize())

// maxKept bounds the stat files a Groups keeps open, to a quarter of the
// open files a process may have and 1024; the processes past it have
// theirs opened at each reading.
var maxKept = sync.OnceValue(func() int {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 64
	}
	return int(min(1024, lim.Cur/4))
})

// Groups reads what process groups use, again and again: procman ps asks
// at every run. A group's members are the live processes whose stat file
// names it, found by listing /proc. Groups remembers from one reading to
// the next which processes it read, by pid and by the inode of their /proc
// folder (a later process with the same pid has another): those in a
// group asked for keep their stat file open, to be read again in place
// (3 µs here, against 12 µs to open, read and close one), and those in
// none are not read again unless a group asked for later is theirs. So a
// reading opens the stat files of the processes started since the one
// before, and no others. A process that moves into a group after it was
// read (setpgid from another group of the session) is not seen. Its
// methods are safe for concurrent use; the zero value is ready.
type Groups struct {
	mu      sync.Mutex
	members map[int]*member // by pid: processes last found in a group asked for
	others  map[int]other   // by pid: processes last found in none
	kept    int             // members whose stat file is open
	closed  bool            // Close was called: keep nothing open
	opens   int             // stat files opened, for tests
	dir     *procDir        // lists /proc
	round   int             // readings so far
	buf     []byte          // reused: a stat file
}

// member is a process of a group asked for.
type member struct {
	ino   uint64 // of its /proc folder
	fd    int    // its stat file, open; -1 when not kept
	round int    // the last reading that read it
}

// other is a process of a group not asked for.
type other struct {
	ino   uint64
	pgid  int
	round int // the last full listing that listed it
}

// Usage returns the usage of each of the process groups pgids that has a
// live member, by pgid.
func (g *Groups) Usage(pgids []int) map[int]Usage {
	if len(pgids) == 0 {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.members == nil {
		g.members, g.others = map[int]*member{}, map[int]other{}
		g.buf = make([]byte, 1024)
	}
	if g.dir == nil {
		d, err := openProcDir()
		if err != nil {
			return nil
		}
		g.dir = d
		if g.closed {
			defer func() { g.dir.close(); g.dir = nil }()
		}
	}
	g.round++
	out := make(map[int]Usage, len(pgids))
	if !g.dir.list(func(pid int, ino uint64) { g.read(pid, ino, pgids, out) }) {
		// Only the new processes were listed: the members are read where
		// they are, and the others of a group asked for now.
		for pid, m := range g.members {
			if m.round != g.round {
				g.read(pid, m.ino, pgids, out)
			}
		}
		for pid, o := range g.others {
			if o.round != g.round && slices.Contains(pgids, o.pgid) {
				g.read(pid, o.ino, pgids, out)
			}
		}
		return out
	}
	for pid, m := range g.members {
		if m.round != g.round {
			g.forget(pid, m)
		}
	}
	for pid, o := range g.others {
		if o.round != g.round {
			delete(g.others, pid)
		}
	}
	return out
}

// read adds process pid, whose /proc folder has inode ino, to the usage
// of its group when that is one of pgids, and remembers what it found.
func (g *Groups) read(pid int, ino uint64, pgids []int, out map[int]Usage) {
	m := g.members[pid]
	if m != nil && m.ino != ino { // the pid was handed out again
		g.forget(pid, m)
		m = nil
	}
	if m == nil {
		if o, ok := g.others[pid]; ok && o.ino == ino && !slices.Contains(pgids, o.pgid) {
			g.others[pid] = other{ino: ino, pgid: o.pgid, round: g.round}
			return
		}
		delete(g.others, pid)
		m = &member{ino: ino, fd: -1}
	}
	fd := m.fd
	if fd < 0 {
		var err error
		g.opens++
		if fd, err = openStat(pid); err != nil {
			g.forget(pid, m)
			return
		}
	}
	n, err := unix.Pread(fd, g.buf, 0)
	pgid, u, live, ok := parseStat(g.buf[:max(n, 0)])
	if err != nil || !ok || !slices.Contains(pgids, pgid) {
		if fd != m.fd {
			unix.Close(fd)
		}
		g.forget(pid, m)
		if err == nil && ok {
			g.others[pid] = other{ino: ino, pgid: pgid, round: g.round}
		}
		return
	}
	if m.fd < 0 && !g.closed && g.kept < maxKept() {
		m.fd = fd
		g.kept++
	} else if fd != m.fd {
		unix.Close(fd)
	}
	m.round = g.round
	g.members[pid] = m
	if live {
		sum := out[pgid]
		sum.CPU += u.CPU
		sum.RSS += u.RSS
		out[pgid] = sum
	}
}

// forget drops member m of pid, closing its stat file.
func (g *Groups) forget(pid int, m *member) {
	if m.fd >= 0 {
		unix.Close(m.fd)
		m.fd = -1
		g.kept--
	}
	delete(g.members, pid)
}

// Close closes the stat files kept open. The Groups still reads after
// it, keeping none.
func (g *Groups) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for pid, m := range g.members {
		g.forget(pid, m)
	}
	if g.dir != nil {
		g.dir.close()
		g.dir = nil
	}
	g.closed = true
}

// openStat opens /proc/PID/stat.
func openStat(pid int) (int, error) {
	return unix.Open("/proc/"+strconv.Itoa(pid)+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
}

// parseStat reads the process group, CPU time and RSS from the text of a
// stat file, and whether the process is live (not a zombie); ok is false
// when the text is not a stat file's.
func parseStat(b []byte) (pgid int, u Usage, live, ok bool) {
	i := bytes.LastIndexByte(b, ')') // the command name may hold spaces
	if i < 0 || i+2 >= len(b) {
		return 0, Usage{}, false, false
	}
	// The fields after the name, from 3 (state): 5 pgrp, 14 utime, 15
	// stime, 24 rss; one space apart.
	var utime, stime, rss uint64
	field := 3
	for f := range bytes.SplitSeq(b[i+2:], []byte{' '}) {
		switch field {
		case 3:
			live = len(f) == 1 && f[0] != 'Z' && f[0] != 'X'
		case 5:
			v, _ := number(f)
			pgid = int(v)
		case 14:
			utime, _ = number(f)
		case 15:
			stime, _ = number(f)
		case 24:
			rss, ok = number(f)
			return pgid, Usage{CPU: time.Duration((utime + stime) * clockTick), RSS: rss * pageSize}, live, ok
		}
		field++
	}
	return 0, Usage{}, false, false
}

// number parses a field of decimal digits.
func number(f []byte) (uint64, bool) {
	var v uint64
	for _, c := range f {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, len(f) > 0
}
