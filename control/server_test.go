package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/procman/procman/runner"
	"github.com/procman/procman/runner/logs"
	"github.com/procman/procman/tasks"
)

// TestMain lets the test binary be a client of another uid: with
// PROCMAN_TEST_DIAL set, it connects there, sends a ps request and prints
// the reply.
func TestMain(m *testing.M) {
	if path := os.Getenv("PROCMAN_TEST_DIAL"); path != "" {
		c, err := net.Dial("unix", path)
		if err != nil {
			fmt.Println("dial:", err)
			os.Exit(1)
		}
		fmt.Fprintln(c, `{"v": 1, "op": "ps"}`)
		line, _ := bufio.NewReader(c).ReadString('\n')
		fmt.Print(line)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fakeSup is a Supervisor that records what it is asked.
type fakeSup struct {
	mu    sync.Mutex
	asked []string
	err   error // what Restart, Stop and Start return
}

func (f *fakeSup) Snapshot() []runner.TaskInfo {
	code := 0
	return []runner.TaskInfo{
		{Name: "setup", Task: "setup", Kind: tasks.Once, Status: runner.Exited, LastExit: &code},
		{Name: "web", Task: "web", Kind: tasks.Service, Status: runner.Ready, PID: 42, Started: time.Unix(1e9, 0), Restarts: 2},
	}
}

func (f *fakeSup) do(op string, names []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, op+" "+strings.Join(names, ","))
	return f.err
}

func (f *fakeSup) Restart(_ context.Context, names []string, _ string) error {
	return f.do("restart", names)
}
func (f *fakeSup) Stop(_ context.Context, names []string, _ string) error {
	return f.do("stop", names)
}
func (f *fakeSup) Start(_ context.Context, names []string, _ string) error {
	return f.do("start", names)
}
func (f *fakeSup) Scale(_ context.Context, counts map[string]int, _ string) error {
	var names []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		names = append(names, fmt.Sprintf("%s=%d", k, counts[k]))
	}
	return f.do("scale", names)
}

// Check knows setup and web only.
func (f *fakeSup) Check(_ context.Context, names []string, _ bool) error {
	for _, name := range names {
		if name != "setup" && name != "web" {
			return &runner.UnknownTaskError{Name: name, Known: []string{"setup", "web"}}
		}
	}
	return nil
}

// serve starts a server on a socket in a short temporary folder (a test's
// own folder can be too deep for a socket address).
func serve(t *testing.T, sup Supervisor, book *logs.Book, set ...func(*Server)) (*Server, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "pm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "s")
	s, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Sup, s.Book, s.Logf = sup, book, t.Logf
	for _, f := range set {
		f(s)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close() })
	return s, path
}

