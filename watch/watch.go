// Package watch turns filesystem events into batches of distinct changed
// paths. It knows nothing of tasks: a Watcher watches files and folders,
// recursively, skips what is ignored (built-in names, .gitignore files,
// extra globs), and delivers a Batch when enough distinct paths changed and
// the burst went quiet.
//
// On Linux it drives inotify itself, one watch per folder, so that ignored
// folders cost no watch; elsewhere it uses rjeczalik/notify's recursive
// watch and filters events.
package watch

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"
)

// Options configure a Watcher.
type Options struct {
	Roots         []string                         // absolute files or folders to watch, recursively
	Base          string                           // project folder: .gitignore files from Base down to each root apply, and nested ones below
	Ignore        []string                         // extra globs (gitignore syntax, ** allowed), relative to Base
	Outputs       []string                         // absolute paths whose own changes never count (a task's outputs and the folders holding them); files inside such a folder still count
	Debounce      time.Duration                    // quiet time that closes a burst (0 = trigger as soon as the threshold is reached), or Auto
	ChangesNeeded int                              // distinct changed paths needed to trigger (>= 1; 0 means 1)
	Clock         Clock                            // nil: the real clock
	Logf          func(format string, args ...any) // warnings (nil: discard)
}

// Watcher watches Options.Roots and delivers their changes on Batches.
type Watcher struct {
	out    chan Batch         // Batches(); closed by the batcher when it returns
	done   chan struct{}      // closed when the batcher has returned
	be     backend            // the platform's watching
	cfg    *config            // roots, ignore rules and outputs, for Counts
	cancel context.CancelFunc // stops the batcher and the backend's goroutines
	once   sync.Once          // guards shutdown
	err    error              // the backend's close error
}

// backend is the platform's watching; each OS file provides startBackend
// returning one.
type backend interface {
	close() error // stops watching and waits for the backend's goroutines
	watched() int // how many folders hold a watch
}

// config is Options checked and cleaned, as the backends see it.
type config struct {
	roots   []string                         // cleaned absolute roots
	ign     *ignorer                         // what to skip
	outputs map[string]bool                  // Options.Outputs, cleaned: never emitted
	logf    func(format string, args ...any) // never nil
	events  chan<- Event                     // to the batcher
	ctx     context.Context                  // the watcher's lifetime
}

// emit hands a change to the batcher, unless the path is an output or the
// watcher is shutting down.
func (c *config) emit(ev Event) {
	if c.outputs[ev.Path] {
		return
	}
	select {
	case c.events <- ev:
	case <-c.ctx.Done():
	}
}

// eventBuffer is the capacity of the channel from the backend to the
// batcher, which never stops reading it for long.
const eventBuffer = 4096

// New starts watching opts.Roots. The watches are in place when it returns;
// changes from then on arrive on Batches. The watcher stops when ctx is done
// or Close is called.
func New(ctx context.Context, opts Options) (*Watcher, error) {
	return newWatcher(ctx, opts, startBackend)
}

// startFunc starts a backend; tests pass one with injected failures.
type startFunc func(ctx context.Context, c *config) (backend, error)

