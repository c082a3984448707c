package tui

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/procman/procman/control"
)

// BenchmarkFrame is a frame of the dashboard while two tasks print 1,000
// lines a second each: a batch of 66 lines in, on 10,000 kept, the view,
// and the rows that changed written out.
func BenchmarkFrame(b *testing.B) {
	var m Model = New(&fakeSource{}, func(Msg) {}, Options{Color: true})
	m, _ = m.Update(SizeMsg{80, 24})
	m, _ = m.Update(psMsg{ps: snapshot(), at: t0})
	m, _ = m.Update(lines("api", 1, maxLines))
	scr := &screen{w: bufio.NewWriterSize(io.Discard, 64<<10)}
	var batches []linesMsg
	for i := range 64 {
		batches = append(batches, append(lines("api", i*33, 33), lines("web.1", i*33, 33)...))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m, _ = m.Update(batches[i%len(batches)])
		scr.draw(m.View())
	}
}

// BenchmarkView is the view alone, of the same dashboard.
func BenchmarkView(b *testing.B) {
	var m Model = New(&fakeSource{}, func(Msg) {}, Options{Color: true})
	m, _ = m.Update(SizeMsg{80, 24})
	m, _ = m.Update(psMsg{ps: snapshot(), at: t0})
	m, _ = m.Update(lines("api", 1, maxLines))
	b.ReportAllocs()
	for b.Loop() {
		m.View()
	}
}

// BenchmarkDecodeBatch is a reply of 66 lines decoded, as the output
// stream's client does for each.
func BenchmarkDecodeBatch(b *testing.B) {
	var ls []control.Line
	for i := range 66 {
		ls = append(ls, control.Line{Seq: uint64(1e6 + i), Task: "a", Time: t0, Stream: "stdout", Text: fmt.Sprintf("%d/66 GET /items/%d 200 0.4ms %080d", i, i, i)})
	}
	data, err := json.Marshal(control.Reply{V: 1, ID: 2, Lines: ls})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var r control.Reply
		if err := json.Unmarshal(data, &r); err != nil {
			b.Fatal(err)
		}
	}
}
