package tasks

import (
	"regexp"
	"testing"
)

// The hand-written checks agree with the regexps they replaced (kept here
// as their definition) on every word below.
func TestNameChecksMatchRegexps(t *testing.T) {
	taskName := regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	assignment := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	words := []string{
		"", "a", "A9", "build.all", "web-1", "_x", ".", "-", "a b", "a/b", "a:b", "ä", "x=1", "X_1=", "_=v",
		"1X=2", "=v", "A-B=1", "a.b=1", "PATH=/bin:/usr/bin", "FOO==", "é=1", "--flag=x", "a\x00", "tab\t",
	}
	for _, w := range words {
		if got, want := validTaskName(w), taskName.MatchString(w); got != want {
			t.Errorf("validTaskName(%q) = %v, want %v", w, got, want)
		}
		if got, want := isAssignment(w), assignment.MatchString(w); got != want {
			t.Errorf("isAssignment(%q) = %v, want %v", w, got, want)
		}
	}
}
