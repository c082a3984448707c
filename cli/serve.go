package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/procman/procman/control"
	"github.com/procman/procman/runner"
	"github.com/procman/procman/runner/logs"
	"github.com/procman/procman/runner/state"
)

// errDown is the cause of a run stopped by procman down: its up exits 0.
var errDown = runner.StopReason("procman down")

// serve starts the control server of a supervisor's run r, on the socket
// that control.SocketPath picks, and records where in the state. Down
// stops the run with stop. Without a socket the supervisor still runs;
// procman ps and the others then say nothing supervises the project.
func (p *project) serve(s *session, r *runner.Runner, book *logs.Book, stop context.CancelCauseFunc) *control.Server {
	path, err := control.SocketPath(p.stateDir())
	var srv *control.Server
	if err == nil {
		srv, err = control.Listen(path) // the supervisor lock is ours: what is there is left over
	}
	if err != nil {
		p.out.Logf(runner.Warn, "%v: procman ps, restart, logs and down will not reach this procman", err)
		return nil
	}
	srv.Sup, srv.Book, srv.Logf = r, book, p.warnf
	srv.Down = func(ctx context.Context) error {
		stop(errDown)
		select {
		case <-r.Done():
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.store.Post(func(st *state.State) { st.Socket = path })
	go srv.Serve()
	p.out.Logf(runner.Debug, "control socket: %s", path)
	return srv
}

// dial connects to the supervisor of the project that g names.
func (g *Globals) dial() (*control.Client, string, error) {
	stateDir, err := g.stateDir()
	if err != nil {
		return nil, "", err
	}
	c, err := control.Dial(stateDir)
	return c, stateDir, err
}

// stateDir is the .procman folder of the project that g names.
func (g *Globals) stateDir() (string, error) {
	dir, err := g.projectDir()
	if err != nil {
		return "", err
	}
	return dir + string(os.PathSeparator) + state.Dir, nil
}

// controlCode prints a supervisor's refusal and returns the exit code for
// it: 2 for a request that names no task of the run (with the names that
// would do), 3 when it is stopping, 1 when a task failed (with its last
// lines).
func controlCode(e *control.Error) int {
	fmt.Fprintf(os.Stderr, "procman | %s\n", e.Message)
	switch e.Code {
	case control.CodeUnknownTask, control.CodeNotService, control.CodeBadRequest, control.CodeVersion, control.CodeUnknownOp:
		return 2
	case control.CodeStopping:
		return 3
	}
	if len(e.Lines) > 0 {
		fmt.Fprintf(os.Stderr, "procman | %s's last lines:\n", e.Task)
		for _, l := range e.Lines {
			fmt.Fprintf(os.Stderr, "%s | %s\n", e.Task, strings.TrimRight(l, "\r"))
		}
	}
	return 1
}
