package lines

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// naive is what AppendPrefixed must do, a line at a time.
func naive(dst, prefix, chunk []byte) ([]byte, int) {
	n := 0
	for len(chunk) > 0 {
		line, rest, _ := bytes.Cut(chunk, []byte{'\n'})
		dst = append(append(append(dst, prefix...), line...), '\n')
		chunk = rest
		n++
	}
	return dst, n
}

func TestAppendPrefixed(t *testing.T) {
	tests := []struct {
		name, prefix, chunk, want string
		n                         int
	}{
		{"empty chunk", "a | ", "", "", 0},
		{"one line", "a | ", "x\n", "a | x\n", 1},
		{"open last line gets its newline", "a | ", "x\ny", "a | x\na | y\n", 2},
		{"empty lines keep their prefix", "a | ", "\n\n", "a | \na | \n", 2},
		{"no prefix", "", "x\ny\n", "x\ny\n", 2},
		{"line of exactly a word", "p ", "1234567\n", "p 1234567\n", 1},
		{"line past a word", "p ", "123456789012\n", "p 123456789012\n", 1},
		{"long prefix", strings.Repeat("P", 40), "x\n", strings.Repeat("P", 40) + "x\n", 1},
		{"prefix of exactly wide bytes", strings.Repeat("P", wide), "x\ny", strings.Repeat("P", wide) + "x\n" + strings.Repeat("P", wide) + "y\n", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n := AppendPrefixed([]byte("old"), []byte(tt.prefix), []byte(tt.chunk))
			if string(got) != "old"+tt.want || n != tt.n {
				t.Errorf("got %q, %d lines; want %q, %d", got, n, "old"+tt.want, tt.n)
			}
		})
	}
}

func TestAppendPrefixed_MatchesLineByLine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		prefix := bytes.Repeat([]byte{'p'}, rng.IntN(2*wide))
		var chunk []byte
		for range rng.IntN(40) {
			chunk = append(chunk, bytes.Repeat([]byte{'x'}, rng.IntN(3)*rng.IntN(20))...)
			chunk = append(chunk, '\n')
		}
		if rng.IntN(2) == 0 {
			chunk = append(chunk, "open"[:rng.IntN(5)]...)
		}
		// Room past the end of dst must not be read as output.
		dst := append(make([]byte, 0, rng.IntN(64)), "d"...)
		got, n := AppendPrefixed(dst, prefix, chunk)
		want, wn := naive([]byte("d"), prefix, chunk)
		if !bytes.Equal(got, want) || n != wn {
			t.Fatalf("case %d: prefix %d bytes, chunk %q:\ngot  %q (%d lines)\nwant %q (%d)", i, len(prefix), chunk, got, n, want, wn)
		}
	}
}

func TestAppendBoth_MatchesAppendPrefixed(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 2000 {
		pa := bytes.Repeat([]byte{'a'}, rng.IntN(wide+8))
		pb := bytes.Repeat([]byte{'b'}, rng.IntN(wide+8))
		var chunk []byte
		for range rng.IntN(60) {
			chunk = append(chunk, bytes.Repeat([]byte{'x'}, rng.IntN(3)*rng.IntN(20))...)
			chunk = append(chunk, '\n')
		}
		if rng.IntN(2) == 0 {
			chunk = append(chunk, "open"[:rng.IntN(5)]...)
		}
		a, b, n := AppendBoth([]byte("A"), pa, append(make([]byte, 0, rng.IntN(64)), "B"...), pb, chunk)
		wantA, wn := naive([]byte("A"), pa, chunk)
		wantB, _ := naive([]byte("B"), pb, chunk)
		if !bytes.Equal(a, wantA) || !bytes.Equal(b, wantB) || n != wn {
			t.Fatalf("case %d: prefixes %d and %d bytes, chunk %q:\ngot  %q\n     %q (%d lines)\nwant %q\n     %q (%d)",
				i, len(pa), len(pb), chunk, a, b, n, wantA, wantB, wn)
		}
	}
}

func FuzzAppendPrefixed(f *testing.F) {
	f.Add([]byte("a | "), []byte("1\n22\n333\nopen"))
	f.Add([]byte(strings.Repeat("t", 25)), []byte("12345678\n\n123456789\n"))
	f.Fuzz(func(t *testing.T, prefix, chunk []byte) {
		got, n := AppendPrefixed(nil, prefix, chunk)
		want, wn := naive(nil, prefix, chunk)
		if !bytes.Equal(got, want) || n != wn {
			t.Fatalf("got %q (%d lines), want %q (%d)", got, n, want, wn)
		}
		a, b, bn := AppendBoth(nil, prefix, nil, []byte("T "), chunk)
		wantB, _ := naive(nil, []byte("T "), chunk)
		if !bytes.Equal(a, want) || !bytes.Equal(b, wantB) || bn != wn {
			t.Fatalf("AppendBoth: got %q and %q (%d lines), want %q and %q (%d)", a, b, bn, want, wantB, wn)
		}
	})
}

// BenchmarkAppendPrefixed measures a 64 KiB chunk of the bench's lines
// (seq's numbers, 7 bytes) and of typical log lines (79), after the
// terminal's prefix and after a log file's time, against the line at a
// time loop it replaced.
func BenchmarkAppendPrefixed(b *testing.B) {
	lines := map[string]string{"seq": "1234567\n", "log": "2026-11-26T05:28:33Z INFO request handled path=/api/items status=200 dur=1.2ms\n"}
	prefixes := map[string]string{"name": "web    | ", "time": "2026-11-30T18:00:00.001Z "}
	for _, ln := range []string{"seq", "log"} {
		chunk := []byte(strings.Repeat(lines[ln], 64*1024/len(lines[ln])))
		nlines := bytes.Count(chunk, []byte{'\n'})
		for _, pn := range []string{"name", "time"} {
			prefix := []byte(prefixes[pn])
			for _, impl := range []struct {
				name string
				f    func(dst, prefix, chunk []byte) ([]byte, int)
			}{{"fast", AppendPrefixed}, {"naive", naive}} {
				b.Run(fmt.Sprintf("%s/%s/%s", ln, pn, impl.name), func(b *testing.B) {
					var out []byte
					b.SetBytes(int64(len(chunk)))
					for b.Loop() {
						out, _ = impl.f(out[:0], prefix, chunk)
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nlines), "ns/line")
				})
			}
		}
	}
}

// BenchmarkAppendBoth measures a 64 KiB chunk of seq's numbers made into
// the terminal's lines and the log file's at once, against two
// AppendPrefixed.
func BenchmarkAppendBoth(b *testing.B) {
	chunk := []byte(strings.Repeat("1234567\n", 64*1024/8))
	nlines := bytes.Count(chunk, []byte{'\n'})
	pa, pb := []byte("web    | "), []byte("2026-11-30T18:00:00.001Z ")
	var x, y []byte
	b.Run("both", func(b *testing.B) {
		for b.Loop() {
			x, y, _ = AppendBoth(x[:0], pa, y[:0], pb, chunk)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nlines), "ns/line")
	})
	b.Run("twice", func(b *testing.B) {
		for b.Loop() {
			x, _ = AppendPrefixed(x[:0], pa, chunk)
			y, _ = AppendPrefixed(y[:0], pb, chunk)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nlines), "ns/line")
	})
}
