package logs

import (
	"slices"

	"github.com/procman/procman/tasks"
)

// Matches says whether names (none: every task) asks for task: by its
// own name, or, for a replica (web.2), by its service's.
func Matches(names []string, task string) bool {
	if len(names) == 0 || slices.Contains(names, task) {
		return true
	}
	base, _, ok := tasks.SplitReplica(task)
	return ok && slices.Contains(names, base)
}
