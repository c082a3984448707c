package watch

// Linux: inotify driven directly, one non-recursive watch per folder.
//
// rjeczalik/notify is not used here, because on Linux it cannot do what
// this package promises (verified against v0.9.3): it keeps a folder's
// watch in its tree after the folder is deleted, so watching a re-created
// folder at the same path is a silent no-op and its changes are lost; it
// drops IN_Q_OVERFLOW, so lost events cannot be reported; it has no way to
// unwatch one folder; and it starts a goroutine per event. Driving inotify
// takes golang.org/x/sys/unix only, and gives exact errors (ENOSPC) too.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// watchMask is what every folder watch asks for. A file counts when closed
// after writing, not on every write (IN_MODIFY): one save is one event,
// not three, so that at debounce 0 a save restarts once, a half-written
// file triggers nothing, and a log file appended to all day wakes procman
// for nothing. Creations, removals and renames go to the batcher too, so
// that it can tell a temporary file from a change; a folder's attribute
// changes are dropped.
const watchMask = unix.IN_CREATE | unix.IN_DELETE | unix.IN_ATTRIB |
	unix.IN_CLOSE_WRITE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
	unix.IN_ONLYDIR | unix.IN_EXCL_UNLINK

// opOf maps an inotify mask to what happened to the path.
func opOf(mask uint32) Op {
	switch {
	case mask&(unix.IN_DELETE|unix.IN_MOVED_FROM) != 0:
		return Remove
	case mask&unix.IN_MOVED_TO != 0:
		return Create | Write | Move // moved in whole
	case mask&unix.IN_CREATE != 0:
		return Create
	case mask&unix.IN_CLOSE_WRITE != 0:
		return Write
	}
	return Attrib
}

// sysOps are the system calls that tests replace to inject failures.
type sysOps struct {
	addWatch func(fd int, path string, mask uint32) (int, error) // inotify_add_watch(2)
	limit    func(setting string) int                            // a sysctl's value, 0 if unknown
}

// realOps are the real system calls.
var realOps = sysOps{addWatch: unix.InotifyAddWatch, limit: readSysctl}

// readSysctl reads an integer sysctl such as fs.inotify.max_user_watches.
func readSysctl(setting string) int {
	data, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(setting, ".", "/"))
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return n
}

// dirWatch is one watched folder.
type dirWatch struct {
	path string          // the folder
	wd   int32           // its watch descriptor
	only map[string]bool // nil: every entry counts; else only these names: true for a root, false for a folder on the way down to one
}

// inotify is the Linux backend.
type inotify struct {
	cfg    *config
	ops    sysOps
	file   *os.File             // the inotify descriptor, read through the runtime poller
	fd     int                  // file's descriptor, for inotify_add_watch
	byWD   map[int32]*dirWatch  // watch descriptor -> folder
	byPath map[string]*dirWatch // folder -> watch
	count  atomic.Int64         // len(byWD), readable from any goroutine
	warned bool                 // the limit warning was logged already
	done   chan struct{}        // closed when the reader returns
	once   sync.Once            // guards close
	buf    []byte               // read buffer
}

// startBackend starts the inotify backend with the real system calls.
func startBackend(ctx context.Context, c *config) (backend, error) {
	return startInotify(ctx, c, realOps)
}

// startInotify opens an inotify instance, watches the roots and starts the
// reader.
func startInotify(ctx context.Context, c *config, ops sysOps) (*inotify, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		if errors.Is(err, unix.EMFILE) {
			return nil, &LimitError{Setting: "fs.inotify.max_user_instances", Value: ops.limit("fs.inotify.max_user_instances"), Err: err}
		}
		return nil, fmt.Errorf("watch: inotify: %w", err)
	}
	n := &inotify{
		cfg: c, ops: ops, fd: fd, file: os.NewFile(uintptr(fd), "inotify"),
		byWD: make(map[int32]*dirWatch), byPath: make(map[string]*dirWatch),
		done: make(chan struct{}), buf: make([]byte, 64<<10),
	}
	for _, r := range c.roots {
		if err := n.settle(ctx, r, false); err != nil {
			n.file.Close()
			return nil, err
		}
	}
	go n.read()
	return n, nil
}

