package tasks

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Globs are slash-separated patterns relative to a task's dir: each segment
// follows path.Match, and a segment that is exactly ** matches any number
// of segments (none included). Patterns are anchored: "*.go" matches only
// at the top of the dir, "**/*.go" at any depth.

// skipDirs are never walked for sources unless a pattern names them.
var skipDirs = map[string]bool{".git": true, "node_modules": true, ".procman": true}

// CheckGlob reports why pattern is not a usable glob, or nil.
func CheckGlob(pattern string) error {
	if pattern == "" {
		return errors.New("empty pattern")
	}
	if path.IsAbs(pattern) || filepath.IsAbs(pattern) {
		return fmt.Errorf("pattern %q must be relative to the task's dir", pattern)
	}
	for _, seg := range strings.Split(path.Clean(filepath.ToSlash(pattern)), "/") {
		if _, err := path.Match(seg, ""); err != nil {
			return fmt.Errorf("bad pattern %q: %w", pattern, err)
		}
	}
	return nil
}

// Match reports whether the slash-separated relative path name matches the
// glob pattern. A malformed pattern matches nothing.
func Match(pattern, name string) bool {
	return matchSegs(splitPath(pattern), splitPath(name))
}

func splitPath(p string) []string {
	p = path.Clean(filepath.ToSlash(p))
	if p == "." {
		return nil
	}
	return strings.Split(p, "/")
}

func matchSegs(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for len(pat) > 1 && pat[1] == "**" {
				pat = pat[1:]
			}
			for i := 0; i <= len(name); i++ {
				if matchSegs(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, err := path.Match(pat[0], name[0]); err != nil || !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// hasMeta reports whether a path segment holds glob syntax.
func hasMeta(seg string) bool {
	return strings.ContainsAny(seg, `*?[\`)
}

// literalPrefix returns the leading segments of pat without glob syntax:
// the folder a walk for pat can start from.
func literalPrefix(pat []string) []string {
	for i, seg := range pat {
		if hasMeta(seg) {
			return pat[:i]
		}
	}
	return pat
}

// globFiles returns the files under dir (as slash-separated paths relative
// to dir) that pattern matches; a folder that matches brings in every file
// below it. .git, node_modules and .procman are skipped unless the pattern
// names them. A pattern whose literal part does not exist matches nothing.
func globFiles(dir, pattern string) ([]string, error) {
	pat := splitPath(pattern)
	start := filepath.Join(dir, filepath.FromSlash(strings.Join(literalPrefix(pat), "/")))
	var out []string
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == start && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			if p != start && skipDirs[d.Name()] && !slices.Contains(pat, d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if matchSelfOrParent(pat, rel) {
			out = append(out, rel)
		}
		return nil
	})
	return out, err
}

// matchSelfOrParent reports whether pat matches rel or one of the folders
// that hold it.
func matchSelfOrParent(pat []string, rel string) bool {
	segs := strings.Split(rel, "/")
	for n := len(segs); n > 0; n-- {
		if segs[n-1] == ".." {
			return false
		}
		if matchSegs(pat, segs[:n]) {
			return true
		}
	}
	return false
}
