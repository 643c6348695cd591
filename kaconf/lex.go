package kaconf

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// maxIncludeDepth bounds include nesting, as keepalived is bounded by its
// open files.
const maxIncludeDepth = 32

// maxFileSize bounds the size of an included file.
const maxFileSize = 16 << 20

// token is one word of the configuration, or the end of a line.
type token struct {
	text   string
	pos    Position
	quoted bool // written in double quotes: never a brace or a comment
	eol    bool
}

func (t token) isOpen() bool  { return !t.eol && !t.quoted && t.text == "{" }
func (t token) isClose() bool { return !t.eol && !t.quoted && t.text == "}" }

// lexer turns files into one stream of tokens, reading include files where
// they appear and replacing $NAME definitions, as keepalived's
// lib/parser.c does before any keyword is looked at.
type lexer struct {
	toks    []token
	defs    map[string]string
	reading []string // absolute paths of the files being read, outermost first
	warn    func(w Warning)
}

// file adds the tokens of data, read from name; dir resolves relative
// include patterns.
func (lx *lexer) file(name, dir string, data []byte) {
	if abs, err := filepath.Abs(name); err == nil {
		lx.reading = append(lx.reading, abs)
		defer func() { lx.reading = lx.reading[:len(lx.reading)-1] }()
	}
	for i, line := range strings.Split(string(data), "\n") {
		lx.line(Position{File: name, Line: i + 1}, dir, strings.TrimSuffix(line, "\r"))
	}
}

func (lx *lexer) line(pos Position, dir, line string) {
	trimmed := strings.TrimLeft(line, " \t")
	if name, value, ok := definition(trimmed); ok {
		lx.defs[name] = value
		return
	}
	if strings.HasPrefix(trimmed, "@") {
		lx.warn(Warning{File: pos.File, Line: pos.Line, Unsupported: true,
			Msg: "line for a config-id (@) not read"})
		return
	}
	line = lx.substitute(line)
	words := lx.split(pos, line)
	if len(words) == 0 {
		return
	}
	if !words[0].quoted && words[0].text == "include" {
		if len(words) < 2 {
			lx.warn(Warning{File: pos.File, Line: pos.Line, Msg: "include without a file name"})
			return
		}
		lx.include(pos, dir, words[1].text)
		return
	}
	lx.toks = append(lx.toks, words...)
	lx.toks = append(lx.toks, token{pos: pos, eol: true})
}

// definition recognises "$NAME=value".
func definition(s string) (name, value string, ok bool) {
	if !strings.HasPrefix(s, "$") {
		return "", "", false
	}
	eq := strings.IndexByte(s, '=')
	if eq < 2 {
		return "", "", false
	}
	name = s[1:eq]
	if name[0] >= '0' && name[0] <= '9' {
		return "", "", false
	}
	for _, r := range name {
		if !isNameRune(r) {
			return "", "", false
		}
	}
	return name, strings.TrimSpace(s[eq+1:]), true
}

func isNameRune(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// substitute replaces ${NAME} anywhere and $NAME followed by white space
// or the end of the line by its definition, again in what a definition
// brings, as keepalived does. Names not defined are left as written.
func (lx *lexer) substitute(line string) string {
	for range 8 {
		if len(lx.defs) == 0 || !strings.Contains(line, "$") {
			return line
		}
		next := lx.substituteOnce(line)
		if next == line {
			return line
		}
		if len(next) > 1<<16 {
			return next
		}
		line = next
	}
	return line
}

func (lx *lexer) substituteOnce(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		if line[i] != '$' {
			b.WriteByte(line[i])
			i++
			continue
		}
		name, end := "", i+1
		if end < len(line) && line[end] == '{' {
			if c := strings.IndexByte(line[end:], '}'); c > 0 {
				name, end = line[end+1:end+c], end+c+1
			}
		} else {
			for end < len(line) && isNameRune(rune(line[end])) {
				end++
			}
			name = line[i+1 : end]
			if end < len(line) && line[end] != ' ' && line[end] != '\t' {
				name = ""
			}
		}
		if v, ok := lx.defs[name]; ok && name != "" {
			b.WriteString(v)
			i = end
			continue
		}
		b.WriteByte('$')
		i++
	}
	return b.String()
}

// split cuts a line into words. Braces are words of their own even when
// glued to others; "#" and "!" at the start of a word begin a comment;
// double quotes make one word of what they hold.
func (lx *lexer) split(pos Position, line string) []token {
	var words []token
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, token{text: cur.String(), pos: pos})
			cur.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\v' || c == '\f':
			flush()
		case c == '{' || c == '}':
			flush()
			words = append(words, token{text: string(c), pos: pos})
		case (c == '#' || c == '!') && !inWord:
			return words
		case c == '"':
			flush()
			end := strings.IndexByte(line[i+1:], '"')
			if end < 0 {
				lx.warn(Warning{File: pos.File, Line: pos.Line, Msg: "missing closing quote"})
				words = append(words, token{text: line[i+1:], pos: pos, quoted: true})
				return words
			}
			words = append(words, token{text: line[i+1 : i+1+end], pos: pos, quoted: true})
			i += end + 1
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return words
}

// include reads the files matching pattern, in name order.
func (lx *lexer) include(pos Position, dir, pattern string) {
	full := pattern
	if !filepath.IsAbs(full) {
		full = filepath.Join(dir, pattern)
	}
	matches, err := filepath.Glob(full)
	if err != nil {
		lx.warn(Warning{File: pos.File, Line: pos.Line, Msg: fmt.Sprintf("include %q: %v", pattern, err)})
		return
	}
	if len(matches) == 0 {
		lx.warn(Warning{File: pos.File, Line: pos.Line, Msg: fmt.Sprintf("include %q matches no file", pattern)})
		return
	}
	for _, m := range matches {
		abs, err := filepath.Abs(m)
		if err != nil {
			abs = m
		}
		if containsString(lx.reading, abs) {
			lx.warn(Warning{File: pos.File, Line: pos.Line, Msg: fmt.Sprintf("include %q: %s includes itself; not read again", pattern, m)})
			continue
		}
		if len(lx.reading) >= maxIncludeDepth {
			lx.warn(Warning{File: pos.File, Line: pos.Line, Msg: fmt.Sprintf("include %q: more than %d files deep; not read", pattern, maxIncludeDepth)})
			return
		}
		// Only regular files: a device or fifo would never end.
		if fi, err := os.Stat(m); err != nil || !fi.Mode().IsRegular() || fi.Size() > maxFileSize {
			if err == nil && !fi.IsDir() {
				lx.warn(Warning{File: pos.File, Line: pos.Line, Msg: fmt.Sprintf("include %q: %s is not a regular file of at most %d bytes; not read", pattern, m, maxFileSize)})
			}
			continue
		}
		data, err := os.ReadFile(m)
		if err != nil {
			lx.warn(Warning{File: pos.File, Line: pos.Line, Msg: fmt.Sprintf("include %q: %v", pattern, err)})
			continue
		}
		lx.file(m, filepath.Dir(m), data)
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
