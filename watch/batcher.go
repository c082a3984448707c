package watch

import (
	"context"
	"slices"
	"time"
)

// Op says what an event did to its path. Backends set one or two bits;
// an Event without any is a Write.
type Op uint8

// The operations a backend reports.
const (
	// Write: a file was written and closed.
	Write Op = 1 << iota
	// Attrib: the path's attributes changed (touch, chmod). A file being
	// written stays so.
	Attrib
	// Create: the path appeared. With Write too, it appeared complete
	// (moved in, or found in a new folder); alone, it was just created and
	// its content is still being written. With Remove, it appeared and
	// was gone again when the backend looked: a temporary file, even when
	// its removal was reported first (rjeczalik/notify hands each event
	// over from a goroutine of its own: they come in no set order).
	Create
	// Remove: the path is gone: deleted or moved away.
	Remove
	// Move: with Create, the path arrived by a rename (an atomic save's
	// last step), not by being created there.
	Move
)

// Event is one change seen by the filesystem layer, the input of a Batcher.
type Event struct {
	Path     string // absolute path of the changed file or folder
	Op       Op     // what happened to it (0: Write)
	Dir      bool   // the path is a folder
	Overflow bool   // events were lost before this one: treat as "changed"
}

// Batch is one trigger: what changed since the previous Batch.
type Batch struct {
	Paths    []string  // distinct changed paths since the last batch, sorted, absolute
	Overflow bool      // events may have been lost (queue overflow): treat as "changed"
	Last     time.Time // when its last event was seen: every change in it happened before
}

// Auto is the Debounce that adapts to what it sees: a lone save is due as
// soon as it has settled (Settle of quiet); a burst of changes after
// AutoQuiet; a save that has left a file created in place (still being
// written, or a temporary file about to be renamed over its target) after
// HoldQuiet, unless the rename comes first.
const Auto time.Duration = -1

// The quiet times of Auto, derived from the event sequences of real saves
// recorded on Linux (testdata/saves; TestBatcher_RecordedSaves checks each
// against them):
//
//   - Settle closes a lone save once nothing of it is left unfinished. The
//     longest gap seen there, between two events of one save, is 1.4 ms
//     (GIO closing the file it just renamed over the original, on a loaded
//     machine); vim's and emacs' attribute changes after the close come
//     within 0.5 ms. A re-touch after Settle is a batch of its own, which
//     the runner drops when the task started again after it.
//   - AutoQuiet closes a burst of many paths (a checkout, a formatter) or a
//     save that moved the original aside (vim, emacs) and has not written
//     it anew yet.
//   - HoldQuiet waits for a file created in place: written with an fsync
//     before its rename (gedit: up to 227 ms on a loaded machine, 35 ms
//     otherwise), or renamed by a second process (printf > tmp && mv: up to
//     152 ms loaded). A new file saved by hand waits for it too.
const (
	Settle    = 2 * time.Millisecond
	AutoQuiet = 50 * time.Millisecond
	HoldQuiet = 300 * time.Millisecond
)

// bigBatch is the size past which Take drops the path set instead of
// clearing it, so that a huge burst does not slow every later batch.
const bigBatch = 1024

// entry is what the Batcher knows of one path since the last Take.
type entry struct {
	born  bool   // its first event created it: it did not exist before
	fresh bool   // born in place, not moved in: maybe a temporary file
	gone  bool   // its last event removed it
	open  bool   // created and not yet written: its content is on the way
	dir   bool   // it is a folder
	kept  bool   // left pending by a Take, untouched since
	burst uint32 // the burst that touched it last
}

// counts reports whether the path is a change: not a temporary file (born
// and gone again), not a folder that exists (its files count, not it),
// not a file whose writing has not finished.
func (e entry) counts() bool {
	switch {
	case e.born && e.gone:
		return false
	case e.dir:
		return e.gone
	}
	return !e.open
}

