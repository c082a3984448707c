package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// BusyError is returned by Acquire when another process supervises the
// project.
type BusyError struct {
	// PID is the supervising process, as recorded in its lock file.
	PID int
}

// Error returns the message the CLI prints before exiting 2.
func (e *BusyError) Error() string {
	return fmt.Sprintf("another procman (pid %d) is supervising this project", e.PID)
}

// Acquire takes the supervisor lock, .procman/supervisor.lock, without
// waiting, and records this process's pid in it. When another process holds
// it, the error is a *BusyError naming that process. The lock lasts until
// release is called or the process ends, however it ends; processes started
// meanwhile do not inherit it. release may be called more than once.
func (s *Store) Acquire() (release func(), err error) {
	// Holding the state lock meanwhile makes taking the lock and recording
	// the pid one step for Supervisor and for other Acquires.
	unlock, err := s.lockState()
	if err != nil {
		return nil, fmt.Errorf("acquire supervisor lock: %w", err)
	}
	defer unlock()
	f, err := s.openLock(supervisorFile)
	if err != nil {
		return nil, fmt.Errorf("acquire supervisor lock: %w", err)
	}
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		pid := readPID(f)
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &BusyError{PID: pid}
		}
		return nil, fmt.Errorf("acquire supervisor lock: %w", err)
	}
	if err := writePID(f, os.Getpid()); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("acquire supervisor lock: %w", err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = flock(f, syscall.LOCK_UN)
			_ = f.Close()
		})
	}, nil
}

// Supervisor reports the pid recorded in the supervisor lock file (0 when
// no supervisor has run) and whether a live process holds the lock now. It
// creates nothing but state.lock, and works in a folder it cannot write,
// with less care for a supervisor starting at that very moment.
func (s *Store) Supervisor() (pid int, active bool) {
	if unlock, err := s.lockState(); err == nil {
		defer unlock()
	}
	f, err := os.Open(s.path(supervisorFile))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	pid = readPID(f)
	err = flock(f, syscall.LOCK_SH|syscall.LOCK_NB)
	if err == nil {
		_ = flock(f, syscall.LOCK_UN)
		return pid, false
	}
	return pid, errors.Is(err, syscall.EWOULDBLOCK)
}

// Probe is Supervisor for a client of the supervisor of the project
// whose .procman folder is stateDir: it opens nothing but the lock file,
// read-only, and takes no state lock: so a supervisor that is starting at
// that moment may be seen active with the pid of the one before it, or 0
// (Acquire records its pid after taking the lock), until its pid is
// written. A client cannot reach such a supervisor before it listens
// anyway, and probes again while it waits.
func Probe(stateDir string) (pid int, active bool) {
	fd, err := syscall.Open(stateDir+string(os.PathSeparator)+supervisorFile, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 0, false
	}
	defer syscall.Close(fd)
	b := make([]byte, 32)
	n, _ := syscall.Pread(fd, b, 0)
	pid = parsePID(b[:max(n, 0)])
	err = flockFD(fd, syscall.LOCK_SH|syscall.LOCK_NB)
	if err == nil {
		_ = flockFD(fd, syscall.LOCK_UN)
		return pid, false
	}
	return pid, errors.Is(err, syscall.EWOULDBLOCK)
}

// lockState takes the exclusive lock on .procman/state.lock, waiting for it,
// and returns the function that releases it. Every holder keeps it for one
// read-modify-write at most.
func (s *Store) lockState() (unlock func(), err error) {
	f, err := s.openLock(stateLockFile)
	if err != nil {
		return nil, fmt.Errorf("lock state: %w", err)
	}
	if err := flock(f, syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock state: %w", err)
	}
	return func() {
		_ = flock(f, syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}

// openLock opens (creating) lock file name in the .procman folder, making
// the folder again if someone removed it.
func (s *Store) openLock(name string) (*os.File, error) {
	f, err := os.OpenFile(s.path(name), os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, fs.ErrNotExist) {
		if merr := os.Mkdir(s.dir, 0o700); merr == nil || errors.Is(merr, fs.ErrExist) {
			f, err = os.OpenFile(s.path(name), os.O_RDWR|os.O_CREATE, 0o600)
		}
	}
	return f, err
}

// flock is syscall.Flock, retried when a signal interrupts it.
func flock(f *os.File, how int) error { return flockFD(int(f.Fd()), how) }

// flockFD is flock of a file descriptor.
func flockFD(fd, how int) error {
	for {
		err := syscall.Flock(fd, how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// writePID replaces the content of lock file f with pid.
func writePID(f *os.File, pid int) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(pid)+"\n"), 0)
	return err
}

// readPID returns the pid recorded in lock file f, 0 when there is none.
func readPID(f *os.File) int {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	return parsePID(b[:n])
}

// parsePID returns the pid that a lock file's content records, 0 when
// there is none.
func parsePID(b []byte) int {
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid < 0 {
		return 0
	}
	return pid
}
