package tasks

import (
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// SourceFiles returns the files that t's sources match, as sorted,
// slash-separated paths relative to t.Dir, each once.
func (t *Task) SourceFiles() ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, pat := range t.Sources {
		files, err := globFiles(t.Dir, pat)
		if err != nil {
			return nil, fmt.Errorf("sources of %q: %w", t.Name, err)
		}
		for _, f := range files {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// IsSource reports whether the file at the absolute path p is one of t's
// sources: below Dir and matched by one of its patterns.
func (t *Task) IsSource(p string) bool {
	rel, err := filepath.Rel(t.Dir, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return false
	}
	for _, pat := range t.Sources {
		if Match(pat, rel) {
			return true
		}
	}
	return false
}

// Fingerprint hashes the task's sources: the sorted list of matched files
// (relative to Dir) and their contents, as 16 hex digits. No sources: "".
// A symlink that leads nowhere counts by its target's name.
//
// The hash is CRC-64 (ECMA): it tells an edited file from the one procman
// saw, which is all a fingerprint is for (no one forges sources to skip a
// build), with a 2^-64 chance of missing a change, at the speed of
// sha256; and unlike crypto/sha256 it does not bring the crypto module's
// init into every start of procman.
func (t *Task) Fingerprint() (string, error) {
	if len(t.Sources) == 0 {
		return "", nil
	}
	files, err := t.SourceFiles()
	if err != nil {
		return "", fmt.Errorf("fingerprint: %w", err)
	}
	h := newHash()
	for _, rel := range files {
		sum, err := fileSum(filepath.Join(t.Dir, filepath.FromSlash(rel)))
		if err != nil {
			return "", fmt.Errorf("fingerprint %q: %w", t.Name, err)
		}
		fmt.Fprintf(h, "%s\x00%s\n", rel, sum)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// crcTable is the CRC-64 table of Fingerprint, built on first use: it
// takes 32 KB, and most runs have no once task to fingerprint.
var crcTable = sync.OnceValue(func() *crc64.Table { return crc64.MakeTable(crc64.ECMA) })

func newHash() hash.Hash64 { return crc64.New(crcTable()) }

// fileSum returns the hash of the file's content, hex encoded.
func fileSum(p string) (string, error) {
	h := newHash()
	f, err := os.Open(p)
	if err != nil {
		target, lerr := os.Readlink(p)
		if lerr != nil {
			return "", err
		}
		h.Write([]byte("symlink:" + target))
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// MissingGenerates returns the generates entries that do not exist: a
// plain path that is neither file nor folder, or a glob that matches no
// file. Entries come back as written.
func (t *Task) MissingGenerates() []string {
	var missing []string
	for _, g := range t.Generates {
		if !generated(t.Dir, g) {
			missing = append(missing, g)
		}
	}
	return missing
}

func generated(dir, pattern string) bool {
	if !hasMeta(pattern) {
		_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(pattern)))
		return err == nil
	}
	files, err := globFiles(dir, pattern)
	return err == nil && len(files) > 0
}
