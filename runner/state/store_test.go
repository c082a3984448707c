package state

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fixedNow is the clock of the tests that look at times.
var fixedNow = time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC) // unix 1700000000

// logBook collects a Store's warnings.
type logBook struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBook) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

// Lines returns the warnings so far.
func (l *logBook) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// openStore opens a store on a new project folder, with the fixed clock and
// its warnings collected in logs.
func openStore(t testing.TB) (s *Store, logs *logBook) {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	logs = &logBook{}
	s.Now = func() time.Time { return fixedNow }
	s.Logf = logs.logf
	return s, logs
}

func mustRead(t testing.TB, s *Store) *State {
	t.Helper()
	st, err := s.Read()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestRead_NoFileIsEmptyState(t *testing.T) {
	s, _ := openStore(t)
	st := mustRead(t, s)
	b, _ := json.Marshal(st)
	want := `{"version":1,"active":false,"pid":0,"run_id":"","boot_id":"","last_updated":"0001-01-01T00:00:00Z","event_counter":0,"tasks":{},"errors":[]}`
	if string(b) != want {
		t.Errorf("empty state:\n got %s\nwant %s", b, want)
	}
}

func TestUpdate_WritesWhatReadReturns(t *testing.T) {
	s, _ := openStore(t)
	code := 3
	err := s.Update(func(st *State) {
		st.PID = 42
		web := st.Task("web")
		web.Runs, web.LastExit, web.Status = 2, &code, "exited"
	})
	if err != nil {
		t.Fatal(err)
	}
	st := mustRead(t, s)
	if st.PID != 42 || st.Tasks["web"].Runs != 2 || *st.Tasks["web"].LastExit != 3 || st.Tasks["web"].Status != "exited" {
		t.Errorf("read back %+v, web %+v", st, st.Tasks["web"])
	}
	if !st.LastUpdated.Equal(fixedNow) {
		t.Errorf("last_updated = %v, want the store's clock %v", st.LastUpdated, fixedNow)
	}
}

func TestOpen_Modes(t *testing.T) {
	s, _ := openStore(t)
	if err := s.Update(func(st *State) { st.PID = 1 }); err != nil {
		t.Fatal(err)
	}
	release, err := s.Acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	for name, want := range map[string]fs.FileMode{
		"":             fs.ModeDir | 0o700,
		stateFile:      0o600,
		stateLockFile:  0o600,
		supervisorFile: 0o600,
	} {
		fi, err := os.Stat(filepath.Join(s.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", filepath.Join(Dir, name), fi.Mode(), want)
		}
	}
	if _, err := os.Stat(s.path(tempFile)); !os.IsNotExist(err) {
		t.Errorf("temporary file left behind: %v", err)
	}
}

func TestOpen_Errors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, Dir), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, dir, want string }{
		{"missing project", filepath.Join(dir, "nope"), "open state: mkdir " + filepath.Join(dir, "nope", Dir) + ": no such file or directory"},
		{"file in the way", dir, "open state: " + filepath.Join(dir, Dir) + " is not a folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(tc.dir)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestRead_CorruptFileIsMovedAside(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content string // "" with dir: state.json is a folder
		dir     bool
		cause   string
	}{
		{name: "truncated", content: `{"version": 1, "tasks": {`, cause: "unexpected end of JSON input"},
		{name: "not json", content: "hello", cause: "invalid character 'h' looking for beginning of value"},
		{name: "empty", content: "", cause: "unexpected end of JSON input"},
		{name: "no version", content: `{"tasks": {}}`, cause: "no version"},
		{name: "trailing garbage", content: `{"version": 1}x`, cause: "invalid character 'x' after top-level value"},
		{name: "wrong type", content: `{"version": 1, "tasks": 5}`, cause: "json: cannot unmarshal number into Go struct field State.tasks of type map[string]*state.Task"},
		{name: "unreadable", dir: true, cause: "read STATE: is a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, logs := openStore(t)
			if tc.dir {
				if err := os.Mkdir(s.Path(), 0o700); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(s.Path(), []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			st := mustRead(t, s)
			if len(st.Tasks) != 0 || st.Version != Version {
				t.Errorf("read %+v, want empty state", st)
			}
			aside := s.Path() + ".corrupt-1700000000"
			cause := strings.ReplaceAll(tc.cause, "STATE", s.Path())
			want := []string{"state file " + s.Path() + " is corrupt (" + cause + "); moved it to " + aside + " and starting with empty state"}
			if fmt.Sprint(logs.Lines()) != fmt.Sprint(want) {
				t.Errorf("warnings:\n got %q\nwant %q", logs.Lines(), want)
			}
			if !tc.dir {
				if b, err := os.ReadFile(aside); err != nil || string(b) != tc.content {
					t.Errorf("moved-aside file holds %q (%v), want the corrupt content", b, err)
				}
			}
			if err := s.Update(func(st *State) { st.Task("web").Runs++ }); err != nil {
				t.Fatal(err)
			}
			if st := mustRead(t, s); st.Tasks["web"].Runs != 1 {
				t.Errorf("after Update: runs = %d, want 1", st.Tasks["web"].Runs)
			}
		})
	}
}

func TestUpdate_CorruptFileIsMovedAsideOnceAndNamesDoNotCollide(t *testing.T) {
	s, logs := openStore(t)
	for i := range 3 {
		if err := os.WriteFile(s.Path(), []byte("bad"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.Update(func(st *State) { st.EventCounter = int64(i) + 10 }); err != nil {
			t.Fatal(err)
		}
	}
	ents, _ := os.ReadDir(s.dir)
	var aside []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), stateFile+".corrupt-") {
			aside = append(aside, e.Name())
		}
	}
	want := []string{"state.json.corrupt-1700000000", "state.json.corrupt-1700000000.2", "state.json.corrupt-1700000000.3"}
	if fmt.Sprint(aside) != fmt.Sprint(want) || len(logs.Lines()) != 3 {
		t.Errorf("moved aside %q with %d warnings, want %q with 3", aside, len(logs.Lines()), want)
	}
	if st := mustRead(t, s); st.EventCounter != 12 {
		t.Errorf("event_counter = %d, want 12", st.EventCounter)
	}
}

