package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// makeTree creates files small files under root, perDir to a folder, the
// folders two levels deep (root/g00/d000/f00.go), flushes them to disk, and
// returns the files' paths in creation order.
func makeTree(root string, files, perDir int) ([]string, error) {
	var paths []string
	for i := 0; len(paths) < files; i++ {
		dir := filepath.Join(root, fmt.Sprintf("g%02d", i/50), fmt.Sprintf("d%03d", i))
		for j := 0; j < perDir && len(paths) < files; j++ {
			paths = append(paths, filepath.Join(dir, fmt.Sprintf("f%02d.go", j)))
		}
	}
	if err := writeAll(paths, 0); err != nil {
		return nil, err
	}
	syscall.Sync() // the measures that follow must not wait for this writeback
	return paths, nil
}

// writeAll writes every path (making its folder) with content that names
// the path and gen, four at a time.
func writeAll(paths []string, gen int) error {
	const workers = 4
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(paths); i += workers {
				if err := writeFile(paths[i], gen); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes p in place (as an editor's save does), making its folder
// when it is missing.
func writeFile(p string, gen int) error {
	data := fmt.Appendf(nil, "package x // %s generation %d\n", filepath.Base(p), gen)
	err := os.WriteFile(p, data, 0o644)
	if os.IsNotExist(err) {
		if err = os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
			err = os.WriteFile(p, data, 0o644)
		}
	}
	return err
}
