package tui

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"

	"github.com/procman/procman/control"
)

// ControlSource is a Source over the control channel of the supervisor
// of a project: one connection for ps, one per operation (a restart waits
// for readiness, and ps goes on meanwhile), one for the stream of ps and
// one for the output's.
type ControlSource struct {
	stateDir string
	mu       sync.Mutex // one ps at a time on ps
	ps       *control.Client
}

// Connect connects to the supervisor of the project whose .procman
// folder is stateDir; control.ErrNoSupervisor when none runs.
func Connect(stateDir string) (*ControlSource, error) {
	c, err := control.Dial(stateDir)
	if err != nil {
		return nil, err
	}
	return &ControlSource{stateDir: stateDir, ps: c}, nil
}

// PS returns the supervisor's tasks.
func (s *ControlSource) PS() (*control.PS, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ps.PS()
}

// Watch hands each the supervisor's tasks now and then every every, on
// a connection of its own, until the supervisor stops.
func (s *ControlSource) Watch(every time.Duration, each func(*control.PS)) error {
	c, err := control.Dial(s.stateDir)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Do(control.Request{Op: control.OpPS, EveryMS: int(every / time.Millisecond)}, func(r control.Reply) error {
		if r.PS != nil {
			each(r.PS)
		}
		return nil
	})
	return err
}

// Op restarts, stops or starts a task or replica, and returns when it is
// done.
func (s *ControlSource) Op(op, name string) error {
	c, err := control.Dial(s.stateDir)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Do(control.Request{Op: op, Tasks: []string{name}}, nil)
	return err
}

// Follow streams the output to batch, from the last n lines on. The
// supervisor coalesces the new lines and sends them a frame apart at
// most: the dashboard wakes once a frame, not once a line.
func (s *ControlSource) Follow(n int, batch func([]control.Line)) error {
	c, err := control.Dial(s.stateDir)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Do(control.Request{Op: control.OpLogs, Lines: n, Follow: true, BatchMS: batchMS}, func(r control.Reply) error {
		if len(r.Lines) > 0 {
			batch(r.Lines)
		}
		return nil
	})
	return err
}

// batchMS is the shortest time between two batches of lines, in
// milliseconds: 20 a second while tasks flood the output (a line after a
// quiet spell comes at once). Each batch is a frame, drawn as it comes;
// what a frame costs is mostly the Go runtime waking up around it
// (sysmon, the netpoller), so fewer frames is what makes a flood cheap:
// measured with two tasks printing 1,000 lines a second each, batches
// 34 ms apart (30 frames a second) cost procman ui 2.7 to 3.8% of a
// core, 50 ms apart 2.0 to 2.1%.
const batchMS = 50

// Close ends the ps connection.
func (s *ControlSource) Close() error { return s.ps.Close() }

// ErrInterrupted is what Run returns when the user quit with Ctrl-C.
var ErrInterrupted = errors.New("interrupted")

// Run shows the dashboard of src on the terminal (stdin and stdout) until
// the user quits or the supervisor goes, and says why it ended: "" when
// the user quit (with Ctrl-C: ErrInterrupted).
func Run(ctx context.Context, src Source, opts Options) (string, error) {
	p := NewProgram()
	// The first ps before the first frame (a round trip on the open
	// connection, well under a millisecond), so that the first screen
	// shows the tasks, not "connecting…" with the table a frame later.
	ps, err := src.PS()
	d, _ := New(src, p.Send, opts).Update(psMsg{ps: ps, err: err, at: time.Now()})
	m, err := p.Run(ctx, os.Stdin, os.Stdout, d, d.(Dashboard).Init())
	if err == nil && m.(Dashboard).Interrupted() {
		err = ErrInterrupted
	}
	return m.(Dashboard).Gone(), err
}
