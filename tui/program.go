// Package tui is procman's dashboard: a full-screen view of a running
// supervisor, its tasks in a table and their output below, driven from
// the keyboard. It is a client of the control channel only, so it works
// on a supervisor in another terminal, in the background, or in the same
// process (procman up --tui).
//
// It keeps the Elm architecture: a Model is plain data; Update, a pure
// function of the model and a message, returns the next model and the
// work to do as a Cmd; every read of the socket, every timer is a Cmd
// whose result comes back as a message; View only renders. The Program
// below is the little runtime around it: raw mode, the alternate screen,
// keys and resizes in, frames out, at most 30 a second.
//
// Why not Bubble Tea: its packages' initialisation (the ANSI parser's
// tables, go-runewidth, lipgloss detecting the terminal's colours at
// package init, by running `tmux info` inside tmux) costs every procman
// start 0.4 to 4 ms, linked whether the dashboard runs or not, and the
// dashboard must not slow `procman run` down (README, Dashboard).
package tui

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Msg is what Update reacts to: a key, a size, or what a Cmd brought back.
type Msg any

// Cmd is work outside the model (a socket read, a timer): it runs on a
// goroutine of its own, and its Msg, when not nil, goes to Update.
type Cmd func() Msg

// Model is a screen's state. Update returns the next state and the work to
// do; View renders the state, one line per row, each within the width.
type Model interface {
	Update(Msg) (Model, Cmd)
	View() string
}

// SizeMsg is the terminal's size, sent first and on every resize.
type SizeMsg struct{ Width, Height int }

// quitMsg ends the program.
type quitMsg struct{}

// Quit is the Cmd that ends the program.
func Quit() Msg { return quitMsg{} }

// Batch returns a Cmd that runs cmds at once, each sending its own Msg.
func Batch(cmds ...Cmd) Cmd {
	var live []Cmd
	for _, c := range cmds {
		if c != nil {
			live = append(live, c)
		}
	}
	switch len(live) {
	case 0:
		return nil
	case 1:
		return live[0]
	}
	return func() Msg { return batchMsg(live) }
}

// batchMsg is a Batch: the program runs each of its commands.
type batchMsg []Cmd

// frame is the shortest time between two frames: 30 a second at most.
const frame = time.Second / 30

// Program runs a Model on a terminal.
type Program struct {
	msgs chan Msg
	done chan struct{}
}

// NewProgram returns a program; Send may be used before Run.
func NewProgram() *Program {
	return &Program{msgs: make(chan Msg, 256), done: make(chan struct{})}
}

// Send hands msg to the model, from any goroutine; after the program
// ended it does nothing.
func (p *Program) Send(msg Msg) {
	select {
	case p.msgs <- msg:
	case <-p.done:
	}
}

// Run shows m on the terminal in and out until a Cmd returns Quit or ctx
// is done, and returns the last model. The terminal is in raw mode on the
// alternate screen meanwhile, and restored after.
func (p *Program) Run(ctx context.Context, in, out *os.File, m Model, init Cmd) (Model, error) {
	defer close(p.done)
	term, err := openTerminal(in, out)
	if err != nil {
		return m, err
	}
	defer term.restore()
	scr := &screen{w: bufio.NewWriterSize(out, 64<<10)}
	scr.enter()
	defer scr.leave()
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	defer signal.Stop(winch)
	go p.readKeys(in)
	w, h := term.size()
	m, cmd := m.Update(SizeMsg{w, h})
	p.run(Batch(init, cmd))
	// A frame is drawn once the messages that came are all taken, at
	// once when the last is a frame old, else when it will be.
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var last time.Time
	dirty, armed := true, false
	for {
		if dirty && !armed {
			if wait := frame - time.Since(last); wait > 0 {
				timer.Reset(wait)
				armed = true
			} else {
				scr.draw(m.View())
				last, dirty = time.Now(), false
			}
		}
		select {
		case <-ctx.Done():
			return m, ctx.Err()
		case <-winch:
			w, h := term.size()
			scr.clear()
			m, cmd = m.Update(SizeMsg{w, h})
			p.run(cmd)
			dirty = true
		case msg := <-p.msgs:
			for {
				if _, ok := msg.(quitMsg); ok {
					return m, nil
				}
				m, cmd = m.Update(msg)
				p.run(cmd)
				if len(p.msgs) == 0 {
					break
				}
				msg = <-p.msgs
			}
			dirty = true
		case <-timer.C:
			armed = false
		}
	}
}

// run starts cmd on its own goroutine (each of a Batch's on its own).
func (p *Program) run(cmd Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		if b, ok := msg.(batchMsg); ok {
			for _, c := range b {
				p.run(c)
			}
			return
		}
		if msg != nil {
			p.Send(msg)
		}
	}()
}

// readKeys sends the keys read from in until it fails. A read blocked
// when the program ends stays so until procman exits.
func (p *Program) readKeys(in io.Reader) {
	buf := make([]byte, 256)
	for {
		n, err := in.Read(buf)
		for _, k := range decodeKeys(buf[:n]) {
			p.Send(KeyMsg(k))
		}
		if err != nil {
			return
		}
	}
}

// screen draws frames: only the rows that changed since the last frame.
type screen struct {
	w    *bufio.Writer
	prev []string
}

// enter switches to the alternate screen and hides the cursor.
func (s *screen) enter() {
	s.w.WriteString("\x1b[?1049h\x1b[?25l\x1b[2J")
	s.w.Flush()
}

// leave shows the cursor and goes back to the normal screen.
func (s *screen) leave() {
	s.w.WriteString("\x1b[0m\x1b[?25h\x1b[?1049l")
	s.w.Flush()
}

// clear forgets what is on the screen and blanks it (after a resize).
func (s *screen) clear() {
	s.prev = nil
	s.w.WriteString("\x1b[2J")
}

// draw writes the rows of view that differ from the last frame's.
func (s *screen) draw(view string) {
	rows := strings.Split(view, "\n")
	for i, row := range rows {
		if i < len(s.prev) && s.prev[i] == row {
			continue
		}
		// Clear the row first: erasing after a row that fills the width
		// would take its last character (the cursor waits on it to wrap).
		fmt.Fprintf(s.w, "\x1b[%d;1H\x1b[2K%s\x1b[0m", i+1, row)
	}
	if len(rows) < len(s.prev) {
		fmt.Fprintf(s.w, "\x1b[%d;1H\x1b[J", len(rows)+1)
	}
	s.prev = rows
	s.w.Flush()
}
