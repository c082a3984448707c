// Command child is the process the benchmark starts and restarts: the first
// thing it does is report "PID UNIXNANO" (its start time) as one datagram to
// the unix socket named by PROCMAN_BENCH_SOCK; then it sleeps until it is
// killed, or until PROCMAN_BENCH_LIFE (a Go duration, default 3m) is over,
// so that it always ends by itself.
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
	life := 3 * time.Minute
	if d, err := time.ParseDuration(os.Getenv("PROCMAN_BENCH_LIFE")); err == nil {
		life = d
	}
	time.Sleep(life)
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
