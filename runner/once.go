package runner

import (
	"context"

	"github.com/procman/procman/tasks"
)

// runOnce runs a plain or once task to its end. A once task with sources
// is skipped while they are unchanged since its last success and its
// generates exist, unless force.
func (r *Runner) runOnce(n *node, args []string, force bool) error {
	fp, upToDate := r.upToDate(n.t, force)
	if upToDate {
		r.out.Logf(Info, "%s is up to date", n.t.Name)
		return nil
	}
	cmd := n.t.Cmd
	if len(args) > 0 {
		cmd = cmd.WithArgs(args)
	}
	p, err := r.launch(n, cmd, nil)
	if err != nil {
		return err
	}
	<-p.done
	r.forget(n, p)
	if p.code != 0 {
		if r.isStopping() {
			r.journal.exited(n.t.Name, p, "")
			return context.Canceled
		}
		msg := n.t.Name + " " + describe(p.code)
		r.journal.exited(n.t.Name, p, msg)
		r.out.Logf(Error, "%s", msg)
		return &ExitError{Task: n.t.Name, Code: p.code}
	}
	r.journal.exited(n.t.Name, p, "")
	if fp != "" {
		r.journal.succeeded(n.t.Name, fp)
	}
	r.out.Logf(Debug, "%s finished", n.t.Name)
	return nil
}

// upToDate computes the sources fingerprint of once task t and reports
// whether t can be skipped: same fingerprint as its last success, and
// every generates output there.
func (r *Runner) upToDate(t *tasks.Task, force bool) (fingerprint string, ok bool) {
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
	st, err := r.opts.Store.Read()
	if err != nil || st.Tasks[t.Name] == nil || st.Tasks[t.Name].Fingerprint != fp {
		return fp, false
	}
	if missing := t.MissingGenerates(); len(missing) > 0 {
		r.out.Logf(Debug, "%s: %s missing; running it", t.Name, missing[0])
		return fp, false
	}
	return fp, true
}
