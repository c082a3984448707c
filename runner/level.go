package runner

import "fmt"

// Level orders procman's own messages by importance.
type Level int

// The levels of procman's messages, least important first.
const (
	Trace Level = iota
	Debug
	Info
	Warn
	Error
)

var levelNames = []string{"trace", "debug", "info", "warn", "error"}

// String returns the level's name as the flags spell it.
func (l Level) String() string {
	if l < 0 || int(l) >= len(levelNames) {
		return fmt.Sprintf("level(%d)", int(l))
	}
	return levelNames[l]
}

// ParseLevel turns trace|debug|info|warn|error into a Level.
func ParseLevel(s string) (Level, error) {
	for i, n := range levelNames {
		if n == s {
			return Level(i), nil
		}
	}
	return Info, fmt.Errorf("unknown log level %q: use trace, debug, info, warn or error", s)
}
