package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// timedLine is a line read, and when.
type timedLine struct {
	at   time.Time
	text string
}

// tickLines reads r line by line onto the channel it returns, each line
// with the time it was read, until r ends (then it closes the channel) or
// done is closed; it closes r.
func tickLines(r *os.File, done <-chan struct{}) <-chan timedLine {
	ch := make(chan timedLine, 64)
	go func() {
		defer r.Close()
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			select {
			case ch <- timedLine{at: time.Now(), text: sc.Text()}:
			case <-done:
				return
			}
		}
	}()
	return ch
}

// collectTicks reads lines of the ticker, "SEQ UNIXNANO" after procman's
// "NAME | " when there is one, and returns the latency of n lines after
// the first tickWarmup: the time each was read less the time it was
// written; and how many lines never came (gaps in SEQ). It fails when the
// lines end, or n did not come within wait.
func collectTicks(ctx context.Context, lines <-chan timedLine, n int, wait time.Duration) ([]time.Duration, int, error) {
	t := time.NewTimer(wait)
	defer t.Stop()
	var lat []time.Duration
	seen, lost, prev := 0, 0, int64(0)
	for len(lat) < n {
		var l timedLine
		var ok bool
		select {
		case l, ok = <-lines:
		case <-t.C:
			return nil, 0, fmt.Errorf("%d of %d lines within %v", len(lat), n, wait)
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
		if !ok {
			return nil, 0, fmt.Errorf("output ended after %d of %d lines", len(lat), n)
		}
		seq, sent, err := parseTick(l.text)
		if err != nil {
			return nil, 0, err
		}
		if prev > 0 && seq > prev+1 {
			lost += int(seq - prev - 1)
		}
		prev = seq
		if seen++; seen > tickWarmup {
			lat = append(lat, l.at.Sub(sent))
		}
	}
	return lat, lost, nil
}

// parseTick reads "SEQ UNIXNANO", after "NAME | " when there is one.
func parseTick(line string) (seq int64, sent time.Time, err error) {
	text := line
	if i := strings.LastIndex(line, " | "); i >= 0 {
		text = line[i+3:]
	}
	f := strings.Fields(text)
	if len(f) == 2 {
		seq, err = strconv.ParseInt(f[0], 10, 64)
		ns, err2 := strconv.ParseInt(f[1], 10, 64)
		if err = errors.Join(err, err2); err == nil {
			return seq, time.Unix(0, ns), nil
		}
	}
	return 0, time.Time{}, fmt.Errorf("not a tick: %q", line)
}
