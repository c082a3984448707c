package watch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// startWatcher runs New on opts and closes the watcher at the test's end.
func startWatcher(t testing.TB, opts Options) *Watcher {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	w, err := New(context.Background(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return w
}

// collect reads batches until every path in want was seen, and returns
// them; the 5s timeout only bounds a failure.
func collect(t testing.TB, w *Watcher, want ...string) []Batch {
	t.Helper()
	var got []Batch
	missing := map[string]bool{}
	for _, p := range want {
		missing[p] = true
	}
	timeout := time.After(5 * time.Second)
	for len(missing) > 0 {
		select {
		case b, ok := <-w.Batches():
			if !ok {
				t.Fatalf("batches closed; still missing %v", keys(missing))
			}
			got = append(got, b)
			for _, p := range b.Paths {
				delete(missing, p)
			}
		case <-timeout:
			t.Fatalf("not seen within 5s: %v (batches: %v)", keys(missing), got)
		}
	}
	return got
}

// seen returns every path of batches, sorted, without repeats.
func seen(batches []Batch) []string {
	var all []string
	for _, b := range batches {
		all = append(all, b.Paths...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

func keys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func TestWatcher_WriteTriggers(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "main.go")
	writeFile(t, main, "package main\n")
	w := startWatcher(t, Options{Roots: []string{dir}, Base: dir})
	writeFile(t, main, "package main // changed\n")
	if got := collect(t, w, main); !slices.Equal(got[0].Paths, []string{main}) || got[0].Overflow {
		t.Fatalf("first batch = %+v, want [%s]", got[0], main)
	}
}

func TestWatcher_ChangesNeededWaitsForThird(t *testing.T) {
	dir := t.TempDir()
	w := startWatcher(t, Options{Roots: []string{dir}, Base: dir, ChangesNeeded: 3})
	a, b, c := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")
	for _, p := range []string{a, a, b, a, b, c} {
		writeFile(t, p, "x")
	}
	got := collect(t, w, c)
	if want := []string{a, b, c}; !slices.Equal(got[0].Paths, want) {
		t.Fatalf("first batch = %v, want %v (two repeated paths must not trigger)", got[0].Paths, want)
	}
}

func TestWatcher_IgnoredPathsDoNothing(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, ".gitignore"), "*.log\nbuild/\n")
	writeFile(t, filepath.Join(dir, "src", ".gitignore"), "/gen\n")
	for _, d := range []string{"build", "node_modules/pkg", ".git", "src/gen"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	w := startWatcher(t, Options{Roots: []string{dir}, Base: dir, Ignore: []string{"*.tmp"}})
	for _, p := range []string{
		"x.log", "build/out.js", "node_modules/pkg/index.js", ".git/index", ".main.go.swp",
		"main.go~", ".#main.go", "#main.go#", "4913", "note.tmp", "src/gen/a.go", "src/deep/x.log",
	} {
		writeFile(t, filepath.Join(dir, p), "x")
	}
	sentinel := filepath.Join(dir, "main.go")
	writeFile(t, sentinel, "x")
	got := collect(t, w, sentinel)
	// Events arrive in order: an ignored path let through would be in a batch
	// before or with the sentinel. src/deep is a new folder: no change by
	// itself, and its one file is ignored.
	if all, want := seen(got), []string{sentinel}; !sameSet(all, want) {
		t.Fatalf("changes = %v, want only %v", all, want)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestWatcher_GitignoreEditApplies(t *testing.T) {
	dir := t.TempDir()
	w := startWatcher(t, Options{Roots: []string{dir}, Base: dir})
	ignore := filepath.Join(dir, ".gitignore")
	writeFile(t, ignore, "*.gen\n")
	writeFile(t, filepath.Join(dir, "x.gen"), "x")
	sentinel := filepath.Join(dir, "main.go")
	writeFile(t, sentinel, "x")
	if all := seen(collect(t, w, sentinel)); !slices.Equal(all, []string{ignore, sentinel}) {
		t.Fatalf("changes = %v, want [%s %s]", all, ignore, sentinel)
	}
}

func TestWatcher_FolderAttributesDoNotCount(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	w := startWatcher(t, Options{Roots: []string{dir}, Base: dir})
	if err := os.Chtimes(sub, time.Now(), time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(sub, "f.go")
	writeFile(t, f, "x") // changes sub's mtime too: the file counts, not sub
	if got := collect(t, w, f); !slices.Equal(got[0].Paths, []string{f}) {
		t.Fatalf("first batch = %v, want [%s]", got[0].Paths, f)
	}
}

func TestWatcher_NewFolderIsNoChangeItsFilesAre(t *testing.T) {
	dir := t.TempDir()
	w := startWatcher(t, Options{Roots: []string{dir}, Base: dir})
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-w.Batches():
		t.Fatalf("a new empty folder triggered: %v", b)
	case <-time.After(100 * time.Millisecond): // bounds "nothing"
	}
	f := filepath.Join(sub, "f.go")
	writeFile(t, f, "x")
	if all := seen(collect(t, w, f)); !slices.Equal(all, []string{f}) {
		t.Fatalf("changes = %v, want only [%s]", all, f)
	}
}

func TestWatcher_NestedFolderSeenThroughRescan(t *testing.T) {
	tests := []struct {
		name string
		make func(t *testing.T, dst string) // creates dst/a/b/c/f.go
	}{
		{"created in place at once", func(t *testing.T, dst string) {
			writeFile(t, filepath.Join(dst, "a", "b", "c", "f.go"), "x")
		}},
		{"moved in whole: only the rescan sees inside", func(t *testing.T, dst string) {
			tmp := t.TempDir()
			writeFile(t, filepath.Join(tmp, "a", "b", "c", "f.go"), "x")
			if err := os.Rename(filepath.Join(tmp, "a"), filepath.Join(dst, "a")); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			w := startWatcher(t, Options{Roots: []string{dir}, Base: dir})
			tt.make(t, dir)
			c := filepath.Join(dir, "a", "b", "c")
			f := filepath.Join(c, "f.go")
			if all := seen(collect(t, w, f)); !slices.Equal(all, []string{f}) {
				t.Fatalf("changes = %v, want only the file, [%s]", all, f)
			}
			g := filepath.Join(c, "g.go") // the new folders are watched now
			writeFile(t, g, "x")
			collect(t, w, g)
		})
	}
}

func TestWatcher_RecreatedFolderIsWatched(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	writeFile(t, filepath.Join(sub, "old.go"), "x")
	w := startWatcher(t, Options{Roots: []string{dir}, Base: dir})
	if err := os.RemoveAll(sub); err != nil {
		t.Fatal(err)
	}
	collect(t, w, sub, filepath.Join(sub, "old.go")) // a folder that existed and is gone counts
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(sub, "new.go")
	writeFile(t, f, "x")
	if all := seen(collect(t, w, f)); !slices.Equal(all, []string{f}) {
		t.Fatalf("changes = %v, want only [%s]", all, f)
	}
}

func TestWatcher_RenamedFolderReportsNewPaths(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a", "f.go"), "x")
	w := startWatcher(t, Options{Roots: []string{dir}, Base: dir})
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.Rename(a, b); err != nil {
		t.Fatal(err)
	}
	// a is gone (it existed: a change); b is new (no change by itself), and
	// its file counts.
	collect(t, w, a, filepath.Join(b, "f.go"))
	g := filepath.Join(b, "g.go")
	writeFile(t, g, "x")
	for _, p := range seen(collect(t, w, g)) {
		if within(p, a) {
			t.Errorf("change reported under the old name: %s", p)
		}
	}
}

func TestWatcher_FileRoots(t *testing.T) {
	dir := t.TempDir()
	pkg, lock := filepath.Join(dir, "package.json"), filepath.Join(dir, "package-lock.json")
	writeFile(t, pkg, "{}")
	w := startWatcher(t, Options{Roots: []string{pkg, lock}, Base: dir})
	writeFile(t, filepath.Join(dir, "other.txt"), "x")
	writeFile(t, pkg, `{"name": "x"}`)
	if got := collect(t, w, pkg); !slices.Equal(got[0].Paths, []string{pkg}) {
		t.Fatalf("first batch = %v, want [%s]", got[0].Paths, pkg)
	}
	writeFile(t, lock, "{}") // did not exist when watching started
	collect(t, w, lock)
}

func TestWatcher_BurstGivesOneOrTwoBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 2,000 files")
	}
	dir := t.TempDir()
	w := startWatcher(t, Options{Roots: []string{dir}, Base: dir, Debounce: 50 * time.Millisecond})
	var want []string
	for i := range 2000 {
		p := filepath.Join(dir, fmt.Sprintf("f%04d.go", i))
		writeFile(t, p, "x")
		want = append(want, p)
	}
	got := collect(t, w, want...)
	if len(got) > 2 {
		t.Errorf("%d batches for one burst, want 1 or 2", len(got))
	}
	if all := seen(got); !slices.Equal(all, want) {
		t.Errorf("changes = %d paths, want the %d written", len(all), len(want))
	}
}

func TestWatcher_CloseEndsBatches(t *testing.T) {
	tests := []struct {
		name string
		stop func(w *Watcher, cancel context.CancelFunc) error
	}{
		{"Close", func(w *Watcher, _ context.CancelFunc) error { return w.Close() }},
		{"Close twice", func(w *Watcher, _ context.CancelFunc) error { w.Close(); return w.Close() }},
		{"context done", func(_ *Watcher, cancel context.CancelFunc) error { cancel(); return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w, err := New(ctx, Options{Roots: []string{dir}})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if err := tt.stop(w, cancel); err != nil {
				t.Fatalf("stop: %v", err)
			}
			select {
			case _, ok := <-w.Batches():
				if ok {
					t.Fatal("got a batch, want Batches closed")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Batches not closed within 5s")
			}
		})
	}
}

func TestNew_Errors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no roots", Options{}, "watch: no paths to watch"},
		{"relative root", Options{Roots: []string{"src"}}, `watch: path "src" is not absolute`},
		{"relative base", Options{Roots: []string{dir}, Base: "."}, `watch: base "." is not absolute`},
		{"negative threshold", Options{Roots: []string{dir}, ChangesNeeded: -1}, "watch: changes needed must be at least 1, not -1"},
		{"negative debounce", Options{Roots: []string{dir}, Debounce: -time.Second}, "watch: debounce must not be negative, not -1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := New(context.Background(), tt.opts)
			if err == nil {
				w.Close()
				t.Fatal("New succeeded")
			}
			if err.Error() != tt.want {
				t.Fatalf("error = %q\nwant    %q", err, tt.want)
			}
		})
	}
}

// bigTree creates files spread over folders of perDir files each.
func bigTree(tb testing.TB, files, perDir int) string {
	tb.Helper()
	dir := tb.TempDir()
	for i := range files / perDir {
		sub := filepath.Join(dir, fmt.Sprintf("pkg%02d", i%40), fmt.Sprintf("mod%03d", i))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			tb.Fatal(err)
		}
		for j := range perDir {
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%02d.go", j)), nil, 0o644); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return dir
}

// BenchmarkWatchTree measures New (walk and watches) plus Close on a tree
// of 20,000 files in 1,000 folders. The tree is built once, outside the
// sub-benchmark that b.N drives.
func BenchmarkWatchTree(b *testing.B) {
	dir := bigTree(b, 20000, 20)
	b.Run("20000files", func(b *testing.B) {
		watched := 0
		for range b.N {
			w, err := New(context.Background(), Options{Roots: []string{dir}, Base: dir})
			if err != nil {
				b.Fatal(err)
			}
			watched = w.Watched()
			w.Close()
		}
		if runtime.GOOS == "linux" && watched != 1000+40+1+1 {
			b.Fatalf("Watched() = %d, want 1042 (1,000 folders, 40 parents, the root and its parent)", watched)
		}
		b.ReportMetric(float64(watched), "watches")
	})
}

// BenchmarkWriteToBatch measures the time from a save to its Batch at
// Debounce 0: each iteration opens a file, writes one byte and closes
// it, which makes exactly one inotify event (IN_CLOSE_WRITE).
func BenchmarkWriteToBatch(b *testing.B) {
	dir := b.TempDir()
	p := filepath.Join(dir, "main.go")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	w := startWatcher(b, Options{Roots: []string{dir}, Base: dir})
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := save(p); err != nil {
			b.Fatal(err)
		}
		if got := <-w.Batches(); len(got.Paths) != 1 || !strings.HasSuffix(got.Paths[0], "main.go") {
			b.Fatalf("batch = %v", got.Paths)
		}
	}
}

func TestWatcher_OneSaveIsOneBatchAtDebounceZero(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "main.go")
	if err := os.WriteFile(f, []byte("v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := startWatcher(t, Options{Roots: []string{dir}, Base: dir})
	for round := range 5 {
		// truncate, write, close: three writes' worth of events before
		// IN_CLOSE_WRITE alone counted
		if err := os.WriteFile(f, []byte(fmt.Sprintf("v%d", round+2)), 0o644); err != nil {
			t.Fatal(err)
		}
		collect(t, w, f)
		select {
		case b := <-w.Batches():
			t.Fatalf("round %d: a second batch for one save: %v", round, b)
		case <-time.After(50 * time.Millisecond): // bounds "no second batch"
		}
	}
}

func TestWatcher_OpenWriterCountsWhenItCloses(t *testing.T) {
	dir := t.TempDir()
	w := startWatcher(t, Options{Roots: []string{dir}, Base: dir})
	log, err := os.Create(filepath.Join(dir, "app.log"))
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		fmt.Fprintln(log, "a line")
	}
	select {
	case b := <-w.Batches():
		t.Fatalf("a file still being written triggered: %v", b)
	case <-time.After(100 * time.Millisecond): // bounds "nothing yet"
	}
	log.Close()
	collect(t, w, log.Name())
}

func TestWatcher_Counts(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, ".gitignore"), "*.log\n/dist/\n")
	src, bin := filepath.Join(dir, "src"), filepath.Join(dir, "bin")
	w := startWatcher(t, Options{Roots: []string{src, bin}, Base: dir, Outputs: []string{bin}, Ignore: []string{"*.tmp"}})
	for _, tt := range []struct {
		path string
		want bool
	}{
		{filepath.Join(src, "a.go"), true},
		{src, true},
		{filepath.Join(src, "deep", "b.go"), true},
		{filepath.Join(src, "x.log"), false},
		{filepath.Join(src, "x.tmp"), false},
		{filepath.Join(src, "node_modules", "m.js"), false},
		{bin, false},
		{filepath.Join(bin, "other"), true},
		{filepath.Join(dir, "README.md"), false},
	} {
		if got := w.Counts(tt.path); got != tt.want {
			t.Errorf("Counts(%s) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

// save appends a byte to the file at p and closes it: one save.
func save(p string) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write([]byte("x")); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
