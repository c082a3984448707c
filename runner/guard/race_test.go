//go:build race

package guard

// raceEnabled: the race detector inflates memory and startup time.
const raceEnabled = true
