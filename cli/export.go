package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

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

// systemdOptions shape the units.
type systemdOptions struct {
	App     string          // unit name prefix; "" means the config's name
	User    string          // User= of every unit; "" for none
	Environ []string        // the environment: PATH finds programs and is exported
	Own     map[string]bool // env keys that the config itself sets
}

// systemdUnits returns APP.target, then one unit per task that targets
// (default: every service) need, deps first. Warnings name programs that
// are not on PATH.
func systemdUnits(cfg *tasks.Config, targets []string, o systemdOptions) ([]unitFile, []string, error) {
	if len(targets) == 0 {
		if targets = cfg.Services(); len(targets) == 0 {
			return nil, nil, fmt.Errorf("%s has no services to export: name the tasks to export", cfg.File)
		}
	}
	order, err := cfg.Plan(targets...)
	if err != nil {
		return nil, nil, err
	}
	if o.App == "" {
		o.App = cfg.Name
	}
	o.App = unitSafe(o.App)
	wants := make([]string, len(targets))
	for i, t := range targets {
		wants[i] = unitName(o.App, t)
	}
	units := []unitFile{{o.App + ".target", targetUnit(cfg, o.App, wants)}}
	var warnings []string
	for _, name := range order {
		text, warn := taskUnit(cfg, cfg.Tasks[name], o)
		units = append(units, unitFile{unitName(o.App, name), text})
		warnings = append(warnings, warn...)
	}
	return units, warnings, nil
}

// generatedBy heads every unit.
func generatedBy(cfg *tasks.Config) string {
	return "# Generated by procman export systemd from " + cfg.File + ".\n" +
		"# Edit that file and export again rather than editing this one.\n"
}

// targetUnit groups the exported units: starting or stopping the target
// starts or stops them all.
func targetUnit(cfg *tasks.Config, app string, wants []string) string {
	var b strings.Builder
	b.WriteString(generatedBy(cfg))
	fmt.Fprintf(&b, "[Unit]\nDescription=%s\nWants=%s\n", specifiers(app+" (procman)"), strings.Join(wants, " "))
	b.WriteString("\n[Install]\nWantedBy=default.target\n")
	return b.String()
}

// taskUnit is the unit for one task: a simple service for a service, a
// oneshot that stays active after success for a once or plain task, so
// that it runs once per start of the target.
func taskUnit(cfg *tasks.Config, t *tasks.Task, o systemdOptions) (string, []string) {
	var b strings.Builder
	b.WriteString(generatedBy(cfg))
	desc := o.App + " " + t.Name
	if t.Desc != "" {
		desc += ": " + t.Desc
	}
	fmt.Fprintf(&b, "[Unit]\nDescription=%s\nPartOf=%s.target\n", specifiers(oneLine(desc)), o.App)
	if len(t.Deps) > 0 {
		deps := make([]string, len(t.Deps))
		for i, d := range t.Deps {
			deps[i] = unitName(o.App, d)
		}
		fmt.Fprintf(&b, "Requires=%s\nAfter=%[1]s\n", strings.Join(deps, " "))
	}
	b.WriteString("\n[Service]\n")
	if t.Kind == tasks.Service {
		b.WriteString("Type=simple\n")
	} else {
		b.WriteString("Type=oneshot\nRemainAfterExit=yes\nTimeoutStartSec=infinity\n")
	}
	if o.User != "" {
		fmt.Fprintf(&b, "User=%s\n", o.User)
	}
	fmt.Fprintf(&b, "WorkingDirectory=%s\n", specifiers(t.Dir))
	for _, kv := range unitEnv(cfg, t, o) {
		fmt.Fprintf(&b, "Environment=%s\n", quoteUnit(specifiers(kv), '"'))
	}
	argv, warn := execArgv(t, o.Environ)
	fmt.Fprintf(&b, "ExecStart=%s\n", execLine(argv))
	if t.Kind == tasks.Service {
		writeRestart(&b, t)
	}
	fmt.Fprintf(&b, "KillMode=control-group\nKillSignal=%s\nTimeoutStopSec=%s\n", unix.SignalName(t.StopSignal), sdDuration(t.StopTimeout))
	fmt.Fprintf(&b, "SyslogIdentifier=%s\n", unitBase(o.App, t.Name))
	return b.String(), warn
}

