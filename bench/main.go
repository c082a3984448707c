// Command bench measures procman end to end against the physical floor,
// measured in the same run on the same machine: restart latency after a
// save, one restart per save for saves far apart, a checkout-like storm,
// idle cost (CPU, wakeups, state file writes) on a big tree beside an
// idle inotify watcher, output throughput (log files kept), start-up of a
// no-op run (and against the build from before the dashboard was linked
// in), 200 services, services of many replicas (up, and a rolling
// restart), the control channel (ps, restart and logs -f against a
// running procman up -d), and the dashboard (procman ui under a
// pseudo-terminal: its first screen, its CPU while tasks print and while
// they do not, its wakeups, its memory with 10,000 lines); and, against
// nodemon rather than a floor, the time from a save to a Node server's new
// answer. It builds procman from this module, prints one table, writes it
// as Markdown with -out, and exits 1 when a target is missed or a case
// could not be measured (2 when the benchmark could not run at all). A
// case that cannot run on this machine (node without Node.js) is skipped,
// and says why, without failing the run.
//
//	go run ./bench [-cases restart,storm,node,idle,throughput,startup,scale,replicas,control,dashboard] [-rounds 30] [-files 1000] [-out results.md]
//
// Sizes: -saves 20, -save-gap 1.5s, -storm 2000, -node-saves 15,
// -node-gap 1s, -idle 60s, -idle-dirs 2000, -idle-modules 50000,
// -lines 1000000, -runs 200, -services 200, -replica-services 20,
// -replicas 10, -rolls 5, -ps-runs 200, -ps-services 200, -restarts 30,
// -log-lines 200, -ui-runs 20, -ui-window 10s, -ui-lines 10000. The
// startup case builds procman a second time from -before-commit (default
// 3dbfe7f^, the commit before "tui: the dashboard, procman ui and procman
// up --tui"; "" skips that row), exported with git archive. The node case
// installs nodemon with npm into os.UserCacheDir()/procman-bench on first
// use (not with -npm-install=false). The idle floor is this binary
// re-executed with PROCMAN_BENCH_FLOOR_WATCH set. Linux only in practice:
// the floors use inotify, and CPU and RSS come from /proc.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// config is the command line: which cases, at which sizes.
type config struct {
	cases       []string
	rounds      int           // saves per restart series
	saves       int           // saves in the paced restart series
	saveGap     time.Duration // time between its saves
	files       int           // files in the restart tree
	storm       int           // files rewritten in the storm
	nodeSaves   int           // saves per side in the node case
	nodeGap     time.Duration // time between its saves
	npmInstall  bool          // install nodemon into the cache when it is missing
	idle        time.Duration // idle window, as long for the floor
	idleDirs    int           // watched folders in the idle tree
	idleModules int           // files in its node_modules
	lines       int           // lines per writer in the throughput case
	runs        int           // runs per side in the startup case
	services    int           // services in the scale case
	psRuns      int           // runs per side of each ps row in the control case
	psServices  int           // services in the control case's big project
	restarts    int           // procman restart web runs in the control case
	logLines    int           // lines timed per side in the control case's logs -f rows
	replicaSvcs int           // services in the replicas case's up
	replicas    int           // replicas of each, and of web in its rolling restarts
	rolls       int           // rolling restarts timed
	uiRuns      int           // procman ui openings timed in the dashboard case
	uiWindow    time.Duration // the dashboard case's CPU windows
	uiLines     int           // lines printed in its memory row
	before      string        // git revision of procman before the dashboard ("" none)
	out         string        // Markdown file ("" none)
	quiet       bool          // no progress on stderr
}

// allCases are the cases in the order they run.
var allCases = []string{"restart", "storm", "node", "idle", "throughput", "startup", "scale", "replicas", "control", "dashboard"}

