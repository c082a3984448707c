package tasks

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// procLineRE is one entry of a plain foreman Procfile.
var procLineRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([A-Za-z0-9_-]+):[ \t]*(.*)$`) })

// DefaultPort is the PORT base for plain Procfiles, as foreman has it.
const DefaultPort = 5000

// loadProcfile parses a plain foreman Procfile into c: every entry a
// service, PORT = base + 100 × its index among entries, and PS = NAME.1
// (foreman's process name; procman runs one instance of each).
func (p *parser) loadProcfile(c *Config, data []byte, opts LoadOptions) {
	env := newEnvList(opts.Environ)
	p.loadEnvFiles(filepath.Dir(p.file), nil, env)
	c.Env = env.pairs()
	base, err := portBase(opts.Port, env)
	if err != nil {
		p.errs = append(p.errs, &Error{File: p.file, Msg: err.Error()})
	}
	first := map[string]int{} // name -> line of its entry
	// Without the BOM that Windows editors put first, as YAML and dotenv
	// files are read.
	text := strings.TrimPrefix(string(data), "\uFEFF")
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := procLineRE().FindStringSubmatch(line)
		if m == nil {
			p.lineError(n, "want `name: command`")
			continue
		}
		name := m[1]
		if at, dup := first[name]; dup {
			p.lineError(n, fmt.Sprintf("duplicate name %q (first on line %d)", name, at))
			continue
		}
		first[name] = n
		if IsReserved(name) {
			p.lineError(n, reservedMsg(name))
			continue
		}
		cmd, err := ParseCommand(m[2])
		if errors.Is(err, errEmptyCommand) {
			p.lineError(n, fmt.Sprintf("task %q: empty cmd", name))
			continue
		}
		if err != nil {
			p.lineError(n, fmt.Sprintf("task %q: cmd: %v", name, err))
			continue
		}
		c.Tasks[name] = procfileTask(c, name, cmd, n, base+100*(len(first)-1))
	}
	if len(first) == 0 {
		p.errs = append(p.errs, &Error{File: p.file, Msg: "no tasks defined"})
	}
	c.Names = sortedNames(c.Tasks)
}

func (p *parser) lineError(line int, msg string) {
	p.errs = append(p.errs, &Error{File: p.file, Pos: Pos{Line: line}, Msg: msg})
}

// portBase is the --port flag, else PORT from the environment and env
// files, else DefaultPort.
func portBase(flag int, env *envList) (int, error) {
	if flag != 0 {
		return flag, nil
	}
	v, ok := env.lookup("PORT")
	if !ok || v == "" {
		return DefaultPort, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > 65535 {
		return DefaultPort, fmt.Errorf("bad PORT %q in the environment: want a port number", v)
	}
	return n, nil
}

func procfileTask(c *Config, name string, cmd Command, line, port int) *Task {
	return &Task{
		Name:        name,
		Cmd:         cmd,
		Kind:        Service,
		Dir:         c.Dir,
		Env:         map[string]string{"PORT": strconv.Itoa(port), "PS": name + ".1"},
		Restart:     RestartAlways,
		Replicas:    1,
		Backoff:     DefaultBackoff,
		StopSignal:  syscall.SIGTERM,
		StopTimeout: DefaultStopTimeout,
		Pos:         Pos{Line: line, Col: 1},
	}
}
