package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// nodeServer is the Node server both sides run: GET / answers the string
// src/answer.js exports.
const nodeServer = `const http = require("http");
const answer = require("./src/answer.js");
http.createServer((req, res) => res.end(answer)).listen(Number(process.env.PORT), "127.0.0.1");
`

// nodeProcfile runs the server as a service watching src, at the default
// debounce.
const nodeProcfile = `tasks:
  server:
    cmd: node server.js
    service: true
    watch:
      paths: [src]
`

// nodeRows measures the node case: a tiny Node HTTP server under procman
// (service `node server.js` watching src) and under nodemon at its
// defaults (`nodemon --watch src server.js`), one after the other in the
// same folder. Each save rewrites src/answer.js in place; what counts is
// the time from the save to the first GET / that answers the new value.
// nodemon is the floor column: it is what a Node user would run instead.
// Without node, or nodemon and a way to install it, the rows are skipped.
func (e *env) nodeRows(ctx context.Context, cfg config) []row {
	const nMed, nP90 = "node: save to new answer: median", "node: save to new answer: p90"
	names := []string{nMed, nP90}
	nodemon, version, why := e.nodemon(ctx, cfg.npmInstall)
	if why != "" {
		return skipRows(why, names...)
	}
	dir, err := e.caseDir("node")
	if err != nil {
		return failRows(err, names...)
	}
	if err := os.WriteFile(filepath.Join(dir, "server.js"), []byte(nodeServer), 0o644); err != nil {
		return failRows(err, names...)
	}
	e.logf("node: nodemon %s, %d saves", version, cfg.nodeSaves)
	floor, err := e.nodemonSaves(ctx, dir, nodemon, cfg)
	if err != nil {
		return failRows(fmt.Errorf("nodemon: %w", err), names...)
	}
	e.logf("node: procman, %d saves", cfg.nodeSaves)
	got, err := e.procmanNodeSaves(ctx, dir, cfg)
	if err != nil {
		return failRows(err, names...)
	}
	fMed, gMed := median(floor), median(got)
	return []row{
		{name: nMed, unit: dur, floor: secs(fMed), got: secs(gMed), target: "< nodemon", verdict: check(gMed < fMed),
			note: fmt.Sprintf("floor: nodemon %s, `nodemon --watch src server.js`; %d saves a side", version, cfg.nodeSaves)},
		{name: nP90, unit: dur, floor: secs(quantile(floor, 0.9)), got: secs(quantile(got, 0.9))},
	}
}

// nodemon returns the path of nodemon in the benchmark's cache folder
// (os.UserCacheDir()/procman-bench) and its version, installing it there
// with npm when it is missing and install is set; or why it cannot.
func (e *env) nodemon(ctx context.Context, install bool) (bin, version, why string) {
	if _, err := exec.LookPath("node"); err != nil {
		return "", "", "node not found"
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", "", err.Error()
	}
	dir := filepath.Join(cache, "procman-bench")
	bin = filepath.Join(dir, "node_modules", ".bin", "nodemon")
	if _, err := os.Stat(bin); err != nil {
		if !install {
			return "", "", "nodemon is not installed in " + dir + " (-npm-install=false)"
		}
		if _, err := exec.LookPath("npm"); err != nil {
			return "", "", "npm not found"
		}
		e.logf("node: installing nodemon into %s", dir)
		if err := npmInstall(ctx, dir, "nodemon"); err != nil {
			return "", "", "nodemon install failed: " + err.Error()
		}
	}
	var pkg struct{ Version string }
	data, err := os.ReadFile(filepath.Join(dir, "node_modules", "nodemon", "package.json"))
	if err == nil {
		err = json.Unmarshal(data, &pkg)
	}
	if err != nil {
		return "", "", "nodemon's package.json: " + err.Error()
	}
	return bin, pkg.Version, ""
}

// npmInstall installs pkg under prefix, giving up after five minutes (no
// network: npm retries for longer).
func npmInstall(ctx context.Context, prefix, pkg string) error {
	if err := os.MkdirAll(prefix, 0o755); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--prefix", prefix, pkg)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, npmWhy(string(out)))
	}
	return nil
}

// npmWhy picks the reason out of npm's output: its error code
// (ENOTFOUND without a network), else its last line.
func npmWhy(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		if code, ok := strings.CutPrefix(l, "npm error code "); ok {
			return code
		}
	}
	return strings.TrimSpace(lines[len(lines)-1])
}

