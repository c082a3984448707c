// Command child is the process the benchmark starts and restarts: the first
// thing it does is report "PID UNIXNANO" (its start time) as one datagram to
// the unix socket named by PROCMAN_BENCH_SOCK; then it sleeps until it is
// killed, or until PROCMAN_BENCH_LIFE (a Go duration, default 3m) is over,
// so that it always ends by itself.
//
// With PROCMAN_BENCH_TICK set (a Go duration), it ticks instead of
// sleeping: every TICK it prints "SEQ UNIXNANO" to stdout, SEQ counting
// from 1 and UNIXNANO read just before the write, until its life is over.
//
// With PROCMAN_BENCH_LINES=N, it first prints N lines of lineSize bytes
// each ("SEQ/N", then filler), in writes of many lines, before it sleeps or
// ticks.
//
// It uses the syscall package only, to keep its start-up as small as a Go
// program's can be: the floor and procman start the same binary.
package main

import (
	"os"
	"strconv"
	"syscall"
	"time"
)

func main() {
	now := time.Now().UnixNano()
	if sock := os.Getenv("PROCMAN_BENCH_SOCK"); sock != "" {
		msg := strconv.Itoa(os.Getpid()) + " " + strconv.FormatInt(now, 10)
		if err := report(sock, msg); err != nil {
			os.Stderr.WriteString("child: report: " + err.Error() + "\n")
			os.Exit(1)
		}
	}
	if n, err := strconv.Atoi(os.Getenv("PROCMAN_BENCH_LINES")); err == nil && n > 0 {
		if err := printLines(n); err != nil {
			os.Exit(1)
		}
	}
	life := 3 * time.Minute
	if d, err := time.ParseDuration(os.Getenv("PROCMAN_BENCH_LIFE")); err == nil {
		life = d
	}
	if d, err := time.ParseDuration(os.Getenv("PROCMAN_BENCH_TICK")); err == nil && d > 0 {
		tick(d, time.Now().Add(life))
		return
	}
	time.Sleep(life)
}

// tick prints "SEQ UNIXNANO" to stdout every d until end.
func tick(d time.Duration, end time.Time) {
	t := time.NewTicker(d)
	defer t.Stop()
	buf := make([]byte, 0, 64)
	for seq := int64(1); time.Now().Before(end); seq++ {
		<-t.C
		buf = strconv.AppendInt(buf[:0], seq, 10)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, time.Now().UnixNano(), 10)
		buf = append(buf, '\n')
		if _, err := os.Stdout.Write(buf); err != nil {
			os.Exit(1) // the reader is gone
		}
	}
}

// lineSize is the length of each line printLines prints, newline
// included: about what a web server's access log line is.
const lineSize = 100

// printLines prints "SEQ/N" and filler for SEQ from 1 to n, lineSize bytes
// a line, 64 KiB or so a write.
func printLines(n int) error {
	total := strconv.Itoa(n)
	buf := make([]byte, 0, 64<<10+lineSize)
	for seq := 1; seq <= n; seq++ {
		start := len(buf)
		buf = strconv.AppendInt(buf, int64(seq), 10)
		buf = append(buf, '/')
		buf = append(buf, total...)
		buf = append(buf, " GET /api/items 200 0.4ms "...)
		for len(buf)-start < lineSize-1 {
			buf = append(buf, 'x')
		}
		buf = append(buf, '\n')
		if len(buf) >= 64<<10 || seq == n {
			if _, err := os.Stdout.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	return nil
}

// report sends msg as one datagram to the unix socket at path.
func report(path, msg string) error {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	return syscall.Sendto(fd, []byte(msg), 0, &syscall.SockaddrUnix{Name: path})
}
