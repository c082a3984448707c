package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/procman/procman/control"
	"github.com/procman/procman/runner"
	"github.com/procman/procman/runner/logs"
	"github.com/procman/procman/runner/state"
)

// notifyEnv names the descriptor on which the background process of
// procman up -d tells the command that started it how the start went:
// "ready", "done" (its run ended well before it said ready: once and
// plain tasks only, nothing watched), or "failed TASK MESSAGE", one line.
const notifyEnv = "PROCMAN_NOTIFY_FD"

// detached is the background process's side of procman up -d.
type detached struct {
	f    *os.File
	once sync.Once
}

// detachedChild returns the background side when this process is the
// background process of procman up -d, nil otherwise. The variable does
// not reach the tasks, nor the descriptor.
func detachedChild() *detached {
	fd, err := strconv.Atoi(os.Getenv(notifyEnv))
	os.Unsetenv(notifyEnv)
	if err != nil || fd < 3 {
		return nil
	}
	syscall.CloseOnExec(fd)
	return &detached{f: os.NewFile(uintptr(fd), "notify")}
}

// ready says that every task is ready.
func (d *detached) ready() { d.say("ready\n") }

// ended says how the run ended, when it ended before it was ready: done
// for nil, else failed.
func (d *detached) ended(err error) {
	if err == nil {
		d.say("done\n")
		return
	}
	task, msg := "", err.Error()
	var te *runner.TaskError
	var ee *runner.ExitError
	switch {
	case errors.As(err, &te):
		task = te.Task
	case errors.As(err, &ee):
		task = ee.Task
	}
	d.say(fmt.Sprintf("failed %s %s\n", task, strings.ReplaceAll(msg, "\n", " ")))
}

// say writes the one line, once.
func (d *detached) say(line string) {
	d.once.Do(func() {
		_, _ = io.WriteString(d.f, line)
		d.f.Close()
	})
}

// background starts procman up in its own session, its messages appended
// to .procman/logs/procman.log and its tasks' output to their log files,
// and waits until every task is ready (then prints ps and returns nil),
// the run ended well (once and plain tasks only: it says so and returns
// nil) or the start failed (then the background process has stopped
// everything: it prints why, with the failed task's last lines, and
// returns exit 1). Ctrl-C stops the waiting, not the start.
func (c *UpCmd) background(ctx context.Context, g *Globals, p *project) error {
	store, err := state.Open(p.cfg.Dir)
	if err != nil {
		return err
	}
	pid, active := store.Supervisor()
	store.Close()
	if active {
		return &usageError{&state.BusyError{PID: pid}}
	}
	logDir := filepath.Join(p.stateDir(), logs.Dir)
	if err := os.MkdirAll(logDir, 0o700); err != nil {
		return err
	}
	bg := &backgrounded{logPath: filepath.Join(logDir, "procman.log"), began: time.Now().Truncate(time.Millisecond)}
	pr, err := bg.start(p.cfg.Dir, c.backgroundArgs(g, p))
	if err != nil {
		return err
	}
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(pr).ReadString('\n')
		pr.Close()
		got <- line
	}()
	var line string
	select {
	case line = <-got:
	case <-ctx.Done():
		return bg.interrupted(ctx)
	}
	switch line {
	case "ready\n":
		ps, err := control.AskPS(ctx, p.stateDir())
		if err != nil && ctx.Err() == nil {
			// Its run ended right after it was ready (a service that
			// ended for good, procman down): it has gone, or goes.
			select {
			case werr := <-bg.exited:
				return bg.over(werr)
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			return bg.interrupted(ctx)
		}
		fmt.Fprintf(os.Stderr, "procman | procman pid %d runs in the background; its own messages go to %s\n", bg.pid, relTo(p.cfg.Dir, bg.logPath))
		w := bufio.NewWriter(os.Stdout)
		writePS(w, ps, time.Now())
		return w.Flush() // the kernel reparents it when this process exits
	case "done\n":
		return bg.over(<-bg.exited)
	}
	return bg.failed(p.stateDir(), line)
}

