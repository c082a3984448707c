package watch

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock that moves only when the test calls Advance. Every
// timer (re)arm is announced on armed, so a test can wait for the batcher
// to have processed an event before it moves time.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	armed  chan time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Unix(1_700_000_000, 0), armed: make(chan time.Duration, 100)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{clock: c, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	t.Reset(d)
	return t
}

// Advance moves time on and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for _, t := range c.timers {
		if t.active && !t.at.After(c.now) {
			t.active = false
			t.ch <- c.now
		}
	}
}

type fakeTimer struct {
	clock  *fakeClock
	ch     chan time.Time
	at     time.Time
	active bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Reset(d time.Duration) {
	t.clock.mu.Lock()
	select {
	case <-t.ch:
	default:
	}
	t.at, t.active = t.clock.now.Add(d), true
	t.clock.mu.Unlock()
	t.clock.armed <- d
}

func (t *fakeTimer) Stop() {
	t.clock.mu.Lock()
	t.active = false
	t.clock.mu.Unlock()
}

var t0 = time.Unix(1_700_000_000, 0)

func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

func TestBatcher_CoalescesBurst(t *testing.T) {
	b := NewBatcher(50*time.Millisecond, 1)
	for i, p := range []string{"/c", "/a", "/b", "/a"} {
		b.Add(Event{Path: p}, ms(10*i))
	}
	if due, wait := b.Due(ms(60)); due || wait != 20*time.Millisecond {
		t.Fatalf("Due 30ms after the last event = %v, %v; want false, 20ms", due, wait)
	}
	if due, _ := b.Due(ms(80)); !due {
		t.Fatal("Due 50ms after the last event = false, want true")
	}
	got := b.Take()
	if want := []string{"/a", "/b", "/c"}; !slices.Equal(got.Paths, want) || got.Overflow {
		t.Fatalf("Take() = %+v, want %v", got, want)
	}
	if due, wait := b.Due(ms(1000)); due || wait != 0 || b.Len() != 0 {
		t.Fatalf("after Take: Due = %v, %v, Len = %d; want empty", due, wait, b.Len())
	}
}

func TestBatcher_WaitsForThreshold(t *testing.T) {
	tests := []struct {
		name   string
		need   int
		events []string
		due    bool
	}{
		{"one of one", 1, []string{"/a"}, true},
		{"two of three", 3, []string{"/a", "/b"}, false},
		{"repeats count once", 3, []string{"/a", "/b", "/a", "/b", "/a"}, false},
		{"third distinct path", 3, []string{"/a", "/b", "/a", "/c"}, true},
		{"zero need means one", 0, []string{"/a"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBatcher(0, tt.need)
			for _, p := range tt.events {
				b.Add(Event{Path: p}, t0)
			}
			if due, wait := b.Due(t0); due != tt.due || wait != 0 {
				t.Errorf("Due = %v, %v; want %v, 0", due, wait, tt.due)
			}
		})
	}
}

func TestBatcher_ThresholdStillWaitsForQuiet(t *testing.T) {
	b := NewBatcher(50*time.Millisecond, 2)
	b.Add(Event{Path: "/a"}, ms(0))
	b.Add(Event{Path: "/b"}, ms(40))
	if due, wait := b.Due(ms(50)); due || wait != 40*time.Millisecond {
		t.Fatalf("Due = %v, %v; want false, 40ms", due, wait)
	}
	if due, _ := b.Due(ms(90)); !due {
		t.Fatal("not due 50ms after the threshold was reached")
	}
}

func TestBatcher_OverflowIsDueAtOnce(t *testing.T) {
	b := NewBatcher(time.Hour, 100)
	b.Add(Event{Path: "/a"}, t0)
	b.Add(Event{Overflow: true}, t0)
	if due, _ := b.Due(t0); !due {
		t.Fatal("overflow is not due at once")
	}
	if got := b.Take(); !got.Overflow || !slices.Equal(got.Paths, []string{"/a"}) {
		t.Fatalf("Take() = %+v, want overflow with /a", got)
	}
	b.Add(Event{Path: "/b"}, t0)
	if got, _ := b.Due(t0); got {
		t.Fatal("overflow flag survived Take")
	}
}

// runBatcher starts Run on fresh channels and stops it at the test's end.
func runBatcher(t *testing.T, debounce time.Duration, need int, clock Clock) (chan<- Event, <-chan Batch) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in, out := make(chan Event), make(chan Batch)
	done := make(chan struct{})
	go func() {
		defer close(done)
		NewBatcher(debounce, need).Run(ctx, in, out, clock)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return in, out
}

// receive waits for a batch; the timeout only bounds a failure.
func receive(t *testing.T, out <-chan Batch) Batch {
	t.Helper()
	select {
	case b, ok := <-out:
		if !ok {
			t.Fatal("batches closed")
		}
		return b
	case <-time.After(5 * time.Second):
		t.Fatal("no batch within 5s")
	}
	return Batch{}
}

// waitArmed waits until the batcher armed its timer for d.
func waitArmed(t *testing.T, clock *fakeClock, d time.Duration) {
	t.Helper()
	select {
	case got := <-clock.armed:
		if got != d {
			t.Fatalf("timer armed for %v, want %v", got, d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("timer not armed within 5s")
	}
}

func TestBatcher_RunDebouncesWithClock(t *testing.T) {
	clock := newFakeClock()
	in, out := runBatcher(t, 50*time.Millisecond, 1, clock)
	in <- Event{Path: "/a"}
	waitArmed(t, clock, 50*time.Millisecond)
	clock.Advance(30 * time.Millisecond)
	in <- Event{Path: "/b"} // 30ms in: the quiet time starts again
	in <- Event{Path: "/b"} // taken only once Run finished with the first, stamped 30ms too
	clock.Advance(20 * time.Millisecond)
	waitArmed(t, clock, 30*time.Millisecond) // fired at 50ms, re-armed for the rest
	select {
	case b := <-out:
		t.Fatalf("batch %v before the burst was quiet", b.Paths)
	default:
	}
	clock.Advance(30 * time.Millisecond)
	if got := receive(t, out); !slices.Equal(got.Paths, []string{"/a", "/b"}) {
		t.Fatalf("batch = %v, want [/a /b]", got.Paths)
	}
}

func TestBatcher_KeepsChangesDuringSlowConsumer(t *testing.T) {
	in, out := runBatcher(t, 0, 1, newFakeClock())
	// Nobody reads out while these arrive. Each send returns once Run took
	// it, and Run takes a send already waiting into the batch it is forming
	// (drain), so how the changes split into batches varies from run to
	// run; none may be lost, and /a comes first.
	in <- Event{Path: "/a"} // due at once
	in <- Event{Path: "/c"}
	in <- Event{Path: "/b"}
	in <- Event{Path: "/c"}
	first := receive(t, out)
	if len(first.Paths) == 0 || first.Paths[0] != "/a" {
		t.Fatalf("first batch = %v, want /a first", first.Paths)
	}
	seen := map[string]bool{}
	for batch, n := first, 1; ; batch, n = receive(t, out), n+1 {
		for _, p := range batch.Paths {
			seen[p] = true
		}
		if seen["/a"] && seen["/b"] && seen["/c"] {
			break
		}
		if n == 3 {
			t.Fatalf("after 3 batches, saw %v; want /a, /b and /c", seen)
		}
	}
}

func TestBatcher_RunSendsOverflowAtOnce(t *testing.T) {
	in, out := runBatcher(t, time.Hour, 10, newFakeClock())
	in <- Event{Path: "/a"}
	in <- Event{Overflow: true}
	if got := receive(t, out); !got.Overflow || !slices.Equal(got.Paths, []string{"/a"}) {
		t.Fatalf("batch = %+v, want overflow with [/a]", got)
	}
}

func TestBatcher_RunClosesOutWhenDone(t *testing.T) {
	tests := []struct {
		name string
		stop func(cancel context.CancelFunc, in chan Event)
	}{
		{"context done", func(cancel context.CancelFunc, _ chan Event) { cancel() }},
		{"input closed", func(_ context.CancelFunc, in chan Event) { close(in) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			in, out := make(chan Event), make(chan Batch)
			go NewBatcher(0, 1).Run(ctx, in, out, nil)
			tt.stop(cancel, in)
			select {
			case _, ok := <-out:
				if ok {
					t.Fatal("got a batch, want out closed")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("out not closed within 5s")
			}
		})
	}
}

// BenchmarkBatcher measures events per second through Run: a stream of
// events over 1,000 distinct paths, one batch per 10,000 events.
func BenchmarkBatcher(b *testing.B) {
	paths := make([]string, 1000)
	for i := range paths {
		paths[i] = fmt.Sprintf("/project/src/pkg%d/file%d.go", i%37, i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in, out := make(chan Event, eventBuffer), make(chan Batch)
	go NewBatcher(0, len(paths)).Run(ctx, in, out, nil)
	go func() {
		for range out {
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		in <- Event{Path: paths[i%len(paths)]}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// feed adds events to b, 1 ms apart from t0.
func feed(b *Batcher, events ...Event) time.Time {
	at := t0
	for i, ev := range events {
		at = ms(i)
		b.Add(ev, at)
	}
	return at
}

func TestBatcher_CountsWhatTheUserDid(t *testing.T) {
	tests := []struct {
		name   string
		events []Event
		want   []string // the batch, once quiet
	}{
		{"a write", []Event{{Path: "/a", Op: Write}}, []string{"/a"}},
		{"a temporary file is no change", []Event{
			{Path: "/tmp1", Op: Create}, {Path: "/tmp1", Op: Write}, {Path: "/tmp1", Op: Remove},
		}, []string{}},
		{"a rename over a file counts once, for the target", []Event{
			{Path: "/a.tmp", Op: Create}, {Path: "/a.tmp", Op: Write},
			{Path: "/a.tmp", Op: Remove}, {Path: "/a", Op: Create | Write | Move},
		}, []string{"/a"}},
		{"a file moved aside and written anew counts once", []Event{
			{Path: "/a", Op: Remove}, {Path: "/a", Op: Create}, {Path: "/a", Op: Write},
		}, []string{"/a"}},
		{"a deleted file counts", []Event{{Path: "/a", Op: Remove}}, []string{"/a"}},
		{"a new folder is no change by itself", []Event{{Path: "/d", Op: Create, Dir: true}}, []string{}},
		{"the files of a new folder are", []Event{
			{Path: "/d", Op: Create, Dir: true}, {Path: "/d/f", Op: Create | Write},
		}, []string{"/d/f"}},
		{"a folder that existed and is gone counts", []Event{{Path: "/d", Op: Remove, Dir: true}}, []string{"/d"}},
		{"a folder made and removed again is no change", []Event{
			{Path: "/d", Op: Create, Dir: true}, {Path: "/d/f", Op: Create | Write},
			{Path: "/d/f", Op: Remove}, {Path: "/d", Op: Remove, Dir: true},
		}, []string{}},
		{"a file being written does not count yet", []Event{{Path: "/a", Op: Create}}, []string{}},
		{"attributes of a file being written do not finish it", []Event{
			{Path: "/a", Op: Create}, {Path: "/a", Op: Attrib},
		}, []string{}},
		{"attributes of a file count", []Event{{Path: "/a", Op: Attrib}}, []string{"/a"}},
		{"an event without an op is a write", []Event{{Path: "/a"}}, []string{"/a"}},
	}
	for _, tt := range tests {
		for _, debounce := range []time.Duration{0, 10 * time.Millisecond, Auto} {
			t.Run(fmt.Sprintf("%s/debounce %v", tt.name, debounce), func(t *testing.T) {
				b := NewBatcher(debounce, 1)
				last := feed(b, tt.events...)
				due, _ := b.Due(last.Add(time.Second))
				if want := len(tt.want) > 0; due != want || b.Len() != len(tt.want) {
					t.Fatalf("Due = %v with %d counting, want %v with %d", due, b.Len(), want, len(tt.want))
				}
				if got := b.Take().Paths; !slices.Equal(got, tt.want) {
					t.Fatalf("Take() = %v, want %v", got, tt.want)
				}
			})
		}
	}
}

func TestBatcher_FileBeingWrittenStaysPendingAcrossTake(t *testing.T) {
	b := NewBatcher(0, 1)
	b.Add(Event{Path: "/log", Op: Create}, ms(0))
	b.Add(Event{Path: "/a", Op: Write}, ms(1))
	if got := b.Take().Paths; !slices.Equal(got, []string{"/a"}) {
		t.Fatalf("first batch = %v, want [/a]", got)
	}
	b.Add(Event{Path: "/log", Op: Remove}, ms(2)) // a temporary file after all
	if due, _ := b.Due(ms(100)); due {
		t.Fatalf("a file created and removed across a batch counted: %v", b.Take().Paths)
	}
	b.Add(Event{Path: "/new", Op: Create}, ms(3))
	b.Take()
	b.Add(Event{Path: "/new", Op: Write}, ms(4))
	if got := b.Take().Paths; !slices.Equal(got, []string{"/new"}) {
		t.Fatalf("batch after the write = %v, want [/new]", got)
	}
}

func TestBatcher_AutoSettlesLoneSaveFast(t *testing.T) {
	tests := []struct {
		name   string
		quiet  time.Duration // before the burst
		events []Event
		want   time.Duration // the quiet after the last event that makes it due
	}{
		{"a lone save", time.Second, []Event{{Path: "/a", Op: Write}}, Settle},
		{"a lone atomic save", time.Second, []Event{
			{Path: "/a.tmp", Op: Create}, {Path: "/a.tmp", Op: Write}, {Path: "/a.tmp", Op: Remove}, {Path: "/a", Op: Create | Write | Move},
		}, Settle},
		{"a new file: maybe a temporary one", time.Second, []Event{{Path: "/a", Op: Create}, {Path: "/a", Op: Write}}, HoldQuiet},
		{"a file found in a new folder", time.Second, []Event{{Path: "/d", Op: Create, Dir: true}, {Path: "/d/a", Op: Create | Write}}, HoldQuiet},
		{"two files at once", time.Second, []Event{{Path: "/a", Op: Write}, {Path: "/b", Op: Write}}, AutoQuiet},
		{"a file still being written", time.Second, []Event{{Path: "/a", Op: Write}, {Path: "/b", Op: Create}}, HoldQuiet},
		{"a file moved aside, not yet back", time.Second, []Event{{Path: "/b", Op: Write}, {Path: "/a", Op: Remove}}, AutoQuiet},
		{"a burst soon after another", 20 * time.Millisecond, []Event{{Path: "/a", Op: Write}}, AutoQuiet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBatcher(Auto, 1)
			b.Add(Event{Path: "/before", Op: Write}, t0)
			b.Take()
			start := t0.Add(tt.quiet)
			for i, ev := range tt.events {
				b.Add(ev, start.Add(time.Duration(i)*100*time.Microsecond))
			}
			last := start.Add(time.Duration(len(tt.events)-1) * 100 * time.Microsecond)
			if due, wait := b.Due(last); due || wait != tt.want {
				t.Fatalf("Due right after the burst = %v, %v; want false, %v", due, wait, tt.want)
			}
			if due, _ := b.Due(last.Add(tt.want - 1)); due {
				t.Fatalf("due %v after the burst, want %v", tt.want-1, tt.want)
			}
			if due, _ := b.Due(last.Add(tt.want)); !due {
				t.Fatalf("not due %v after the burst", tt.want)
			}
		})
	}
}

func TestBatcher_AutoThresholdCountsAcrossSaves(t *testing.T) {
	b := NewBatcher(Auto, 2)
	for i := range 5 { // the same file saved five times, a second apart
		at := t0.Add(time.Duration(i) * time.Second)
		b.Add(Event{Path: "/a.tmp", Op: Create}, at)
		b.Add(Event{Path: "/a.tmp", Op: Write}, at)
		b.Add(Event{Path: "/a.tmp", Op: Remove}, at)
		b.Add(Event{Path: "/a", Op: Create | Write | Move}, at)
		if due, _ := b.Due(at.Add(time.Hour)); due {
			t.Fatalf("save %d of one file reached changes_needed 2: %v", i+1, b.Take().Paths)
		}
	}
	at := t0.Add(time.Minute)
	b.Add(Event{Path: "/b", Op: Write}, at)
	if due, wait := b.Due(at); due || wait != Settle {
		t.Fatalf("second file: Due = %v, %v; want false, %v", due, wait, Settle)
	}
	if got := b.Take().Paths; !slices.Equal(got, []string{"/a", "/b"}) {
		t.Fatalf("batch = %v, want [/a /b]", got)
	}
}

func TestBatcher_RunArmsSoonerWhenASaveCompletes(t *testing.T) {
	clock := newFakeClock()
	in, out := runBatcher(t, Auto, 1, clock)
	in <- Event{Path: "/a", Op: Remove} // vim moved the original aside
	clock.Advance(0)
	in <- Event{Path: "/a", Op: Create}
	in <- Event{Path: "/a", Op: Write} // and wrote it anew: a lone save
	for armed := time.Duration(0); armed != Settle; {
		select {
		case armed = <-clock.armed:
		case <-time.After(5 * time.Second):
			t.Fatalf("timer not armed for %v within 5s", Settle)
		}
	}
	clock.Advance(Settle)
	if got := receive(t, out); !slices.Equal(got.Paths, []string{"/a"}) {
		t.Fatalf("batch = %v, want [/a]", got.Paths)
	}
}
