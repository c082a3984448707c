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
		{"a temporary file whose removal was reported first is no change", []Event{
			{Path: "/tmp1", Op: Remove}, {Path: "/tmp1", Op: Create | Remove},
		}, []string{}},
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

// batchAt is a batch, when it became due and when its last event was
// seen, both from the first event.
type batchAt struct {
	at    time.Duration
	last  time.Duration
	paths []string
}

// simulate feeds events at their times through a Batcher, as Run would:
// a batch is taken the moment it is due, before any later event.
func simulate(events []Event, at []time.Duration, debounce time.Duration, need int) []batchAt {
	b := NewBatcher(debounce, need)
	var out []batchAt
	var dueAt time.Time // when the pending changes are due; zero: not
	fire := func() {
		batch := b.Take()
		if len(batch.Paths) > 0 {
			out = append(out, batchAt{at: dueAt.Sub(t0), last: batch.Last.Sub(t0), paths: batch.Paths})
		}
		dueAt = time.Time{}
	}
	for i, ev := range events {
		now := t0.Add(at[i])
		if !dueAt.IsZero() && !dueAt.After(now) {
			fire()
		}
		b.Add(ev, now)
		due, wait := b.Due(now)
		switch {
		case due:
			dueAt = now
			fire()
		case wait > 0:
			dueAt = now.Add(wait)
		default:
			dueAt = time.Time{}
		}
	}
	if !dueAt.IsZero() {
		fire()
	}
	return out
}

// oneSave reports whether batches are what one save gives: one batch of
// want; at debounce 0 maybe more of it, within Settle of the first
// (re-touches, which the runner drops: the task started again after them).
func oneSave(got []batchAt, want []string, debounce time.Duration) bool {
	if len(got) == 0 || (len(got) > 1 && debounce != 0) {
		return false
	}
	for _, b := range got {
		if !slices.Equal(b.paths, want) || b.last >= got[0].at+Settle {
			return false
		}
	}
	return true
}

// timed is an event and when it is seen, from the first.
type timed struct {
	at time.Duration
	ev Event
}

// unzip splits timed events for simulate.
func unzip(tes []timed) (events []Event, at []time.Duration) {
	for _, te := range tes {
		events, at = append(events, te.ev), append(at, te.at)
	}
	return events, at
}

// µs is n microseconds.
func µs(n int) time.Duration { return time.Duration(n) * time.Microsecond }

// sedSave is `sed -i` on /a, as inotify reports it (testdata/saves/sed.txt),
// from start on.
func sedSave(start time.Duration, tmp string) []timed {
	return []timed{
		{start, Event{Path: tmp, Op: Create}},
		{start + µs(3610), Event{Path: tmp, Op: Attrib}},
		{start + µs(4095), Event{Path: tmp, Op: Write}},
		{start + µs(4106), Event{Path: tmp, Op: Remove}},
		{start + µs(4132), Event{Path: "/a", Op: Create | Write | Move}},
	}
}

