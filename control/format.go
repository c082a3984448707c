package control

import (
	"fmt"
	"strconv"
	"time"
)

// Cells returns t's pid, uptime at now, last exit, CPU and memory as ps
// and the dashboard show them; "" where t has none (and the uptime when
// now is zero).
func (t *Task) Cells(now time.Time) (pid, up, exit, cpu, mem string) {
	if t.PID != nil {
		pid = strconv.Itoa(*t.PID)
	}
	if t.Started != nil && !now.IsZero() {
		up = Uptime(now.Sub(*t.Started))
	}
	if t.LastExit != nil {
		exit = strconv.Itoa(*t.LastExit)
	}
	if t.CPU != nil {
		cpu = strconv.FormatFloat(*t.CPU, 'f', 1, 64) + "%"
	}
	if t.RSS != nil {
		mem = Bytes(*t.RSS)
	}
	return pid, up, exit, cpu, mem
}

// Uptime says how long a task has run, to the second or coarser, as ps
// and the dashboard show it: 42s, 3m05s, 2h07m, 3d04h.
func Uptime(d time.Duration) string {
	s := int(d.Seconds())
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", max(0, s))
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
}

// Bytes says a memory size as ps and the dashboard show it: 812K, 14.2M,
// 1.3G.
func Bytes(n uint64) string {
	switch {
	case n < 1<<20:
		return fmt.Sprintf("%dK", (n+512)>>10)
	case n < 1<<30:
		return fmt.Sprintf("%.1fM", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1fG", float64(n)/(1<<30))
}