// held reports whether the path may be a save in progress that can take a
// while: a file being written, or one created in place (a temporary file
// about to be renamed over its target, or a new file). An entry left
// pending by a Take (a log that a process keeps writing) holds nothing.
func (e entry) held() bool { return !e.kept && (e.open || (e.fresh && !e.gone)) }

// restless reports whether the path existed and is gone: a deletion, or an
// editor that moved the original aside and writes the new one next.
func (e entry) restless() bool { return !e.kept && e.gone && !e.born }

// Batcher is the pure core of watching: it collects events into a set of
// distinct changed paths and says when they form a Batch. What counts is
// what the user did, not what the file system saw: a path created and
// removed again since the last batch (a temporary file) is no change, a
// created folder is none by itself, and a file counts once its writing
// is done. The set is due when at least need paths count and the burst
// has been quiet for the debounce, or at once after an overflow. Under a
// fixed debounce too, a save in progress is waited for: a file created in
// place for up to HoldQuiet, a file that existed and is gone for up to
// AutoQuiet.
//
// Add, Due and Take read no clock and start no goroutine: callers pass the
// time, which makes the batching a function of events and time only. Run
// drives them from channels and a Clock.
type Batcher struct {
	debounce time.Duration    // quiet time that closes a burst, or Auto
	need     int              // distinct counting paths needed for a batch
	paths    map[string]entry // every path seen since the last Take
	overflow bool             // an overflow was seen since the last Take
	last     time.Time        // time of the latest event
	counted  int              // entries that count
	held     int              // entries that are held
	restless int              // entries that are restless

	// temps holds the paths that a Take found created and gone again
	// (temporary files), or created in place and still there (maybe a
	// temporary file renamed after the hold): until when a report of
	// their removal is still theirs, and no change.
	temps map[string]time.Time

	// Under Auto, a burst is a run of events with gaps below Settle.
	burst      uint32 // the current burst's number
	burstCount int    // entries of the current burst that count
	burstAlone bool   // the current burst began after AutoQuiet of quiet
	started    bool   // an event has been seen: last is set
}

// NewBatcher returns an empty Batcher; need below 1 counts as 1, and a
// negative debounce other than Auto as 0.
func NewBatcher(debounce time.Duration, need int) *Batcher {
	if debounce < 0 && debounce != Auto {
		debounce = 0
	}
	return &Batcher{debounce: debounce, need: max(need, 1), paths: make(map[string]entry)}
}

// Add records ev, seen at now. Every event, even one that changes nothing
// that counts, restarts the quiet time.
func (b *Batcher) Add(ev Event, now time.Time) {
	if gap := now.Sub(b.last); !b.started || gap >= Settle {
		b.burst++
		b.burstCount = 0
		b.burstAlone = !b.started || gap >= AutoQuiet
	}
	b.last, b.started = now, true
	if ev.Overflow {
		b.overflow = true
	}
	if ev.Path == "" {
		return
	}
	op := ev.Op
	if op == 0 {
		op = Write
	}
	e, seen := b.paths[ev.Path]
	before, inBurst := e.counts() && seen, e.burst == b.burst && seen
	if seen {
		b.held -= b2i(e.held())
		b.restless -= b2i(e.restless())
	}
	switch {
	case !seen:
		late := b.lateTemp(ev.Path, op, now)
		e.born = op&Create != 0 || late
		e.fresh = e.born && op&Move == 0
	case op&(Create|Remove) == Create|Remove:
		e.born, e.fresh = true, true // its removal came first
	}
	switch {
	case op&Remove != 0:
		e.gone, e.open = true, false
	case op&Create != 0:
		e.gone, e.open = false, op&Write == 0 && !ev.Dir
	case op&Write != 0:
		e.gone, e.open = false, false
	default: // Attrib
		e.gone = false
	}
	e.dir, e.kept, e.burst = ev.Dir, false, b.burst
	b.paths[ev.Path] = e
	after := e.counts()
	b.held += b2i(e.held())
	b.restless += b2i(e.restless())
	if before {
		b.counted--
		if inBurst {
			b.burstCount--
		}
	}
	if after {
		b.counted++
		b.burstCount++
	}
}

