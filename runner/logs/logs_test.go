package logs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixedClock returns times 1 ms apart from a fixed start, to the
// goroutines of a test at once too.
func fixedClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 11, 30, 18, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond)
		return t
	}
}

func openBook(t *testing.T) (*Book, string) {
	t.Helper()
	dir := t.TempDir()
	b, err := Open(dir, fixedClock(), t.Errorf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, dir
}

// texts returns "task:text" for each line.
func texts(lines []Line) []string {
	var out []string
	for _, l := range lines {
		out = append(out, l.Task+":"+string(l.Text))
	}
	return out
}

func TestBook_WritesFilesWithTimes(t *testing.T) {
	b, dir := openBook(t)
	b.Write("web", false, []byte("one\ntwo\n"))
	b.Write("web", true, []byte("a piece without newline"))
	data, err := os.ReadFile(filepath.Join(dir, "logs", "web.log"))
	if err != nil {
		t.Fatal(err)
	}
	want := "2026-11-30T18:00:00.001Z one\n2026-11-30T18:00:00.001Z two\n2026-11-30T18:00:00.002Z a piece without newline\n"
	if string(data) != want {
		t.Fatalf("web.log =\n%s\nwant\n%s", data, want)
	}
	if fi, err := os.Stat(filepath.Join(dir, "logs")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("logs folder: %v, mode %v; want 0700", err, fi.Mode().Perm())
	}
}

func TestBook_WritersSideBySideKeepLinesWholeAndInOrder(t *testing.T) {
	// Two tasks, each with a copier for stdout and one for stderr, write at
	// once: each file has every line of its task whole, after its time,
	// each stream's in order; the tail numbers them all once.
	b, dir := openBook(t)
	const n = 2000
	var wg sync.WaitGroup
	for _, task := range []string{"a", "b"} {
		for _, stream := range []string{"out", "err"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < n; i += 10 {
					var chunk []byte
					for j := i; j < i+10; j++ {
						chunk = fmt.Appendf(chunk, "%s %s %d\n", task, stream, j)
					}
					b.Write(task, stream == "err", chunk)
				}
			}()
		}
	}
	wg.Wait()
	for _, task := range []string{"a", "b"} {
		data, err := os.ReadFile(filepath.Join(dir, "logs", task+".log"))
		if err != nil {
			t.Fatal(err)
		}
		next := map[string]int{}
		for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			var stamp, name, stream string
			var i int
			if _, err := fmt.Sscanf(line, "%s %s %s %d", &stamp, &name, &stream, &i); err != nil || name != task ||
				len(stamp) != len("2026-11-30T18:00:00.001Z") || i != next[stream] {
				t.Fatalf("%s.log: line %q, want %s's %s line %d", task, line, task, stream, next[stream])
			}
			next[stream]++
		}
		if next["out"] != n || next["err"] != n {
			t.Errorf("%s.log: %d and %d lines, want %d each", task, next["out"], next["err"], n)
		}
	}
	lines := b.Tail(nil, 4*n)
	for i, l := range lines {
		if l.Seq != uint64(i+1) {
			t.Fatalf("tail line %d numbered %d", i, l.Seq)
		}
	}
	if len(lines) != 4*n {
		t.Errorf("%d lines in the tails, want %d", len(lines), 4*n)
	}
}

