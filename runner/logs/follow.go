package logs

import (
	"bytes"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// followBuffer is how many chunks a follower may fall behind before the
// book drops lines for it: a slow reader never slows a task.
const followBuffer = 1024

// Follower receives the lines of the tasks it follows as they are
// written.
type Follower struct {
	book    *Book
	names   []string     // the tasks followed; empty: all
	ch      chan []Line  // chunks of lines, in order
	skipped atomic.Int64 // lines dropped since TakeSkipped
	once    sync.Once    // guards closing ch
}

// Follow starts following the named tasks (every task when names is
// empty; a service's name follows its replicas too). Lines written from now on arrive on C; Stop ends it.
func (b *Book) Follow(names []string) *Follower {
	f := &Follower{book: b, names: slices.Clone(names), ch: make(chan []Line, followBuffer)}
	b.mu.Lock()
	b.subs[f] = true
	b.mu.Unlock()
	return f
}

// C delivers the followed lines, a chunk at a time, in the order they
// were printed. It is closed when the book closes or Stop is called.
func (f *Follower) C() <-chan []Line { return f.ch }

// TakeSkipped returns how many lines were dropped because the follower
// fell behind, since the last call.
func (f *Follower) TakeSkipped() int { return int(f.skipped.Swap(0)) }

// Stop ends the following.
func (f *Follower) Stop() {
	f.book.mu.Lock()
	delete(f.book.subs, f)
	f.book.mu.Unlock()
	f.close()
}

func (f *Follower) close() { f.once.Do(func() { close(f.ch) }) }

// publish gives a chunk to every follower of task; b.mu is held. The
// chunk is copied once for all of them.
func (b *Book) publish(task string, first uint64, at time.Time, stderr bool, chunk []byte) {
	var lines []Line
	for f := range b.subs {
		if !Matches(f.names, task) {
			continue
		}
		if lines == nil {
			lines = split(task, first, at, stderr, chunk)
		}
		select {
		case f.ch <- lines:
		default:
			f.skipped.Add(int64(len(lines)))
		}
	}
}

// split copies chunk into Lines numbered from first.
func split(task string, first uint64, at time.Time, stderr bool, chunk []byte) []Line {
	text := slices.Clone(chunk)
	var lines []Line
	for seq := first; len(text) > 0; seq++ {
		line := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i:i], text[i+1:]
		} else {
			text = nil
		}
		lines = append(lines, Line{Seq: seq, Task: task, Time: at, Stderr: stderr, Text: line})
	}
	return lines
}
