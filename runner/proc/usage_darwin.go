package proc

// Groups reads what process groups use; on macOS it reads nothing:
// another process's CPU and memory there take libproc (cgo), and ps shows
// them as unknown.
type Groups struct{}

// Usage returns nil.
func (g *Groups) Usage(pgids []int) map[int]Usage { return nil }

// Close does nothing.
func (g *Groups) Close() {}
