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

	"github.com/procman/procman/runner"
	"github.com/procman/procman/runner/logs"
	"github.com/procman/procman/runner/state"
)

// notifyEnv names the descriptor on which the background process of
// procman up -d tells the command that started it how the start went:
// "ready", or "failed TASK MESSAGE", one line.
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

// ended says how the run ended, when it ended before it was ready.
func (d *detached) ended(err error) {
	task, msg := "", "procman ended"
	if err != nil {
		msg = err.Error()
	}
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
// and waits until every task is ready (then prints ps and returns nil) or
// the start failed (then the background process has stopped everything:
// it prints why, with the failed task's last lines, and returns exit 1).
// Ctrl-C stops the waiting, not the start.
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
	logPath := filepath.Join(logDir, "procman.log")
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	fi, _ := logFile.Stat()
	from := fi.Size()
	exe, err := os.Executable()
	if err != nil {
		logFile.Close()
		return err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		logFile.Close()
		return err
	}
	began := time.Now().Truncate(time.Millisecond)
	cmd := exec.Command(exe, c.backgroundArgs(g, p)...)
	cmd.Dir = p.cfg.Dir
	cmd.Env = append(os.Environ(), notifyEnv+"=3")
	cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = logFile, logFile, []*os.File{pw}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	pw.Close()
	logFile.Close()
	if err != nil {
		pr.Close()
		return fmt.Errorf("start procman in the background: %w", err)
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
	case <-ctx.Done(): // it goes on: what was asked is not undone
		fmt.Fprintf(os.Stderr, "procman | procman pid %d goes on starting in the background; procman ps shows how far it got, procman down stops it\n", cmd.Process.Pid)
		return ctx.Err()
	}
	if line == "ready\n" {
		fmt.Fprintf(os.Stderr, "procman | procman pid %d runs in the background; its own messages go to %s\n", cmd.Process.Pid, relTo(p.cfg.Dir, logPath))
		go cmd.Wait() // it lives on; the kernel reparents it when this process exits
		return (&PsCmd{}).Run(ctx, g)
	}
	werr := cmd.Wait()
	fields := strings.SplitN(strings.TrimSpace(strings.TrimPrefix(line, "failed ")), " ", 2)
	var ee *exec.ExitError
	if line == "" && errors.As(werr, &ee) && ee.ExitCode() == 2 {
		printFrom(logPath, from) // a usage or config error: procman said which
		return exitError(2)
	}
	printFrom(logPath, from)
	if task := fields[0]; task != "" {
		lines, _ := logs.ReadFiles(p.stateDir(), []string{task}, 20)
		lines = slices.DeleteFunc(lines, func(l logs.Line) bool { return l.Time.Before(began) }) // an earlier run's
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
