package tui

import (
	"unicode/utf8"
)

// Key is a key press: a named key ("up", "enter", "ctrl+c") or a
// character.
type Key struct {
	Name string // the key's name, "" for a character
	Rune rune   // the character, when Name is ""
}

// String is the key as Update matches it: its name, or the character.
func (k Key) String() string {
	if k.Name != "" {
		return k.Name
	}
	return string(k.Rune)
}

// KeyMsg is a key the user pressed.
type KeyMsg Key

// String is the key's name or character.
func (k KeyMsg) String() string { return Key(k).String() }

// sequences are the escape sequences of named keys that terminals send
// (xterm, VT220 and application cursor mode forms).
var sequences = map[string]string{
	"\x1b[A": "up", "\x1b[B": "down", "\x1b[C": "right", "\x1b[D": "left",
	"\x1bOA": "up", "\x1bOB": "down", "\x1bOC": "right", "\x1bOD": "left",
	"\x1b[5~": "pgup", "\x1b[6~": "pgdown",
	"\x1b[H": "home", "\x1b[F": "end", "\x1bOH": "home", "\x1bOF": "end",
	"\x1b[1~": "home", "\x1b[4~": "end", "\x1b[7~": "home", "\x1b[8~": "end",
	"\x1b[3~": "delete", "\x1b[Z": "shift+tab",
}

// controls are the named keys of single control bytes.
var controls = map[byte]string{
	'\r': "enter", '\n': "enter", '\t': "tab", 0x7f: "backspace", 0x08: "backspace",
	0x03: "ctrl+c", 0x04: "ctrl+d", 0x0c: "ctrl+l", 0x15: "ctrl+u",
}

// decodeKeys turns the bytes of one read from the terminal into keys.
// Terminals send an escape sequence in one write, so a lone ESC at the
// end of a read is the Esc key; an unknown sequence is dropped whole.
func decodeKeys(b []byte) []Key {
	var keys []Key
	for len(b) > 0 {
		c := b[0]
		switch {
		case c == 0x1b:
			n := escapeLen(b)
			if n == 1 {
				keys = append(keys, Key{Name: "esc"})
			} else if name, ok := sequences[string(b[:n])]; ok {
				keys = append(keys, Key{Name: name})
			}
			b = b[n:]
		case c < 0x20 || c == 0x7f:
			if name, ok := controls[c]; ok {
				keys = append(keys, Key{Name: name})
			}
			b = b[1:]
		default:
			r, n := utf8.DecodeRune(b)
			if r != utf8.RuneError || n > 1 {
				keys = append(keys, Key{Rune: r})
			}
			b = b[n:]
		}
	}
	return keys
}

// escapeLen returns the length of the escape sequence at the start of b:
// ESC [ params final, ESC O final, or a lone ESC (1).
func escapeLen(b []byte) int {
	if len(b) < 2 {
		return 1
	}
	switch b[1] {
	case '[':
		for i := 2; i < len(b); i++ {
			if b[i] >= 0x40 && b[i] <= 0x7e {
				return i + 1
			}
		}
		return len(b)
	case 'O':
		if len(b) >= 3 {
			return 3
		}
		return len(b)
	}
	return 1
}