// raw connects and returns a line writer and reader.
func raw(t *testing.T, path string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

// reply reads one reply.
func reply(t *testing.T, r *bufio.Reader) Reply {
	t.Helper()
	line, err := r.ReadBytes('\n')
	if err != nil {
		t.Fatalf("read reply: %v", err)
	}
	var rep Reply
	if err := json.Unmarshal(line, &rep); err != nil {
		t.Fatalf("reply %q: %v", line, err)
	}
	return rep
}

func TestServer_PS(t *testing.T) {
	_, path := serve(t, &fakeSup{}, nil)
	c, r := raw(t, path)
	fmt.Fprintln(c, `{"v": 1, "id": 7, "op": "ps"}`)
	rep := reply(t, r)
	if rep.ID != 7 || rep.OK == nil || !*rep.OK || rep.PS == nil || rep.PS.PID != os.Getpid() {
		t.Fatalf("reply %+v", rep)
	}
	got, _ := json.Marshal(rep.PS.Tasks[1])
	want := `{"name":"web","kind":"service","status":"ready","pid":42,"started":"2001-09-09T01:46:40Z","restarts":2,"last_exit":null,"cpu":null,"rss":null,"task":"web","since":"0001-01-01T00:00:00Z"}`
	if string(got) != want {
		t.Errorf("web =\n%s\nwant\n%s", got, want)
	}
}

func TestServer_PSEvery(t *testing.T) {
	s, path := serve(t, &fakeSup{}, nil)
	c, r := raw(t, path)
	fmt.Fprintln(c, `{"v": 1, "id": 4, "op": "ps", "every_ms": 10}`)
	for i := range 3 {
		if rep := reply(t, r); rep.ID != 4 || rep.OK != nil || rep.PS == nil || len(rep.PS.Tasks) != 2 {
			t.Fatalf("reply %d: %+v, want a ps, and no ok", i, rep)
		}
	}
	go s.Close()
	for {
		rep := reply(t, r)
		if rep.OK != nil {
			if !*rep.OK || rep.ID != 4 {
				t.Errorf("last reply %+v, want ok to request 4", rep)
			}
			return
		}
		if rep.PS == nil {
			t.Fatalf("reply %+v, want a ps or the ok", rep)
		}
	}
}

func TestServer_BadInputHarmsOnlyItsConnection(t *testing.T) {
	_, path := serve(t, &fakeSup{}, nil)
	tests := []struct {
		name, send, code string
		closes           bool
	}{
		{"garbage", "hello there", CodeBadRequest, true},
		{"another version", `{"v": 2, "op": "ps"}`, CodeVersion, true},
		{"no version", `{"op": "ps"}`, CodeVersion, true},
		{"unknown op", `{"v": 1, "op": "reboot"}`, CodeUnknownOp, false},
		{"a line too long", `{"v": 1, "op": "ps", "tasks": ["` + strings.Repeat("x", maxLine) + `"]}`, CodeBadRequest, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, r := raw(t, path)
			fmt.Fprintln(c, tt.send)
			rep := reply(t, r)
			if rep.OK == nil || *rep.OK || rep.Error == nil || rep.Error.Code != tt.code {
				t.Fatalf("reply %+v, want error %s", rep, tt.code)
			}
			fmt.Fprintln(c, `{"v": 1, "op": "ps"}`)
			_, err := r.ReadBytes('\n')
			if closed := err != nil; closed != tt.closes {
				t.Errorf("connection closed: %v, want %v", closed, tt.closes)
			}
		})
	}
	// The server still serves everyone else.
	c, r := raw(t, path)
	fmt.Fprintln(c, `{"v": 1, "op": "ps"}`)
	if rep := reply(t, r); rep.PS == nil {
		t.Fatalf("after bad clients: %+v", rep)
	}
}

func TestServer_ClientThatNeverReadsIsDropped(t *testing.T) {
	dir := t.TempDir()
	book, err := logs.Open(dir, nil, t.Errorf)
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	_, path := serve(t, &fakeSup{}, book, func(s *Server) { s.WriteTimeout = 100 * time.Millisecond })
	c, _ := raw(t, path)
	fmt.Fprintln(c, `{"v": 1, "op": "logs", "follow": true}`)
	line := []byte(strings.Repeat("x", 1000) + "\n")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) { // until the socket's buffers are full and a write times out
		book.Write("web", false, line)
		c2, r2 := raw(t, path)
		fmt.Fprintln(c2, `{"v": 1, "op": "ps"}`)
		if rep := reply(t, r2); rep.PS == nil { // others are served meanwhile
			t.Fatalf("ps: %+v", rep)
		}
		c2.Close()
		if _, err := fmt.Fprintln(c, `{"v": 1, "op": "ps"}`); err != nil {
			return // the server closed its end: EPIPE
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("a client that never reads was not dropped")
}

func TestServer_Operations(t *testing.T) {
	sup := &fakeSup{}
	_, path := serve(t, sup, nil)
	c, r := raw(t, path)
	for _, op := range []string{"restart", "stop", "start"} {
		fmt.Fprintf(c, `{"v": 1, "op": %q, "tasks": ["web", "db"]}`+"\n", op)
		if rep := reply(t, r); rep.OK == nil || !*rep.OK {
			t.Fatalf("%s: %+v", op, rep)
		}
	}
	fmt.Fprintln(c, `{"v": 1, "op": "scale", "counts": {"web": 3, "api": 0}}`)
	if rep := reply(t, r); rep.OK == nil || !*rep.OK {
		t.Fatalf("scale: %+v", rep)
	}
	if want := []string{"restart web,db", "stop web,db", "start web,db", "scale api=0,web=3"}; !slices.Equal(sup.asked, want) {
		t.Errorf("asked %q, want %q", sup.asked, want)
	}
}

func TestServer_ExplainsErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code string
	}{
		{"unknown task", &runner.UnknownTaskError{Name: "nope", Known: []string{"web"}}, CodeUnknownTask},
		{"not a service", &runner.NotServiceError{Name: "setup", Kind: tasks.Once, Op: "stopped"}, CodeNotService},
		{"stopping", runner.ErrStopping, CodeStopping},
		{"failed", &runner.TaskError{Task: "web", Err: errors.New("web exited with code 1 before it was ready")}, CodeFailed},
	}
	dir := t.TempDir()
	book, err := logs.Open(dir, nil, t.Errorf)
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	book.Write("web", true, []byte("Error: port 3000 in use\n"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, path := serve(t, &fakeSup{err: tt.err}, book)
			c, r := raw(t, path)
			fmt.Fprintln(c, `{"v": 1, "op": "restart", "tasks": ["web"]}`)
			rep := reply(t, r)
			if rep.Error == nil || rep.Error.Code != tt.code || rep.Error.Message != tt.err.Error() {
				t.Fatalf("error %+v, want code %s", rep.Error, tt.code)
			}
			if tt.code == CodeFailed && !slices.Equal(rep.Error.Lines, []string{"Error: port 3000 in use"}) {
				t.Errorf("lines %q, want the task's last line", rep.Error.Lines)
			}
		})
	}
}

