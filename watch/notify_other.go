//go:build !linux

package watch

// macOS and the other non-Linux systems: rjeczalik/notify's native
// recursive watch ("root/..."; FSEvents on macOS), with ignored paths
// filtered here since notify cannot exclude subtrees.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/rjeczalik/notify"
)

// notifyBuffer is the capacity of the channel notify sends to. notify drops
// an event when the channel is full; the receiver sees a (nearly) full
// channel and reports an overflow instead of losing changes silently.
const notifyBuffer = 1 << 15

// notifyRoot is one root as the user named it and as notify reports it.
type notifyRoot struct {
	path  string      // as given (cleaned)
	real  string      // symlinks resolved: notify's event paths start with it
	isDir atomic.Bool // the root is a folder under a recursive watch
}

// notifyBackend is the backend built on rjeczalik/notify.
type notifyBackend struct {
	cfg   *config
	c     chan notify.EventInfo // notify sends here
	roots []*notifyRoot
	count atomic.Int64  // successful notify.Watch calls
	full  bool          // the channel was seen full and not drained since
	done  chan struct{} // closed when the receiver returns
	once  sync.Once     // guards close
}

// startBackend watches every root with notify and starts the receiver.
func startBackend(ctx context.Context, c *config) (backend, error) {
	n := &notifyBackend{cfg: c, c: make(chan notify.EventInfo, notifyBuffer), done: make(chan struct{})}
	for _, r := range c.roots {
		if err := n.watchRoot(r); err != nil {
			notify.Stop(n.c)
			return nil, err
		}
	}
	go n.receive(ctx)
	return n, nil
}

// watchRoot watches a folder root recursively, and a file (or a root that
// does not exist yet) through its folder.
func (n *notifyBackend) watchRoot(path string) error {
	r := &notifyRoot{path: path}
	n.roots = append(n.roots, r)
	fi, statErr := os.Stat(path)
	dir := filepath.Dir(path)
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		if statErr != nil {
			err = statErr
		}
		return fmt.Errorf("watch: %s: %w", path, err)
	}
	r.real = filepath.Join(realDir, filepath.Base(path))
	if real, err := filepath.EvalSymlinks(path); err == nil {
		r.real = real
	}
	if statErr == nil && fi.IsDir() {
		return n.watchTree(r)
	}
	if err := notify.Watch(realDir, n.c, notify.All); err != nil {
		return fmt.Errorf("watch: %s: %w", dir, err)
	}
	n.count.Add(1)
	return nil
}

// watchTree puts the recursive watch on a folder root.
func (n *notifyBackend) watchTree(r *notifyRoot) error {
	if err := notify.Watch(filepath.Join(r.real, "..."), n.c, notify.All); err != nil {
		return fmt.Errorf("watch: %s: %w", r.path, err)
	}
	r.isDir.Store(true)
	n.count.Add(1)
	return nil
}

// receive turns notify's events into changes until ctx is done.
func (n *notifyBackend) receive(ctx context.Context) {
	defer close(n.done)
	for {
		select {
		case <-ctx.Done():
			return
		case ei := <-n.c:
			switch l := len(n.c); {
			case l >= cap(n.c)-1:
				if !n.full {
					n.cfg.logf("watch: too many changes at once: some were lost")
				}
				n.full = true
				n.cfg.emit(Event{Overflow: true})
			case l < cap(n.c)/2:
				n.full = false
			}
			n.handle(ei)
		}
	}
}

// handle filters one notify event and emits it as a change, with what
// happened to the path as far as notify and the path itself tell.
func (n *notifyBackend) handle(ei notify.EventInfo) {
	real := ei.Path()
	for _, r := range n.roots {
		if !within(real, r.real) {
			continue
		}
		p := r.path + real[len(r.real):]
		fi, err := os.Lstat(p)
		isDir := err == nil && fi.IsDir()
		if isDir && ei.Event() == notify.Write {
			return // a folder's mtime: its files count
		}
		if filepath.Base(p) == ".gitignore" {
			n.cfg.ign.forget(filepath.Dir(p))
		}
		if p != r.path && (!r.isDir.Load() || n.cfg.ign.ignoredPath(r.path, p, isDir)) {
			return
		}
		if p == r.path && isDir && !r.isDir.Load() {
			if err := n.watchTree(r); err != nil {
				n.cfg.logf("%v", err)
			}
		}
		exists := !errors.Is(err, fs.ErrNotExist)
		n.cfg.emit(Event{Path: p, Op: opOfNotify(kindOf(ei.Event()), exists), Dir: isDir})
		return
	}
}

// kindOf returns the kind of a notify event, which notify splits so that
// each holds one.
func kindOf(e notify.Event) notifyKind {
	switch {
	case e&notify.Remove != 0:
		return notifyRemove
	case e&notify.Rename != 0:
		return notifyRename
	case e&notify.Create != 0:
		return notifyCreate
	}
	return notifyWrite
}

// watched returns how many notify watches are in place.
func (n *notifyBackend) watched() int { return int(n.count.Load()) }

// close stops notify's watches and waits for the receiver.
func (n *notifyBackend) close() error {
	n.once.Do(func() {
		notify.Stop(n.c)
		<-n.done
	})
	return nil
}
