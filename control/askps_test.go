package control

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/procman/procman/runner"
	"github.com/procman/procman/runner/state"
	"github.com/procman/procman/tasks"
)

// psSup is a Supervisor that only answers ps.
type psSup struct{ Supervisor }

func (psSup) Snapshot() []runner.TaskInfo {
	code, cpu, rss := 1, 2.5, uint64(1<<20)
	return []runner.TaskInfo{
		{Name: "setup", Task: "setup", Kind: tasks.Once, Status: runner.Exited, LastExit: &code},
		{Name: "web.1", Task: "web", Kind: tasks.Service, Status: runner.Ready, PID: 42, Started: time.Unix(1e9, 0),
			Restarts: 2, CPU: &cpu, RSS: &rss, Reason: "a \"quoted\" reason", Since: time.Unix(1e9, 5)},
	}
}

// supervised returns the .procman folder of a new project (in a short
// temporary folder: a test's own can be too deep for a socket address)
// whose supervisor lock this process holds, and the socket's path there.
func supervised(t *testing.T) (stateDir, sock string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "pm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	store, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	release, err := store.Acquire()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	stateDir = filepath.Join(dir, state.Dir)
	return stateDir, filepath.Join(stateDir, SocketName)
}

func TestAskPS_AndClientPSAsDo(t *testing.T) {
	stateDir, sock := supervised(t)
	s, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	s.Sup, s.Logf = psSup{}, t.Logf
	go s.Serve()
	defer s.Close()
	got, err := AskPS(context.Background(), stateDir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Dial(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rep, err := c.Do(Request{Op: OpPS}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !same(t, got, rep.PS) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(rep.PS)
		t.Errorf("AskPS:\n%s\nDo:\n%s", g, w)
	}
	again, err := c.PS()
	if err != nil || !same(t, again, rep.PS) {
		t.Errorf("Client.PS: %+v, %v; want what Do got", again, err)
	}
}

func TestAskPS_NoSupervisor(t *testing.T) {
	dir, err := os.MkdirTemp("", "pm")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if _, err := AskPS(context.Background(), filepath.Join(dir, state.Dir)); err != ErrNoSupervisor {
		t.Errorf("AskPS: %v, want ErrNoSupervisor", err)
	}
}

// fakeListener accepts on sock and hands each connection to serve.
func fakeListener(t *testing.T, sock string, serve func(net.Conn)) {
	t.Helper()
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c)
		}
	}()
}

func TestAskPS_Refusals(t *testing.T) {
	tests := []struct {
		name  string
		reply string // "": the connection closes at once
		want  string
	}{
		{"went away", "", "went away"},
		{"refused", `{"v":1,"id":1,"ok":false,"error":{"code":"stopping","message":"procman is stopping"}}` + "\n", "procman is stopping"},
		{"no tasks", `{"v":1,"id":1,"ok":true}` + "\n", "to ps"},
		{"not JSON", "hello\n", "answered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stateDir, sock := supervised(t)
			fakeListener(t, sock, func(c net.Conn) {
				defer c.Close()
				if tt.reply != "" {
					buf := make([]byte, 512)
					c.Read(buf)
					c.Write([]byte(tt.reply))
				}
			})
			_, err := AskPS(context.Background(), stateDir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("AskPS: %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

func TestAskPS_ContextEndsTheWait(t *testing.T) {
	stateDir, sock := supervised(t)
	hold := make(chan struct{})
	defer close(hold)
	fakeListener(t, sock, func(c net.Conn) { <-hold; c.Close() }) // never answers
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := AskPS(ctx, stateDir); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("AskPS: %v, want the context's error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("AskPS returned %v after its context ended", d)
	}
}