// nodemonSaves runs nodemon on dir's server and times the saves.
func (e *env) nodemonSaves(ctx context.Context, dir, bin string, cfg config) ([]time.Duration, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	if err := writeAnswer(dir, 0); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "nodemon.log")
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(bin, "--watch", "src", "server.js")
	cmd.Dir = dir
	// No update check: it would go to the network while being measured.
	cmd.Env = e.environ("PORT="+strconv.Itoa(port), "NO_UPDATE_NOTIFIER=1")
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	lat, err := nodeSaves(ctx, dir, port, cfg.nodeSaves, cfg.nodeGap)
	endGroup(cmd, 5*time.Second)
	e.sweep(pidsCarrying(markVar + "=" + e.tmp))
	if err != nil {
		out, _ := os.ReadFile(logPath)
		err = fmt.Errorf("%w; its output ends with:\n%s", err, lastLines(string(out), 5))
	}
	return lat, err
}

// procmanNodeSaves runs `procman up` on dir's server and times the saves.
func (e *env) procmanNodeSaves(ctx context.Context, dir string, cfg config) ([]time.Duration, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	if err := writeAnswer(dir, 0); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "Procfile.yaml"), []byte(nodeProcfile), 0o644); err != nil {
		return nil, err
	}
	p, err := e.startProcman(dir, nil, []string{"PORT=" + strconv.Itoa(port)}, "up")
	if err != nil {
		return nil, err
	}
	lat, err := nodeSaves(ctx, dir, port, cfg.nodeSaves, cfg.nodeGap)
	if err != nil {
		err = fmt.Errorf("%w; procman's stderr ends with:\n%s", err, p.log.tail(5))
	}
	if perr := p.end(); err == nil {
		err = perr
	}
	if left := e.sweep(pidsCarrying(markVar + "=" + e.tmp)); left > 0 && err == nil {
		err = fmt.Errorf("procman left %d processes running", left)
	}
	return lat, err
}

// nodeSaves waits for the server on port to answer, then saves
// src/answer.js n times, gap apart (or as soon as the last save was
// answered, when that took longer), and returns the time from each save
// to the first answer with the new value.
func nodeSaves(ctx context.Context, dir string, port, n int, gap time.Duration) ([]time.Duration, error) {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 250 * time.Millisecond}
	defer client.CloseIdleConnections()
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	if _, err := awaitAnswer(ctx, client, url, answer(0), 30*time.Second); err != nil {
		return nil, err
	}
	if err := pause(ctx, gap); err != nil { // the watcher's set-up may end after the server's
		return nil, err
	}
	var lat []time.Duration
	for i := 1; i <= n; i++ {
		t0 := time.Now()
		if err := writeAnswer(dir, i); err != nil {
			return nil, err
		}
		at, err := awaitAnswer(ctx, client, url, answer(i), 10*time.Second)
		if err != nil {
			return nil, fmt.Errorf("save %d: %w", i, err)
		}
		lat = append(lat, at.Sub(t0))
		if err := pause(ctx, time.Until(t0.Add(gap))); err != nil {
			return nil, err
		}
	}
	return lat, nil
}

// awaitAnswer GETs url every millisecond, each time on a new connection,
// until the body is want, and returns when that answer was read. Polling
// is the measure here: it is a user reloading the page, only faster.
func awaitAnswer(ctx context.Context, client *http.Client, url, want string, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		body, err := get(ctx, client, url)
		if err == nil && body == want {
			return time.Now(), nil
		}
		if time.Now().After(deadline) {
			last := fmt.Sprintf("the last answer was %q", body)
			if err != nil {
				last = "the last GET: " + err.Error()
			}
			return time.Time{}, fmt.Errorf("%s did not answer %q within %v; %s", url, want, timeout, last)
		}
		if err := pause(ctx, time.Millisecond); err != nil {
			return time.Time{}, err
		}
	}
}

// get returns the body of a GET of url.
func get(ctx context.Context, client *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = errors.New(resp.Status)
	}
	return string(body), err
}

// answer is what the server answers after save i (0: before any).
func answer(i int) string { return fmt.Sprintf("answer %d", i) }

// writeAnswer rewrites dir/src/answer.js in place, as an editor's save
// does, to export answer(i).
func writeAnswer(dir string, i int) error {
	p := filepath.Join(dir, "src", "answer.js")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, fmt.Appendf(nil, "module.exports = %q;\n", answer(i)), 0o644)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

// endGroup ends the group cmd leads with SIGTERM, and with SIGKILL when
// its leader has not exited after grace; it reaps the leader.
func endGroup(cmd *exec.Cmd, grace time.Duration) {
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// lastLines returns the last n lines of s, indented.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return "  " + strings.Join(lines[max(0, len(lines)-n):], "\n  ") + "\n"
}
