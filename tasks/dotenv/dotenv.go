// Package dotenv reads env files in the dotenv syntax that foreman, godotenv,
// Ruby's dotenv and docker compose accept, so that a .env written for any of
// them works unchanged under procman.
//
// The syntax, line by line:
//
//   - Blank lines, lines whose first non-blank character is '#', and YAML
//     document markers ("---", which godotenv skips) are ignored.
//   - An assignment is KEY=VALUE, optionally preceded by "export " and with
//     blanks allowed around '=' (as godotenv allows). godotenv's YAML-ish
//     "KEY: VALUE" is accepted too; its ':' must be followed by a blank or
//     the end of the line, so "http://host" is never read as a key "http".
//   - Keys match [A-Za-z_][A-Za-z0-9_.]*.
//   - An unquoted value runs to the end of the line, is trimmed, loses an
//     inline comment starting at a '#' that follows a blank, and has $VAR and
//     ${VAR} expanded; "\$" is a literal dollar and any other backslash is
//     kept as it is (Windows paths survive).
//   - A single-quoted value is literal and may span lines.
//   - A double-quoted value may span lines, understands the escapes \n \t \r
//     \" \\ \$, and has $VAR and ${VAR} expanded.
//   - After a closing quote only blanks and a '#' comment may follow.
//
// Expansion looks a name up among the variables the file defined earlier
// (the latest definition wins), then through the caller's lookup function;
// unknown names expand to "". See expand.go for the reference forms.
package dotenv

import (
	"fmt"
	"os"
	"strings"
)

// Var is one assignment from an env file.
type Var struct {
	Key   string // the variable's name
	Value string // the value after unquoting, unescaping and expansion
	Line  int    // 1-based line on which the assignment starts
}

// Parse reads dotenv data. name is used in errors, which read
// "NAME:LINE: msg" (e.g. `.env:3: want KEY=VALUE, got "oops"`).
// lookup resolves ${VAR} / $VAR that the file did not define earlier
// (nil: unknown variables expand to "").
//
// Every assignment is returned in file order, duplicates included: a later
// duplicate key wins, so a caller building a map keeps the last one.
func Parse(name string, data []byte, lookup func(string) (string, bool)) ([]Var, error) {
	p := &parser{
		name:    name,
		src:     normalize(data),
		line:    1,
		lookup:  lookup,
		defined: map[string]string{},
	}
	return p.parse()
}

// Load reads and parses the file at path (errors name the path as given).
// A missing file yields an error that matches fs.ErrNotExist.
func Load(path string, lookup func(string) (string, bool)) ([]Var, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err // *fs.PathError: "open PATH: ..." names the path
	}
	return Parse(path, data, lookup)
}

