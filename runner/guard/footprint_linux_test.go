package guard

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// maxRSS is what one guard may cost. It runs the procman binary, but needs
// few of its pages: the budget is a few MiB.
const maxRSS = 12 << 20

// TestGuard_Footprint measures a guard's startup time (Start returns once it
// is ready) and resident memory, and holds the memory to its budget.
func TestGuard_Footprint(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	began := time.Now()
	c := startGuard(t)
	startup := time.Since(began)
	rss, err := vmRSS(c.Pid())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("guard (test binary) ready in %v, VmRSS %d KiB", startup.Round(time.Microsecond), rss>>10)
	if !raceEnabled && rss > maxRSS {
		t.Errorf("guard VmRSS %d KiB, over the %d KiB budget", rss>>10, maxRSS>>10)
	}
}

// BenchmarkStart measures starting a guard until it is ready, and closing
// it.
func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		c := startGuard(b)
		if err := c.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// vmRSS returns the resident memory of process pid in bytes.
func vmRSS(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, sc.Err()
}