// Len returns how many distinct paths count as changed now.
func (b *Batcher) Len() int { return b.counted }

// Due reports whether the pending changes form a batch at now. When they
// reach the threshold but the burst is not yet quiet, wait is how long
// until they could be due; otherwise wait is 0.
func (b *Batcher) Due(now time.Time) (due bool, wait time.Duration) {
	if b.overflow {
		return true, 0
	}
	if b.counted < b.need {
		return false, 0
	}
	if quiet, need := now.Sub(b.last), b.quietNeeded(); quiet < need {
		return false, need - quiet
	}
	return true, 0
}

// quietNeeded is the quiet time that closes the current burst. A fixed
// debounce is that much quiet, but no less than HoldQuiet while a file
// created in place is pending and AutoQuiet while a file is gone, so that
// a save in progress does not trigger with a temporary file or a missing
// original. Under Auto: HoldQuiet while a file created in place is
// pending, Settle for a lone save (a burst that began after AutoQuiet of
// quiet, changed one path and left nothing half done), AutoQuiet for
// everything else.
func (b *Batcher) quietNeeded() time.Duration {
	if b.debounce != Auto {
		switch {
		case b.held > 0:
			return max(b.debounce, HoldQuiet)
		case b.restless > 0:
			return max(b.debounce, AutoQuiet)
		}
		return b.debounce
	}
	switch {
	case b.held > 0:
		return HoldQuiet
	case b.burstAlone && b.burstCount <= 1 && b.restless == 0:
		return Settle
	}
	return AutoQuiet
}

// temp remembers p as a temporary file until then.
func (b *Batcher) temp(p string, until time.Time) {
	if b.temps == nil {
		b.temps = make(map[string]time.Time)
	}
	b.temps[p] = until
}

// lateTemp reports whether op at now removes p, a temporary file that a
// Take remembered, in time: removed late, or its removal reported late.
// It forgets p either way.
func (b *Batcher) lateTemp(p string, op Op, now time.Time) bool {
	until, ok := b.temps[p]
	if !ok {
		return false
	}
	delete(b.temps, p)
	return op&Remove != 0 && !now.After(until)
}

// b2i is 1 for true.
func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

// Take returns the pending changes as a Batch and starts an empty set. A
// file still being written stays pending: it counts once written. A file
// created in place that the batch names may be a temporary file renamed
// after the hold, and a temporary file gone already may have a report of
// its removal still on the way (notify): a removal of either within
// HoldQuiet after the batch was due is no change.
func (b *Batcher) Take() Batch {
	batch := Batch{Paths: make([]string, 0, b.counted), Overflow: b.overflow, Last: b.last}
	for p, until := range b.temps {
		if until.Before(b.last) {
			delete(b.temps, p)
		}
	}
	until := b.last.Add(b.quietNeeded() + HoldQuiet)
	var keep []string
	for p, e := range b.paths {
		switch {
		case e.counts():
			batch.Paths = append(batch.Paths, p)
			if e.held() {
				b.temp(p, until)
			}
		case e.open:
			keep = append(keep, p)
		case e.born && e.gone:
			b.temp(p, until)
		}
	}
	slices.Sort(batch.Paths)
	kept := make([]entry, len(keep))
	for i, p := range keep {
		kept[i] = b.paths[p]
		kept[i].kept = true
	}
	if len(b.paths) > bigBatch {
		b.paths = make(map[string]entry)
	} else {
		clear(b.paths)
	}
	for i, p := range keep {
		b.paths[p] = kept[i]
	}
	b.overflow = false
	b.counted, b.burstCount, b.held, b.restless = 0, 0, 0, 0
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
		timerAt time.Time        // when the armed timer fires
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
		case wait > 0 && (timerC == nil || now.Add(wait).Before(timerAt)):
			// Armed, or armed sooner: under Auto, the quiet a burst needs
			// shrinks when a save completes.
			if timer == nil {
				timer = clock.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			timerC, timerAt = timer.C(), now.Add(wait)
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
