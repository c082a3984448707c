package state

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// gate makes the background writer wait, before it takes anything posted,
// until the returned function is called. Call it before the first Post.
func gate(s *Store) (open func()) {
	ch := make(chan struct{})
	var once sync.Once
	s.post.writerHook = func() { <-ch }
	return func() { once.Do(func() { close(ch) }) }
}

func TestPost_CoalescesWhileAWriteIsInProgress(t *testing.T) {
	s, _ := openStore(t)
	open := gate(s)
	const n = 10000
	for range n {
		s.Post(func(st *State) { st.EventCounter++ })
	}
	open()
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := mustRead(t, s); st.EventCounter != n {
		t.Errorf("event_counter = %d, want %d", st.EventCounter, n)
	}
	if w := s.writes.Load(); w != 1 {
		t.Errorf("%d writes for %d posts, want 1", w, n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPost_KeepsOrderWithUpdate(t *testing.T) {
	s, _ := openStore(t)
	open := gate(s)
	defer open()
	s.Post(func(st *State) { st.Task("web").Status = "starting" })
	s.Post(func(st *State) { st.Task("web").Status = "running" })
	// Update applies the posts first although the writer has not got to
	// them yet, so they cannot land after it.
	err := s.Update(func(st *State) {
		if got := st.Task("web").Status; got != "running" {
			t.Errorf("Update saw status %q, want the posted %q", got, "running")
		}
		st.Task("web").Status = "exited"
	})
	if err != nil {
		t.Fatal(err)
	}
	open()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, s).Tasks["web"].Status; got != "exited" {
		t.Errorf("status = %q, want exited", got)
	}
	if w := s.writes.Load(); w != 1 {
		t.Errorf("%d writes, want 1: the writer found nothing left to do", w)
	}
}

func TestFlush_ReportsFailureAndRetriesWithoutApplyingTwice(t *testing.T) {
	s, logs := openStore(t)
	// A folder where the temporary file goes makes every write fail.
	if err := os.Mkdir(s.path(tempFile), 0o700); err != nil {
		t.Fatal(err)
	}
	s.Post(func(st *State) { st.Task("web").Runs++ })
	err := s.Flush(t.Context())
	want := "flush state: write state: open " + s.path(tempFile) + ": is a directory"
	if err == nil || err.Error() != want {
		t.Fatalf("Flush: %v, want %q", err, want)
	}
	// Mend the disk while no write is in flight, so that every attempt
	// after this one succeeds.
	s.writeMu.Lock()
	err = os.Remove(s.path(tempFile))
	s.writeMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	s.Post(func(st *State) { st.Task("db").Runs++ })
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st := mustRead(t, s)
	if st.Tasks["web"].Runs != 1 || st.Tasks["db"].Runs != 1 {
		t.Errorf("runs web %d db %d, want 1 and 1", st.Tasks["web"].Runs, st.Tasks["db"].Runs)
	}
	// One warning per failed attempt; how many attempts failed depends on
	// when the writer was woken.
	lines := logs.Lines()
	if len(lines) == 0 {
		t.Error("no warning")
	}
	for _, l := range lines {
		if l != "write state: open "+s.path(tempFile)+": is a directory (will retry)" {
			t.Errorf("warning %q", l)
		}
	}
}

func TestFlush_StopsWithTheContext(t *testing.T) {
	s, _ := openStore(t)
	open := gate(s)
	s.Post(func(st *State) { st.PID = 9 })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := s.Flush(ctx)
	if !errors.Is(err, context.Canceled) || err.Error() != "flush state: context canceled" {
		t.Errorf("Flush: %v, want flush state: context canceled", err)
	}
	open()
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestFlush_NothingPostedReturnsAtOnce(t *testing.T) {
	s, _ := openStore(t)
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if w := s.writes.Load(); w != 0 {
		t.Errorf("%d writes, want none", w)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestClose_WritesPostsThenDropsLaterOnes(t *testing.T) {
	s, logs := openStore(t)
	s.Post(func(st *State) { st.EventCounter = 1 })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.Post(func(st *State) { st.EventCounter = 2 })
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if got := mustRead(t, s).EventCounter; got != 1 {
		t.Errorf("event_counter = %d, want 1", got)
	}
	if strings.Join(logs.Lines(), "\n") != "state update posted after Close was dropped" {
		t.Errorf("warnings %q", logs.Lines())
	}
}

func BenchmarkPost(b *testing.B) {
	s, _ := openStore(b)
	for b.Loop() {
		s.Post(func(st *State) { st.EventCounter++ })
	}
	b.StopTimer()
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(s.writes.Load())/float64(b.N), "writes/op")
}

func BenchmarkPostParallel(b *testing.B) {
	s, _ := openStore(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Post(func(st *State) { st.EventCounter++ })
		}
	})
	b.StopTimer()
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
}

func TestPost_CoalesceWindowJoinsCloseUpdatesAndFlushSkipsIt(t *testing.T) {
	s, _ := openStore(t)
	s.Coalesce = time.Hour // only Flush can end the wait
	s.Post(func(st *State) { st.EventCounter++ })
	s.Post(func(st *State) { st.EventCounter++ })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("Flush waited for the coalescing window: %v", err)
	}
	if w := s.writes.Load(); w != 1 {
		t.Errorf("%d writes, want 1", w)
	}
	st, err := s.Read()
	if err != nil || st.EventCounter != 2 {
		t.Errorf("Read: %v, counter %d, want 2", err, st.EventCounter)
	}
}

func TestNoSync_StillWritesWholeFiles(t *testing.T) {
	s, _ := openStore(t)
	s.NoSync = true
	for i := range 20 {
		if err := s.Update(func(st *State) { st.Task("a").Runs = i }); err != nil {
			t.Fatal(err)
		}
	}
	st, err := s.Read()
	if err != nil || st.Tasks["a"].Runs != 19 {
		t.Fatalf("Read: %v, %+v", err, st.Tasks["a"])
	}
}

// While the writer waits to coalesce it reads the state ahead. The write
// after the wait uses that copy only if the file is unchanged: a write by
// another process meanwhile is never lost to it.
func TestPost_ReadAheadNeverHidesAnotherWriter(t *testing.T) {
	for _, otherWrites := range []bool{false, true} {
		s, _ := openStore(t)
		s.Coalesce = time.Millisecond
		other, err := Open(filepath.Dir(s.dir)) // another procman's view of the project
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Update(func(st *State) { st.Task("a").Runs = 1 }); err != nil {
			t.Fatal(err)
		}
		if otherWrites {
			s.post.writerHook = func() { // after the read-ahead, before the write
				if err := other.Update(func(st *State) { st.Task("b").Runs = 7 }); err != nil {
					t.Error(err)
				}
			}
		}
		decodesBefore := s.decodes.Load()
		s.Post(func(st *State) { st.Task("a").Runs++ })
		if err := s.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		decodes := s.decodes.Load() - decodesBefore
		st := mustRead(t, s)
		if st.Task("a").Runs != 2 {
			t.Errorf("other writes %v: a.runs = %d, want 2", otherWrites, st.Task("a").Runs)
		}
		if otherWrites && st.Task("b").Runs != 7 {
			t.Errorf("the other writer's update was lost: b.runs = %d, want 7", st.Task("b").Runs)
		}
		// the read-ahead decodes once; the write decodes again only when the
		// file changed under it
		if want := map[bool]int64{false: 1, true: 2}[otherWrites]; decodes != want {
			t.Errorf("other writes %v: %d decodes for the posted write, want %d", otherWrites, decodes, want)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