// watchDir adds or updates the watch on dir. only non-empty restricts a new
// watch to that entry name, a root or not; "" makes the watch count every
// entry.
func (n *inotify) watchDir(dir, only string, root bool) error {
	wd, err := n.ops.addWatch(n.fd, dir, watchMask)
	if err != nil {
		if errors.Is(err, unix.ENOSPC) {
			return &LimitError{Setting: "fs.inotify.max_user_watches", Value: n.ops.limit("fs.inotify.max_user_watches"), Err: err}
		}
		return fmt.Errorf("watch: %s: %w", dir, err)
	}
	d := n.byWD[int32(wd)]
	if d == nil || d.path != dir {
		if d != nil {
			n.drop(d)
		}
		d = &dirWatch{path: dir, wd: int32(wd), only: map[string]bool{}}
		n.byWD[d.wd] = d
		n.count.Add(1)
	}
	if old := n.byPath[dir]; old != nil && old != d {
		n.drop(old)
	}
	n.byPath[dir] = d
	switch {
	case only == "":
		d.only = nil
	case d.only != nil:
		d.only[only] = d.only[only] || root
	}
	return nil
}

// drop forgets a watch the kernel removed or that is being removed.
func (n *inotify) drop(d *dirWatch) {
	if n.byWD[d.wd] == d {
		delete(n.byWD, d.wd)
		n.count.Add(-1)
	}
	if n.byPath[d.path] == d {
		delete(n.byPath, d.path)
	}
}

// unwatchTree removes the watches of dir and every folder below it (dir
// was moved away: its watches would report the old paths).
func (n *inotify) unwatchTree(dir string) {
	for p, d := range n.byPath {
		if within(p, dir) {
			_, _ = unix.InotifyRmWatch(n.fd, uint32(d.wd)) // EINVAL: already gone
			n.drop(d)
		}
	}
}

// walk watches dir and the folders below it that are not ignored, watching
// each folder before listing it so that nothing created meanwhile is missed.
// With report, every entry found is emitted as a change (a folder that just
// appeared: its files were created before its watch existed).
func (n *inotify) walk(ctx context.Context, dir string, report bool) error {
	stack := []string{dir}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		dir := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if err := n.watchDir(dir, "", false); err != nil {
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
				continue // gone or replaced meanwhile: its parent reports it
			}
			if errors.Is(err, unix.EACCES) {
				n.cfg.logf("%v", err)
				continue
			}
			return err
		}
		var err error
		if stack, err = n.list(dir, report, stack); err != nil {
			n.cfg.logf("%v", err)
		}
	}
	return nil
}

// list reads dir, emits its entries when report is set, and pushes its
// folders that are not ignored onto stack.
func (n *inotify) list(dir string, report bool, stack []string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return stack, nil
		}
		return stack, fmt.Errorf("watch: %w", err)
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return stack, fmt.Errorf("watch: read %s: %w", dir, err)
	}
	n.cfg.ign.noFile(dir)
	for _, e := range entries {
		if e.Name() == ".gitignore" {
			n.cfg.ign.forget(dir)
		}
	}
	for _, e := range entries {
		p := join(dir, e.Name())
		isDir := e.IsDir()
		if n.cfg.ign.ignored(p, isDir) {
			continue
		}
		if report {
			n.cfg.emit(Event{Path: p, Op: Create | Write, Dir: isDir})
		}
		if isDir {
			stack = append(stack, p)
		}
	}
	return stack, nil
}

// join is dir + "/" + name for a clean absolute dir.
func join(dir, name string) string {
	if strings.HasSuffix(dir, string(sep)) {
		return dir + name
	}
	return dir + string(sep) + name
}

// watched returns how many folders hold a watch.
func (n *inotify) watched() int { return int(n.count.Load()) }

// close stops the reader, then closes the inotify descriptor, which removes
// every watch. The reader is stopped first (a read deadline wakes it) so
// that no inotify_add_watch can run on a closed, maybe reused, descriptor.
func (n *inotify) close() error {
	var err error
	n.once.Do(func() {
		if err = n.file.SetReadDeadline(time.Now()); err != nil {
			err = n.file.Close()
			<-n.done
			return
		}
		<-n.done
		err = n.file.Close()
	})
	return err
}

