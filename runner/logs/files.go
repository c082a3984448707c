package logs

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ReadFiles returns the last n lines that the named tasks (every task with
// a log file when names is empty) printed under the last supervisor of the
// project whose .procman folder is stateDir, read from their log files:
// for `procman logs` when no supervisor runs. Lines are merged by time,
// each task's in its own order; Seq is 0 and Stderr false (the files keep
// neither). A service's name reads its replicas' files too.
func ReadFiles(stateDir string, names []string, n int) ([]Line, error) {
	if n <= 0 {
		return nil, nil
	}
	dir := filepath.Join(stateDir, Dir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var found []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".log"); ok && name != "procman" && !e.IsDir() && Matches(names, name) {
			found = append(found, name)
		}
	}
	names = found
	var all []Line
	for _, name := range names {
		lines, err := readTask(dir, name, n)
		if err != nil {
			return nil, err
		}
		all = append(all, lines...)
	}
	slices.SortStableFunc(all, func(a, b Line) int { return a.Time.Compare(b.Time) })
	if len(all) > n {
		all = all[len(all)-n:]
	}
	return all, nil
}

// readTask returns the last n lines of task name's log files, the rotated
// one first when the current one holds fewer.
func readTask(dir, name string, n int) ([]Line, error) {
	var lines []Line
	for _, file := range []string{name + ".log", name + ".log.1"} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		older := parse(name, data)
		lines = append(older[max(0, len(older)-(n-len(lines))):], lines...)
		if len(lines) >= n {
			break
		}
	}
	return lines, nil
}

// parse splits a log file into lines: each is TIME, a space, the text.
func parse(task string, data []byte) []Line {
	var out []Line
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		l := Line{Task: task, Text: line}
		if stamp, text, ok := bytes.Cut(line, []byte{' '}); ok {
			if at, err := time.Parse(TimeFormat, string(stamp)); err == nil {
				l.Time, l.Text = at, text
			}
		}
		out = append(out, l)
	}
	return out
}
