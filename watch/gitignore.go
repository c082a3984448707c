package watch

import (
	"strings"
)

// rule is one parsed line of a .gitignore file (or of Options.Ignore).
type rule struct {
	segs     []string // the pattern split on "/"; a "**" segment spans folders
	negate   bool     // "!pattern": re-include what an earlier rule excluded
	dirOnly  bool     // "pattern/": matches folders only
	anchored bool     // the pattern holds a "/": matched against the whole relative path
}

// rules is the rule list of one .gitignore file, in file order.
type rules []rule

// parseRules parses the text of a .gitignore file with git's syntax: blank
// lines and "#" comments are skipped, trailing spaces are dropped unless
// escaped, "!" negates, a trailing "/" restricts to folders and a "/" at the
// start or in the middle anchors the pattern to the file's folder.
func parseRules(text string) rules {
	var rs rules
	for line := range strings.Lines(text) {
		if r, ok := parseRule(line); ok {
			rs = append(rs, r)
		}
	}
	return rs
}

// parseRule parses one line; ok is false for blank lines and comments.
func parseRule(line string) (r rule, ok bool) {
	line = strings.TrimRight(line, "\r\n")
	line = trimTrailingSpaces(line)
	if line == "" || line[0] == '#' {
		return rule{}, false
	}
	if line[0] == '!' {
		r.negate = true
		line = line[1:]
	} else if strings.HasPrefix(line, `\!`) || strings.HasPrefix(line, `\#`) {
		line = line[1:]
	}
	if strings.HasSuffix(line, "/") {
		r.dirOnly = true
		line = strings.TrimRight(line, "/")
	}
	if strings.Contains(line, "/") {
		r.anchored = true
		line = strings.TrimPrefix(line, "/")
	}
	if line == "" {
		return rule{}, false
	}
	r.segs = strings.Split(line, "/")
	return r, true
}

// trimTrailingSpaces drops trailing spaces that are not escaped with "\".
func trimTrailingSpaces(s string) string {
	end := len(s)
	for end > 0 && s[end-1] == ' ' {
		if end > 1 && s[end-2] == '\\' {
			break
		}
		end--
	}
	return s[:end]
}

// match reports whether rel (slash-separated, relative to the folder that
// holds the rules) is decided by rs, and if so whether it is ignored. The
// last matching rule wins, as in git.
func (rs rules) match(rel string, isDir bool) (matched, ignored bool) {
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].match(rel, isDir) {
			return true, !rs[i].negate
		}
	}
	return false, false
}

// match reports whether the rule's pattern matches rel.
func (r *rule) match(rel string, isDir bool) bool {
	if r.dirOnly && !isDir {
		return false
	}
	if !r.anchored {
		if i := strings.LastIndexByte(rel, '/'); i >= 0 {
			rel = rel[i+1:]
		}
		return globMatch(r.segs[0], rel)
	}
	return matchSegs(r.segs, rel)
}

// matchSegs matches pattern segments against a slash-separated path. A "**"
// segment matches zero or more whole folders; at the end of the pattern it
// matches everything inside (one or more segments).
func matchSegs(segs []string, path string) bool {
	for len(segs) > 0 {
		if segs[0] == "**" {
			if len(segs) == 1 {
				return path != ""
			}
			for {
				if matchSegs(segs[1:], path) {
					return true
				}
				i := strings.IndexByte(path, '/')
				if i < 0 {
					return false
				}
				path = path[i+1:]
			}
		}
		if path == "" {
			return false
		}
		seg, rest, more := strings.Cut(path, "/")
		if !globMatch(segs[0], seg) {
			return false
		}
		segs, path = segs[1:], rest
		if !more {
			return len(segs) == 0
		}
	}
	return path == ""
}

// globMatch matches one path segment against a glob with git's wildmatch
// rules inside a segment: "*" any run of bytes, "?" one byte, "[...]" a
// class ("!" or "^" negates, ranges, [:alpha:]-style names), "\" escapes.
// An unterminated class matches nothing.
func globMatch(pat, s string) bool {
	px, sx := 0, 0
	starPx, starSx := -1, -1
	for px < len(pat) || sx < len(s) {
		if px < len(pat) {
			switch c := pat[px]; c {
			case '*':
				starPx, starSx = px, sx
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx++
					continue
				}
			case '[':
				n, ok := matchClass(pat[px:], s, sx)
				if n < 0 {
					return false
				}
				if ok {
					px += n
					sx++
					continue
				}
			case '\\':
				lit := byte('\\')
				if px+1 < len(pat) {
					lit = pat[px+1]
				}
				if sx < len(s) && s[sx] == lit {
					px += min(2, len(pat)-px)
					sx++
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if starPx >= 0 && starSx < len(s) {
			starSx++
			px, sx = starPx+1, starSx
			continue
		}
		return false
	}
	return true
}

// matchClass matches s[sx] against the class at the start of pat ("[...]").
// It returns the class's length in pat (-1 when unterminated) and whether
// the byte is in the class (false when s is exhausted).
func matchClass(pat, s string, sx int) (n int, ok bool) {
	i := 1
	negate := i < len(pat) && (pat[i] == '!' || pat[i] == '^')
	if negate {
		i++
	}
	var b byte
	have := sx < len(s)
	if have {
		b = s[sx]
	}
	found := false
	for first := true; ; first = false {
		if i >= len(pat) {
			return -1, false
		}
		c := pat[i]
		if c == ']' && !first {
			i++
			break
		}
		if c == '[' && i+1 < len(pat) && pat[i+1] == ':' {
			if end := strings.Index(pat[i+2:], ":]"); end >= 0 {
				found = found || (have && inNamedClass(pat[i+2:i+2+end], b))
				i += end + 4
				continue
			}
		}
		if c == '\\' && i+1 < len(pat) {
			i++
			c = pat[i]
		}
		lo, hi := c, c
		if i+2 < len(pat) && pat[i+1] == '-' && pat[i+2] != ']' {
			hi = pat[i+2]
			if hi == '\\' && i+3 < len(pat) {
				hi = pat[i+3]
				i++
			}
			i += 2
		}
		found = found || (have && lo <= b && b <= hi)
		i++
	}
	return i, have && found != negate
}

// inNamedClass reports whether b is in the POSIX class name ("alpha", ...).
func inNamedClass(name string, b byte) bool {
	lower := 'a' <= b && b <= 'z'
	upper := 'A' <= b && b <= 'Z'
	digit := '0' <= b && b <= '9'
	switch name {
	case "alnum":
		return lower || upper || digit
	case "alpha":
		return lower || upper
	case "digit":
		return digit
	case "lower":
		return lower
	case "upper":
		return upper
	case "space":
		return b == ' ' || ('\t' <= b && b <= '\r')
	case "blank":
		return b == ' ' || b == '\t'
	case "xdigit":
		return digit || ('a' <= b && b <= 'f') || ('A' <= b && b <= 'F')
	case "punct":
		return b > ' ' && b < 0x7f && !lower && !upper && !digit
	}
	return false
}