// interrupted says that the background process goes on, when Ctrl-C
// stopped the waiting for it: what was asked is not undone.
func (bg *backgrounded) interrupted(ctx context.Context) error {
	fmt.Fprintf(os.Stderr, "procman | procman pid %d goes on starting in the background; procman ps shows how far it got, procman down stops it\n", bg.pid)
	return ctx.Err()
}

// backgrounded is procman up -d's background process, seen from the
// command that started it.
type backgrounded struct {
	logPath string     // its messages, .procman/logs/procman.log
	from    int64      // the size of logPath before it started
	began   time.Time  // when it started, to the millisecond
	pid     int        // its pid
	exited  chan error // gets cmd.Wait's error when it exits
}

// start starts the background process with args in dir, and returns the
// pipe on which it says how the start went.
func (bg *backgrounded) start(dir string, args []string) (*os.File, error) {
	logFile, err := os.OpenFile(bg.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	fi, _ := logFile.Stat()
	bg.from = fi.Size()
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), notifyEnv+"=3")
	cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = logFile, logFile, []*os.File{pw}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, fmt.Errorf("start procman in the background: %w", err)
	}
	bg.pid, bg.exited = cmd.Process.Pid, make(chan error, 1)
	go func() { bg.exited <- cmd.Wait() }()
	return pr, nil
}

// over reports a background run that has ended by itself, and exited
// with err: when it exited 0, every task finished and nothing is left
// running (its messages say what ran); else it failed after it was ready,
// and its messages say why (exit 1).
func (bg *backgrounded) over(err error) error {
	printFrom(bg.logPath, bg.from)
	if err != nil {
		return exitError(1)
	}
	fmt.Fprintln(os.Stderr, "procman | every task finished; nothing is left running (procman logs shows their output)")
	return nil
}

// failed reports a start that failed, as line says ("failed TASK
// MESSAGE", or nothing when the process ended without a word): exit 2 for
// a usage or config error, which procman's messages name, else exit 1
// after its messages and the failed task's last lines.
func (bg *backgrounded) failed(stateDir, line string) error {
	werr := <-bg.exited
	printFrom(bg.logPath, bg.from)
	var ee *exec.ExitError
	if line == "" && errors.As(werr, &ee) && ee.ExitCode() == 2 {
		return exitError(2)
	}
	fields := strings.SplitN(strings.TrimSpace(strings.TrimPrefix(line, "failed ")), " ", 2)
	if task := fields[0]; task != "" {
		lines, _ := logs.ReadFiles(stateDir, []string{task}, 20)
		lines = slices.DeleteFunc(lines, func(l logs.Line) bool { return l.Time.Before(bg.began) }) // an earlier run's
		if len(lines) > 0 {
			fmt.Fprintf(os.Stderr, "procman | %s's last lines:\n", task)
			for _, l := range lines {
				fmt.Fprintf(os.Stderr, "%s | %s\n", task, l.Text)
			}
		}
	}
	return exitError(1)
}

// backgroundArgs is the command line of the background process: up as
// asked, without -d, with the config file named by its absolute path and
// its messages time-stamped and plain.
func (c *UpCmd) backgroundArgs(g *Globals, p *project) []string {
	args := []string{"--color", "never", "--timestamps", "-f", p.cfg.File}
	if g.LogLevel != "" {
		args = append(args, "--log-level", g.LogLevel)
	}
	if g.Debug {
		args = append(args, "--debug")
	}
	if g.Port != 0 {
		args = append(args, "--port", strconv.Itoa(g.Port))
	}
	args = append(args, "up")
	if c.Force {
		args = append(args, "--force")
	}
	if c.NoWatch {
		args = append(args, "--no-watch")
	}
	if c.Formation != "" {
		args = append(args, "-m", c.Formation)
	}
	return append(append(args, "--"), c.Tasks...)
}

// printFrom copies to stderr what the file at path holds past offset from.
func printFrom(path string, from int64) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err == nil {
		_, _ = io.Copy(os.Stderr, f)
	}
}

// relTo returns path relative to dir when it is inside it.
func relTo(dir, path string) string {
	if rel, err := filepath.Rel(dir, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

// exitError is an exit code whose reason was printed already.
type exitError int

func (e exitError) Error() string { return "exit " + strconv.Itoa(int(e)) }
