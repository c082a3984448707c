package tui

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// terminal is the tty the dashboard draws on: raw mode while it runs, the
// mode it had before restored after.
type terminal struct {
	in, out *os.File
	saved   *unix.Termios
}

// ErrNoTerminal says that the dashboard has no terminal to draw on.
var ErrNoTerminal = errors.New("the dashboard needs a terminal: stdout is not one")

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), getTermios)
	return err == nil
}

// openTerminal puts in (a terminal) in raw mode: keys arrive one by one,
// unechoed, Ctrl-C among them; out must be a terminal too.
func openTerminal(in, out *os.File) (*terminal, error) {
	if !IsTerminal(out) || !IsTerminal(in) {
		return nil, ErrNoTerminal
	}
	saved, err := unix.IoctlGetTermios(int(in.Fd()), getTermios)
	if err != nil {
		return nil, err
	}
	raw := *saved
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(int(in.Fd()), setTermios, &raw); err != nil {
		return nil, err
	}
	return &terminal{in: in, out: out, saved: saved}, nil
}

// size returns the terminal's columns and rows (80x24 when it cannot tell).
func (t *terminal) size() (int, int) {
	ws, err := unix.IoctlGetWinsize(int(t.out.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 || ws.Row == 0 {
		return 80, 24
	}
	return int(ws.Col), int(ws.Row)
}

// restore puts the terminal back as it was.
func (t *terminal) restore() error {
	return unix.IoctlSetTermios(int(t.in.Fd()), setTermios, t.saved)
}
