package state

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// maxSpare is the largest batch whose memory is kept for the next one.
const maxSpare = 1024

// poster is the background writer behind Post. All fields are guarded by
// mu; the invariant is that pending holds exactly the posted functions
// numbered written+1 to posted, in order.
type poster struct {
	mu       sync.Mutex
	pending  []func(*State) // posted and not yet on disk, oldest first
	spare    []func(*State) // an emptied batch, reused for the next pending
	posted   uint64         // functions posted so far
	written  uint64         // functions posted so far that are on disk
	attempts uint64         // commits finished, failed ones included
	lastErr  error          // the last commit's error, nil after a success
	changed  chan struct{}  // closed and replaced when a commit finishes
	wake     chan struct{}  // capacity 1: the writer has work
	hurry    chan struct{}  // capacity 1: Flush waits, skip the coalescing wait
	quit     chan struct{}  // closed by Close to stop the writer
	done     chan struct{}  // closed when the writer has stopped
	started  bool           // the writer goroutine runs
	closed   bool           // Close was called: Post drops its function
	stopped  bool           // the writer has stopped

	writerHook func() // test hook: the writer runs it when woken, before it takes the batch
}

// Post queues fn to be applied to the state on disk by a background writer,
// and returns at once: it never waits for the disk. Everything queued while
// a write is in progress is applied together, in the order posted, in the
// next read-modify-write. A write that fails is logged and retried with the
// next Post, Flush or Update. fn runs on the writer's goroutine and must
// not call the Store. After Close, Post logs a warning and drops fn.
func (s *Store) Post(fn func(*State)) {
	p := &s.post
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		s.logf("state update posted after Close was dropped")
		return
	}
	if p.pending == nil {
		p.pending, p.spare = p.spare, nil
	}
	p.pending = append(p.pending, fn)
	p.posted++
	if !p.started {
		p.started = true
		p.changed = make(chan struct{})
		p.wake = make(chan struct{}, 1)
		p.hurry = make(chan struct{}, 1)
		p.quit = make(chan struct{})
		p.done = make(chan struct{})
		go s.writeLoop(p.wake, p.hurry, p.quit, p.done)
	}
	wake := p.wake
	p.mu.Unlock()
	select {
	case wake <- struct{}{}:
	default: // already woken; the writer will see fn
	}
}

// Flush waits until everything Posted before it is on disk. It returns the
// error of a write that failed meanwhile, or ctx's error.
func (s *Store) Flush(ctx context.Context) error {
	p := &s.post
	p.mu.Lock()
	target, start, wake, hurry := p.posted, p.attempts, p.wake, p.hurry
	p.mu.Unlock()
	if wake != nil {
		select {
		case hurry <- struct{}{}:
		default:
		}
		select {
		case wake <- struct{}{}: // retry what a failed write left
		default:
		}
	}
	for {
		p.mu.Lock()
		written, attempts, lastErr, stopped, ch := p.written, p.attempts, p.lastErr, p.stopped, p.changed
		p.mu.Unlock()
		switch {
		case written >= target:
			return nil
		case attempts > start && lastErr != nil:
			return fmt.Errorf("flush state: %w", lastErr)
		case stopped:
			return errors.New("flush state: store is closed")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("flush state: %w", ctx.Err())
		case <-ch:
		}
	}
}

// Close writes everything Posted so far, stops the background writer and
// returns the error of the last write, if it failed. Later calls do nothing.
func (s *Store) Close() error {
	p := &s.post
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	started := p.started
	p.mu.Unlock()
	if !started {
		return nil
	}
	err := s.Flush(context.Background())
	close(p.quit)
	<-p.done
	p.mu.Lock()
	p.stopped = true
	lost := len(p.pending)
	p.mu.Unlock()
	if lost > 0 {
		s.logf("%d state updates could not be written and are lost", lost)
	}
	return err
}

// writeLoop commits what is pending each time it is woken (after the
// coalescing wait, unless hurried), until quit.
func (s *Store) writeLoop(wake, hurry, quit <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-quit:
			return
		case <-wake:
		}
		if s.Coalesce > 0 {
			s.post.mu.Lock()
			work := len(s.post.pending) > 0
			s.post.mu.Unlock()
			if work {
				s.preload() // while waiting: the write after it finds the file read
			}
			t := time.NewTimer(s.Coalesce)
			select {
			case <-t.C:
			case <-hurry:
			case <-quit:
			}
			t.Stop()
		}
		if s.post.writerHook != nil {
			s.post.writerHook()
		}
		if err := s.commit(nil); err != nil {
			s.logf("%v (will retry)", err)
		}
	}
}

// commit applies the pending functions, then fn when not nil, in one locked
// read-modify-write. When it fails the functions go back to the front of
// pending, to be applied to a fresh read next time.
func (s *Store) commit(fn func(*State)) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	p := &s.post
	p.mu.Lock()
	batch, upto := p.pending, p.posted
	p.pending = nil
	p.mu.Unlock()
	if fn == nil && len(batch) == 0 {
		return nil
	}
	err := s.transact(func(st *State) {
		for _, f := range batch {
			f(st)
		}
		if fn != nil {
			fn(st)
		}
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.pending = append(batch, p.pending...)
	} else {
		p.written = upto
		if cap(batch) <= maxSpare {
			clear(batch)
			p.spare = batch[:0]
		}
	}
	p.lastErr = err
	p.attempts++
	if p.changed != nil {
		close(p.changed)
		p.changed = make(chan struct{})
	}
	return err
}
