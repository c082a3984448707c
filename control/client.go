package control

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/procman/procman/runner/state"
)

// ErrNoSupervisor is what a client gets when no procman supervises the
// project: none holds its lock (a socket file left behind by a killed one
// is never connected to).
var ErrNoSupervisor = errors.New("no procman is supervising this project")

// dialWait bounds how long Dial waits for the socket of a supervisor that
// holds its lock but is still starting (or is stopping).
const dialWait = 2 * time.Second

// Client is a connection to a supervisor.
type Client struct {
	PID int // the supervisor's pid, from its lock file

	c   net.Conn
	r   *bufio.Reader
	enc *json.Encoder
	id  int
}

// Dial connects to the supervisor of the project whose .procman folder is
// stateDir. It returns ErrNoSupervisor when no live procman holds the
// project's supervisor lock, or when the socket of one that holds it does
// not answer within dialWait. It writes nothing and takes no lock: a
// client only probes the supervisor lock (state.Probe).
func Dial(stateDir string) (*Client, error) {
	var c net.Conn
	pid, err := connect(stateDir, func(path string) (err error) {
		c, err = net.Dial("unix", path)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Client{PID: pid, c: c, r: bufio.NewReaderSize(c, 64<<10), enc: json.NewEncoder(c)}, nil
}

// connect finds the socket of the supervisor of the project whose
// .procman folder is stateDir, and calls dial with its path until it
// connects, as Dial says; it returns the supervisor's pid.
func connect(stateDir string, dial func(path string) error) (int, error) {
	pid, active := state.Probe(stateDir)
	if !active {
		return 0, ErrNoSupervisor
	}
	// The socket is in .procman when its path fits; only a deep project's
	// is elsewhere, where the state says (decoding it costs a client more
	// than the rest of a ps).
	path := filepath.Join(stateDir, SocketName)
	if len(path) > maxSocketPath {
		var err error
		if path, err = deepSocket(stateDir, pid); err != nil {
			return 0, err
		}
	}
	deadline := time.Now().Add(dialWait)
	for {
		err := dial(path)
		if err == nil {
			return pid, nil
		}
		if !errors.Is(err, syscall.ENOENT) && !errors.Is(err, syscall.ECONNREFUSED) {
			return 0, fmt.Errorf("connect to procman pid %d: %w", pid, err)
		}
		if pid, active = state.Probe(stateDir); !active || time.Now().After(deadline) {
			return 0, ErrNoSupervisor
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// deepSocket returns the socket of supervisor pid of a project whose
// .procman path is too long for a socket address: where its state says,
// else where SocketPath puts it.
func deepSocket(stateDir string, pid int) (string, error) {
	store, err := state.Open(filepath.Dir(stateDir))
	if err != nil {
		return "", err
	}
	defer store.Close()
	if st, err := store.Read(); err == nil && st.PID == pid && st.Socket != "" {
		return st.Socket, nil
	}
	return SocketPath(stateDir)
}

// Close ends the connection.
func (c *Client) Close() error { return c.c.Close() }

// Do sends req and returns its last reply, after handing every reply
// before it (the lines of logs) to each, unless each is nil. A reply with
// OK false comes back as its *Error.
func (c *Client) Do(req Request, each func(Reply) error) (Reply, error) {
	c.id++
	req.V, req.ID = Version, c.id
	if err := c.enc.Encode(req); err != nil {
		return Reply{}, c.lost(err)
	}
	for {
		line, err := c.r.ReadBytes('\n')
		if err != nil {
			return Reply{}, c.lost(err)
		}
		var rep Reply
		if err := json.Unmarshal(line, &rep); err != nil {
			return Reply{}, fmt.Errorf("procman pid %d answered %q: %w", c.PID, line, err)
		}
		if rep.OK != nil {
			return rep, outcome(c.PID, rep)
		}
		if each != nil {
			if err := each(rep); err != nil {
				return rep, err
			}
		}
	}
}

// outcome is the error of supervisor pid's last reply to a request, rep:
// nil when it was done.
func outcome(pid int, rep Reply) error {
	switch {
	case *rep.OK:
		return nil
	case rep.Error != nil:
		return rep.Error
	}
	return &Error{Code: CodeFailed, Message: fmt.Sprintf("procman pid %d said no, without a reason", pid)}
}

// PS asks for the tasks, live: Do(Request{Op: OpPS}, nil), with the
// request written and a plain reply read by hand (decodePS says why).
func (c *Client) PS() (*PS, error) {
	c.id++
	req := strconv.AppendInt([]byte(`{"v":`), Version, 10)
	req = strconv.AppendInt(append(req, `,"id":`...), int64(c.id), 10)
	if _, err := c.c.Write(append(req, `,"op":"`+OpPS+`"}`+"\n"...)); err != nil {
		return nil, c.lost(err)
	}
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		return nil, c.lost(err)
	}
	return psReply(c.PID, line)
}

// psReply reads supervisor pid's reply line to a ps request.
func psReply(pid int, line []byte) (*PS, error) {
	if ps, ok := decodePS(line); ok {
		return ps, nil
	}
	var rep Reply
	if err := json.Unmarshal(line, &rep); err != nil {
		return nil, fmt.Errorf("procman pid %d answered %q: %w", pid, line, err)
	}
	if rep.OK == nil || rep.PS == nil && *rep.OK {
		return nil, fmt.Errorf("procman pid %d answered %q to ps", pid, line)
	}
	return rep.PS, outcome(pid, rep)
}

// lost says that the supervisor went away mid-request.
func (c *Client) lost(err error) error {
	return fmt.Errorf("procman pid %d went away: %w", c.PID, err)
}