// normalize drops a UTF-8 byte-order mark and turns CRLF (Windows) and lone
// CR (classic Mac) line endings into LF, so that such files read like any
// other. godotenv also ends an unquoted value at a lone CR.
func normalize(data []byte) string {
	s := strings.TrimPrefix(string(data), "\uFEFF")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// parser walks the normalized source one statement at a time.
type parser struct {
	name    string                      // file name used in errors
	src     string                      // normalized source
	pos     int                         // offset of the start of the next line
	line    int                         // 1-based line number of src[pos]
	lookup  func(string) (string, bool) // outside variables; may be nil
	defined map[string]string           // variables the file defined so far
}

// parse reads every statement from the source.
func (p *parser) parse() ([]Var, error) {
	var vars []Var
	for p.pos < len(p.src) {
		text := p.src[p.pos:p.eol(p.pos)]
		body := strings.Trim(text, blanks)
		if body == "" || body[0] == '#' || body == "---" {
			p.skipLine()
			continue
		}
		v, err := p.assignment()
		if err != nil {
			return nil, err
		}
		p.defined[v.Key] = v.Value
		vars = append(vars, v)
	}
	return vars, nil
}

// blanks are the characters trimmed around keys and unquoted values.
const blanks = " \t\v\f"

// eol returns the offset of the '\n' ending the line that holds src[i], or
// len(src) on the last line.
func (p *parser) eol(i int) int {
	if n := strings.IndexByte(p.src[i:], '\n'); n >= 0 {
		return i + n
	}
	return len(p.src)
}

// skipLine moves to the start of the next line.
func (p *parser) skipLine() {
	p.pos = p.eol(p.pos) + 1
	p.line++
}

// errorf returns an error that names the file and the line.
func (p *parser) errorf(line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: "+format, append([]any{p.name, line}, args...)...)
}

// assignment parses the statement starting at p.pos and moves past it.
func (p *parser) assignment() (Var, error) {
	start := p.line
	eol := p.eol(p.pos)
	text := p.src[p.pos:eol]
	stmt := stripExport(strings.TrimLeft(text, blanks))
	sep, sepLen := separator(stmt)
	if sep < 0 {
		return Var{}, p.errorf(start, "want KEY=VALUE, got %q", strings.Trim(text, blanks))
	}
	key := strings.TrimRight(stmt[:sep], blanks)
	if err := checkKey(key); err != "" {
		return Var{}, p.errorf(start, "%s", err)
	}
	valStart := eol - len(stmt) + sep + sepLen // stmt is a suffix of text
	raw := p.src[valStart:eol]
	q := valStart + len(raw) - len(strings.TrimLeft(raw, blanks))
	if q < eol && (p.src[q] == '"' || p.src[q] == '\'') {
		value, err := p.quoted(q)
		return Var{Key: key, Value: value, Line: start}, err
	}
	value, err := p.expand(strings.Trim(cutComment(raw), blanks), p.line, false)
	p.skipLine()
	return Var{Key: key, Value: value, Line: start}, err
}

// stripExport removes a leading "export" and the blanks after it, unless
// "export" is itself the key ("export=1").
func stripExport(stmt string) string {
	rest, ok := strings.CutPrefix(stmt, "export")
	if !ok || rest == "" || !strings.ContainsRune(blanks, rune(rest[0])) {
		return stmt
	}
	rest = strings.TrimLeft(rest, blanks)
	if rest == "" || rest[0] == '=' || rest[0] == ':' {
		return stmt
	}
	return rest
}

// separator returns the offset and length of the '=' or YAML-style ':' that
// ends the key in stmt, whichever comes first, or -1 when there is none.
func separator(stmt string) (int, int) {
	eq := strings.IndexByte(stmt, '=')
	for i := 0; i < len(stmt) && (eq < 0 || i < eq); i++ {
		if stmt[i] != ':' {
			continue
		}
		if i+1 == len(stmt) || strings.ContainsRune(blanks, rune(stmt[i+1])) {
			return i, 1
		}
	}
	return eq, 1
}

// checkKey returns why key is not a valid variable name, or "".
func checkKey(key string) string {
	if key == "" {
		return "missing key"
	}
	if keyLen(key) != len(key) {
		return fmt.Sprintf("invalid key %q", key)
	}
	return ""
}

// keyLen returns the length of the key ([A-Za-z_][A-Za-z0-9_.]*) that s
// starts with, or 0.
func keyLen(s string) int {
	if s == "" || !isNameStart(s[0]) {
		return 0
	}
	n := 1
	for n < len(s) && (isNameStart(s[n]) || isDigit(s[n]) || s[n] == '.') {
		n++
	}
	return n
}

// isNameStart reports whether c may start a variable name.
func isNameStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// cutComment drops an inline comment from an unquoted value: it starts at
// the first '#' that follows a blank. A '#' right after '=' or inside a word
// ("a#b", "http://x/#frag") is part of the value. godotenv cuts at the last
// " #" instead; the first is what a shell does, and what docker compose does.
func cutComment(raw string) string {
	for i := 1; i < len(raw); i++ {
		if raw[i] == '#' && (raw[i-1] == ' ' || raw[i-1] == '\t') {
			return raw[:i]
		}
	}
	return raw
}
