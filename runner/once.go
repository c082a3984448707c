package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/procman/procman/tasks"
)

// runOnce runs a plain or once task to its end. A once task with sources
// is skipped while they are unchanged since its last success and its
// generates exist, unless force. reason says why it runs (again), for ps.
func (r *Runner) runOnce(n *node, args []string, force bool, reason string) error {
	u := n.unit()
	fp, upToDate := r.upToDate(n, force)
	if upToDate {
		r.out.Logf(Info, "%s is up to date", n.t.Name)
		u.setStatus(Skipped, "up to date", r.clock.Now())
		return nil
	}
	cmd := n.t.Cmd
	if len(args) > 0 {
		cmd = cmd.WithArgs(args)
	}
	r.out.Logf(Info, "%s: %s", n.t.Name, cmd.Raw)
	p, err := r.launch(u, cmd, nil, reason)
	if err != nil {
		return err
	}
	if r.opts.Progress {
		go r.progress(n.t.Name, p)
	}
	<-p.done
	r.forget(u, p)
	now := r.clock.Now()
	took := formatDuration(now.Sub(p.started))
	if p.code != 0 {
		if r.isStopping() {
			r.journal.exited(n.t.Name, p, "")
			return context.Canceled
		}
		r.journal.exited(n.t.Name, p, n.t.Name+" "+describe(p.code))
		r.out.Logf(Error, "%s %s after %s", n.t.Name, failure(p.code), took)
		u.setStatus(Failed, describe(p.code), now)
		return &ExitError{Task: n.t.Name, Code: p.code}
	}
	r.journal.exited(n.t.Name, p, "")
	if fp != "" {
		n.setFingerprint(fp)
		r.journal.succeeded(n.t.Name, fp)
	}
	r.out.Logf(Info, "%s done in %s", n.t.Name, took)
	u.setStatus(Exited, "done in "+took, now)
	return nil
}

// Progress lines: a task that has printed nothing for silentFor gets a
// "still running" line every progressEvery, so that a silent step (an
// npm install) is never taken for a hang.
const (
	progressEvery = 15 * time.Second
	silentFor     = 5 * time.Second
)

// progress says every progressEvery that task name is still running, when
// p printed nothing for silentFor, until p is done.
func (r *Runner) progress(name string, p *process) {
	for {
		select {
		case <-p.done:
			return
		case <-r.clock.After(progressEvery):
		}
		if msg, ok := stillRunning(r.clock.Now(), p.started, p.lastOutput()); ok {
			r.out.Logf(Info, "%s: %s", name, msg)
		}
	}
}

// stillRunning returns the progress line for a task started at started
// that last printed at last, and whether it is due at now: when the task
// has been silent for silentFor.
func stillRunning(now, started, last time.Time) (string, bool) {
	if now.Sub(last) < silentFor {
		return "", false
	}
	return "still running (" + now.Sub(started).Round(time.Second).String() + ")", true
}

// formatDuration says how long something took, as a person would: 12ms,
// 3.1s, 41.2s, 2m5s.
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// upToDate computes the sources fingerprint of once task n and reports
// whether n can be skipped: same fingerprint as its last success (this
// run's, else the state's), and every generates output there.
func (r *Runner) upToDate(n *node, force bool) (fingerprint string, ok bool) {
	t := n.t
	if t.Kind != tasks.Once || len(t.Sources) == 0 || r.opts.Store == nil {
		return "", false
	}
	fp, err := t.Fingerprint()
	if err != nil {
		r.out.Logf(Warn, "%s: sources: %v; running it", t.Name, err)
		return "", false
	}
	if force {
		return fp, false
	}
	last := n.fingerprint()
	if last == "" {
		st, err := r.opts.Store.Read()
		if err != nil || st.Tasks[t.Name] == nil {
			return fp, false
		}
		last = st.Tasks[t.Name].Fingerprint
	}
	if last != fp {
		return fp, false
	}
	if missing := t.MissingGenerates(); len(missing) > 0 {
		r.out.Logf(Debug, "%s: %s missing; running it", t.Name, missing[0])
		return fp, false
	}
	return fp, true
}
