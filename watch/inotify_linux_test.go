package watch

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestWatcher_IgnoredFoldersHoldNoWatch(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 5,000 folders")
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, ".gitignore"), "build/\n")
	for _, p := range []string{"src/a/x.go", "src/b/c/y.go", "build/x/y/z.o", ".git/objects/ab/cd", ".procman/state.json"} {
		writeFile(t, filepath.Join(dir, p), "x")
	}
	for i := range 2500 {
		if err := os.MkdirAll(filepath.Join(dir, "node_modules", fmt.Sprintf("pkg%04d", i), "lib"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	w := startWatcher(t, Options{Roots: []string{dir}, Base: dir})
	// dir, src, src/a, src/b, src/b/c, and dir's parent (for dir itself).
	if got := w.Watched(); got != 6 {
		t.Fatalf("Watched() = %d, want 6: ignored folders must hold no watch", got)
	}
	lib := filepath.Join(dir, "node_modules", "pkg0001", "lib", "index.js")
	writeFile(t, lib, "x")
	sentinel := filepath.Join(dir, "src", "a", "x.go")
	writeFile(t, sentinel, "y")
	if got := collect(t, w, sentinel); !strings.Contains(fmt.Sprint(got), sentinel) || strings.Contains(fmt.Sprint(got), "node_modules") {
		t.Fatalf("batches = %v, want the sentinel only", got)
	}
}

// TestWatcher_GitignoreEditRechecksWatchedFolders edits a nested .gitignore
// while watching: a folder it ignores now loses its watches, and a folder it
// no longer ignores is watched, without its files counting as changes.
func TestWatcher_GitignoreEditRechecksWatchedFolders(t *testing.T) {
	tests := []struct {
		name          string
		before, after string // src/.gitignore at start, then as edited
		file          string // written after the edit
		counts        bool   // file's change is seen
		watched       int    // Watched() after the edit
	}{
		// dir's parent, dir, src, src/tmp, src/tmp/deep: 5 before.
		{"folder ignored now", "gen/\n", "gen/\ntmp/\n", "src/tmp/t.go", false, 3},
		{"file in a folder ignored now", "gen/\n", "gen/\ntmp/\n", "src/tmp/deep/d.go", false, 3},
		{"folder no longer ignored", "gen/\n", "", "src/gen/g.go", true, 7},
		{"file deep in a folder no longer ignored", "gen/\n", "", "src/gen/deep/d.go", true, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ignore := filepath.Join(dir, "src", ".gitignore")
			writeFile(t, ignore, tt.before)
			for _, p := range []string{"src/tmp/t.go", "src/tmp/deep/d.go", "src/gen/g.go", "src/gen/deep/d.go"} {
				writeFile(t, filepath.Join(dir, p), "1")
			}
			w := startWatcher(t, Options{Roots: []string{dir}, Base: dir})
			writeFile(t, ignore, tt.after)
			collect(t, w, ignore) // handled: the watches are rechecked by then
			if got := w.Watched(); got != tt.watched {
				t.Errorf("Watched() = %d after the edit, want %d", got, tt.watched)
			}
			file, sentinel := filepath.Join(dir, tt.file), filepath.Join(dir, "src", "main.go")
			writeFile(t, file, "2")
			writeFile(t, sentinel, "2")
			// Events come in order: a change to file is in a batch by sentinel's.
			want := []string{sentinel}
			if tt.counts {
				want = append(want, file)
			}
			if all := seen(collect(t, w, sentinel)); !sameSet(all, want) {
				t.Fatalf("changes = %v, want %v", all, want)
			}
		})
	}
}

// failingOps returns system calls whose inotify_add_watch fails with
// ENOSPC after the first allowed calls, and max_user_watches 8192.
func failingOps(allowed int64) sysOps {
	var calls atomic.Int64
	return sysOps{
		addWatch: func(fd int, path string, mask uint32) (int, error) {
			if calls.Add(1) > allowed {
				return -1, unix.ENOSPC
			}
			return unix.InotifyAddWatch(fd, path, mask)
		},
		limit: func(setting string) int { return 8192 },
	}
}

func withOps(ops sysOps) startFunc {
	return func(ctx context.Context, c *config) (backend, error) { return startInotify(ctx, c, ops) }
}

const limitMessage = "watch: the inotify limit is reached (fs.inotify.max_user_watches = 8192): " +
	"raise it with sysctl, e.g. sudo sysctl fs.inotify.max_user_watches=524288"

func TestNew_InotifyLimit(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a", "b", "c.go"), "x")
	for allowed := range int64(4) { // fails on the parent, the root, a, then b
		t.Run(fmt.Sprintf("after %d watches", allowed), func(t *testing.T) {
			w, err := newWatcher(context.Background(), Options{Roots: []string{dir}}, withOps(failingOps(allowed)))
			if err == nil {
				w.Close()
				t.Fatal("New succeeded")
			}
			if err.Error() != limitMessage {
				t.Fatalf("error = %q\nwant    %q", err, limitMessage)
			}
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("errors.Is(%v, ENOSPC) = false", err)
			}
		})
	}
}

