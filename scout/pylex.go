package scout

import "strings"

// lexPython splits Python source into tokens. Comments are dropped; string
// literals (every prefix, triple quotes, escapes, and f-strings whose
// replacement fields hold nested strings) become single tString tokens, so
// nothing inside a comment or a string is ever seen as code. A tNewline
// ends each logical line: newlines inside brackets and after a backslash
// continuation do not. The lexer never fails: malformed input (an
// unterminated string, stray bytes) ends the token where it can and goes on.
func lexPython(src []byte) []token {
	l := pyLexer{src: src, line: 1, toks: make([]token, 0, len(src)/3+16)}
	l.run()
	return l.toks
}

type pyLexer struct {
	src       []byte
	i         int
	line      int
	lineStart int // offset of the current physical line
	depth     int // bracket depth
	toks      []token
}

func (l *pyLexer) emit(kind tokKind, text string, line, col int) {
	l.toks = append(l.toks, token{kind: kind, text: text, line: int32(line), col: int32(col)})
}

func (l *pyLexer) newline() {
	l.line++
	l.lineStart = l.i
}

func (l *pyLexer) run() {
	src := l.src
	for l.i < len(src) {
		c := src[l.i]
		switch {
		case c == '\n':
			l.i++
			if l.depth == 0 && len(l.toks) > 0 && l.toks[len(l.toks)-1].kind != tNewline {
				l.toks = append(l.toks, token{kind: tNewline, line: int32(l.line)})
			}
			l.newline()
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			l.i++
		case c == '#':
			for l.i < len(src) && src[l.i] != '\n' {
				l.i++
			}
		case c == '\\':
			l.i++
			if l.i < len(src) && src[l.i] == '\r' {
				l.i++
			}
			if l.i < len(src) && src[l.i] == '\n' {
				l.i++
				l.newline()
			}
		case c == '\'' || c == '"':
			l.str("")
		case isIdentStart(c) && c != '$':
			start, line, col := l.i, l.line, l.i-l.lineStart
			for l.i < len(src) && isIdentPart(src[l.i]) && src[l.i] != '$' {
				l.i++
			}
			word := string(src[start:l.i])
			if l.i < len(src) && (src[l.i] == '\'' || src[l.i] == '"') && isStringPrefix(word) {
				l.i = start
				l.i += len(word)
				l.strAt(strings.ToLower(word), line, col)
				continue
			}
			l.emit(tName, word, line, col)
		case isDigit(c) || c == '.' && l.i+1 < len(src) && isDigit(src[l.i+1]):
			start, col := l.i, l.i-l.lineStart
			for l.i < len(src) && (isIdentPart(src[l.i]) || src[l.i] == '.') {
				l.i++
			}
			l.emit(tNumber, string(src[start:l.i]), l.line, col)
		default:
			start, col := l.i, l.i-l.lineStart
			switch c {
			case '(', '[', '{':
				l.depth++
			case ')', ']', '}':
				if l.depth > 0 {
					l.depth--
				}
			}
			n := 1
			if l.i+1 < len(src) && twoCharOps[string(src[l.i:l.i+2])] {
				n = 2
			}
			l.i += n
			l.emit(tOp, string(src[start:l.i]), l.line, col)
		}
	}
}

// isStringPrefix reports whether word is a Python string prefix (r, b, u,
// f, t and their combinations, any case).
func isStringPrefix(word string) bool {
	switch strings.ToLower(word) {
	case "r", "u", "b", "f", "t", "br", "rb", "fr", "rf", "tr", "rt":
		return true
	}
	return false
}

func (l *pyLexer) str(prefix string) {
	l.strAt(prefix, l.line, l.i-l.lineStart)
}

// strAt lexes the string literal whose opening quote is at l.i.
func (l *pyLexer) strAt(prefix string, line, col int) {
	raw := strings.Contains(prefix, "r")
	format := strings.ContainsAny(prefix, "ft")
	val, ok := l.scanString(raw, format)
	l.toks = append(l.toks, token{kind: tString, text: val, lit: ok && !format && !strings.Contains(prefix, "b"), line: int32(line), col: int32(col)})
}

// scanString consumes a string body starting at its opening quote and
// returns its value and whether it was terminated.
func (l *pyLexer) scanString(raw, format bool) (string, bool) {
	src := l.src
	q := src[l.i]
	triple := l.i+2 < len(src) && src[l.i+1] == q && src[l.i+2] == q
	if triple {
		l.i += 3
	} else {
		l.i++
	}
	var out []byte
	braces := 0
	for l.i < len(src) {
		c := src[l.i]
		switch {
		case c == '\\':
			if raw {
				out = append(out, c)
				l.i++
				if l.i < len(src) {
					if src[l.i] == '\n' {
						l.i++
						l.newline()
						out = append(out, '\n')
						continue
					}
					out = append(out, src[l.i])
					l.i++
				}
				continue
			}
			if l.i+1 < len(src) && src[l.i+1] == '\n' {
				l.i += 2
				l.newline()
				continue
			}
			out, l.i = decodeEscape(src, l.i+1, out)
		case format && c == '{':
			if braces == 0 && l.i+1 < len(src) && src[l.i+1] == '{' {
				out = append(out, '{')
				l.i += 2
				continue
			}
			braces++
			l.i++
		case format && c == '}' && braces > 0:
			braces--
			l.i++
		case format && braces > 0 && (c == '\'' || c == '"'):
			// A nested string inside a replacement field (allowed with
			// any quote since Python 3.12).
			l.scanString(false, false)
		case format && braces > 0 && c == '#':
			for l.i < len(src) && src[l.i] != '\n' {
				l.i++
			}
		case c == '\n':
			if !triple && braces == 0 {
				return string(out), false // unterminated: end at the line
			}
			out = append(out, c)
			l.i++
			l.newline()
		case c == q && braces == 0:
			if !triple {
				l.i++
				return string(out), true
			}
			if l.i+2 < len(src) && src[l.i+1] == q && src[l.i+2] == q {
				l.i += 3
				return string(out), true
			}
			out = append(out, c)
			l.i++
		default:
			out = append(out, c)
			l.i++
		}
	}
	return string(out), false
}
