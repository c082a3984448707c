package watch

import (
	"context"
	"slices"
	"time"
)

// Event is one change seen by the filesystem layer, the input of a Batcher.
type Event struct {
	Path     string // absolute path of the changed file or folder
	Overflow bool   // events were lost before this one: treat as "changed"
}

// Batch is one trigger: what changed since the previous Batch.
type Batch struct {
	Paths    []string // distinct changed paths since the last batch, sorted, absolute
	Overflow bool     // events may have been lost (queue overflow): treat as "changed"
}

// bigBatch is the size past which Take drops the path set instead of
// clearing it, so that a huge burst does not slow every later batch.
const bigBatch = 1024

// Batcher is the pure core of watching: it collects events into a set of
// distinct paths and says when they form a Batch. The set is due when it
// holds at least need paths and no event arrived for debounce, or at once
// after an overflow. Add, Due and Take read no clock and start no
// goroutine: callers pass the time, which makes the batching a function of
// events and time only. Run drives them from channels and a Clock.
type Batcher struct {
	debounce time.Duration       // quiet time that closes a burst
	need     int                 // distinct paths needed for a batch
	paths    map[string]struct{} // distinct paths since the last Take
	overflow bool                // an overflow was seen since the last Take
	last     time.Time           // time of the latest event
}

// NewBatcher returns an empty Batcher; need below 1 counts as 1.
func NewBatcher(debounce time.Duration, need int) *Batcher {
	return &Batcher{debounce: max(debounce, 0), need: max(need, 1), paths: make(map[string]struct{})}
}

// Add records ev, seen at now. Every event, even for a path already in the
// set, restarts the quiet time.
func (b *Batcher) Add(ev Event, now time.Time) {
	if ev.Overflow {
		b.overflow = true
	}
	if ev.Path != "" {
		b.paths[ev.Path] = struct{}{}
	}
	b.last = now
}

// Len returns how many distinct paths are pending.
func (b *Batcher) Len() int { return len(b.paths) }

// Due reports whether the pending changes form a batch at now. When they
// reach the threshold but the burst is not yet quiet, wait is how long
// until they could be due; otherwise wait is 0.
func (b *Batcher) Due(now time.Time) (due bool, wait time.Duration) {
	if b.overflow {
		return true, 0
	}
	if len(b.paths) < b.need {
		return false, 0
	}
	if quiet := now.Sub(b.last); quiet < b.debounce {
		return false, b.debounce - quiet
	}
	return true, 0
}

// Take returns the pending changes as a Batch and starts an empty set.
func (b *Batcher) Take() Batch {
	batch := Batch{Paths: make([]string, 0, len(b.paths)), Overflow: b.overflow}
	for p := range b.paths {
		batch.Paths = append(batch.Paths, p)
	}
	slices.Sort(batch.Paths)
	if len(b.paths) > bigBatch {
		b.paths = make(map[string]struct{})
	} else {
		clear(b.paths)
	}
	b.overflow = false
	return batch
}

// Run feeds the events from in through b and sends every due batch on out,
// until ctx is done or in is closed; then it closes out. It never stops
// reading in: a batch waiting for a slow consumer is fixed when it became
// due, and what arrives meanwhile is kept for the next one. clock nil means
// the real clock.
func (b *Batcher) Run(ctx context.Context, in <-chan Event, out chan<- Batch, clock Clock) {
	defer close(out)
	if clock == nil {
		clock = RealClock{}
	}
	var (
		timer   Timer            // created on first use, then reset
		timerC  <-chan time.Time // timer's channel while it is armed
		pending Batch            // the batch offered to the consumer
		sendC   chan<- Batch     // out while pending is offered, else nil
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		var ev Event
		var got bool
		select {
		case <-ctx.Done():
			return
		case ev, got = <-in:
			if !got {
				return
			}
		case <-timerC:
			timerC = nil
		case sendC <- pending:
			sendC, pending = nil, Batch{}
		}
		now := clock.Now()
		if got {
			b.Add(ev, now)
			got = drain(in, b, now) // what is queued already belongs to this burst
		}
		if sendC != nil {
			continue
		}
		due, wait := b.Due(now)
		switch {
		case due:
			pending, sendC = b.Take(), out
		case wait > 0 && timerC == nil:
			if timer == nil {
				timer = clock.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			timerC = timer.C()
		}
	}
}

// drain adds every event already waiting in in, without blocking. It
// reports false when in is closed.
func drain(in <-chan Event, b *Batcher, now time.Time) bool {
	for {
		select {
		case ev, ok := <-in:
			if !ok {
				return false
			}
			b.Add(ev, now)
		default:
			return true
		}
	}
}
