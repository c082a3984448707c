package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Dir is the name of procman's folder beside the Procfile.
const Dir = ".procman"

// Names of the files in Dir.
const (
	stateFile      = "state.json"
	tempFile       = "state.json.tmp" // only the state.lock holder writes it
	stateLockFile  = "state.lock"
	supervisorFile = "supervisor.lock"
)

// Store reads and writes the state of one project. Its methods are safe for
// concurrent use, by goroutines and by processes. Set Logf and Now, if at
// all, before the first call.
type Store struct {
	// Logf receives warnings: a corrupt state file moved aside, a failed
	// background write. Nil discards them.
	Logf func(format string, args ...any)
	// Now is the clock for LastUpdated and the corrupt file's name. Nil
	// means time.Now.
	Now func() time.Time
	// NoSync skips the fsyncs of a write: every write stays atomic against
	// a kill, but a power cut may lose it, or tear the file (then the state
	// before it is used, if intact). For procman run, whose record of exits
	// is not worth a millisecond of every run.
	NoSync bool
	// Coalesce is how long the background writer waits after being woken
	// so that updates posted close together (a restart's exit and start)
	// share one write, off the restart's critical path. Flush and Close do
	// not wait for it.
	Coalesce time.Duration

	dir     string       // the .procman folder
	writeMu sync.Mutex   // one read-modify-write at a time in this process: flock is per open file, not per process
	writes  atomic.Int64 // state files written, for tests
	syncs   atomic.Int64 // of those, synced to disk, for tests
	decodes atomic.Int64 // state files decoded, for tests

	noExchange atomic.Bool // the file system cannot exchange two files: rename

	post poster // the background writer behind Post

	preMu sync.Mutex
	pre   *preloaded // what preload read, for the next read
	warm  bool       // preload has encoded once
}

// preloaded is the state file as preload read and decoded it.
type preloaded struct {
	data []byte
	st   *State
}

// Open returns the store of the project in projectDir, creating its
// .procman folder (mode 0700) when needed. projectDir must exist.
func Open(projectDir string) (*Store, error) {
	dir := filepath.Join(projectDir, Dir)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("open state: %w", err)
	}
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("open state: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("open state: %s is not a folder", dir)
	}
	return &Store{dir: dir}, nil
}

// Path returns the path of the state file.
func (s *Store) Path() string { return s.path(stateFile) }

func (s *Store) path(name string) string { return filepath.Join(s.dir, name) }

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Store) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

// Read returns the state on disk, or an empty State when there is none. A
// corrupt or unreadable state.json is renamed to
// state.json.corrupt-<unix-time> with a warning to Logf, and Read returns an
// empty State. A file written by a newer procman is an error, and is left
// alone.
func (s *Store) Read() (*State, error) {
	st, err := s.load()
	var ce *corruptError
	if !errors.As(err, &ce) {
		return st, err
	}
	// Check again under the lock: a writer may have replaced the file since,
	// and a good file must never be moved aside.
	unlock, err := s.lockState()
	if err != nil {
		return nil, err
	}
	defer unlock()
	return s.readLocked()
}

// Status returns the state on disk corrected by what can be observed now:
// Active and PID from the supervisor lock, and Running (with PGID) from
// whether each recorded process group is still provably procman's own.
func (s *Store) Status() (*State, error) {
	st, err := s.Read()
	if err != nil {
		return nil, err
	}
	pid, active := s.Supervisor()
	st.Active = active
	if active || st.PID == 0 {
		st.PID = pid
	}
	live := map[string]bool{}
	for _, o := range st.Orphans() {
		live[o.Task] = true
	}
	for name, t := range st.Tasks {
		if t.Running && !live[name] {
			t.Running, t.PGID = false, nil
		}
	}
	return st, nil
}

// Update applies fn to the state on disk and writes the result, all under
// a short exclusive lock on .procman/state.lock, so that concurrent Updates
// from several processes never lose one another's changes. Functions Posted
// before Update are applied first, in order. The write is atomic: a kill at
// any moment leaves the old file or the new one. fn must not call the Store.
func (s *Store) Update(fn func(*State)) error {
	return s.commit(fn)
}

// transact does one locked read-modify-write.
func (s *Store) transact(fn func(*State)) error {
	unlock, err := s.lockState()
	if err != nil {
		return err
	}
	defer unlock()
	st, err := s.readLocked()
	if err != nil {
		return err
	}
	fn(st)
	st.normalize()
	st.Version = Version
	st.LastUpdated = s.now()
	return s.write(st, !s.NoSync)
}

// corruptError is a state file that exists but cannot be used.
type corruptError struct{ err error }

func (e *corruptError) Error() string { return e.err.Error() }

// load reads and decodes the state file without any lock. The state that
// preload decoded stands in when the file holds the same bytes.
func (s *Store) load() (*State, error) {
	b, err := os.ReadFile(s.Path())
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return New(), nil
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE), errors.Is(err, syscall.ENOMEM):
		return nil, fmt.Errorf("read state: %w", err) // the process's trouble, not the file's
	case err != nil:
		return nil, &corruptError{err}
	}
	if pre := s.takePreloaded(); pre != nil && bytes.Equal(pre.data, b) {
		return pre.st, nil
	}
	return s.decode(b)
}

