//go:build !linux

package watch

import (
	"testing"

	"github.com/rjeczalik/notify"
)

func TestKindOf(t *testing.T) {
	tests := []struct {
		event notify.Event
		want  notifyKind
	}{
		{notify.Create, notifyCreate},
		{notify.Remove, notifyRemove},
		{notify.Rename, notifyRename},
		{notify.Write, notifyWrite},
	}
	for _, tt := range tests {
		if got := kindOf(tt.event); got != tt.want {
			t.Errorf("kindOf(%v) = %d, want %d", tt.event, got, tt.want)
		}
	}
}
