package proc

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// startGroup starts sh -c script as the leader of a new group, killed
// with its group at the end of the test.
func startGroup(t testing.TB, script string) int {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.SysProcAttr = Attr()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() { syscall.Kill(-pgid, syscall.SIGKILL); cmd.Wait() })
	return pgid
}

// membersOf returns the pids g holds as members of group pgid.
func (g *Groups) membersOf(pgid int) []int {
	var out []int
	for _, pid := range Members(pgid) {
		if g.members[pid] != nil {
			out = append(out, pid)
		}
	}
	return out
}

func TestGroups_SumsAGroup(t *testing.T) {
	// A group of a shell and a busy child: its CPU grows, its RSS is the
	// sum of both.
	pgid := startGroup(t, "while :; do :; done & sleep 5")
	time.Sleep(300 * time.Millisecond)
	var g Groups
	defer g.Close()
	u, ok := g.Usage([]int{pgid, syscall.Getpgrp()})[pgid]
	if !ok {
		t.Fatalf("no usage for group %d", pgid)
	}
	if u.CPU < 50*time.Millisecond {
		t.Errorf("CPU %v after 300 ms of a busy loop, want at least 50ms", u.CPU)
	}
	own := g.Usage([]int{syscall.Getpgrp()})[syscall.Getpgrp()]
	if u.RSS == 0 || own.RSS < uint64(os.Getpagesize()) {
		t.Errorf("RSS %d (ours %d), want more than 0", u.RSS, own.RSS)
	}
}

func TestGroups_ReadsAgainOnlyWhatIsNew(t *testing.T) {
	pgid := startGroup(t, "sleep 5 & wait")
	time.Sleep(50 * time.Millisecond)
	var g Groups
	defer g.Close()
	g.Usage([]int{pgid})
	if got := len(g.membersOf(pgid)); got != 2 || g.kept != 2 {
		t.Fatalf("%d members, %d stat files kept open; want the shell and its sleep", got, g.kept)
	}
	first := g.opens
	// A process started since (this test's own child, in another group)
	// is read; those read before are not opened again.
	sleeper := exec.Command("sleep", "5")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
	g.Usage([]int{pgid})
	if _, ok := g.others[sleeper.Process.Pid]; !ok {
		t.Errorf("the process started since is not remembered")
	}
	if again := g.opens - first; again < 1 || again >= first {
		t.Errorf("the second reading opened %d stat files, the first %d: want the new ones only", again, first)
	}
	if got := len(g.membersOf(pgid)); got != 2 || g.kept != 2 {
		t.Errorf("%d members, %d stat files kept open; want 2 and 2", got, g.kept)
	}
}

func TestGroups_ListsOnlyTheNewProcessesAndFindsANewMember(t *testing.T) {
	pgid := startGroup(t, "sleep 0.3; sleep 5 & wait")
	time.Sleep(50 * time.Millisecond)
	var g Groups
	defer g.Close()
	g.Usage([]int{pgid})
	if got := len(g.membersOf(pgid)); got != 2 {
		t.Fatalf("%d members, want the shell and its first sleep", got)
	}
	time.Sleep(500 * time.Millisecond) // the first sleep ended, the second started
	g.Usage([]int{pgid})
	if g.dir.offset <= 0 || g.dir.since != 1 {
		t.Errorf("the second reading listed all of /proc (offset %d, %d listings since a full one)", g.dir.offset, g.dir.since)
	}
	if got := len(g.membersOf(pgid)); got != 2 || g.kept != 2 {
		t.Errorf("%d members, %d stat files kept; want the shell and its second sleep", got, g.kept)
	}
}

func TestGroups_NewProcessesAfterPidsWrappedAround(t *testing.T) {
	var g Groups
	defer g.Close()
	g.Usage([]int{syscall.Getpgrp()})
	// As if pids had gone past pid_max since: the new ones are those
	// after the last one then, and those from 1 to the last one now.
	g.dir.last = g.dir.pidMax - 1
	pgid := startGroup(t, "exec sleep 5")
	if _, ok := g.Usage([]int{pgid})[pgid]; !ok {
		t.Errorf("no usage for a group started after pids wrapped around")
	}
	if g.dir.since != 1 {
		t.Errorf("%d listings since a full one, want 1", g.dir.since)
	}
}