func TestWatcher_InotifyLimitReachedLaterIsLoggedOnce(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	var logs []string
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		logs = append(logs, fmt.Sprintf(format, args...))
	}
	w, err := newWatcher(context.Background(), Options{Roots: []string{dir}, Logf: logf}, withOps(failingOps(2)))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	a, b, c := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c.go")
	for _, d := range []string{a, b} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, c, "x") // handled after both folders: their warnings are logged by then
	collect(t, w, c)
	mu.Lock()
	defer mu.Unlock()
	want := limitMessage + "; changes in new folders are not seen"
	if len(logs) != 1 || logs[0] != want {
		t.Fatalf("logs = %q\nwant [%q]", logs, want)
	}
}

func TestWatcher_FolderAboveRootRecreated(t *testing.T) {
	tests := []struct {
		name string
		root string // watched, relative to the test's folder
		file string // at or below root: made, then edited
		gone string // the folder above root removed after start ("": missing at start)
		wait bool   // see the removal before making the folder again
	}{
		{"parent of a folder root", "pkg/api", "pkg/api/a.go", "pkg", true},
		{"parent of a file root", "config/app.yaml", "config/app.yaml", "config", true},
		{"grandparent of a folder root", "a/b/c", "a/b/c/x.go", "a", true},
		{"parent removed and made again at once", "pkg/api", "pkg/api/a.go", "pkg", false},
		{"two levels missing at start", "gen/proto", "gen/proto/x.go", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			root, file := filepath.Join(dir, tt.root), filepath.Join(dir, tt.file)
			if tt.gone != "" {
				writeFile(t, file, "v1")
			}
			w := startWatcher(t, Options{Roots: []string{root}, Base: dir})
			if tt.gone != "" {
				if err := os.RemoveAll(filepath.Join(dir, tt.gone)); err != nil {
					t.Fatal(err)
				}
				if tt.wait {
					collect(t, w, file) // the removal is a change
				}
			}
			// Beside the root, on the way down to it: no change. Events come
			// in order: had it counted, it would be in a batch by file's.
			writeFile(t, filepath.Join(filepath.Dir(root), "beside.txt"), "x")
			writeFile(t, file, "v2")
			for _, p := range seen(collect(t, w, file)) {
				if !within(p, root) {
					t.Errorf("change outside the root: %s", p)
				}
			}
			writeFile(t, file, "v3") // and the watches hold
			collect(t, w, file)
		})
	}
}

