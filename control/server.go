package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/procman/procman/runner"
	"github.com/procman/procman/runner/logs"
)

// Supervisor is what the server drives: the runner of `procman up` or
// `procman watch` implements it.
type Supervisor interface {
	// Snapshot returns every task of the run, and every replica, in plan
	// order.
	Snapshot() []runner.TaskInfo
	// Restart, Stop and Start do what procman restart, stop and start say,
	// for reason, and return when it is done.
	Restart(ctx context.Context, names []string, reason string) error
	Stop(ctx context.Context, names []string, reason string) error
	Start(ctx context.Context, names []string, reason string) error
	// Scale sets the replicas of services by name, and returns when the
	// new ones are ready and the surplus ones stopped.
	Scale(ctx context.Context, counts map[string]int, reason string) error
	// Check returns the error that Restart (services false), or Start and
	// Scale (services true), would return at once for names: an unknown
	// task, a task that is not a service.
	Check(ctx context.Context, names []string, services bool) error
}

// Limits of a connection: a request line longer than maxLine is refused;
// a client that does not take a reply within writeTimeout is dropped.
const (
	maxLine      = 1 << 20
	writeTimeout = 5 * time.Second
)

// failLines is how many of a failed task's last lines an error carries.
const failLines = 20

// Server serves the control protocol on a Unix socket.
type Server struct {
	Sup  Supervisor
	Book *logs.Book // the tasks' output, for logs
	// Down stops the supervisor as Ctrl-C would, and returns once every
	// task has stopped.
	Down func(ctx context.Context) error
	Logf func(format string, args ...any) // refused connections, errors
	PID  int                              // the supervisor's pid, for ps
	// WriteTimeout is how long a reply may wait for a client that does not
	// read before the connection is dropped (0: 5 s).
	WriteTimeout time.Duration

	ln     *net.UnixListener
	path   string
	ctx    context.Context // cancelled by Close: every connection ends
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	downs  int // down requests taken

	closeOnce sync.Once
	closeErr  error
}

// Listen removes what is left at path (a socket of a supervisor that was
// killed: call it holding the supervisor lock) and listens there, the
// socket's mode 0600.
func Listen(path string) (*Server, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{ln: ln, path: path, ctx: ctx, cancel: cancel, PID: os.Getpid(), Logf: func(string, ...any) {}}, nil
}

// Path returns where the server listens.
func (s *Server) Path() string { return s.path }

// Serve accepts connections until Close. Each is served on its own
// goroutine: a client that misbehaves harms only its own connection.
func (s *Server) Serve() {
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			if s.ctx.Err() == nil {
				s.Logf("control: %v", err)
			}
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(c)
		}()
	}
}

// Close stops listening (the socket file goes), ends every connection and
// waits for them. Later calls return the first's error.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.closeErr = s.ln.Close()
		s.wg.Wait()
	})
	return s.closeErr
}

// conn is one client's connection.
type conn struct {
	s    *Server
	c    *net.UnixConn
	mu   sync.Mutex // one reply at a time
	enc  *json.Encoder
	gone chan struct{} // closed when the client has closed its socket (read)
}

// serve checks who connected, then answers its requests, one at a time,
// until it goes, errs or the server closes.
func (s *Server) serve(c *net.UnixConn) {
	defer c.Close()
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Now()) })
	defer stop()
	cn := &conn{s: s, c: c, enc: json.NewEncoder(c), gone: make(chan struct{})}
	if uid, err := peerUID(c); err != nil || (uid != os.Getuid() && uid != 0) {
		who := fmt.Sprintf("uid %d", uid)
		if err != nil {
			who = err.Error()
		}
		s.Logf("control: refused a connection from %s: only uid %d and root may control this procman", who, os.Getuid())
		cn.fail(0, &Error{Code: CodeDenied, Message: fmt.Sprintf("only uid %d and root may control this procman", os.Getuid())})
		return
	}
	reqs := make(chan Request)
	go cn.read(ctx, reqs)
	for req := range reqs {
		if !cn.handle(ctx, req) {
			return
		}
	}
}

