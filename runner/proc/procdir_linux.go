package proc

import (
	"bytes"
	"encoding/binary"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// procDir lists the processes of /proc for Groups: all of them, or only
// those started since the listing before, which is much less (listing
// /proc costs about 0.6 µs a process here, and a machine runs hundreds).
//
// Pids are handed out in turn: a process started since the last listing
// has a pid after the ns_last_pid read then, up to the one read now,
// wrapping around at pid_max, unless pids went round more than once in
// between: /proc/stat's count of forks since boot says they did not. And
// /proc lists processes in pid order from any position: a pid's position
// is a fixed offset from the pid, which a full listing learns (each
// entry's d_off is the position of the next one) before it is relied on.
type procDir struct {
	fd     int    // /proc
	lastFD int    // /proc/sys/kernel/ns_last_pid
	statFD int    // /proc/stat
	buf    []byte // reused: getdents and /proc/stat
	pidMax int    // from /proc/sys/kernel/pid_max; 0: unknown, list all

	offset int64  // position of pid 0 in /proc; 0 until learned, -1: not so
	last   int    // ns_last_pid when the last listing began
	forks  uint64 // /proc/stat's processes then
	since  int    // listings since the last full one
}

// fullEvery bounds the listings of new processes between two full ones,
// which forget the processes that ended.
const fullEvery = 64

// openProcDir opens /proc and the files that say what is new.
func openProcDir() (*procDir, error) {
	fd, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	d := &procDir{fd: fd, buf: make([]byte, 32<<10), lastFD: -1, statFD: -1}
	if b, err := os.ReadFile("/proc/sys/kernel/pid_max"); err == nil {
		d.pidMax, _ = strconv.Atoi(string(bytes.TrimSpace(b)))
	}
	d.lastFD, _ = unix.Open("/proc/sys/kernel/ns_last_pid", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	d.statFD, _ = unix.Open("/proc/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	return d, nil
}

// close closes what openProcDir opened.
func (d *procDir) close() {
	for _, fd := range []int{d.fd, d.lastFD, d.statFD} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// list calls each for the processes of /proc: every one, and true, or
// only those started since the last listing, and false.
func (d *procDir) list(each func(pid int, ino uint64)) (all bool) {
	prev := d.last
	last, forks, ok := d.counters()
	newOnly := ok && d.offset > 0 && d.pidMax > 0 && d.since < fullEvery && forks-d.forks <= uint64(d.pidMax/4)
	d.last, d.forks = last, forks
	if newOnly {
		var found []dirent
		var done bool
		switch {
		case last == prev:
			done = true
		case last > prev:
			found, done = d.listFrom(prev+1, last, nil)
		default: // pids went round past pid_max
			if found, done = d.listFrom(prev+1, d.pidMax, nil); done {
				found, done = d.listFrom(1, last, found)
			}
		}
		if done {
			for _, e := range found {
				each(e.pid, e.ino)
			}
			d.since++
			return false
		}
		d.offset = -1 // /proc does not list from a pid's position here
	}
	d.listAll(each)
	d.since = 0
	return true
}

// dirent is a process in /proc: its pid and the inode of its folder.
type dirent struct {
	pid int
	ino uint64
}

// listFrom appends to found the processes with pids from lo to hi, and
// reports whether /proc listed them from lo's position as it should.
func (d *procDir) listFrom(lo, hi int, found []dirent) ([]dirent, bool) {
	if _, err := unix.Seek(d.fd, d.offset+int64(lo), 0); err != nil {
		return found, false
	}
	ok := true
	d.entries(func(pid int, ino uint64, _ int64) bool {
		switch {
		case pid < lo:
			ok = false
		case pid <= hi:
			found = append(found, dirent{pid, ino})
			return true
		}
		return false
	})
	return found, ok
}

// listAll calls each for every process, learning the offset of a pid's
// position from where each entry says the next one is.
func (d *procDir) listAll(each func(pid int, ino uint64)) {
	if _, err := unix.Seek(d.fd, 0, 0); err != nil {
		return
	}
	prevNext, offset, self := int64(-1), int64(0), false
	d.entries(func(pid int, ino uint64, next int64) bool {
		if prevNext >= 0 {
			switch o := prevNext - int64(pid); {
			case offset == 0:
				offset = o
			case o != offset:
				offset = -1
			}
		}
		prevNext = next
		self = self || pid == os.Getpid()
		each(pid, ino)
		return true
	})
	if d.offset == 0 {
		d.offset = offset
		if !self { // /proc is another pid namespace's than ns_last_pid
			d.offset = -1
		}
	}
}

// entries reads /proc from where its file offset is, calling each with
// every process's pid, inode and the position of the entry after it,
// while each returns true.
func (d *procDir) entries(each func(pid int, ino uint64, next int64) bool) {
	for {
		n, err := unix.Getdents(d.fd, d.buf)
		if err != nil || n <= 0 {
			return
		}
		for b := d.buf[:n]; len(b) >= 19; {
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				return
			}
			if pid, ok := pidName(b[19:reclen]); ok && b[18] == unix.DT_DIR {
				if !each(pid, binary.NativeEndian.Uint64(b[0:8]), int64(binary.NativeEndian.Uint64(b[8:16]))) {
					return
				}
			}
			b = b[reclen:]
		}
	}
}

// counters reads ns_last_pid and the forks since boot.
func (d *procDir) counters() (last int, forks uint64, ok bool) {
	if d.lastFD < 0 || d.statFD < 0 {
		return 0, 0, false
	}
	n, err := unix.Pread(d.lastFD, d.buf, 0)
	if err != nil || n <= 0 {
		return 0, 0, false
	}
	v, ok := number(bytes.TrimSpace(d.buf[:n]))
	if !ok {
		return 0, 0, false
	}
	last = int(v)
	const key = "\nprocesses "
	for off := int64(0); ; {
		n, err := unix.Pread(d.statFD, d.buf, off)
		if err != nil || n <= 0 {
			return 0, 0, false
		}
		if i := bytes.Index(d.buf[:n], []byte(key)); i >= 0 {
			if end := bytes.IndexByte(d.buf[i+len(key):n], '\n'); end >= 0 {
				forks, ok = number(d.buf[i+len(key) : i+len(key)+end])
				return last, forks, ok
			}
		}
		if n < len(d.buf) {
			return 0, 0, false
		}
		off += int64(n - len(key) - 24) // the line may straddle two reads
	}
}

// pidName returns the pid that a /proc entry's name (NUL-terminated) is,
// if it is one.
func pidName(name []byte) (int, bool) {
	pid := 0
	for i, c := range name {
		switch {
		case c == 0:
			return pid, i > 0
		case c < '0' || c > '9' || i > 9:
			return 0, false
		}
		pid = pid*10 + int(c-'0')
	}
	return pid, len(name) > 0
}
