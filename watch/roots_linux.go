package watch

// Linux: keeping each root watched while folders above it come and go,
// after an overflow lost the events that said so, and keeping the watches
// in line with the .gitignore files as they are edited.

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// settle watches what a root needs: its nearest existing ancestor, for
// the creation, removal and renaming of the next folder down toward the
// root (the root's parent, when that exists, for the root itself), every
// level below it that exists, and the root's tree when the root is a
// folder. It watches each level before looking for the next, so that
// nothing created meanwhile is missed; the levels above keep their watches,
// which see the folder below go again. It is how a root is first watched,
// and watched again after a folder above it appeared or went away. With
// report, the root and its files, when found, are emitted as changes: they
// appeared while nothing watched for them.
func (n *inotify) settle(ctx context.Context, root string, report bool) error {
	dir := parent(root)
	for dir != root && !isDir(dir) && dir != parent(dir) {
		dir = parent(dir)
	}
	for dir != root {
		name := below(dir, root)
		child := join(dir, name)
		if err := n.watchDir(dir, name, child == root); err != nil {
			switch {
			case (errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR)) && dir != parent(dir):
				dir = parent(dir) // gone meanwhile: one level up
				continue
			case errors.As(err, new(*LimitError)):
				return err
			}
			n.cfg.logf("%v", err) // unwatchable (EACCES): what is below it can still be
		}
		dir = child
		fi, err := os.Stat(dir)
		if err != nil || (dir != root && !fi.IsDir()) {
			return nil // not there yet: the watch above reports it
		}
		if dir == root && report {
			n.cfg.emit(Event{Path: root, Op: Create | Write, Dir: fi.IsDir()})
		}
	}
	if !isDir(root) {
		return nil
	}
	return n.walk(ctx, root, report)
}

// settleBelow settles every root below dir, which appeared or went away,
// or lost its watches; report is settle's.
func (n *inotify) settleBelow(dir string, report bool) {
	for _, r := range n.cfg.roots {
		if r != dir && within(r, dir) {
			if err := n.settle(n.cfg.ctx, r, report); err != nil {
				n.warn(err)
			}
		}
	}
}

// isDir reports whether p is a folder, or a symbolic link to one.
func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// below returns the name of dir's entry on the way down to root, which is
// below dir.
func below(dir, root string) string {
	rest := strings.TrimPrefix(root[len(dir):], string(sep))
	if i := strings.IndexByte(rest, sep); i >= 0 {
		return rest[:i]
	}
	return rest
}

// resync brings the watches back in line with the folders after an
// overflow lost events: it removes the watches of folders that are gone
// (their removal was lost too), and settles every root again, which
// watches the folders created meanwhile (watchDir keeps the watches in
// place). Nothing is reported: the overflow is a change already.
func (n *inotify) resync() {
	for p, d := range n.byPath {
		if !isDir(p) {
			_, _ = unix.InotifyRmWatch(n.fd, uint32(d.wd)) // EINVAL: already gone
			n.drop(d)
		}
	}
	for _, r := range n.cfg.roots {
		if err := n.settle(n.cfg.ctx, r, false); err != nil {
			n.warn(err)
		}
	}
}

// recheck brings the watches below dir in line with dir's .gitignore, which
// was written, created, removed or renamed: ignored() trusts that a watched
// folder's own folders are not ignored, and walk never enters an ignored
// one. The folders below dir that are ignored now lose their watches, with
// their trees (a root below one is settled again, as at start, without
// reporting it), and the ones no longer ignored are walked. Nothing is
// reported: the files in them did not change. Roots are watched whatever
// the rules say, as at start.
func (n *inotify) recheck(dir string) {
	for p, d := range n.byPath {
		if d.only == nil && p != dir && within(p, dir) && !slices.Contains(n.cfg.roots, p) && n.cfg.ign.ignored(p, true) {
			n.unwatchTree(p)
			n.settleBelow(p, false)
		}
	}
	if err := n.walk(n.cfg.ctx, dir, false); err != nil {
		n.warn(err)
	}
}
