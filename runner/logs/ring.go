package logs

import (
	"bytes"
	"time"
)

// The tail of each task: its last maxChunks chunks (each one read from the
// task's pipe, of one or more lines), within maxBytes of text. It starts
// small and grows by doubling, so that a quiet task costs little. Both
// are powers of two.
const (
	maxChunks = 1 << 12
	maxBytes  = 1 << 20
)

// ring is a task's tail: chunk texts in a circular byte buffer, and a
// circular list of records saying where each chunk is. A chunk's bytes are
// valid while they are within the last len(buf) bytes appended. Whole
// chunks, not lines, are recorded: the cost on the path of every line is
// one copy of its bytes.
type ring struct {
	buf   []byte   // circular text, len a power of two
	total uint64   // bytes appended ever: the absolute end
	recs  []record // circular, len a power of two
	next  uint64   // records appended ever
}

// record is one chunk of the tail.
type record struct {
	seq    uint64 // its first line's number across tasks
	lines  int    // how many lines it holds
	at     int64  // when it was read, Unix nanoseconds
	off    uint64 // absolute offset of its first byte in buf
	n      int    // its length
	stderr bool
}

// add appends a chunk of lines numbered from seq.
func (r *ring) add(seq uint64, lines int, at time.Time, stderr bool, chunk []byte) {
	if uint64(len(r.buf)) < r.total+uint64(len(chunk)) && len(r.buf) < maxBytes || len(r.buf) < len(chunk) {
		r.grow(len(chunk))
	}
	if len(r.recs) == 0 {
		r.recs = make([]record, 16)
	} else if r.next >= uint64(len(r.recs)) && len(r.recs) < maxChunks {
		r.recs = regrow(r.recs, r.next)
	}
	r.recs[r.next%uint64(len(r.recs))] = record{seq: seq, lines: lines, at: at.UnixNano(), off: r.total, n: len(chunk), stderr: stderr}
	r.next++
	size := uint64(len(r.buf))
	for len(chunk) > 0 {
		n := copy(r.buf[r.total%size:], chunk)
		chunk = chunk[n:]
		r.total += uint64(n)
	}
}

// grow doubles buf, keeping its content, until a chunk of n bytes fits
// beside what it holds (up to maxBytes), or alone.
func (r *ring) grow(n int) {
	size := max(len(r.buf), 4096)
	for size < maxBytes && uint64(size) < r.total+uint64(n) {
		size *= 2
	}
	for size < n {
		size *= 2
	}
	if size == len(r.buf) {
		return
	}
	old := r.buf
	r.buf = make([]byte, size)
	if len(old) == 0 {
		return
	}
	keep := min(uint64(len(old)), r.total)
	for off := r.total - keep; off < r.total; { // to their absolute offsets, a run at a time
		src, dst := off%uint64(len(old)), off%uint64(size)
		n := min(uint64(len(old))-src, uint64(size)-dst, r.total-off)
		copy(r.buf[dst:dst+n], old[src:src+n])
		off += n
	}
}

// regrow doubles the record list, keeping records in place by number.
func regrow(recs []record, next uint64) []record {
	out := make([]record, len(recs)*2)
	for i := next - uint64(len(recs)); i < next; i++ {
		out[i%uint64(len(out))] = recs[i%uint64(len(recs))]
	}
	return out
}

// last appends to out up to n of the task's last lines whose text is
// still held, oldest first.
func (r *ring) last(task string, n int, out []Line) []Line {
	if n <= 0 || r.next == 0 {
		return out
	}
	// Walk back over whole chunks until they hold n lines.
	first, lines := r.next, 0
	oldest := r.next - min(r.next, uint64(len(r.recs)))
	for first > oldest && lines < n {
		rec := r.recs[(first-1)%uint64(len(r.recs))]
		if r.total-rec.off > uint64(len(r.buf)) {
			break // its text is overwritten
		}
		first--
		lines += rec.lines
	}
	skip := max(0, lines-n)
	for i := first; i < r.next; i++ {
		rec := r.recs[i%uint64(len(r.recs))]
		text := r.read(rec.off, rec.n)
		at := time.Unix(0, rec.at)
		for seq := rec.seq; len(text) > 0; seq++ {
			line := text
			if j := bytes.IndexByte(text, '\n'); j >= 0 {
				line, text = text[:j:j], text[j+1:]
			} else {
				text = nil
			}
			if skip > 0 {
				skip--
				continue
			}
			out = append(out, Line{Seq: seq, Task: task, Time: at, Stderr: rec.stderr, Text: line})
		}
	}
	return out
}

// read copies n bytes from absolute offset off.
func (r *ring) read(off uint64, n int) []byte {
	out := make([]byte, n)
	size := uint64(len(r.buf))
	for done := 0; done < n; {
		at := (off + uint64(done)) % size
		done += copy(out[done:], r.buf[at:min(size, at+uint64(n-done))])
	}
	return out
}