// newWatcher is New with the backend's start function as a parameter.
func newWatcher(ctx context.Context, opts Options, start startFunc) (*Watcher, error) {
	roots, base, err := checkOptions(opts)
	if err != nil {
		return nil, err
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	events := make(chan Event, eventBuffer)
	wctx, cancel := context.WithCancel(ctx)
	c := &config{
		roots:  roots,
		ign:    newIgnorer(base, roots, opts.Ignore, logf),
		logf:   logf,
		events: events,
		ctx:    wctx,
	}
	for _, p := range opts.Outputs {
		if c.outputs == nil {
			c.outputs = make(map[string]bool)
		}
		c.outputs[filepath.Clean(p)] = true
	}
	be, err := start(wctx, c)
	if err != nil {
		cancel()
		return nil, err
	}
	w := &Watcher{out: make(chan Batch), done: make(chan struct{}), be: be, cfg: c, cancel: cancel}
	go func() {
		defer close(w.done)
		NewBatcher(opts.Debounce, opts.ChangesNeeded).Run(wctx, events, w.out, opts.Clock)
	}()
	context.AfterFunc(wctx, w.shutdown)
	return w, nil
}

// checkOptions validates opts and returns the cleaned roots and base.
func checkOptions(opts Options) (roots []string, base string, err error) {
	if len(opts.Roots) == 0 {
		return nil, "", errors.New("watch: no paths to watch")
	}
	for _, r := range opts.Roots {
		if !filepath.IsAbs(r) {
			return nil, "", fmt.Errorf("watch: path %q is not absolute", r)
		}
		roots = append(roots, filepath.Clean(r))
	}
	if opts.Base != "" {
		if !filepath.IsAbs(opts.Base) {
			return nil, "", fmt.Errorf("watch: base %q is not absolute", opts.Base)
		}
		base = filepath.Clean(opts.Base)
	}
	if opts.ChangesNeeded < 0 {
		return nil, "", fmt.Errorf("watch: changes needed must be at least 1, not %d", opts.ChangesNeeded)
	}
	if opts.Debounce < 0 && opts.Debounce != Auto {
		return nil, "", fmt.Errorf("watch: debounce must not be negative, not %v", opts.Debounce)
	}
	return roots, base, nil
}

// Batches delivers one Batch per trigger. It is unbuffered: changes that
// arrive while nobody reads are kept for the next batch. It is closed after
// Close, or when New's context is done.
func (w *Watcher) Batches() <-chan Batch { return w.out }

// Counts reports whether a change to the file at path would count for w:
// it is a root or below one, not ignored, and not an output. It is safe to
// call from any goroutine.
func (w *Watcher) Counts(path string) bool {
	path = filepath.Clean(path)
	if w.cfg.outputs[path] {
		return false
	}
	for _, r := range w.cfg.roots {
		if path == r || (within(path, r) && !w.cfg.ign.ignoredPath(r, path, false)) {
			return true
		}
	}
	return false
}

// Close stops watching, releases the OS watches and closes Batches. It is
// safe to call more than once.
func (w *Watcher) Close() error {
	w.cancel()
	w.shutdown()
	return w.err
}

// shutdown releases the backend once and waits for the batcher to return.
func (w *Watcher) shutdown() {
	w.once.Do(func() {
		w.cancel()
		w.err = w.be.close()
		<-w.done
	})
}

// Watched returns how many folders hold a watch (for tests, benchmarks and
// debugging). On Linux that is every watched folder, plus the parent of each
// root (watched for the root's own creation, removal and renaming), or
// while that is missing its nearest existing ancestor (which stays watched
// once the folders below it are back); on other systems one recursive watch
// per root.
func (w *Watcher) Watched() int { return w.be.watched() }

// LimitError reports that the OS refused a watch because a per-user limit
// is reached. errors.Is(err, syscall.ENOSPC) (or EMFILE) holds.
type LimitError struct {
	Setting string // the sysctl: fs.inotify.max_user_watches or fs.inotify.max_user_instances
	Value   int    // its current value (0: unknown)
	Err     error  // the system error
}

// Error names the limit and how to raise it.
func (e *LimitError) Error() string {
	suggest := 2 * e.Value
	if e.Setting == "fs.inotify.max_user_watches" {
		suggest = max(suggest, 524288)
	} else {
		suggest = max(suggest, 1024)
	}
	return fmt.Sprintf("watch: the inotify limit is reached (%s = %d): raise it with sysctl, e.g. sudo sysctl %s=%d",
		e.Setting, e.Value, e.Setting, suggest)
}

// Unwrap returns the system error.
func (e *LimitError) Unwrap() error { return e.Err }
