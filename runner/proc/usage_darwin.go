package proc

// GroupsUsage returns nil on macOS: reading another process's CPU and
// memory there takes libproc (cgo); ps shows them as unknown.
func GroupsUsage(pgids []int) map[int]Usage { return nil }
