package control

import (
	"errors"
	"fmt"
	"hash/crc64"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// SocketName is the control socket's name in the project's .procman folder.
const SocketName = "control.sock"

// SocketPath returns where the supervisor of the project whose .procman
// folder is stateDir (an absolute path) listens: stateDir/control.sock
// when that fits in a Unix socket's address; else, for a deep project
// folder, a file named after the project in $XDG_RUNTIME_DIR/procman, or
// in a folder of the user's under the system's temporary folder. The
// folder is made (mode 0700) when missing; one that is not the user's own
// with mode 0700 is refused.
func SocketPath(stateDir string) (string, error) {
	if p := filepath.Join(stateDir, SocketName); len(p) <= maxSocketPath {
		return p, nil
	}
	dir := filepath.Join(os.TempDir(), "procman-"+strconv.Itoa(os.Getuid()))
	if xdg := os.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(xdg) {
		dir = filepath.Join(xdg, "procman")
	}
	if err := privateDir(dir); err != nil {
		return "", fmt.Errorf("control socket: %w", err)
	}
	project := filepath.Dir(stateDir)
	sum := crc64.Checksum([]byte(project), crc64.MakeTable(crc64.ECMA))
	hash := strconv.FormatUint(sum, 16)
	name := strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e || r == '/' {
			return '_'
		}
		return r
	}, filepath.Base(project))
	room := maxSocketPath - len(dir) - len("/-.sock") - len(hash)
	if room < 0 {
		return "", fmt.Errorf("control socket: %s is too deep for a socket's address", dir)
	}
	if len(name) > room {
		name = name[:room]
	}
	return filepath.Join(dir, name+"-"+hash+".sock"), nil
}

// privateDir makes dir (mode 0700) unless it exists, and checks that it is
// a folder of this user's that no one else can enter.
func privateDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	if uid, ok := owner(fi); ok && uid != os.Getuid() {
		return fmt.Errorf("%s belongs to uid %d, not to this user", dir, uid)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("%s: mode %v, want 0700: %w", dir, fi.Mode().Perm(), err)
		}
	}
	return nil
}

// owner returns the uid that owns a file.
func owner(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
