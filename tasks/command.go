package tasks

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/shlex"
)

// shellChars are the characters that make a command string run under
// /bin/sh -c: with any of them present, splitting into words is not enough.
const shellChars = "|&;<>$`*?()[]{}~#\n"

// shellWords are builtins and keywords that only a shell can run.
var shellWords = map[string]bool{
	".": true, ":": true, "alias": true, "break": true, "case": true,
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

// ParseCommand routes a command string: split into argv and exec'd
// directly, or run as /bin/sh -c when it holds shell syntax, starts with a
// shell builtin or keyword, or starts with a NAME=value assignment. Trailing
// blanks are dropped. Errors: "empty command", unterminated quotes.
func ParseCommand(raw string) (Command, error) {
	raw = strings.TrimRight(raw, " \t\r\n")
	if strings.TrimSpace(raw) == "" {
		return Command{}, errEmptyCommand
	}
	if err := checkQuotes(raw); err != nil {
		return Command{}, err
	}
	if strings.ContainsAny(raw, shellChars) {
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

// checkQuotes reports an unterminated ' or " quote, the way sh reads them:
// nothing escapes inside '…', a backslash escapes the next character
// elsewhere, and a # at the start of a word begins a comment. Commands with
// here-documents (<<) are not checked: their bodies follow other rules.
func checkQuotes(raw string) error {
	if strings.Contains(raw, "<<") {
		return nil
	}
	var quote byte
	wordStart := true
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			}
		case c == '\\':
			i++
		case quote == '"':
			if c == '"' {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '#' && wordStart:
			for i < len(raw) && raw[i] != '\n' {
				i++
			}
		}
		wordStart = quote == 0 && (c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' || c == '(')
	}
	if quote != 0 {
		return fmt.Errorf("unterminated %c quote", quote)
	}
	return nil
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