func TestGroups_AGroupAskedForLaterCounts(t *testing.T) {
	// A process read while its group was not asked for (a task that
	// started while ps read /proc) counts once its group is.
	a, b := startGroup(t, "exec sleep 5"), startGroup(t, "exec sleep 5")
	time.Sleep(50 * time.Millisecond)
	var g Groups
	defer g.Close()
	if _, ok := g.Usage([]int{a})[b]; ok {
		t.Fatal("usage of a group not asked for")
	}
	if _, ok := g.Usage([]int{a, b})[b]; !ok {
		t.Errorf("no usage for group %d once asked for", b)
	}
}

func TestGroups_AReusedPidIsReadAgain(t *testing.T) {
	pgid := startGroup(t, "exec sleep 5")
	time.Sleep(50 * time.Millisecond)
	var g Groups
	defer g.Close()
	g.Usage([]int{syscall.Getpgrp()})
	o, ok := g.others[pgid]
	if !ok {
		t.Fatalf("group %d's leader not remembered", pgid)
	}
	// Another process with the same pid has another /proc inode; it
	// shows in a full listing (and in a listing of the new ones, as
	// its pid was handed out since).
	o.ino++
	g.others[pgid] = o
	g.dir.since = fullEvery
	if _, ok := g.Usage([]int{pgid})[pgid]; !ok {
		t.Error("a process whose inode changed was not read again")
	}
}

func TestGroups_ForgetsWhatEndedAndCloses(t *testing.T) {
	pgid := startGroup(t, "exec sleep 5")
	time.Sleep(50 * time.Millisecond)
	var g Groups
	g.Usage([]int{pgid})
	if g.kept != 1 {
		t.Fatalf("%d stat files kept, want 1", g.kept)
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
	for Alive(pgid) { // a zombie until the test's end reaps it
		time.Sleep(5 * time.Millisecond)
	}
	if u, ok := g.Usage([]int{pgid})[pgid]; ok {
		t.Errorf("usage %v of a group of zombies", u)
	}
	g.Close()
	if g.kept != 0 || len(g.members) != 0 {
		t.Errorf("after Close: %d kept, %d members", g.kept, len(g.members))
	}
}

func TestParseStat(t *testing.T) {
	tail := " 1 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 100 1000 5 18446744073709551615 1"
	tests := []struct {
		name, stat string
		pgid       int
		cpu        time.Duration
		rss        uint64
		live, ok   bool
	}{
		{"plain", "42 (sleep) S 1 42" + tail, 42, 100 * time.Millisecond, 5, true, true},
		{"name with spaces and parens", "42 (a) b (c) R 1 7" + tail, 7, 100 * time.Millisecond, 5, true, true},
		{"zombie", "42 (sh) Z 1 42" + tail, 42, 100 * time.Millisecond, 5, false, true},
		{"cut short", "42 (sh) S 1 42 1 1", 0, 0, 0, false, false},
		{"no name", "garbage", 0, 0, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pgid, u, live, ok := parseStat([]byte(tt.stat))
			if pgid != tt.pgid || u.CPU != tt.cpu || u.RSS != tt.rss*pageSize || live != tt.live || ok != tt.ok {
				t.Errorf("got pgid %d, %v, %d bytes, live %v, ok %v", pgid, u.CPU, u.RSS, live, ok)
			}
		})
	}
}

// BenchmarkGroupsUsage measures a reading of this process's group, first
// by a new Groups (all of /proc read), then by one that read it before (as
// procman ps runs against a supervisor).
func BenchmarkGroupsUsage(b *testing.B) {
	pgids := []int{syscall.Getpgrp()}
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			var g Groups
			g.Usage(pgids)
			g.Close()
		}
	})
	b.Run("again", func(b *testing.B) {
		var g Groups
		defer g.Close()
		g.Usage(pgids)
		for b.Loop() {
			g.Usage(pgids)
		}
	})
}