func TestBook_TailMergesTasksInPrintOrder(t *testing.T) {
	b, _ := openBook(t)
	b.Write("web", false, []byte("w1\nw2\n"))
	b.Write("db", false, []byte("d1\n"))
	b.Write("web", false, []byte("w3\n"))
	tests := []struct {
		name  string
		tasks []string
		n     int
		want  string
	}{
		{"all", nil, 100, "web:w1 web:w2 db:d1 web:w3"},
		{"last two", nil, 2, "db:d1 web:w3"},
		{"one task", []string{"web"}, 100, "web:w1 web:w2 web:w3"},
		{"none", nil, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(texts(b.Tail(tt.tasks, tt.n)), " "); got != tt.want {
				t.Errorf("Tail = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBook_TailKeepsTheLastLines(t *testing.T) {
	b, _ := openBook(t)
	for i := range maxChunks + 500 {
		b.Write("chatty", false, fmt.Appendf(nil, "line %d\n", i))
	}
	b.Write("quiet", false, []byte("still here\n"))
	lines := b.Tail(nil, maxChunks+10)
	if len(lines) != maxChunks+1 {
		t.Fatalf("%d lines, want %d", len(lines), maxChunks+1)
	}
	if got, want := string(lines[0].Text), fmt.Sprintf("line %d", 500); got != want {
		t.Errorf("oldest line %q, want %q", got, want)
	}
	if q := b.Tail([]string{"quiet"}, 10); len(q) != 1 {
		t.Errorf("quiet task's tail = %v, want its one line", texts(q))
	}
}

func TestBook_TailDropsTextOverwritten(t *testing.T) {
	b, _ := openBook(t)
	long := strings.Repeat("x", 60<<10)
	for range 40 { // 2.4 MiB through a 1 MiB tail
		b.Write("big", false, []byte(long+"\n"))
	}
	lines := b.Tail(nil, 100)
	if len(lines) == 0 || len(lines) > maxBytes/len(long) {
		t.Fatalf("%d lines kept, want 1..%d", len(lines), maxBytes/len(long))
	}
	for _, l := range lines {
		if string(l.Text) != long {
			t.Fatalf("a kept line is damaged (%d bytes)", len(l.Text))
		}
	}
}

func TestBook_Rotates(t *testing.T) {
	b, dir := openBook(t)
	line := []byte(strings.Repeat("y", 1<<20-26) + "\n") // 1 MiB a line with its time
	for i := range 21 {
		b.Write("web", false, line)
		if i == 10 { // one rotation: the first 10 MiB moved to web.log.1
			cur, err1 := os.Stat(filepath.Join(dir, "logs", "web.log"))
			old, err2 := os.Stat(filepath.Join(dir, "logs", "web.log.1"))
			if err1 != nil || err2 != nil {
				t.Fatalf("after 11 MiB: %v, %v", err1, err2)
			}
			if old.Size() != MaxFile || cur.Size() != 1<<20 {
				t.Errorf("after 11 MiB: web.log.1 %d bytes, web.log %d; want %d and %d", old.Size(), cur.Size(), MaxFile, 1<<20)
			}
		}
	}
	// A second rotation replaces web.log.1, and leaves no third file.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "logs"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		fi, _ := e.Info()
		names = append(names, fmt.Sprintf("%s %d", e.Name(), fi.Size()))
	}
	if got, want := strings.Join(names, ", "), fmt.Sprintf("web.log %d, web.log.1 %d", 1<<20, MaxFile); got != want {
		t.Errorf("after 21 MiB: %s; want %s", got, want)
	}
}

func TestFollow_GetsNewLinesAndCountsSkipped(t *testing.T) {
	b, _ := openBook(t)
	b.Write("web", false, []byte("before\n"))
	f := b.Follow([]string{"web"})
	b.Write("db", false, []byte("not followed\n"))
	b.Write("web", false, []byte("after 1\nafter 2\n"))
	if got := strings.Join(texts(<-f.C()), " "); got != "web:after 1 web:after 2" {
		t.Fatalf("followed %q", got)
	}
	for range followBuffer + 3 { // nobody reads: the book drops, never waits
		b.Write("web", false, []byte("x\n"))
	}
	if n := f.TakeSkipped(); n != 3 {
		t.Errorf("skipped %d, want 3", n)
	}
	f.Stop()
	for range f.C() {
	}
}

func TestReadFiles_AfterTheSupervisor(t *testing.T) {
	b, dir := openBook(t)
	b.Write("web", false, []byte("w1\nw2\n"))
	b.Write("db", false, []byte("d1\n"))
	b.Write("web", false, []byte("w3\n"))
	b.Close()
	if err := os.WriteFile(filepath.Join(dir, "logs", "procman.log"), []byte("procman's own\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	lines, err := ReadFiles(dir, nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(texts(lines), " "); got != "web:w2 db:d1 web:w3" {
		t.Errorf("ReadFiles = %q", got)
	}
	if lines[0].Time.IsZero() {
		t.Error("the time of a line was not read back")
	}
	none, err := ReadFiles(t.TempDir(), nil, 10)
	if err != nil || len(none) != 0 {
		t.Errorf("no logs folder: %v, %v", none, err)
	}
}

// BenchmarkWrite measures the hot path: a chunk of 100 short lines to the
// tail and the file, no follower.
func BenchmarkWrite(b *testing.B) {
	book, err := Open(b.TempDir(), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer book.Close()
	var chunk []byte
	for i := range 100 {
		chunk = fmt.Appendf(chunk, "a line of output number %d\n", i)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(chunk)))
	for range b.N {
		book.Write("web", false, chunk)
	}
}