func TestRead_NewerVersionIsRefusedAndKept(t *testing.T) {
	s, logs := openStore(t)
	content := `{"version": 2, "pid": 7}`
	if err := os.WriteFile(s.Path(), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	want := "read state: " + s.Path() + " has version 2, newer than this procman understands (1)"
	if _, err := s.Read(); err == nil || err.Error() != want {
		t.Errorf("Read: %v, want %q", err, want)
	}
	if err := s.Update(func(st *State) { st.PID = 1 }); err == nil || err.Error() != want {
		t.Errorf("Update: %v, want %q", err, want)
	}
	if b, _ := os.ReadFile(s.Path()); string(b) != content || len(logs.Lines()) != 0 {
		t.Errorf("file now %q, warnings %q: want it untouched, no warnings", b, logs.Lines())
	}
}

func TestUpdate_RecreatesRemovedFolder(t *testing.T) {
	s, _ := openStore(t)
	if err := os.RemoveAll(s.dir); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(st *State) { st.PID = 5 }); err != nil {
		t.Fatal(err)
	}
	if st := mustRead(t, s); st.PID != 5 {
		t.Errorf("pid = %d, want 5", st.PID)
	}
}

// TestUpdate_KillNineNeverTearsTheFile kills a process that writes the state
// in a tight loop at random moments: after every kill the file parses, and
// it never goes back in time.
func TestUpdate_KillNineNeverTearsTheFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 50 processes")
	}
	s, logs := openStore(t)
	project := filepath.Dir(s.dir)
	var last int64
	midWrite := 0
	deadline := time.Now().Add(20 * time.Second)
	for round := 0; round < 50 && time.Now().Before(deadline); round++ {
		h := startHelper(t, "update-loop", project)
		h.expect(t, "ready")
		time.Sleep(time.Duration(rand.N(3000)) * time.Microsecond) // when to kill, not synchronisation
		if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = h.cmd.Wait()
		if b, err := os.ReadFile(s.path(tempFile)); err == nil && !json.Valid(b) {
			midWrite++
		}
		b, err := os.ReadFile(s.Path())
		if err != nil {
			t.Fatal(err)
		}
		var st State
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatalf("round %d: torn state file: %v", round, err)
		}
		if st.EventCounter < last || st.Version != Version {
			t.Fatalf("round %d: event_counter %d after %d, version %d", round, st.EventCounter, last, st.Version)
		}
		last = st.EventCounter
	}
	t.Logf("%d updates in all; %d kills left a half-written temporary file", last, midWrite)
	if st := mustRead(t, s); st.EventCounter != last || len(logs.Lines()) != 0 {
		t.Errorf("Read: event_counter %d, warnings %q; want %d and none", st.EventCounter, logs.Lines(), last)
	}
}

