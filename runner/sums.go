package runner

import (
	"hash/crc64"
	"io"
	"os"
	"sync"

	"github.com/procman/procman/watch"
)

// fileSum is what a changed file held when it last made a task act.
type fileSum struct {
	size int64
	crc  uint64
}

// maxSummed is the largest file whose content is compared: a bigger one
// counts as changed whenever it is written.
const maxSummed = 64 << 20

// sumTable is the CRC-64 table of fileSum, built on first use.
var sumTable = sync.OnceValue(func() *crc64.Table { return crc64.MakeTable(crc64.ECMA) })

// sumOf returns the size and CRC-64 of the file at p; false when p is no
// regular file or is too big to read for this.
func sumOf(p string) (fileSum, bool) {
	f, err := os.Open(p)
	if err != nil {
		return fileSum{}, false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > maxSummed {
		return fileSum{}, false
	}
	h := crc64.New(sumTable())
	n, err := io.Copy(h, f)
	if err != nil {
		return fileSum{}, false
	}
	return fileSum{size: n, crc: h.Sum64()}, true
}

// sameAsLast drops from b the files that hold what they held the last time
// they made n act. A task that writes into the folder it watches (go
// build's binary beside the sources, a report, a cache) would otherwise
// act again on its own output for ever: its second run writes the same
// bytes, and that is no change. A file seen the first time, deleted, or
// too big to compare counts, as does every path of a batch that lost
// events. Call it holding triggerMu.
func (r *Runner) sameAsLast(n *node, b watch.Batch) watch.Batch {
	if b.Overflow {
		return b
	}
	if n.sums == nil {
		n.sums = map[string]fileSum{}
	}
	kept := b
	kept.Paths = nil
	for _, p := range b.Paths {
		sum, ok := sumOf(p)
		switch {
		case !ok:
			delete(n.sums, p)
		case n.sums[p] == sum:
			r.out.Logf(Debug, "%s: %s holds what it held when it last made %s act", n.t.Name, r.rel([]string{p})[0], n.t.Name)
			continue
		default:
			n.sums[p] = sum
		}
		kept.Paths = append(kept.Paths, p)
	}
	return kept
}