// read decodes requests onto reqs until the client stops sending (it may
// still read: echo REQUEST | nc -U waits for the reply of a restart) or
// sends something that is not a request (answered, then the connection
// ends). When the client has closed its socket, it closes cn.gone too,
// so that a stream to it ends.
func (cn *conn) read(ctx context.Context, reqs chan<- Request) {
	defer close(reqs)
	r := bufio.NewReaderSize(cn.c, 64<<10)
	for {
		line, err := readLine(r)
		if err != nil {
			switch {
			case errors.Is(err, errLineTooLong):
				cn.fail(0, &Error{Code: CodeBadRequest, Message: "a request line is longer than 1 MiB"})
			case errors.Is(err, io.EOF) && hungUp(cn.c), errors.Is(err, syscall.ECONNRESET):
				close(cn.gone)
			}
			return
		}
		var req Request
		if err := json.Unmarshal(line, &req); err != nil {
			cn.fail(0, &Error{Code: CodeBadRequest, Message: "not a request: " + err.Error()})
			return
		}
		select {
		case reqs <- req:
		case <-ctx.Done():
			return
		}
	}
}

var errLineTooLong = errors.New("line too long")

// readLine returns the next line, without its newline.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxLine {
			return nil, errLineTooLong
		}
		switch {
		case err == nil:
			return line[:len(line)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return nil, err
		}
	}
}

// handle answers one request; false ends the connection.
func (cn *conn) handle(ctx context.Context, req Request) bool {
	if req.V != Version {
		cn.fail(req.ID, &Error{Code: CodeVersion, Message: fmt.Sprintf("protocol version %d is not spoken here: this procman speaks version %d", req.V, Version)})
		return false
	}
	var err error
	switch req.Op {
	case OpPS:
		if req.EveryMS != 0 {
			return cn.psEvery(ctx, req)
		}
		return cn.send(Reply{ID: req.ID, OK: yes(), PS: cn.s.ps()})
	case OpRestart:
		err = cn.wait(ctx, req, req.Tasks, false, func(ctx context.Context) error { return cn.s.Sup.Restart(ctx, req.Tasks, "procman restart") })
	case OpStart:
		err = cn.wait(ctx, req, req.Tasks, true, func(ctx context.Context) error { return cn.s.Sup.Start(ctx, req.Tasks, "procman start") })
	case OpStop:
		err = cn.s.Sup.Stop(ctx, req.Tasks, "procman stop")
	case OpLogs:
		return cn.logs(ctx, req)
	case OpScale:
		err = cn.wait(ctx, req, slices.Sorted(maps.Keys(req.Counts)), true, func(ctx context.Context) error { return cn.s.Sup.Scale(ctx, req.Counts, "procman scale") })
	case OpDown:
		err = cn.s.down(ctx)
	default:
		cn.fail(req.ID, &Error{Code: CodeUnknownOp, Message: fmt.Sprintf("unknown op %q: ps, restart, stop, start, scale, logs or down", req.Op)})
		return true
	}
	if err != nil {
		return cn.fail(req.ID, cn.s.explain(err))
	}
	return cn.send(Reply{ID: req.ID, OK: yes()})
}

// wait runs op on names, waiting for it unless the request says no_wait:
// then op goes on in the background, and only what Check finds at once
// (an unknown task) is the client's. A later failure is in the
// supervisor's log, where the runner tells it.
func (cn *conn) wait(ctx context.Context, req Request, names []string, services bool, op func(context.Context) error) error {
	if !req.NoWait {
		return op(ctx)
	}
	if err := cn.s.Sup.Check(ctx, names, services); err != nil {
		return err
	}
	go func() {
		var failed *runner.TaskError
		err := op(cn.s.ctx)
		if err != nil && !errors.As(err, &failed) && !errors.Is(err, runner.ErrStopping) && !errors.Is(err, context.Canceled) {
			cn.s.Logf("control: %s %s: %v", req.Op, strings.Join(names, " "), err)
		}
	}()
	return nil
}

// down stops the supervisor; a second down while the first goes on is
// told the supervisor is stopping.
func (s *Server) down(ctx context.Context) error {
	s.mu.Lock()
	s.downs++
	first := s.downs == 1
	s.mu.Unlock()
	if !first || s.Down == nil {
		return runner.ErrStopping
	}
	return s.Down(ctx)
}