func TestBatcher_FixedDebounceWaitsForSaveInProgress(t *testing.T) {
	var sedTwenty []timed // one file saved 20 times with sed -i, a second apart
	for i := range 20 {
		sedTwenty = append(sedTwenty, sedSave(time.Duration(i)*time.Second, fmt.Sprintf("/sed%02d", i))...)
	}
	tests := []struct {
		name     string
		debounce time.Duration
		need     int
		events   []timed
		want     []batchAt // paths and due times (last is not compared)
	}{
		{"a temporary file renamed over the original after the debounce (GIO)", 20 * time.Millisecond, 1, []timed{
			{0, Event{Path: "/.goutputstream-1", Op: Create}},
			{µs(100), Event{Path: "/.goutputstream-1", Op: Write}}, // written, synced, closed
			{40 * time.Millisecond, Event{Path: "/.goutputstream-1", Op: Remove}},
			{40 * time.Millisecond, Event{Path: "/a", Op: Create | Write | Move}},
		}, []batchAt{{at: 60 * time.Millisecond, paths: []string{"/a"}}}},
		{"a temporary file and the original's open and close (gedit)", 20 * time.Millisecond, 1, []timed{
			{0, Event{Path: "/.goutputstream-1", Op: Create}},
			{µs(87), Event{Path: "/a", Op: Write}}, // the OLD content: GIO checks that it can write it
			{µs(230795), Event{Path: "/.goutputstream-1", Op: Remove}},
			{µs(230903), Event{Path: "/a", Op: Create | Write | Move}},
			{µs(232340), Event{Path: "/a", Op: Write}},
		}, []batchAt{{at: µs(232340) + 20*time.Millisecond, paths: []string{"/a"}}}},
		{"one file saved 20 times with sed -i never reaches changes_needed 2", 0, 2, sedTwenty, nil},
		{"one file saved twice with sed -i: two batches of it", 0, 1, sedTwenty[:10], []batchAt{
			{at: µs(4132), paths: []string{"/a"}}, {at: time.Second + µs(4132), paths: []string{"/a"}},
		}},
		{"the original moved aside and written anew (vim)", 0, 1, []timed{
			{0, Event{Path: "/a", Op: Remove}},
			{µs(190), Event{Path: "/a", Op: Create}},
			{µs(32386), Event{Path: "/a", Op: Attrib}},
			{µs(32405), Event{Path: "/a", Op: Write}},
		}, []batchAt{{at: µs(32405), paths: []string{"/a"}}}},
		{"a deleted file waits AutoQuiet for its return", 0, 1, []timed{
			{0, Event{Path: "/a", Op: Remove}},
		}, []batchAt{{at: AutoQuiet, paths: []string{"/a"}}}},
		{"a new file waits HoldQuiet for its rename", 0, 1, []timed{
			{0, Event{Path: "/new", Op: Create}},
			{time.Millisecond, Event{Path: "/new", Op: Write}},
		}, []batchAt{{at: time.Millisecond + HoldQuiet, paths: []string{"/new"}}}},
		{"a debounce longer than the hold is kept", time.Second, 1, []timed{
			{0, Event{Path: "/new", Op: Create}},
			{time.Millisecond, Event{Path: "/new", Op: Write}},
		}, []batchAt{{at: time.Millisecond + time.Second, paths: []string{"/new"}}}},
		{"a file written in place is due after the debounce", 20 * time.Millisecond, 1, []timed{
			{0, Event{Path: "/a", Op: Write}},
		}, []batchAt{{at: 20 * time.Millisecond, paths: []string{"/a"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, at := unzip(tt.events)
			got := simulate(events, at, tt.debounce, tt.need)
			ok := len(got) == len(tt.want)
			for i := range got {
				ok = ok && got[i].at == tt.want[i].at && slices.Equal(got[i].paths, tt.want[i].paths)
			}
			if !ok {
				t.Fatalf("batches %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBatcher_TemporaryFileRenamedAfterTheHoldIsNamedOnce(t *testing.T) {
	// A temporary file written at 1ms and removed at ms(1)+hold+after,
	// hold being the quiet after which its batch was due.
	save := func(hold, after time.Duration, renamed bool) []timed {
		gone := time.Millisecond + hold + after
		tes := []timed{
			{0, Event{Path: "/.a.tmp", Op: Create}},
			{time.Millisecond, Event{Path: "/.a.tmp", Op: Write}},
			{gone, Event{Path: "/.a.tmp", Op: Remove}},
		}
		if renamed {
			tes = append(tes, timed{gone, Event{Path: "/a", Op: Create | Write | Move}})
		}
		return tes
	}
	tests := []struct {
		name    string
		after   time.Duration // after the batch was due
		renamed bool
		want    [][]string
	}{
		{"renamed over the original soon after", 100 * time.Millisecond, true, [][]string{{"/.a.tmp"}, {"/a"}}},
		{"renamed over the original HoldQuiet after", HoldQuiet, true, [][]string{{"/.a.tmp"}, {"/a"}}},
		{"a new file deleted a while after counts", 10 * time.Second, false, [][]string{{"/.a.tmp"}, {"/.a.tmp"}}},
	}
	for _, tt := range tests {
		for _, debounce := range []time.Duration{Auto, 0, 20 * time.Millisecond, time.Second} {
			t.Run(fmt.Sprintf("%s/debounce %v", tt.name, debounce), func(t *testing.T) {
				hold := HoldQuiet
				if debounce != Auto {
					hold = max(debounce, HoldQuiet)
				}
				events, at := unzip(save(hold, tt.after, tt.renamed))
				got := simulate(events, at, debounce, 1)
				var paths [][]string
				for _, b := range got {
					paths = append(paths, b.paths)
				}
				if !slices.EqualFunc(paths, tt.want, slices.Equal) || got[0].at != time.Millisecond+hold {
					t.Fatalf("batches %v, want %v, the first at %v", got, tt.want, time.Millisecond+hold)
				}
			})
		}
	}
}

func TestBatcher_NamedNewFileWrittenAgainIsAFile(t *testing.T) {
	for _, debounce := range []time.Duration{Auto, 0, 20 * time.Millisecond} {
		t.Run(fmt.Sprintf("debounce %v", debounce), func(t *testing.T) {
			b := NewBatcher(debounce, 1)
			b.Add(Event{Path: "/new", Op: Create}, ms(0))
			b.Add(Event{Path: "/new", Op: Write}, ms(1))
			if got := b.Take().Paths; !slices.Equal(got, []string{"/new"}) {
				t.Fatalf("first batch = %v, want [/new]", got)
			}
			b.Add(Event{Path: "/new", Op: Write}, ms(2)) // it existed at the batch
			b.Add(Event{Path: "/new", Op: Remove}, ms(3))
			if got := b.Take().Paths; !slices.Equal(got, []string{"/new"}) {
				t.Fatalf("batch after its removal = %v, want [/new]", got)
			}
		})
	}
}

func TestBatcher_RunWaitsForRenameUnderFixedDebounce(t *testing.T) {
	clock := newFakeClock()
	in, out := runBatcher(t, 20*time.Millisecond, 1, clock)
	in <- Event{Path: "/.a.tmp", Op: Create}
	in <- Event{Path: "/.a.tmp", Op: Write}
	waitArmed(t, clock, HoldQuiet)
	clock.Advance(40 * time.Millisecond)
	in <- Event{Path: "/.a.tmp", Op: Remove}
	in <- Event{Path: "/a", Op: Create | Write | Move}
	waitArmed(t, clock, 20*time.Millisecond) // armed sooner: the save is complete
	clock.Advance(20 * time.Millisecond)
	if got := receive(t, out); !slices.Equal(got.Paths, []string{"/a"}) {
		t.Fatalf("batch = %v, want [/a]", got.Paths)
	}
}