func TestServer_DownTwice(t *testing.T) {
	downs := 0
	_, path := serve(t, &fakeSup{}, nil, func(s *Server) { s.Down = func(context.Context) error { downs++; return nil } })
	c, r := raw(t, path)
	fmt.Fprintln(c, `{"v": 1, "op": "down"}`)
	if rep := reply(t, r); rep.OK == nil || !*rep.OK {
		t.Fatalf("first down: %+v", rep)
	}
	fmt.Fprintln(c, `{"v": 1, "op": "down"}`)
	if rep := reply(t, r); rep.Error == nil || rep.Error.Code != CodeStopping {
		t.Fatalf("second down: %+v, want code stopping", rep)
	}
	if downs != 1 {
		t.Errorf("Down called %d times, want 1", downs)
	}
}

func TestServer_LogsTailThenFollow(t *testing.T) {
	book, err := logs.Open(t.TempDir(), nil, t.Errorf)
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	book.Write("web", false, []byte("one\ntwo\n"))
	book.Write("db", true, []byte("three\n"))
	_, path := serve(t, &fakeSup{}, book)
	c, r := raw(t, path)
	fmt.Fprintln(c, `{"v": 1, "op": "logs", "lines": 2, "follow": true}`)
	var got []string
	for range 2 {
		l := reply(t, r).Line
		got = append(got, l.Task+":"+l.Stream+":"+l.Text)
	}
	book.Write("web", false, []byte("four\n"))
	l := reply(t, r).Line
	got = append(got, l.Task+":"+l.Stream+":"+l.Text)
	if want := []string{"web:stdout:two", "db:stderr:three", "web:stdout:four"}; !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
}

func TestServer_LogsEndsWithOKWhenTheSupervisorStops(t *testing.T) {
	book, err := logs.Open(t.TempDir(), nil, t.Errorf)
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	s, path := serve(t, &fakeSup{}, book)
	c, r := raw(t, path)
	fmt.Fprintln(c, `{"v": 1, "id": 7, "op": "logs", "lines": 1, "follow": true}`)
	book.Write("web", false, []byte("one\n"))
	if l := reply(t, r).Line; l == nil || l.Text != "one" {
		t.Fatalf("first reply: line %+v, want one", l)
	}
	go s.Close()
	if rep := reply(t, r); rep.ID != 7 || rep.OK == nil || !*rep.OK {
		t.Errorf("last reply %+v, want ok to request 7: the stream ended as it should", rep)
	}
}

