package watch

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// recording is one save pattern of testdata/saves: inotify events as the
// kernel reported them, each at its offset from the first.
type recording struct {
	events []recorded
}

type recorded struct {
	at   time.Duration
	mask uint32
	path string // relative to the watched project folder
}

// inotifyNames maps the event names inotifywait prints to mask bits.
var inotifyNames = map[string]uint32{
	"CREATE": unix.IN_CREATE, "DELETE": unix.IN_DELETE, "ATTRIB": unix.IN_ATTRIB,
	"CLOSE_WRITE": unix.IN_CLOSE_WRITE, "MOVED_FROM": unix.IN_MOVED_FROM, "MOVED_TO": unix.IN_MOVED_TO,
	"MODIFY": unix.IN_MODIFY, "ISDIR": unix.IN_ISDIR, "CLOSE": 0,
}

// readRecording parses testdata/saves/NAME.txt.
func readRecording(t *testing.T, name string) recording {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "saves", name+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rec recording
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if strings.HasPrefix(text, "#") || text == "" {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) != 3 {
			t.Fatalf("%s.txt:%d: want <µs> <EVENTS> <path>, got %q", name, line, text)
		}
		us, err := strconv.Atoi(fields[0])
		if err != nil {
			t.Fatalf("%s.txt:%d: %v", name, line, err)
		}
		var mask uint32
		for _, ev := range strings.Split(fields[1], ",") {
			bit, ok := inotifyNames[ev]
			if !ok {
				t.Fatalf("%s.txt:%d: unknown event %q", name, line, ev)
			}
			mask |= bit
		}
		rec.events = append(rec.events, recorded{at: time.Duration(us) * time.Microsecond, mask: mask, path: fields[2]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rec
}

// replay turns a recording into the Events the inotify backend emits for
// it, each with its time: the backend's own handle, with every folder of
// the recording watched but those it never watches (.git, node_modules),
// under a project folder that does not exist (so no .gitignore applies),
// with ignore and outputs as given.
func replay(t *testing.T, rec recording, ignore, outputs []string) (events []Event, at []time.Duration) {
	t.Helper()
	const base = "/nonexistent/project"
	ch := make(chan Event, len(rec.events)*4+16)
	c := &config{roots: []string{base}, ign: newIgnorer(base, []string{base}, ignore, t.Logf), logf: t.Logf, events: ch, ctx: context.Background()}
	for _, o := range outputs {
		if c.outputs == nil {
			c.outputs = map[string]bool{}
		}
		c.outputs[filepath.Join(base, o)] = true
	}
	missing := func(int, string, uint32) (int, error) { return 0, unix.ENOENT }
	n := &inotify{cfg: c, ops: sysOps{addWatch: missing, limit: func(string) int { return 0 }},
		byWD: map[int32]*dirWatch{}, byPath: map[string]*dirWatch{}}
	wds := map[string]int32{}
	for _, ev := range rec.events {
		dir := filepath.Join(base, filepath.Dir(ev.path))
		wd, ok := wds[dir]
		if !ok {
			wd = int32(len(wds) + 1)
			wds[dir] = wd
			d := &dirWatch{path: dir, wd: wd}
			n.byWD[wd], n.byPath[dir] = d, d
		}
		if ev.mask&watchMask&^(unix.IN_ONLYDIR|unix.IN_EXCL_UNLINK) == 0 || c.ign.ignoredPath(base, dir, true) {
			continue // not asked for (MODIFY), or in a folder never watched (.git)
		}
		n.handle(wd, ev.mask, []byte(filepath.Base(ev.path)))
		for len(ch) > 0 {
			e := <-ch
			e.Path = strings.TrimPrefix(e.Path, base+"/")
			events, at = append(events, e), append(at, ev.at)
		}
	}
	return events, at
}

// TestBatcher_RecordedSaves replays each save recorded on Linux (see
// testdata/saves/README.md) through the backend and an Auto batcher, at
// the recorded times: one save is one change of the file saved, in one
// batch; a temporary file never shows; and one file saved never reaches
// changes_needed 2.
func TestBatcher_RecordedSaves(t *testing.T) {
	tests := []struct {
		name    string
		want    []string // the one batch; nil: no batch at all
		ignore  []string // as the runner passes a task's generates
		outputs []string
	}{
		{name: "inplace", want: []string{"src/a.txt"}},
		{name: "inplace-cat", want: []string{"src/a.txt"}},
		{name: "sed", want: []string{"src/a.txt"}},
		{name: "atomic", want: []string{"src/a.txt"}},
		{name: "atomic-go", want: []string{"src/a.txt"}},
		{name: "jetbrains", want: []string{"src/a.txt"}},
		{name: "vim-nobackupcopy", want: []string{"src/a.txt"}},
		{name: "vim-backupcopy", want: []string{"src/a.txt"}},
		{name: "vim-default", want: []string{"src/a.txt"}},
		{name: "emacs", want: []string{"src/a.txt"}},
		{name: "gedit", want: []string{"src/a.txt"}},
		{name: "go-build", want: []string{"bin/x"}},
		{name: "go-build", want: nil, ignore: []string{"/bin/x"}, outputs: []string{"bin"}},
		{name: "go-build-again", want: nil, ignore: []string{"/bin/x"}, outputs: []string{"bin"}},
		{name: "go-build-changed", want: nil, ignore: []string{"/bin/x"}, outputs: []string{"bin"}},
		{name: "npm-install", want: []string{"package-lock.json"}},
		{name: "npm-install-again", want: []string{"package-lock.json"}},
	}
	for _, tt := range tests {
		name := tt.name
		if tt.outputs != nil {
			name += " as the task's own output"
		}
		t.Run(name, func(t *testing.T) {
			events, at := replay(t, readRecording(t, tt.name), tt.ignore, tt.outputs)
			got := simulate(events, at, Auto, 1)
			var want []batchAt
			if tt.want != nil {
				want = []batchAt{{paths: tt.want}}
			}
			if len(got) != len(want) || (len(got) == 1 && !slices.Equal(got[0].paths, tt.want)) {
				t.Fatalf("batches %v, want one of %v\nevents: %v", got, tt.want, events)
			}
			if len(tt.want) == 1 {
				if got := simulate(events, at, Auto, 2); len(got) != 0 {
					t.Fatalf("one save reached changes_needed 2: %v", got)
				}
			}
		})
	}
}

// TestBatcher_RecordedSavesFixedDebounce replays the editors' saves under
// a fixed debounce, which must not count a temporary file or a missing
// original either: at 20ms (the README's example) one save is one batch;
// at 0s, batches after the first come within Settle of it (re-touches,
// which the runner drops as the restarted task starts after them), and
// one file saved three times never reaches changes_needed 2.
func TestBatcher_RecordedSavesFixedDebounce(t *testing.T) {
	want := []string{"src/a.txt"}
	for _, name := range []string{"inplace", "inplace-cat", "sed", "atomic", "atomic-go", "jetbrains",
		"vim-nobackupcopy", "vim-backupcopy", "vim-default", "emacs", "gedit"} {
		t.Run(name, func(t *testing.T) {
			events, at := replay(t, readRecording(t, name), nil, nil)
			if got := simulate(events, at, 20*time.Millisecond, 1); !oneSave(got, want, 20*time.Millisecond) {
				t.Errorf("debounce 20ms: batches %v, want one of %v", got, want)
			}
			if got := simulate(events, at, 0, 1); !oneSave(got, want, 0) {
				t.Errorf("debounce 0s: batches %v, want %v, and re-touches within %v", got, want, Settle)
			}
			var again []Event
			var againAt []time.Duration
			for i := range 3 {
				again = append(again, events...)
				for _, d := range at {
					againAt = append(againAt, time.Duration(i)*(at[len(at)-1]+time.Second)+d)
				}
			}
			if got := simulate(again, againAt, 0, 2); len(got) != 0 {
				t.Errorf("debounce 0s: three saves of one file reached changes_needed 2: %v", got)
			}
		})
	}
}

// TestBatcher_RecordedCheckout replays a git checkout of 2,000 changed
// files: one or two batches, together every file, none of .git.
func TestBatcher_RecordedCheckout(t *testing.T) {
	events, at := replay(t, readRecording(t, "git-checkout"), nil, nil)
	for _, need := range []int{1, 2, 1000} {
		t.Run(fmt.Sprintf("changes_needed %d", need), func(t *testing.T) {
			got := simulate(events, at, Auto, need)
			if len(got) < 1 || len(got) > 2 {
				t.Fatalf("%d batches, want 1 or 2", len(got))
			}
			seen := map[string]bool{}
			for _, b := range got {
				for _, p := range b.paths {
					if !strings.HasPrefix(p, "src/") {
						t.Errorf("batch holds %s", p)
					}
					seen[p] = true
				}
			}
			if len(seen) != 2000 {
				t.Errorf("%d files changed, want 2000", len(seen))
			}
		})
	}
}