// parseFlags reads args into a config.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cases := fs.String("cases", strings.Join(allCases, ","), "cases to run, comma-separated")
	fs.IntVar(&c.rounds, "rounds", 30, "saves per restart series")
	fs.IntVar(&c.saves, "saves", 20, "saves in the paced restart series")
	fs.DurationVar(&c.saveGap, "save-gap", 1500*time.Millisecond, "time between the paced series' saves")
	fs.IntVar(&c.files, "files", 1000, "files in the restart tree")
	fs.IntVar(&c.storm, "storm", 2000, "files rewritten in the storm")
	fs.IntVar(&c.nodeSaves, "node-saves", 15, "saves per side in the node case")
	fs.DurationVar(&c.nodeGap, "node-gap", time.Second, "time between the node case's saves")
	fs.BoolVar(&c.npmInstall, "npm-install", true, "install nodemon with npm into the cache when it is missing")
	fs.DurationVar(&c.idle, "idle", 60*time.Second, "idle window")
	fs.IntVar(&c.idleDirs, "idle-dirs", 2000, "watched folders in the idle tree")
	fs.IntVar(&c.idleModules, "idle-modules", 50000, "files in the idle tree's node_modules")
	fs.IntVar(&c.lines, "lines", 1000000, "lines per writer in the throughput case")
	fs.IntVar(&c.runs, "runs", 200, "runs per side in the startup case")
	fs.IntVar(&c.services, "services", 200, "services in the scale case")
	fs.IntVar(&c.psRuns, "ps-runs", 200, "runs per side of each ps row in the control case")
	fs.IntVar(&c.psServices, "ps-services", 200, "services in the control case's big project")
	fs.IntVar(&c.restarts, "restarts", 30, "procman restart runs in the control case")
	fs.IntVar(&c.logLines, "log-lines", 200, "lines timed per side in the control case's logs -f rows")
	fs.IntVar(&c.replicaSvcs, "replica-services", 20, "services in the replicas case")
	fs.IntVar(&c.replicas, "replicas", 10, "replicas of each service in the replicas case")
	fs.IntVar(&c.rolls, "rolls", 5, "rolling restarts timed in the replicas case")
	fs.IntVar(&c.uiRuns, "ui-runs", 20, "procman ui openings timed in the dashboard case")
	fs.DurationVar(&c.uiWindow, "ui-window", 10*time.Second, "the dashboard case's CPU window")
	fs.IntVar(&c.uiLines, "ui-lines", 10000, "lines printed in the dashboard case's memory row")
	fs.StringVar(&c.before, "before-commit", "3dbfe7f^", `git revision of procman before the dashboard, for the startup case ("" skips that row)`)
	fs.StringVar(&c.out, "out", "", "also write the table as Markdown to this file")
	fs.BoolVar(&c.quiet, "q", false, "no progress on stderr")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	for _, name := range strings.Split(*cases, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(allCases, name) {
			return c, fmt.Errorf("unknown case %q (cases: %s)", name, strings.Join(allCases, ", "))
		}
		c.cases = append(c.cases, name)
	}
	if c.rounds < 1 || c.saves < 1 || c.files < 1 || c.storm < 1 || c.nodeSaves < 1 || c.idleDirs < 1 ||
		c.lines < 1 || c.runs < 1 || c.services < 1 || c.psRuns < 1 || c.psServices < 1 || c.restarts < 1 || c.logLines < 1 ||
		c.replicaSvcs < 1 || c.replicas < 1 || c.rolls < 1 || c.uiRuns < 1 || c.uiLines < 1 ||
		c.saveGap <= 0 || c.nodeGap <= 0 || c.idle <= 0 || c.uiWindow <= 0 {
		return c, fmt.Errorf("sizes must be at least 1")
	}
	return c, nil
}

func main() {
	if root := os.Getenv(floorWatchVar); root != "" {
		os.Exit(floorWatchMain(root))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the benchmark without os.Exit: 0 when every target was met, 1
// when one was missed, 2 when it could not run.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	logf := func(format string, a ...any) {
		if !cfg.quiet {
			fmt.Fprintf(stderr, "bench: "+format+"\n", a...)
		}
	}
	logf("building procman")
	e, err := setup(ctx, logf)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	defer e.close()
	rows := e.runCases(ctx, cfg)
	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "bench: interrupted\n")
		return 2
	}
	desc := fmt.Sprintf("%s, %d cores, %s", machine(), runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(stdout, "Measured on %s.\n\n", desc)
	if err := writeText(stdout, rows); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	if cfg.out != "" {
		if err := writeOut(cfg.out, desc, rows); err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return 2
		}
	}
	if missed(rows) {
		return 1
	}
	return 0
}

// runCases runs the chosen cases in order and returns their rows.
func (e *env) runCases(ctx context.Context, cfg config) []row {
	var rows []row
	for _, c := range cfg.cases {
		if ctx.Err() != nil {
			break
		}
		switch c {
		case "restart":
			rows = append(rows, e.restartRows(ctx, cfg)...)
		case "storm":
			rows = append(rows, e.stormRow(ctx, cfg))
		case "node":
			rows = append(rows, e.nodeRows(ctx, cfg)...)
		case "idle":
			rows = append(rows, e.idleRows(ctx, cfg)...)
		case "throughput":
			rows = append(rows, e.throughputRow(ctx, cfg))
		case "startup":
			rows = append(rows, e.startupRows(ctx, cfg)...)
		case "scale":
			rows = append(rows, e.scaleRows(ctx, cfg)...)
		case "replicas":
			rows = append(rows, e.replicasRows(ctx, cfg)...)
		case "control":
			rows = append(rows, e.controlRows(ctx, cfg)...)
		case "dashboard":
			rows = append(rows, e.dashboardRows(ctx, cfg)...)
		}
		e.tidy(c)
	}
	return rows
}

// writeOut writes the Markdown table to path, under a line naming the
// machine (desc).
func writeOut(path, desc string, rows []row) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := writeMarkdown(f, desc, rows); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