// decode parses the contents of a state file.
func (s *Store) decode(b []byte) (*State, error) {
	s.decodes.Add(1)
	st := &State{}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, &corruptError{err}
	}
	if st.Version <= 0 {
		return nil, &corruptError{errors.New("no version")}
	}
	if st.Version > Version {
		return nil, fmt.Errorf("read state: %s has version %d, newer than this procman understands (%d)",
			s.Path(), st.Version, Version)
	}
	st.normalize()
	return st, nil
}

// preload reads and decodes the state file, without the lock, for the
// next read under it: the background writer does this while it waits for
// updates to coalesce (for procman run, while the task runs), and the
// write after the wait then skips decoding when the file holds the same
// bytes. The first preload also encodes the state once, so that the
// write's encoding finds JSON's reflection done (cold, both directions
// together are ~0.1 ms of a run).
func (s *Store) preload() {
	b, err := os.ReadFile(s.Path())
	if err != nil {
		return
	}
	st, err := s.decode(b)
	if err != nil {
		return
	}
	s.preMu.Lock()
	warm := !s.warm
	s.warm = true
	s.preMu.Unlock()
	if warm {
		_, _ = json.MarshalIndent(st, "", "  ")
	}
	s.preMu.Lock()
	s.pre = &preloaded{data: b, st: st}
	s.preMu.Unlock()
}

// takePreloaded returns what preload read, once; nil when there is none.
func (s *Store) takePreloaded() *preloaded {
	s.preMu.Lock()
	defer s.preMu.Unlock()
	p := s.pre
	s.pre = nil
	return p
}

// readLocked is load for a holder of the state lock: a corrupt file is moved
// aside and an empty State returned.
func (s *Store) readLocked() (*State, error) {
	st, err := s.load()
	var ce *corruptError
	if !errors.As(err, &ce) {
		return st, err
	}
	base := s.path(fmt.Sprintf("%s.corrupt-%d", stateFile, s.now().Unix()))
	target := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(target); errors.Is(err, fs.ErrNotExist) {
			break
		}
		target = fmt.Sprintf("%s.%d", base, i)
	}
	if err := os.Rename(s.Path(), target); err != nil {
		return nil, fmt.Errorf("move corrupt state aside: %w", err)
	}
	// The temporary file holds the state before the last write (writes
	// swap the two). A power cut after a write that skipped the fsync can
	// tear state.json; the state before it is then the best there is.
	if b, err := os.ReadFile(s.path(tempFile)); err == nil {
		if prev, err := s.decode(b); err == nil {
			s.logf("state file %s is corrupt (%v); moved it to %s and went back to the state before the last write", s.Path(), ce, target)
			return prev, nil
		}
	}
	s.logf("state file %s is corrupt (%v); moved it to %s and starting with empty state", s.Path(), ce, target)
	return New(), nil
}

// write replaces the state file atomically: the new state goes into the
// temporary file (fsync), which then trades places with state.json in one
// atomic exchange (fsync the folder); the old state stays behind in the
// temporary file, to be overwritten by the next write. Where the file
// system cannot exchange (or on the first write), a rename over state.json
// does the same.
//
// Keeping both files, rather than a new temporary file per write, spares
// ext4 an inode allocation (slow once many were deleted nearby, as after
// many runs) and the writeback it starts when a rename replaces a file
// (auto_da_alloc): 17 µs a write here, against 160-200 µs.
func (s *Store) write(st *State, sync bool) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	b = append(b, '\n')
	tmp := s.path(tempFile)
	if err := writeFile(tmp, b, sync); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := s.replace(tmp, s.Path()); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write state: %w", err)
	}
	s.writes.Add(1)
	if !sync {
		return nil
	}
	s.syncs.Add(1)
	// The new state is in place: failing now would make callers apply their
	// changes twice, so a folder that cannot be synced only earns a warning.
	if err := syncDir(s.dir); err != nil {
		s.logf("state file %s written, but its folder could not be synced: %v", s.Path(), err)
	}
	return nil
}

// replace puts tmp in place of path, atomically; tmp then holds what path
// held, or is gone.
func (s *Store) replace(tmp, path string) error {
	if !s.noExchange.Load() {
		err := exchange(tmp, path)
		if err == nil {
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) { // not merely the first write
			s.noExchange.Store(true)
		}
	}
	return os.Rename(tmp, path)
}

// writeFile makes the file at name (mode 0600) hold exactly b and, with
// sync, syncs it to disk. It writes over what the file held rather than
// truncating it first: on ext4 a truncation to zero starts writeback at
// close. It removes the file when that fails.
func writeFile(name string, b []byte, sync bool) (err error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(name)
		}
	}()
	err = f.Chmod(0o600) // a file left by a killed writer keeps its old mode
	if err == nil {
		_, err = f.WriteAt(b, 0)
	}
	if err == nil {
		err = f.Truncate(int64(len(b)))
	}
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a rename in dir durable. File systems that cannot sync a
// folder say EINVAL or ENOTSUP; there is nothing more to do on them.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil
	}
	return err
}
