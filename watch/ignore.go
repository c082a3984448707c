package watch

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// sep is the path separator as a byte, for slicing paths without allocating.
const sep = filepath.Separator

// alwaysIgnored reports whether a file or folder name is ignored whatever
// the configuration says: version-control and tool folders (Python's
// bytecode cache among them: every import of an edited module rewrites it,
// and it would restart a service a second time per save), and the files
// editors write beside the ones being edited (vim's swap, probe and
// backup, emacs' lock and autosave, JetBrains' safe write).
func alwaysIgnored(name string) bool {
	switch name {
	case ".git", ".hg", ".svn", "node_modules", ".procman", "__pycache__", "4913", ".DS_Store":
		return true
	}
	n := len(name)
	return strings.HasSuffix(name, ".swp") || strings.HasSuffix(name, ".swx") ||
		strings.HasSuffix(name, "~") || strings.HasPrefix(name, ".#") ||
		(n >= 2 && name[0] == '#' && name[n-1] == '#') ||
		strings.HasSuffix(name, "___jb_tmp___") || strings.HasSuffix(name, "___jb_old___")
}

// ignorer decides which paths are ignored: the built-in names, the
// .gitignore files from a top folder (Base, or a root outside Base) down to
// the path's folder, and the extra rules of Options.Ignore, which are
// relative to Base and win over the .gitignore files. It caches each
// folder's .gitignore. It is safe for concurrent use: the event reader
// uses it, and Watcher.Counts from any goroutine.
type ignorer struct {
	mu    sync.Mutex       // guards files
	base  string           // Options.Base, cleaned
	tops  []string         // folders where .gitignore lookup stops: base, and roots outside it
	extra rules            // Options.Ignore, relative to base
	files map[string]rules // folder -> its .gitignore rules (nil: none)
	warn  func(format string, args ...any)
}

// newIgnorer builds an ignorer for the given base, roots and extra globs.
func newIgnorer(base string, roots []string, extra []string, warn func(string, ...any)) *ignorer {
	ig := &ignorer{base: base, files: make(map[string]rules), warn: warn}
	if base != "" {
		ig.tops = append(ig.tops, base)
	}
	for _, r := range roots {
		if !within(r, base) {
			ig.tops = append(ig.tops, r)
		}
	}
	for _, line := range extra {
		if r, ok := parseRule(line); ok {
			ig.extra = append(ig.extra, r)
		}
	}
	return ig
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	if dir == "" || !strings.HasPrefix(p, dir) {
		return false
	}
	return len(p) == len(dir) || p[len(dir)] == sep || dir[len(dir)-1] == sep
}

// parent returns the folder holding p ("/" for "/x"), without allocating.
func parent(p string) string {
	i := strings.LastIndexByte(p, sep)
	if i <= 0 {
		return p[:i+1]
	}
	return p[:i]
}

// rel returns p relative to dir, slash-separated; p must be below dir.
func rel(p, dir string) string {
	r := p[len(dir):]
	if len(r) > 0 && r[0] == sep {
		r = r[1:]
	}
	return filepath.ToSlash(r)
}

// top returns the folder where .gitignore lookup for p stops ("" if none).
func (ig *ignorer) top(p string) string {
	best := ""
	for _, t := range ig.tops {
		if len(t) > len(best) && within(p, t) {
			best = t
		}
	}
	return best
}

// ignored reports whether p is ignored by its own name and the rules that
// apply to it. It assumes p's folders are not ignored (they are watched);
// ignoredPath also checks them.
func (ig *ignorer) ignored(p string, isDir bool) bool {
	ig.mu.Lock()
	defer ig.mu.Unlock()
	return ig.match(p, isDir)
}

// match is ignored with mu held.
func (ig *ignorer) match(p string, isDir bool) bool {
	if alwaysIgnored(p[strings.LastIndexByte(p, sep)+1:]) {
		return true
	}
	if len(ig.extra) > 0 && within(p, ig.base) && p != ig.base {
		if m, ign := ig.extra.match(rel(p, ig.base), isDir); m {
			return ign
		}
	}
	top := ig.top(p)
	if top == "" || p == top {
		return false
	}
	for dir := parent(p); ; dir = parent(dir) {
		if m, ign := ig.load(dir).match(rel(p, dir), isDir); m {
			return ign
		}
		if dir == top || len(dir) <= len(top) {
			return false
		}
	}
}

// ignoredPath reports whether p is ignored, itself or through one of its
// folders below from (which is never ignored itself): git's rule that
// nothing inside an excluded folder can be re-included.
func (ig *ignorer) ignoredPath(from, p string, isDir bool) bool {
	if p == from || !within(p, from) {
		return false
	}
	ig.mu.Lock()
	defer ig.mu.Unlock()
	start := len(from) + 1
	if from[len(from)-1] == sep {
		start = len(from)
	}
	for i := start; i < len(p); i++ {
		if p[i] == sep && ig.match(p[:i], true) {
			return true
		}
	}
	return ig.match(p, isDir)
}

// load returns the rules of dir's .gitignore, reading it once.
func (ig *ignorer) load(dir string) rules {
	rs, ok := ig.files[dir]
	if ok {
		return rs
	}
	data, err := os.ReadFile(filepath.Join(dir, ".gitignore"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission) &&
		!errors.Is(err, syscall.ENOTDIR) && ig.warn != nil {
		ig.warn("watch: read %s: %v", filepath.Join(dir, ".gitignore"), err)
	}
	rs = parseRules(string(data))
	ig.files[dir] = rs
	return rs
}

// noFile records that dir has no .gitignore (known from its listing).
func (ig *ignorer) noFile(dir string) {
	ig.mu.Lock()
	defer ig.mu.Unlock()
	if _, ok := ig.files[dir]; !ok {
		ig.files[dir] = nil
	}
}

// forget drops the cached rules of dir, so a changed .gitignore is reread.
func (ig *ignorer) forget(dir string) {
	ig.mu.Lock()
	defer ig.mu.Unlock()
	delete(ig.files, dir)
}