// TestInotify_OverflowResyncsWatches overflows the kernel's queue for real:
// the reader is stuck handing over its first event to a channel nobody
// reads yet, while files are made until the queue is full. A folder made
// then is watched after the overflow, and the watches of two folders
// removed then are dropped (their removal was lost with the rest).
func TestInotify_OverflowResyncsWatches(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 10,000 files")
	}
	queued := readSysctl("fs.inotify.max_queued_events")
	if queued == 0 || queued > 1<<16 {
		t.Skipf("fs.inotify.max_queued_events = %d: too many files to overflow it", queued)
	}
	dir := t.TempDir()
	for _, d := range []string{"keep", "gone1", "gone2"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan Event)
	c := &config{roots: []string{dir}, ign: newIgnorer(dir, []string{dir}, nil, t.Logf), logf: t.Logf, events: events, ctx: ctx}
	n, err := startInotify(ctx, c, realOps)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel() // unblocks a reader stuck in emit
		n.close()
	}()
	// A read takes at most 64 KiB, 2,048 events of 32 bytes; each file
	// makes two (IN_CREATE, IN_CLOSE_WRITE).
	for i := range (queued+2048)/2 + 64 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	newDir := filepath.Join(dir, "new")
	if err := os.Mkdir(newDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"gone1", "gone2"} {
		if err := os.Remove(filepath.Join(dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	next := func(want func(Event) bool, what string) {
		t.Helper()
		timeout := time.After(10 * time.Second) // bounds a failure only
		for {
			select {
			case ev := <-events:
				if want(ev) {
					return
				}
			case <-timeout:
				t.Fatalf("no %s within 10s", what)
			}
		}
	}
	next(func(ev Event) bool { return ev.Overflow }, "overflow")
	f := filepath.Join(newDir, "f.go")
	writeFile(t, f, "x")
	next(func(ev Event) bool { return ev.Path == f }, "event for "+f+", in a folder made during the overflow")
	// dir's parent, dir, keep and new
	if got := n.watched(); got != 4 {
		t.Fatalf("watched() = %d, want 4: the removed folders' watches must be dropped", got)
	}
}

// rawEvent encodes one inotify event as the kernel does, name padded.
func rawEvent(wd int32, mask uint32, name string) []byte {
	size := 0
	if name != "" {
		size = (len(name) + 16) &^ 15
	}
	b := make([]byte, unix.SizeofInotifyEvent+size)
	binary.NativeEndian.PutUint32(b[0:], uint32(wd))
	binary.NativeEndian.PutUint32(b[4:], mask)
	binary.NativeEndian.PutUint32(b[12:], uint32(size))
	copy(b[unix.SizeofInotifyEvent:], name)
	return b
}

func TestParse_Events(t *testing.T) {
	events := make(chan Event, 10)
	n := &inotify{
		cfg: &config{
			ign: newIgnorer("/p", []string{"/p"}, nil, nil), logf: func(string, ...any) {},
			events: events, ctx: context.Background(),
		},
		byWD: map[int32]*dirWatch{5: {path: "/p", wd: 5}, 6: {path: "/", wd: 6, only: map[string]bool{"p": true}}},
	}
	var buf []byte
	for _, e := range []struct {
		wd   int32
		mask uint32
		name string
	}{
		{-1, unix.IN_Q_OVERFLOW, ""},
		{5, unix.IN_MODIFY, "x.go"},
		{5, unix.IN_ATTRIB | unix.IN_ISDIR, "sub"},
		{5, unix.IN_MODIFY, "x.go.swp"},
		{6, unix.IN_CREATE, "q"},
		{6, unix.IN_ATTRIB, "p"},
		{9, unix.IN_MODIFY, "gone"},
		{5, unix.IN_CLOSE_WRITE, "a-name-of-exactly-32-bytes-long!"},
	} {
		buf = append(buf, rawEvent(e.wd, e.mask, e.name)...)
	}
	n.parse(buf)
	close(events)
	var got []string
	for ev := range events {
		got = append(got, fmt.Sprintf("%s/%v", ev.Path, ev.Overflow))
	}
	want := "/true /p/x.go/false /p/false /p/a-name-of-exactly-32-bytes-long!/false"
	if strings.Join(got, " ") != want {
		t.Fatalf("events = %q\nwant     %q", strings.Join(got, " "), want)
	}
}

// BenchmarkRawInotify is the baseline for BenchmarkWriteToBatch: a save
// (open, write(2), close) to a blocking read(2) of its inotify event, no
// Go channels involved.
func BenchmarkRawInotify(b *testing.B) {
	dir := b.TempDir()
	p := filepath.Join(dir, "main.go")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(fd)
	if _, err := unix.InotifyAddWatch(fd, dir, watchMask); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 4096)
	b.ResetTimer()
	for range b.N {
		if err := save(p); err != nil {
			b.Fatal(err)
		}
		if _, err := unix.Read(fd, buf); err != nil {
			b.Fatal(err)
		}
	}
}
