package tasks

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTree creates files (slash paths relative to a new temp dir) and
// returns the dir.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// loadYAMLText writes text as Procfile.yaml (plus extra files) and loads it.
func loadYAMLText(t *testing.T, text string, extra map[string]string, opts LoadOptions) (*Config, string, error) {
	t.Helper()
	files := map[string]string{"Procfile.yaml": text}
	for k, v := range extra {
		files[k] = v
	}
	dir := writeTree(t, files)
	c, err := Load(filepath.Join(dir, "Procfile.yaml"), opts)
	return c, dir, err
}

// mustLoad loads text and fails the test on any error.
func mustLoad(t *testing.T, text string) *Config {
	t.Helper()
	c, _, err := loadYAMLText(t, text, nil, LoadOptions{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// errText returns err's message with the temp dir taken out of the paths,
// and checks that err is an ErrorList.
func errText(t *testing.T, err error, dir string) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error is %T, want ErrorList: %v", err, err)
	}
	return strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
}