// explain turns an operation's error into the protocol's.
func (s *Server) explain(err error) *Error {
	var (
		unknown *runner.UnknownTaskError
		notSvc  *runner.NotServiceError
		exit    *runner.ExitError
		failed  *runner.TaskError
	)
	e := &Error{Code: CodeFailed, Message: err.Error()}
	var since time.Time // the failed process's start: its lines only
	switch {
	case errors.As(err, &unknown):
		e.Code, e.Task = CodeUnknownTask, unknown.Name
	case errors.As(err, &notSvc):
		e.Code, e.Task = CodeNotService, notSvc.Name
	case errors.Is(err, runner.ErrStopping):
		e.Code = CodeStopping
	case errors.Is(err, context.Canceled): // the server closes: the supervisor stops
		e.Code, e.Message = CodeStopping, runner.ErrStopping.Error()
	case errors.As(err, &exit):
		e.Task = exit.Task
	case errors.As(err, &failed):
		e.Task, since = failed.Task, failed.Since
	}
	if e.Code == CodeFailed && e.Task != "" && s.Book != nil {
		for _, l := range s.Book.Tail([]string{e.Task}, failLines) {
			if !l.Time.Before(since) {
				e.Lines = append(e.Lines, string(l.Text))
			}
		}
	}
	return e
}

// ps is the supervisor's tasks as the protocol has them.
func (s *Server) ps() *PS {
	infos := s.Sup.Snapshot()
	out := &PS{PID: s.PID, Tasks: make([]Task, 0, len(infos))}
	for _, ti := range infos {
		t := Task{
			Name: ti.Name, Task: ti.Task, Kind: ti.Kind.String(), Status: string(ti.Status),
			Restarts: ti.Restarts, LastExit: ti.LastExit, RSS: ti.RSS, Reason: ti.Reason, Since: ti.Since,
		}
		if ti.PID != 0 {
			pid, started := ti.PID, ti.Started
			t.PID, t.Started = &pid, &started
		}
		if ti.CPU != nil {
			cpu := float64(int(*ti.CPU*10+0.5)) / 10
			t.CPU = &cpu
		}
		out.Tasks = append(out.Tasks, t)
	}
	return out
}

// minEveryMS is the shortest every_ms served; a shorter one is taken for it.
const minEveryMS = 100

// psEvery answers a ps request with every_ms: a ps now and then every
// every_ms, until the client goes or the supervisor stops (then ok).
func (cn *conn) psEvery(ctx context.Context, req Request) bool {
	if req.EveryMS < 0 {
		return cn.fail(req.ID, &Error{Code: CodeBadRequest, Message: fmt.Sprintf("every_ms is %d: it counts milliseconds, from 0", req.EveryMS)})
	}
	// At most ten a second: a ps reads every task's /proc files.
	t := time.NewTicker(max(time.Duration(req.EveryMS), minEveryMS) * time.Millisecond)
	defer t.Stop()
	for {
		if !cn.send(Reply{ID: req.ID, PS: cn.s.ps()}) {
			return false
		}
		select {
		case <-ctx.Done():
			cn.send(Reply{ID: req.ID, OK: yes()})
			return false
		case <-cn.gone:
			return false
		case <-t.C:
		}
	}
}

// logs answers a logs request: the last lines, then, with follow, every
// new one until the client goes or the supervisor stops.
func (cn *conn) logs(ctx context.Context, req Request) bool {
	switch {
	case req.Lines < 0:
		return cn.fail(req.ID, &Error{Code: CodeBadRequest, Message: fmt.Sprintf("lines is %d: it counts lines, from 0", req.Lines)})
	case req.BatchMS < 0:
		return cn.fail(req.ID, &Error{Code: CodeBadRequest, Message: fmt.Sprintf("batch_ms is %d: it counts milliseconds, from 0", req.BatchMS)})
	}
	if cn.s.Book == nil {
		return cn.send(Reply{ID: req.ID, OK: yes()})
	}
	var f *logs.Follower
	if req.Follow {
		f = cn.s.Book.Follow(req.Tasks) // before the tail: no line falls between
		defer f.Stop()
	}
	out := &lineSender{cn: cn, id: req.ID, every: time.Duration(req.BatchMS) * time.Millisecond}
	defer out.stop()
	last := uint64(0)
	for _, l := range cn.s.Book.Tail(req.Tasks, req.Lines) {
		if !out.add(l) {
			return false
		}
		last = l.Seq
	}
	if !out.flush() {
		return false
	}
	if f == nil {
		return cn.send(Reply{ID: req.ID, OK: yes()})
	}
	return cn.follow(ctx, req.ID, f, out, last)
}

