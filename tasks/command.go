package tasks

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/shlex"
)

// shellWords are builtins and keywords that only a shell can run.
var shellWords = map[string]bool{
	"!": true, ".": true, ":": true, "alias": true, "break": true, "case": true,
	"cd": true, "command": true, "continue": true, "eval": true, "exec": true,
	"exit": true, "export": true, "for": true, "getopts": true, "hash": true,
	"if": true, "read": true, "readonly": true, "return": true, "set": true,
	"shift": true, "source": true, "times": true, "trap": true, "type": true,
	"ulimit": true, "umask": true, "unset": true, "until": true, "wait": true,
	"while": true,
}

// errEmptyCommand is ParseCommand's error for a blank command.
var errEmptyCommand = errors.New("empty command")

// isAssignment reports whether word is NAME=value, which only a shell
// applies.
func isAssignment(word string) bool {
	name, _, found := strings.Cut(word, "=")
	if !found || name == "" || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for _, r := range name {
		if !isAlnum(r) && r != '_' {
			return false
		}
	}
	return true
}

// ParseCommand routes a command string: split into argv with shlex and
// exec'd directly, or run as /bin/sh -c when it needs a shell (see
// scanCommand), starts with a shell builtin or keyword, or starts with a
// NAME=value assignment. Trailing blanks are dropped. Errors: "empty
// command", unterminated quotes.
func ParseCommand(raw string) (Command, error) {
	raw = strings.TrimRight(raw, " \t\r\n")
	if strings.TrimSpace(raw) == "" {
		return Command{}, errEmptyCommand
	}
	shell, err := scanCommand(raw)
	if err != nil {
		return Command{}, err
	}
	if shell {
		return shellCommand(raw), nil
	}
	words, err := shlex.Split(raw)
	if err != nil {
		return Command{}, fmt.Errorf("cannot split %q: %w", raw, err)
	}
	if len(words) == 0 {
		return Command{}, errEmptyCommand
	}
	if shellWords[words[0]] || isAssignment(words[0]) {
		return shellCommand(raw), nil
	}
	return Command{Argv: words, Raw: raw}, nil
}

// ArgvCommand is a command given as a list: exec'd as is, never by a shell.
func ArgvCommand(argv []string) Command {
	return Command{Argv: append([]string(nil), argv...), Raw: strings.Join(argv, " ")}
}

func shellCommand(raw string) Command {
	return Command{Argv: []string{"/bin/sh", "-c", raw}, Shell: true, Raw: raw}
}

// scanCommand walks raw once, reading quotes the way sh does, and reports
// whether it needs a shell: what sh would read otherwise than shlex splits
// it into words. That is, outside quotes: an operator or newline
// (| & ; < > ( )), an expansion ($ `), a glob (* ? [), a brace ({ }: bash
// expands {a,b}), ~ or # starting a word; inside double quotes: $ or `, and
// a backslash before anything but $ ` " \ (sh keeps that backslash, shlex
// drops it); anywhere but inside single quotes, a backslash-newline (sh
// joins the lines, shlex keeps the newline). Also a carriage return outside
// quotes (a blank to shlex, not to sh) and bytes that are not UTF-8 (shlex
// reads them as U+FFFD). A backslash outside quotes escapes one character
// for both, so `a\;b` is one literal word.
//
// Its error is an unterminated ' or " quote; a # starting a word begins a
// comment, where quotes do not count. After an unquoted << (a here-document,
// whose body follows other rules) nothing more is checked.
func scanCommand(raw string) (shell bool, err error) {
	var quote byte
	wordStart := true
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(raw[i:])
			shell = shell || r == utf8.RuneError && size == 1
			i += size - 1
			wordStart = false
			continue
		}
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			}
		case quote == '"':
			switch {
			case c == '"':
				quote = 0
			case c == '$' || c == '`':
				shell = true
			case c == '\\' && i+1 < len(raw) && strings.IndexByte("$`\"\\", raw[i+1]) >= 0:
				i++
			case c == '\\':
				shell = true // \n, \<newline>, ...: shlex would read them otherwise
			}
		case c == '\\':
			if i+1 < len(raw) && raw[i+1] == '\n' {
				shell = true
			}
			if i+1 < len(raw) && raw[i+1] < utf8.RuneSelf {
				i++ // a byte of UTF-8 is checked above
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '<' && i+1 < len(raw) && raw[i+1] == '<':
			return true, nil
		case c == '#' && wordStart:
			shell = true
			for i+1 < len(raw) && raw[i+1] != '\n' {
				i++
			}
		case c == '~' && wordStart,
			strings.IndexByte("|&;<>()\n$`*?[{}\r", c) >= 0:
			shell = true
		}
		wordStart = quote == 0 && strings.IndexByte(" \t\n|&;<>()", c) >= 0
	}
	if quote != 0 {
		return shell, fmt.Errorf("unterminated %c quote", quote)
	}
	return shell, nil
}

// WithArgs returns the command with args appended: as argv words, or
// shell-quoted onto Raw (and Argv rebuilt) when Shell. Raw always shows the
// whole command, quoted as sh would read it. c itself is not changed.
func (c Command) WithArgs(args []string) Command {
	out := Command{Argv: append([]string(nil), c.Argv...), Shell: c.Shell, Raw: c.Raw}
	if len(args) == 0 {
		return out
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = ShellQuote(a)
	}
	out.Raw = c.Raw + " " + strings.Join(quoted, " ")
	if c.Shell {
		out.Argv = []string{"/bin/sh", "-c", out.Raw}
		return out
	}
	out.Argv = append(out.Argv, args...)
	return out
}

// ShellQuote returns s as one sh word: unchanged when it holds only safe
// characters, else in single quotes ('\” for a quote inside).
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !isAlnum(r) && !strings.ContainsRune("@%+=:,./_-", r) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
