package watch

import (
	"fmt"
	"testing"
	"time"
)

func TestOpOfNotify(t *testing.T) {
	tests := []struct {
		kind   notifyKind
		exists bool
		want   Op
	}{
		{notifyCreate, true, Create | Write},
		{notifyCreate, false, Create | Remove},
		{notifyWrite, true, Write},
		{notifyWrite, false, Remove},
		{notifyRemove, false, Remove},
		{notifyRemove, true, Write},
		{notifyRename, false, Remove},
		{notifyRename, true, Create | Write | Move},
	}
	for _, tt := range tests {
		if got := opOfNotify(tt.kind, tt.exists); got != tt.want {
			t.Errorf("opOfNotify(%d, exists %v) = %b, want %b", tt.kind, tt.exists, got, tt.want)
		}
	}
}

// notified is a notify event and whether its path existed when the
// backend looked.
type notified struct {
	path   string
	kind   notifyKind
	exists bool
}

// TestBatcher_NotifySaves feeds saves as notify reports them on macOS,
// through opOfNotify, to the Batcher: a temporary file is no change there
// either, and one save is one batch of the file saved.
func TestBatcher_NotifySaves(t *testing.T) {
	tests := []struct {
		name   string
		events []notified
	}{
		{"in place", []notified{{"/a", notifyWrite, true}}},
		{"sed -i", []notified{
			{"/a.tmp", notifyCreate, true}, {"/a.tmp", notifyWrite, true},
			{"/a.tmp", notifyRename, false}, {"/a", notifyRename, true},
		}},
		{"sed -i, seen after the rename", []notified{
			{"/a.tmp", notifyCreate, false}, {"/a.tmp", notifyWrite, false},
			{"/a.tmp", notifyRename, false}, {"/a", notifyRename, true},
		}},
		{"sed -i, out of order", []notified{
			{"/a.tmp", notifyWrite, false}, {"/a", notifyRename, true},
			{"/a.tmp", notifyRename, false}, {"/a.tmp", notifyCreate, false},
		}},
		{"sed -i, out of order, seen during the save", []notified{
			{"/a.tmp", notifyCreate, true}, {"/a.tmp", notifyRename, false},
			{"/a", notifyRename, true}, {"/a.tmp", notifyWrite, false},
		}},
		{"a temporary file's events merged by FSEvents", []notified{
			{"/a.tmp", notifyCreate, false}, {"/a.tmp", notifyRename, false}, {"/a.tmp", notifyWrite, false},
			{"/a", notifyRename, true},
		}},
		{"the original moved aside and written anew", []notified{
			{"/a", notifyRename, false}, {"/a", notifyCreate, true}, {"/a", notifyWrite, true},
		}},
		{"the original moved aside and written anew, merged by FSEvents", []notified{
			{"/a", notifyCreate, true}, {"/a", notifyRename, true}, {"/a", notifyWrite, true},
		}},
		{"a temporary file deleted", []notified{
			{"/a.tmp", notifyCreate, true}, {"/a.tmp", notifyWrite, true}, {"/a.tmp", notifyRemove, false},
			{"/a", notifyWrite, true},
		}},
	}
	for _, tt := range tests {
		for _, debounce := range []time.Duration{Auto, 0, 20 * time.Millisecond} {
			t.Run(fmt.Sprintf("%s/debounce %v", tt.name, debounce), func(t *testing.T) {
				var events []Event
				var at []time.Duration
				for i, n := range tt.events {
					events = append(events, Event{Path: n.path, Op: opOfNotify(n.kind, n.exists)})
					at = append(at, time.Duration(i)*100*time.Microsecond)
				}
				if got := simulate(events, at, debounce, 1); !oneSave(got, []string{"/a"}, debounce) {
					t.Fatalf("batches %v, want one of [/a]", got)
				}
				if got := simulate(events, at, debounce, 2); len(got) != 0 {
					t.Fatalf("one save reached changes_needed 2: %v", got)
				}
			})
		}
	}
}