// writeRestart maps the restart policy and backoff, and says in comments
// what systemd 252 cannot express.
func writeRestart(b *strings.Builder, t *tasks.Task) {
	policy := map[string]string{tasks.RestartAlways: "always", tasks.RestartOnFailure: "on-failure", tasks.RestartNever: "no"}[t.Restart]
	fmt.Fprintf(b, "Restart=%s\nRestartSec=%s\n", policy, sdDuration(t.Backoff))
	if t.Restart != tasks.RestartNever {
		steps := 0
		for d := t.Backoff; d > 0 && d < 30*time.Second; d *= 2 {
			steps++
		}
		fmt.Fprintf(b, "# procman doubles the delay up to 30s; systemd 254 and later can too:\n# RestartSteps=%d\n# RestartMaxDelaySec=30s\n", steps)
	}
	if t.MaxRestarts > 0 {
		fmt.Fprintf(b, "# max_restarts: %d is not exported (StartLimitBurst= counts starts, not consecutive failures).\n", t.MaxRestarts)
	}
	if t.Ready != nil {
		b.WriteString("# The ready probe is not exported: dependents start once this service has started.\n")
	}
}

// unitEnv is the task's environment in the unit: the keys the config sets,
// the task's own keys, and PATH, sorted.
func unitEnv(cfg *tasks.Config, t *tasks.Task, o systemdOptions) []string {
	var out []string
	for _, kv := range cfg.Environ(t) {
		k := strings.SplitN(kv, "=", 2)[0]
		if _, task := t.Env[k]; o.Own[k] || task || k == "PATH" {
			out = append(out, kv)
		}
	}
	sort.Strings(out)
	return out
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

// execLine quotes argv for ExecStart=: "$" and "%" are doubled (systemd
// expands $VAR and %-specifiers there), and a word that is not plain is
// single-quoted, or double-quoted when it holds a single quote.
func execLine(argv []string) string {
	words := make([]string, len(argv))
	for i, a := range argv {
		a = specifiers(strings.ReplaceAll(a, "$", "$$"))
		switch {
		case a != "" && strings.Trim(a, plainUnitChars) == "":
			words[i] = a
		case strings.ContainsRune(a, '\''):
			words[i] = quoteUnit(a, '"')
		default:
			words[i] = quoteUnit(a, '\'')
		}
	}
	return strings.Join(words, " ")
}

// plainUnitChars are the characters a word of ExecStart= may hold unquoted.
const plainUnitChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._+,:=@%$-"

// quoteUnit puts s in quotes with C-style escapes, as systemd unquotes
// words: backslash, the quote, and control characters are escaped.
func quoteUnit(s string, quote byte) string {
	var b strings.Builder
	b.WriteByte(quote)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' || c == quote:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// specifiers escapes "%", which systemd expands in most settings.
func specifiers(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// oneLine folds a text onto one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// unitName is the service unit of a task.
func unitName(app, task string) string { return unitBase(app, task) + ".service" }

// unitBase is a task's unit name without ".service", its log identifier.
func unitBase(app, task string) string { return app + "-" + unitSafe(task) }

// unitSafe replaces every run of characters that a unit name may not hold
// with one '-', and drops such runs at the ends.
func unitSafe(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		ok := r < 0x80 && (r == '_' || r == '.' || r == ':' || r == '-' ||
			'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
		if !ok {
			if !dash {
				b.WriteByte('-')
			}
			dash = true
			continue
		}
		b.WriteRune(r)
		dash = false
	}
	if out := strings.Trim(b.String(), "-"); out != "" {
		return out
	}
	return "procman"
}

// sdDuration writes d in systemd's time syntax, in the largest unit that
// holds it exactly.
func sdDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	case d%time.Millisecond == 0:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	}
	return fmt.Sprintf("%dus", d/time.Microsecond)
}
