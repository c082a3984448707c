package proc

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

func TestGroupsUsage_SumsAGroup(t *testing.T) {
	// A group of a shell and a busy child: its CPU grows, its RSS is the
	// sum of both.
	cmd := exec.Command("sh", "-c", "while :; do :; done & sleep 5")
	cmd.SysProcAttr = Attr()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() { syscall.Kill(-pgid, syscall.SIGKILL); cmd.Wait() })
	time.Sleep(300 * time.Millisecond)
	u, ok := GroupsUsage([]int{pgid, syscall.Getpgrp()})[pgid]
	if !ok {
		t.Fatalf("no usage for group %d", pgid)
	}
	if u.CPU < 50*time.Millisecond {
		t.Errorf("CPU %v after 300 ms of a busy loop, want at least 50ms", u.CPU)
	}
	own := GroupsUsage([]int{syscall.Getpgrp()})[syscall.Getpgrp()]
	if u.RSS == 0 || own.RSS < uint64(os.Getpagesize()) {
		t.Errorf("RSS %d (ours %d), want more than 0", u.RSS, own.RSS)
	}
}

func BenchmarkGroupsUsage(b *testing.B) {
	for range b.N {
		GroupsUsage([]int{syscall.Getpgrp()})
	}
}
