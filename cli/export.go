package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/procman/procman/runner"
	"github.com/procman/procman/tasks"
)

// ExportCmd is `procman export FORMAT`: the project in another supervisor's
// terms.
type ExportCmd struct {
	Systemd ExportSystemdCmd `cmd:"" help:"Print (or write) systemd units: one per task and APP.target grouping them."`
}

// ExportSystemdCmd is `procman export systemd [--out DIR] [TASK...]`. The
// folder flag is --out, not --dir: -C/--dir is a global flag.
type ExportSystemdCmd struct {
	Tasks []string `arg:"" optional:"" help:"Tasks to export, with their deps (default: every service)."`
	Out   string   `short:"o" placeholder:"DIR" help:"Write the units into DIR (default: print them to stdout, each after a '# file: NAME' line)."`
	App   string   `placeholder:"NAME" help:"Prefix of the unit names (default: the config's name)."`
	User  string   `placeholder:"USER" help:"Run the units as USER (User=; leave it out for user units)."`
}

// Run exports the tasks as systemd units.
func (c *ExportSystemdCmd) Run(g *Globals) error {
	p, err := g.load()
	if err != nil {
		return err
	}
	environ := os.Environ()
	opts := systemdOptions{App: c.App, User: c.User, Environ: environ, Own: ownEnv(p.cfg, environ, g.Port)}
	units, warnings, err := systemdUnits(p.cfg, c.Tasks, opts)
	if err != nil {
		return &usageError{err}
	}
	for _, w := range warnings {
		p.out.Logf(runner.Warn, "warning: %s", w)
	}
	if c.Out == "" {
		return printUnits(os.Stdout, units)
	}
	if err := saveUnits(c.Out, units); err != nil {
		return err
	}
	p.out.Logf(runner.Info, "wrote %d units to %s; start them with systemctl start %s", len(units), c.Out, units[0].Name)
	return nil
}

// unitFile is one generated file: its name and its text.
type unitFile struct {
	Name, Text string
}

// printUnits writes every unit to w, each after a "# file: NAME" line.
func printUnits(w io.Writer, units []unitFile) error {
	for i, u := range units {
		sep := "\n"
		if i == 0 {
			sep = ""
		}
		if _, err := fmt.Fprintf(w, "%s# file: %s\n%s", sep, u.Name, u.Text); err != nil {
			return err
		}
	}
	return nil
}

// saveUnits writes every unit into dir, creating it. Units holding
// Environment= lines carry the values of env files, which may be secrets:
// they are readable by their owner only.
func saveUnits(dir string, units []unitFile) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	for _, u := range units {
		mode := os.FileMode(0o644)
		if strings.Contains(u.Text, "\nEnvironment=") {
			mode = 0o600
		}
		if err := os.WriteFile(filepath.Join(dir, u.Name), []byte(u.Text), mode); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	return nil
}

// ownEnv returns the keys that the config's env files and env keys set, as
// opposed to those procman merely inherited: only these go into the units
// (PATH aside). It loads the config again without the environment; when
// that fails (an env file requires an outside variable), it falls back to
// the keys whose value differs from the environment's.
func ownEnv(cfg *tasks.Config, environ []string, port int) map[string]bool {
	own := map[string]bool{}
	if bare, err := tasks.Load(cfg.File, tasks.LoadOptions{Port: port}); err == nil {
		for _, kv := range bare.Env {
			own[strings.SplitN(kv, "=", 2)[0]] = true
		}
		return own
	}
	outside := map[string]bool{}
	for _, kv := range environ {
		outside[kv] = true
	}
	for _, kv := range cfg.Env {
		if !outside[kv] {
			own[strings.SplitN(kv, "=", 2)[0]] = true
		}
	}
	return own
}

// execArgv is the task's argv with an absolute program: a relative path is
// taken from the task's folder, a bare name looked up on PATH. A name not
// found stays bare, with a warning.
func execArgv(t *tasks.Task, environ []string) ([]string, []string) {
	argv := append([]string(nil), t.Cmd.Argv...)
	prog := argv[0]
	switch {
	case filepath.IsAbs(prog):
		return argv, nil
	case strings.Contains(prog, "/"):
		argv[0] = filepath.Join(t.Dir, prog)
		return argv, nil
	}
	if p := lookPath(prog, envValue(environ, "PATH")); p != "" {
		argv[0] = p
		return argv, nil
	}
	return argv, []string{fmt.Sprintf("task %q: %q is not on PATH; ExecStart names it bare and systemd looks for it on its own PATH", t.Name, prog)}
}

// lookPath finds an executable regular file named prog in the absolute
// folders of path.
func lookPath(prog, path string) string {
	for _, dir := range filepath.SplitList(path) {
		if !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, prog)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// envValue returns the value of key in environ, or "".
func envValue(environ []string, key string) string {
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}