// follow sends the lines after last that f brings, until the client goes
// (false) or the supervisor stops: then the lines printed until then go,
// and the stream ends with ok, as it should.
func (cn *conn) follow(ctx context.Context, id int, f *logs.Follower, out *lineSender, last uint64) bool {
	take := func(lines []logs.Line) bool {
		for _, l := range lines {
			if l.Seq > last && !out.add(l) { // not in the tail already
				return false
			}
		}
		return true
	}
	for {
		select {
		case <-ctx.Done():
			for range len(f.C()) { // those buffered now: a task that floods does not hold the stop up
				if lines, ok := <-f.C(); !ok || !take(lines) {
					break
				}
			}
			if out.flush() {
				cn.send(Reply{ID: id, OK: yes()})
			}
			return false
		case lines, ok := <-f.C():
			if !ok {
				return out.flush() && cn.send(Reply{ID: id, OK: yes()})
			}
			if n := f.TakeSkipped(); n > 0 && !(out.flush() && cn.send(Reply{ID: id, Skipped: n})) {
				return false
			}
			if !take(lines) || !out.schedule() {
				return false
			}
		case <-out.due():
			if !out.flush() {
				return false
			}
		case <-cn.gone:
			return false
		}
	}
}

// maxBatch is the most lines one reply of a batched logs stream holds:
// the tail of 10,000 lines goes in ten replies, and a flood of lines is
// sent as it comes rather than held for the batch's time.
const maxBatch = 1000

// lineSender sends the lines of a logs request: a reply each, or, when
// every is set, in batches, the followed lines at most every every. Its
// timer runs only while lines wait: a quiet stream costs nothing.
type lineSender struct {
	cn      *conn
	id      int           // the request's
	every   time.Duration // the shortest time between two batches (0: a reply a line)
	pending []Line        // lines not sent yet, in order
	sent    time.Time     // when the last batch went
	timer   *time.Timer   // fires when pending lines are due; made on first use
	armed   bool          // the timer runs
}

// add sends l, or queues it when batching (and sends the batch when it
// is full); false when the client is gone.
func (s *lineSender) add(l logs.Line) bool {
	if s.every == 0 {
		pl := line(l)
		return s.cn.send(Reply{ID: s.id, Line: &pl})
	}
	s.pending = append(s.pending, line(l))
	if len(s.pending) >= maxBatch {
		return s.flush()
	}
	return true
}

// schedule sends the pending lines now when the last batch is every
// old, else arms the timer for when it will be.
func (s *lineSender) schedule() bool {
	if len(s.pending) == 0 || s.armed {
		return true
	}
	wait := s.every - time.Since(s.sent)
	if wait <= 0 {
		return s.flush()
	}
	if s.timer == nil {
		s.timer = time.NewTimer(wait)
	} else {
		s.timer.Reset(wait)
	}
	s.armed = true
	return true
}

// due is the timer's channel while it runs, else nil (never ready).
func (s *lineSender) due() <-chan time.Time {
	if !s.armed {
		return nil
	}
	return s.timer.C
}

// flush sends the pending lines as one reply; false when the client is
// gone.
func (s *lineSender) flush() bool {
	s.stop()
	if len(s.pending) == 0 {
		return true
	}
	ok := s.cn.send(Reply{ID: s.id, Lines: s.pending})
	s.pending, s.sent = s.pending[:0], time.Now()
	return ok
}

// stop stops the timer.
func (s *lineSender) stop() {
	if s.armed {
		s.timer.Stop()
		s.armed = false
	}
}

// line is a logs.Line as the protocol has it.
func line(l logs.Line) Line {
	stream := "stdout"
	if l.Stderr {
		stream = "stderr"
	}
	return Line{Seq: l.Seq, Task: l.Task, Time: l.Time, Stream: stream, Text: string(l.Text)}
}

// send writes one reply; false when the client is gone or does not read.
func (cn *conn) send(r Reply) bool {
	r.V = Version
	cn.mu.Lock()
	defer cn.mu.Unlock()
	d := cn.s.WriteTimeout
	if d <= 0 {
		d = writeTimeout
	}
	cn.c.SetWriteDeadline(time.Now().Add(d))
	return cn.enc.Encode(r) == nil
}

// fail answers request id with e.
func (cn *conn) fail(id int, e *Error) bool {
	no := false
	return cn.send(Reply{ID: id, OK: &no, Error: e})
}

func yes() *bool { ok := true; return &ok }
