package dotenv

import (
	"fmt"
	"strings"
)

// Variable references, in unquoted and double-quoted values:
//
//	$NAME             NAME is [A-Za-z_][A-Za-z0-9_]*: "$HOST.local" reads HOST
//	${NAME}           NAME may hold dots, like a key
//	${NAME:-WORD}     WORD when NAME is unset or empty
//	${NAME-WORD}      WORD when NAME is unset
//	${NAME:+WORD}     WORD when NAME is set and not empty, else ""
//	${NAME+WORD}      WORD when NAME is set, else ""
//	${NAME:?WORD}     an error when NAME is unset or empty
//	${NAME?WORD}      an error when NAME is unset
//
// WORD is expanded in turn, only when it is used. A '$' that starts none of
// these ("$5", "$ ", "$(cmd)") is a literal dollar. The operator forms are
// docker compose's; godotenv does not know them and Ruby's dotenv runs
// "$(cmd)" as a command, which procman never does.

// refError is a problem with a variable reference, at byte off of the
// top-level text being expanded.
type refError struct {
	off int
	msg string
}

// expand processes the body of an unquoted (double false) or double-quoted
// value that starts on line line. Errors name the line of the reference.
func (p *parser) expand(s string, line int, double bool) (string, error) {
	out, rerr := p.expandAt(s, 0, double)
	if rerr != nil {
		return "", p.errorf(line+strings.Count(s[:rerr.off], "\n"), "%s", rerr.msg)
	}
	return out, nil
}

// expandAt expands s, which starts at byte base of the top-level text.
func (p *parser) expandAt(s string, base int, double bool) (string, *refError) {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s) && (double || s[i+1] == '$'):
			b.WriteByte(unescape(s[i+1]))
			i += 2
		case c == '$':
			val, n, err := p.reference(s[i:], base+i, double)
			if err != nil {
				return "", err
			}
			b.WriteString(val)
			i += n
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// unescape returns the byte that backslash-c stands for in a double-quoted
// value. godotenv and Ruby's dotenv know only \n and \r and drop the
// backslash of every other escape ("\t" reads "t"); procman also knows \t,
// as docker compose does, and drops the backslash of the rest like them.
func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	case 'r':
		return '\r'
	}
	return c
}

// reference expands the variable reference that s starts with (s[0] is
// '$') and returns its value and length.
func (p *parser) reference(s string, off int, double bool) (string, int, *refError) {
	if len(s) > 1 && s[1] == '{' {
		return p.braced(s, off, double)
	}
	n := 0
	if len(s) > 1 && isNameStart(s[1]) {
		n = 1
		for 1+n < len(s) && (isNameStart(s[1+n]) || isDigit(s[1+n])) {
			n++
		}
	}
	if n == 0 {
		return "$", 1, nil
	}
	val, _ := p.resolve(s[1 : 1+n])
	return val, 1 + n, nil
}

// braced expands the ${...} reference that s starts with.
func (p *parser) braced(s string, off int, double bool) (string, int, *refError) {
	end := closingBrace(s, double)
	if end < 0 {
		return "", 0, &refError{off, `"${" without matching "}"`}
	}
	ref, inner := s[:end+1], s[2:end]
	bad := &refError{off, fmt.Sprintf("bad variable reference %q", ref)}
	n := keyLen(inner)
	if n == 0 {
		return "", 0, bad
	}
	name, op := inner[:n], inner[n:]
	val, ok := p.resolve(name)
	if op == "" {
		return val, len(ref), nil
	}
	colon := op[0] == ':'
	if colon {
		op = op[1:]
	}
	if op == "" || !strings.ContainsRune("-+?", rune(op[0])) {
		return "", 0, bad
	}
	set := ok && (!colon || val != "")
	word := op[1:]
	wordOff := off + len(ref) - 1 - len(word)
	switch {
	case op[0] == '-' && !set, op[0] == '+' && set:
		val, err := p.expandAt(word, wordOff, double)
		return val, len(ref), err
	case op[0] == '+':
		return "", len(ref), nil
	case op[0] == '?' && !set:
		msg := fmt.Sprintf("required variable %s is not set", name)
		if word != "" {
			msg += ": " + word
		}
		return "", 0, &refError{off, msg}
	}
	return val, len(ref), nil
}

// closingBrace returns the offset of the '}' that closes the "${" s starts
// with, counting nested "${" and skipping escaped characters, or -1.
func closingBrace(s string, double bool) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && (double || s[i+1] == '$'):
			i++
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			depth++
			i++
		case s[i] == '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// resolve looks name up among the variables the file defined so far, then
// through the caller's lookup.
func (p *parser) resolve(name string) (string, bool) {
	if v, ok := p.defined[name]; ok {
		return v, true
	}
	if p.lookup != nil {
		return p.lookup(name)
	}
	return "", false
}

// quoted reads the quoted value whose opening quote is at src[q], on line
// p.line, checks that only a comment follows the closing quote, and moves
// to the line after it. Single quotes keep everything literally; a quote
// preceded by a backslash does not close them, as in godotenv and Ruby's
// dotenv (so `'it\'s'` reads `it\'s`).
func (p *parser) quoted(q int) (string, error) {
	start, quote, double := p.line, p.src[q], p.src[q] == '"'
	end := -1
	for i := q + 1; i < len(p.src); i++ {
		if p.src[i] == '\\' && i+1 < len(p.src) && (double || p.src[i+1] == quote) {
			i++
		} else if p.src[i] == quote {
			end = i
			break
		}
	}
	if end < 0 {
		if double {
			return "", p.errorf(start, "unterminated double quote")
		}
		return "", p.errorf(start, "unterminated single quote")
	}
	body := p.src[q+1 : end]
	p.line += strings.Count(body, "\n")
	eol := p.eol(end)
	if rest := strings.Trim(p.src[end+1:eol], blanks); rest != "" && rest[0] != '#' {
		return "", p.errorf(p.line, "unexpected %q after closing quote", rest)
	}
	p.pos, p.line = eol+1, p.line+1
	if !double {
		return body, nil
	}
	return p.expand(body, start, true)
}