func TestServer_LogsInBatches(t *testing.T) {
	book, err := logs.Open(t.TempDir(), nil, t.Errorf)
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	var tail strings.Builder
	for i := range 2500 {
		fmt.Fprintf(&tail, "line %d\n", i)
	}
	book.Write("web", false, []byte(tail.String()))
	s, path := serve(t, &fakeSup{}, book)
	c, r := raw(t, path)
	// A batch a minute at most: what follows the tail waits for the
	// supervisor to stop, which sends it before the stream ends.
	fmt.Fprintln(c, `{"v": 1, "id": 3, "op": "logs", "lines": 2500, "follow": true, "batch_ms": 60000}`)
	var got []string
	var sizes []int
	for len(got) < 2500 {
		rep := reply(t, r)
		if rep.Line != nil || rep.OK != nil || rep.ID != 3 {
			t.Fatalf("reply %+v, want a batch of lines to request 3", rep)
		}
		sizes = append(sizes, len(rep.Lines))
		for _, l := range rep.Lines {
			got = append(got, l.Text)
		}
	}
	if !slices.Equal(sizes, []int{1000, 1000, 500}) {
		t.Errorf("the tail came in batches of %v, want 1000, 1000, 500", sizes)
	}
	book.Write("web", false, []byte("after 1\n"))
	book.Write("db", true, []byte("after 2\n"))
	book.Write("web", false, []byte("after 3\n"))
	// Write returns once the follower has them
	go s.Close()
	rep := reply(t, r)
	var batch []string
	for _, l := range rep.Lines {
		batch = append(batch, l.Task+":"+l.Stream+":"+l.Text)
	}
	if want := []string{"web:stdout:after 1", "db:stderr:after 2", "web:stdout:after 3"}; !slices.Equal(batch, want) {
		t.Errorf("followed lines %q, want %q in one batch", batch, want)
	}
	if rep := reply(t, r); rep.ID != 3 || rep.OK == nil || !*rep.OK {
		t.Errorf("last reply %+v, want ok to request 3", rep)
	}
	for i, text := range got {
		if want := fmt.Sprintf("line %d", i); text != want {
			t.Fatalf("line %d of the tail is %q, want %q", i, text, want)
		}
	}
}

func TestServer_LogsInBatchesFollowsWithoutAStop(t *testing.T) {
	book, err := logs.Open(t.TempDir(), nil, t.Errorf)
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	book.Write("web", false, []byte("tail\n"))
	_, path := serve(t, &fakeSup{}, book)
	c, r := raw(t, path)
	fmt.Fprintln(c, `{"v": 1, "op": "logs", "lines": 1, "follow": true, "batch_ms": 5}`)
	if rep := reply(t, r); len(rep.Lines) != 1 || rep.Lines[0].Text != "tail" {
		t.Fatalf("first reply %+v, want the tail", rep) // and the follower is there
	}
	var got []string
	for i := range 20 {
		book.Write("web", false, []byte(fmt.Sprintf("%d\n", i)))
	}
	for len(got) < 20 {
		rep := reply(t, r)
		if rep.Line != nil || len(rep.Lines) == 0 {
			t.Fatalf("reply %+v, want a batch", rep)
		}
		for _, l := range rep.Lines {
			got = append(got, l.Text)
		}
	}
	for i, text := range got {
		if text != fmt.Sprint(i) {
			t.Fatalf("lines %q: out of order", got)
		}
	}
}

func TestServer_RefusesNegativeNumbers(t *testing.T) {
	book, err := logs.Open(t.TempDir(), nil, t.Errorf)
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	book.Write("web", false, []byte("one\n"))
	_, path := serve(t, &fakeSup{}, book)
	c, r := raw(t, path)
	for _, req := range []string{`{"v": 1, "op": "logs", "lines": -3}`, `{"v": 1, "op": "logs", "batch_ms": -1}`, `{"v": 1, "op": "ps", "every_ms": -1}`} {
		fmt.Fprintln(c, req)
		if rep := reply(t, r); rep.Error == nil || rep.Error.Code != CodeBadRequest {
			t.Errorf("%s: reply %+v, want a bad-request error", req, rep)
		}
	}
	fmt.Fprintln(c, `{"v": 1, "op": "ps"}`) // and the supervisor lives on
	if rep := reply(t, r); rep.PS == nil {
		t.Errorf("ps after: %+v", rep)
	}
}

func TestServer_RefusesAnotherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to connect as another user")
	}
	var logged []string
	var mu sync.Mutex
	_, path := serve(t, &fakeSup{}, nil, func(s *Server) {
		s.Logf = func(f string, a ...any) { mu.Lock(); logged = append(logged, fmt.Sprintf(f, a...)); mu.Unlock() }
	})
	// Let uid 65534 reach the socket, so that the peer check is what refuses.
	for _, p := range []string{filepath.Dir(path), path} {
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	exe := filepath.Join(filepath.Dir(path), "client") // where uid 65534 may run it
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "PROCMAN_TEST_DIAL="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("client: %v\n%s", err, out)
	}
	var rep Reply
	if err := json.Unmarshal(out, &rep); err != nil || rep.Error == nil || rep.Error.Code != CodeDenied {
		t.Fatalf("client got %q, want a denied error", out)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logged) != 1 || !strings.Contains(logged[0], "refused a connection from uid 65534") {
		t.Errorf("logged %q", logged)
	}
}