// TestUpdate_ConcurrentProcessesLoseNothing has two processes and two
// goroutines of this one, one of them Posting, increment a counter.
func TestUpdate_ConcurrentProcessesLoseNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("hundreds of synced writes")
	}
	const n = 150
	s, _ := openStore(t)
	project := filepath.Dir(s.dir)
	var helpers []*helper
	for range 2 {
		h := startHelper(t, "increment", project, fmt.Sprintf("%s=%d", envN, n))
		h.expect(t, "ready")
		helpers = append(helpers, h)
	}
	for _, h := range helpers {
		if _, err := h.stdin.Write([]byte("go\n")); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for range n {
			if err := s.Update(func(st *State) { st.EventCounter++ }); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Go(func() {
		for range n {
			s.Post(func(st *State) { st.EventCounter++ })
		}
	})
	wg.Wait()
	for _, h := range helpers {
		h.wait(t)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if st := mustRead(t, s); st.EventCounter != 4*n {
		t.Errorf("event_counter = %d, want %d", st.EventCounter, 4*n)
	}
}

func BenchmarkUpdate(b *testing.B) {
	s, _ := openStore(b)
	for b.Loop() {
		if err := s.Update(func(st *State) { st.Task("web").Runs++ }); err != nil {
			b.Fatal(err)
		}
	}
}

// Writes trade the temporary file and state.json back and forth: no new
// file per write, state.json always the newest state, the temporary file
// the one before. Without exchange (noExchange), a rename does the same
// job and leaves no temporary file.
func TestWrite_ExchangesTwoFiles(t *testing.T) {
	for _, rename := range []bool{false, true} {
		s, _ := openStore(t)
		s.noExchange.Store(rename)
		inodes := map[uint64]bool{}
		for i := 1; i <= 10; i++ {
			if err := s.Update(func(st *State) { st.EventCounter = int64(i) }); err != nil {
				t.Fatal(err)
			}
			if st := mustRead(t, s); st.EventCounter != int64(i) {
				t.Fatalf("rename %v: after write %d, event_counter %d", rename, i, st.EventCounter)
			}
			for _, name := range []string{stateFile, tempFile} {
				fi, err := os.Stat(s.path(name))
				if err != nil {
					continue
				}
				inodes[fi.Sys().(*syscall.Stat_t).Ino] = true
				if fi.Mode() != 0o600 {
					t.Errorf("%s: mode %v", name, fi.Mode())
				}
			}
			exchanging := !s.noExchange.Load() // false here too where the file system cannot
			b, err := os.ReadFile(s.path(tempFile))
			switch {
			case !exchanging && err == nil:
				t.Fatalf("write %d left %s", i, tempFile)
			case exchanging && i > 1:
				var prev State
				if err := json.Unmarshal(b, &prev); err != nil || prev.EventCounter != int64(i-1) {
					t.Fatalf("after write %d the temporary file holds %q (%v), want the state before", i, b, err)
				}
			}
		}
		if !rename && !s.noExchange.Load() && len(inodes) != 2 {
			t.Errorf("10 writes used %d files, want 2", len(inodes))
		}
		if !rename && runtime.GOOS == "linux" && s.noExchange.Load() {
			t.Log("this file system cannot exchange files: only the rename was tested")
		}
	}
}

// A torn state.json (a power cut after an unsynced write) is moved aside,
// and the state before the last write, left in the temporary file by the
// swap, takes its place when it is intact.
func TestRead_CorruptFileFallsBackToTheStateBefore(t *testing.T) {
	for _, tmpIntact := range []bool{true, false} {
		s, logs := openStore(t)
		for i := 1; i <= 2; i++ {
			if err := s.Update(func(st *State) { st.EventCounter = int64(i) }); err != nil {
				t.Fatal(err)
			}
		}
		if s.noExchange.Load() {
			t.Skip("this file system cannot exchange files: no state before the last write is kept")
		}
		if !tmpIntact {
			if err := os.WriteFile(s.path(tempFile), []byte(`{"version": 1, "ev`), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(s.Path(), []byte(`{"version": 1, "event_cou`), 0o600); err != nil {
			t.Fatal(err)
		}
		st := mustRead(t, s)
		want, outcome := int64(1), "went back to the state before the last write"
		if !tmpIntact {
			want, outcome = 0, "starting with empty state"
		}
		if st.EventCounter != want || len(logs.Lines()) != 1 || !strings.HasSuffix(logs.Lines()[0], outcome) {
			t.Errorf("tmp intact %v: event_counter %d, warnings %q; want %d and one that ends %q", tmpIntact, st.EventCounter, logs.Lines(), want, outcome)
		}
	}
}
