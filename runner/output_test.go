package runner

import (
	"bytes"
	"fmt"
	"github.com/procman/procman/runner/logs"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writers of a test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestOutput_PrefixesAndPads(t *testing.T) {
	var stdout, stderr syncBuffer
	o := NewOutput(&stdout, &stderr, OutputOptions{})
	o.SetNames([]string{"web", "database-migrate"})
	o.Copy("web", false, strings.NewReader("hello\nworld\n"), nil)
	o.Copy("database-migrate", true, strings.NewReader("oops\nno newline"), nil)
	o.Logf(Info, "started")
	wantOut := "web              | hello\nweb              | world\n"
	if got := stdout.String(); got != wantOut {
		t.Errorf("stdout:\n%q\nwant\n%q", got, wantOut)
	}
	wantErr := "database-migrate | oops\ndatabase-migrate | no newline\nprocman          | started\n"
	if got := stderr.String(); got != wantErr {
		t.Errorf("stderr:\n%q\nwant\n%q", got, wantErr)
	}
}

func TestOutput_Options(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	tests := []struct {
		name string
		opts OutputOptions
		want string
	}{
		{"no prefix", OutputOptions{NoPrefix: true}, "a\n"},
		{"timestamps", OutputOptions{Timestamps: true, Now: func() time.Time { return at }}, "03:04:05.006 web | a\n"},
		{"color", OutputOptions{Color: true}, "\x1b[36mweb |\x1b[0m a\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out syncBuffer
			o := NewOutput(&out, io.Discard, tc.opts)
			o.SetNames([]string{"web"})
			o.Copy("web", false, strings.NewReader("a\n"), nil)
			if got := out.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOutput_PadToTheTasksOfTheRun(t *testing.T) {
	var out, errs syncBuffer
	o := NewOutput(&out, &errs, OutputOptions{})
	o.SetNames([]string{"a", "bb", "a-very-long-name"})
	o.Pad([]string{"a", "bb"})
	o.Copy("a", false, strings.NewReader("x\n"), nil)
	o.Logf(Info, "hi")
	if got, want := out.String()+errs.String(), "a  | x\nprocman | hi\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestOutput_ReplicasPaddedAndColouredAsTheirTask(t *testing.T) {
	// web and worker are cyan and yellow by sorted name; the run prints
	// web.1, web.2, worker.1 and worker.2 (up -m web=2,worker=2).
	tests := []struct {
		name  string
		task  string // whose line is written
		color bool
		want  string
	}{
		{"padded to the longest replica", "web.2", false, "web.2    | a\n"},
		{"the longest replica", "worker.2", false, "worker.2 | a\n"},
		{"replica coloured as its task", "web.2", true, "\x1b[36mweb.2    |\x1b[0m a\n"},
		{"other task's replica", "worker.1", true, "\x1b[33mworker.1 |\x1b[0m a\n"},
		{"replica added by scale later", "web.3", true, "\x1b[36mweb.3    |\x1b[0m a\n"},
		{"longer replica added later keeps its length", "worker.10", false, "worker.10 | a\n"},
		{"unknown name", "other", false, "other    | a\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out syncBuffer
			o := NewOutput(&out, io.Discard, OutputOptions{Color: tc.color})
			o.SetNames([]string{"worker", "web"})
			o.Pad([]string{"web.1", "web.2", "worker.1", "worker.2"})
			o.Copy(tc.task, false, strings.NewReader("a\n"), nil)
			if got := out.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOutput_ReplicasAmongNamesTakeNoColourOfTheirOwn(t *testing.T) {
	// procman logs names the tasks of the config and those of its lines:
	// worker keeps the colour it has under up, and web.2 has web's.
	var out syncBuffer
	o := NewOutput(&out, io.Discard, OutputOptions{Color: true})
	o.SetNames([]string{"web", "worker", "web.1", "web.2", "worker"})
	o.Pad([]string{"web.2", "worker"})
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	o.Line("web.2", at, []byte("a"))
	o.Line("worker", at, []byte("b"))
	want := "\x1b[36mweb.2  |\x1b[0m a\n\x1b[33mworker |\x1b[0m b\n"
	if got := out.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestOutput_LevelFiltersProcmanMessages(t *testing.T) {
	var errs syncBuffer
	o := NewOutput(io.Discard, &errs, OutputOptions{Level: Warn})
	o.Logf(Info, "hidden")
	o.Logf(Warn, "shown")
	if got, want := errs.String(), "procman | shown\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestOutput_LongLineCutIntoPiecesNeverDropped(t *testing.T) {
	var out syncBuffer
	o := NewOutput(&out, io.Discard, OutputOptions{})
	o.SetNames([]string{"x"})
	line := strings.Repeat("abcdefgh", 3*1024*1024/8) // 3 MiB, no newline
	o.Copy("x", false, strings.NewReader(line), nil)
	var joined strings.Builder
	pieces := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	for _, p := range pieces {
		rest, ok := strings.CutPrefix(p, "x | ")
		if !ok {
			t.Fatalf("piece without prefix: %.40q", p)
		}
		if len(rest) > maxLine {
			t.Fatalf("piece of %d bytes, want <= %d", len(rest), maxLine)
		}
		joined.WriteString(rest)
	}
	if joined.String() != line {
		t.Fatalf("joined pieces: %d bytes, want the %d-byte line", joined.Len(), len(line))
	}
	if len(pieces) != 48 {
		t.Errorf("%d pieces, want 48 of 64 KiB", len(pieces))
	}
}

func TestOutput_ConcurrentTasksNeverMixWithinALine(t *testing.T) {
	var out syncBuffer
	o := NewOutput(&out, io.Discard, OutputOptions{})
	o.SetNames([]string{"a", "b"})
	const n = 20000
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b"} {
		pr, pw := io.Pipe()
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range n {
				fmt.Fprintf(pw, "%s-line-%d-%s\n", name, i, strings.Repeat(name, i%50))
			}
			pw.Close()
		}()
		go func() { defer wg.Done(); o.Copy(name, false, pr, nil) }()
	}
	wg.Wait()
	next := map[string]int{}
	for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		name := l[:1]
		i := next[name]
		want := fmt.Sprintf("%s | %s-line-%d-%s", name, name, i, strings.Repeat(name, i%50))
		if l != want {
			t.Fatalf("line %q, want %q", l, want)
		}
		next[name]++
	}
	if next["a"] != n || next["b"] != n {
		t.Errorf("got %d and %d lines, want %d each", next["a"], next["b"], n)
	}
}

func TestOutput_OnLineSeesEveryLine(t *testing.T) {
	o := NewOutput(io.Discard, io.Discard, OutputOptions{})
	var seen []string
	o.Copy("x", false, strings.NewReader("one\ntwo\nthree"), func(b []byte) { seen = append(seen, string(b)) })
	if got := strings.Join(seen, ","); got != "one,two,three" {
		t.Errorf("onLine saw %q", got)
	}
}

func BenchmarkOutputCopy(b *testing.B) {
	line := "2026-11-26T05:28:33Z INFO request handled path=/api/items status=200 dur=1.2ms\n"
	chunk := strings.Repeat(line, 64*1024/len(line))
	o := NewOutput(io.Discard, io.Discard, OutputOptions{})
	o.SetNames([]string{"web"})
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		o.Copy("web", false, strings.NewReader(chunk), nil)
	}
}

// repeatReader yields chunk n times, a read each: one task's output
// through one long Copy, as in a real run.
type repeatReader struct {
	chunk []byte
	n     int
}

func (r *repeatReader) Read(b []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	r.n--
	return copy(b, r.chunk), nil
}

// BenchmarkOutputCopyKept measures a long Copy of 64 KiB reads, its lines
// prefixed for the terminal, with and without a log book keeping them: a
// file and a tail, as a supervisor keeps them, or the file only, as
// `procman run` does.
func BenchmarkOutputCopyKept(b *testing.B) {
	for _, line := range []string{"2026-11-26T05:28:33Z INFO request handled path=/api/items status=200 dur=1.2ms\n", "1234567\n"} {
		for _, keep := range []string{"no", "file", "file+tail"} {
			b.Run(fmt.Sprintf("%dB-lines/kept=%s", len(line), keep), func(b *testing.B) {
				chunk := []byte(strings.Repeat(line, 64*1024/len(line)))
				o := NewOutput(io.Discard, io.Discard, OutputOptions{})
				o.SetNames([]string{"web"})
				if keep != "no" {
					book, err := logs.Open(b.TempDir(), nil, nil)
					if err != nil {
						b.Fatal(err)
					}
					defer book.Close()
					if keep == "file" {
						book.DropTails()
					}
					o.Keep(book)
				}
				b.SetBytes(int64(len(chunk)))
				b.ResetTimer()
				start := time.Now()
				o.Copy("web", false, &repeatReader{chunk: chunk, n: b.N}, nil)
				b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*(len(chunk)/len(line))), "ns/line")
			})
		}
	}
}
