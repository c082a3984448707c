package watch

// notifyKind is one of the four kinds of event that rjeczalik/notify
// reports on every system; notify_other.go converts its events to it. The
// mapping to Op lives here, outside that file's build tag, so that its
// tests run on Linux too.
type notifyKind uint8

// The kinds of notify event: notify.Create, Remove, Rename and Write.
const (
	notifyCreate notifyKind = iota
	notifyRemove
	notifyRename
	notifyWrite
)

// opOfNotify maps a notify event to what happened to its path, as opOf
// does for inotify, so that the Batcher can tell a temporary file from a
// change. exists says whether the path is there now (Lstat). That is what
// tells a rename's source from its target (FSEvents reports both alike),
// and what still holds when notify's events come out of order (it hands
// each over from a goroutine of its own, and splits what FSEvents merged).
func opOfNotify(k notifyKind, exists bool) Op {
	switch {
	case k == notifyCreate && !exists:
		return Create | Remove // created and gone already: a temporary file, its other events in any order
	case k == notifyCreate:
		// Created in place: maybe a temporary file. No close is reported
		// here, so it counts as written at once (and is held).
		return Create | Write
	case !exists:
		return Remove // removed or renamed away, or written and gone since
	case k == notifyRename:
		return Create | Write | Move // a rename's target: arrived whole, as at an atomic save's end
	}
	return Write // written, or removed and already back
}