// read reads and handles events until the descriptor is closed.
func (n *inotify) read() {
	defer close(n.done)
	for {
		k, err := n.file.Read(n.buf)
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, os.ErrClosed) {
				n.cfg.logf("watch: read inotify events: %v", err)
				n.cfg.emit(Event{Overflow: true})
			}
			return
		}
		n.parse(n.buf[:k])
	}
}

// parse handles every event in a buffer read from the inotify descriptor.
func (n *inotify) parse(buf []byte) {
	for len(buf) >= unix.SizeofInotifyEvent {
		wd := int32(binary.NativeEndian.Uint32(buf[0:]))
		mask := binary.NativeEndian.Uint32(buf[4:])
		size := int(binary.NativeEndian.Uint32(buf[12:]))
		end := min(unix.SizeofInotifyEvent+size, len(buf))
		name := buf[unix.SizeofInotifyEvent:end]
		for len(name) > 0 && name[len(name)-1] == 0 {
			name = name[:len(name)-1]
		}
		n.handle(wd, mask, name)
		buf = buf[end:]
	}
}

// handle turns one inotify event into changes and watch updates.
func (n *inotify) handle(wd int32, mask uint32, name []byte) {
	if mask&unix.IN_Q_OVERFLOW != 0 {
		n.cfg.logf("watch: the inotify queue overflowed: some changes were lost")
		n.resync()
		n.cfg.emit(Event{Overflow: true}) // after resync: what changes from here on is seen
		return
	}
	d := n.byWD[wd]
	if d == nil {
		return // a watch removed meanwhile
	}
	if mask&unix.IN_IGNORED != 0 {
		n.drop(d)
		n.settleBelow(d.path, true) // a folder above a root is gone: watch from higher up
		return
	}
	isRoot, ok := d.only[string(name)]
	if len(name) == 0 || (d.only != nil && !ok) {
		return // the folder itself (its parent reports it), or neither a root nor on the way to one
	}
	isDir := mask&unix.IN_ISDIR != 0
	if isDir && mask&(unix.IN_CREATE|unix.IN_DELETE|unix.IN_MOVED_FROM|unix.IN_MOVED_TO) == 0 {
		return // a folder's attributes: its files count, not its mtime
	}
	p := d.path + string(sep) + string(name) // one allocation: string(name) is a temporary
	if d.path == string(sep) {
		p = p[1:]
	}
	if string(name) == ".gitignore" {
		n.cfg.ign.forget(d.path)
		if d.only == nil && !isDir && mask&(unix.IN_CREATE|unix.IN_CLOSE_WRITE|unix.IN_DELETE|unix.IN_MOVED_FROM|unix.IN_MOVED_TO) != 0 {
			n.recheck(d.path) // before the events that follow: they are judged by the new rules
		}
	}
	if d.only == nil && n.cfg.ign.ignored(p, isDir) {
		return
	}
	if isDir && mask&(unix.IN_MOVED_FROM|unix.IN_DELETE) != 0 {
		n.unwatchTree(p)
	}
	if d.only != nil && !isRoot {
		if isDir && mask&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0 {
			n.settleBelow(p, true) // a folder on the way down to a root: no change by itself
		}
		return
	}
	op := opOf(mask)
	if op == Create && !isDir && n.symlink(p) {
		op |= Write // a symlink is whole when made: no write will follow
	}
	n.cfg.emit(Event{Path: p, Op: op, Dir: isDir})
	if isDir && op&Create != 0 {
		if err := n.walk(n.cfg.ctx, p, true); err != nil {
			n.warn(err)
		}
	}
}

// symlink reports whether p is a symbolic link.
func (n *inotify) symlink(p string) bool {
	var st unix.Stat_t
	return unix.Lstat(p, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK
}

// warn logs a watch error met while running; the limit only once.
func (n *inotify) warn(err error) {
	if errors.As(err, new(*LimitError)) {
		if n.warned {
			return
		}
		n.warned = true
		err = fmt.Errorf("%w; changes in new folders are not seen", err)
	}
	if !errors.Is(err, context.Canceled) {
		n.cfg.logf("%v", err)
	}
}