func TestSocketPath(t *testing.T) {
	short := t.TempDir()
	if p, err := SocketPath(short); err != nil || p != filepath.Join(short, SocketName) {
		t.Errorf("short: %q, %v", p, err)
	}
	run := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", run)
	deep := filepath.Join(short, strings.Repeat("a-long-folder-name/", 8), "my project", ".procman")
	p, err := SocketPath(deep)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(p) != filepath.Join(run, "procman") || len(p) > maxSocketPath || !strings.Contains(p, "my_project-") {
		t.Errorf("deep: %q (%d bytes)", p, len(p))
	}
	if again, _ := SocketPath(deep); again != p {
		t.Errorf("not the same path twice: %q, %q", p, again)
	}
	if other, _ := SocketPath(filepath.Join(filepath.Dir(filepath.Dir(deep)), "my project 2", ".procman")); other == p {
		t.Errorf("two projects share %q", p)
	}
	if fi, err := os.Stat(filepath.Dir(p)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("socket folder: %v, %v", fi.Mode(), err)
	}
	if os.Getuid() == 0 {
		os.Chown(filepath.Join(run, "procman"), 65534, 65534)
		if _, err := SocketPath(deep); err == nil || !strings.Contains(err.Error(), "belongs to uid 65534") {
			t.Errorf("a folder of another user's: %v", err)
		}
	}
}

// slowSup is a fakeSup whose Restart waits for release, and says whether
// its context ended meanwhile.
type slowSup struct {
	fakeSup
	started, release chan struct{}
	cut              chan error // Restart's context's error when released
}

func (f *slowSup) Restart(ctx context.Context, names []string, _ string) error {
	close(f.started)
	<-f.release
	f.cut <- ctx.Err()
	return nil
}

func TestServer_AnOperationGoesOnWhenItsClientGoes(t *testing.T) {
	sup := &slowSup{started: make(chan struct{}), release: make(chan struct{}), cut: make(chan error, 1)}
	_, path := serve(t, sup, nil)
	c, _ := raw(t, path)
	fmt.Fprintln(c, `{"v": 1, "id": 1, "op": "restart", "tasks": ["web"]}`)
	<-sup.started
	c.Close()                         // Ctrl-C of procman restart
	time.Sleep(20 * time.Millisecond) // the server sees it go
	close(sup.release)
	select {
	case err := <-sup.cut:
		if err != nil {
			t.Fatalf("the restart was cut short when its client went: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the restart never finished")
	}
}

// A logs -f of a quiet task ends when its client closes, not at the
// task's next line: else each Ctrl-C of it would leave the supervisor a
// connection and a follower until the task printed again.
func TestServer_LogsFollowEndsWhenItsClientCloses(t *testing.T) {
	book, err := logs.Open(t.TempDir(), nil, t.Errorf)
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	book.Write("web", false, []byte("the last line for a while\n"))
	_, path := serve(t, &fakeSup{}, book)
	before := openFDs(t)
	for range 10 {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintln(c, `{"v": 1, "op": "logs", "lines": 1, "follow": true}`)
		if l := reply(t, bufio.NewReader(c)).Line; l == nil || l.Text != "the last line for a while" {
			t.Fatalf("a follower got %+v", l)
		}
		c.Close() // Ctrl-C
	}
	deadline := time.Now().Add(10 * time.Second)
	for openFDs(t) > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d files open, %d before the followers came: their connections outlive them", openFDs(t), before)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestServer_LogsFollowGoesOnAfterAHalfClose: a client that closes only
// its sending half still gets the lines.
func TestServer_LogsFollowGoesOnAfterAHalfClose(t *testing.T) {
	book, err := logs.Open(t.TempDir(), nil, t.Errorf)
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	_, path := serve(t, &fakeSup{}, book)
	book.Write("web", false, []byte("one\n"))
	c, r := raw(t, path)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintln(c, `{"v": 1, "op": "logs", "lines": 1, "follow": true}`)
	if l := reply(t, r).Line; l == nil || l.Text != "one" {
		t.Fatalf("got %+v, want the line one", l)
	}
	if err := c.(*net.UnixConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // the server reads its EOF
	book.Write("web", false, []byte("two\n"))
	if l := reply(t, r).Line; l == nil || l.Text != "two" {
		t.Fatalf("got %+v after a half close, want the line two", l)
	}
}

// openFDs counts the test process's open files (the server's among them).
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}
