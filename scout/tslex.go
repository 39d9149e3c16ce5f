package scout

// lexTS splits TypeScript or JavaScript source into tokens. Line and block
// comments are dropped; '...' and "..." strings, template literals (with
// ${...} substitutions lexed as code, nested to any depth) and regular
// expression literals are consumed whole, so a tool name inside any of them
// is never read as code. A "/" is a regular expression when the token
// before it cannot end an expression (an operator, a keyword such as
// return, or nothing). The lexer never fails on malformed input.
func lexTS(src []byte) []token {
	l := tsLexer{src: src, line: 1, toks: make([]token, 0, len(src)/3+16)}
	l.run()
	return l.toks
}

type tsLexer struct {
	src       []byte
	i         int
	line      int
	lineStart int
	toks      []token
	braces    []bool // open "{" stack; true marks a template's "${"
}

// regexAfterKeyword lists the keywords after which "/" starts a regular
// expression rather than a division.
var regexAfterKeyword = map[string]bool{
	"return": true, "typeof": true, "case": true, "do": true, "else": true, "in": true, "of": true,
	"new": true, "delete": true, "void": true, "throw": true, "instanceof": true, "yield": true, "await": true,
}

func (l *tsLexer) add(kind tokKind, text string, lit bool, line, col int) {
	l.toks = append(l.toks, token{kind: kind, text: text, lit: lit, line: int32(line), col: int32(col)})
}

func (l *tsLexer) regexAllowed() bool {
	if len(l.toks) == 0 {
		return true
	}
	p := l.toks[len(l.toks)-1]
	switch p.kind {
	case tName:
		return regexAfterKeyword[p.text]
	case tNumber, tString:
		return false
	case tOp:
		return p.text != ")" && p.text != "]" && p.text != "}"
	}
	return true
}

func (l *tsLexer) run() {
	src := l.src
	for l.i < len(src) {
		c := src[l.i]
		col := l.i - l.lineStart
		switch {
		case c == '\n':
			l.i++
			l.line++
			l.lineStart = l.i
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			l.i++
		case c == '/' && l.i+1 < len(src) && src[l.i+1] == '/':
			for l.i < len(src) && src[l.i] != '\n' {
				l.i++
			}
		case c == '/' && l.i+1 < len(src) && src[l.i+1] == '*':
			l.i += 2
			for l.i < len(src) && !(src[l.i] == '*' && l.i+1 < len(src) && src[l.i+1] == '/') {
				if src[l.i] == '\n' {
					l.line++
					l.lineStart = l.i + 1
				}
				l.i++
			}
			l.i = min(l.i+2, len(src))
		case c == '/' && l.regexAllowed():
			l.regex()
			l.add(tOp, "regex", false, l.line, col)
		case c == '\'' || c == '"':
			line := l.line
			val, ok := l.quoted(c)
			l.add(tString, val, ok, line, col)
		case c == '`':
			l.i++
			line := l.line
			val, ok, sub := l.template()
			l.add(tString, val, ok && !sub, line, col)
		case isIdentStart(c):
			start := l.i
			for l.i < len(src) && isIdentPart(src[l.i]) {
				l.i++
			}
			l.add(tName, string(src[start:l.i]), false, l.line, col)
		case isDigit(c):
			start := l.i
			for l.i < len(src) && (isIdentPart(src[l.i]) || src[l.i] == '.') {
				l.i++
			}
			l.add(tNumber, string(src[start:l.i]), false, l.line, col)
		case c == '{':
			l.braces = append(l.braces, false)
			l.i++
			l.add(tOp, "{", false, l.line, col)
		case c == '}':
			l.i++
			if n := len(l.braces); n > 0 {
				tmpl := l.braces[n-1]
				l.braces = l.braces[:n-1]
				if tmpl {
					// end of a ${...} substitution: the template goes on
					l.template()
					continue
				}
			}
			l.add(tOp, "}", false, l.line, col)
		default:
			start := l.i
			n := 1
			if l.i+1 < len(src) && twoCharOps[string(src[l.i:l.i+2])] {
				n = 2
			}
			l.i += n
			l.add(tOp, string(src[start:l.i]), false, l.line, col)
		}
	}
}

// quoted consumes a '...' or "..." string; an unescaped newline ends an
// unterminated one.
func (l *tsLexer) quoted(q byte) (string, bool) {
	src := l.src
	l.i++
	var out []byte
	for l.i < len(src) {
		c := src[l.i]
		switch c {
		case '\\':
			if l.i+1 < len(src) && src[l.i+1] == '\n' {
				l.line++
				l.lineStart = l.i + 2
			}
			out, l.i = decodeEscape(src, l.i+1, out)
		case '\n':
			return string(out), false
		case q:
			l.i++
			return string(out), true
		default:
			out = append(out, c)
			l.i++
		}
	}
	return string(out), false
}

// template consumes template text up to the closing backtick or to a
// "${", which it pushes on the brace stack so the substitution is lexed as
// code. It reports the text, whether the template closed, and whether it
// stopped at a substitution.
func (l *tsLexer) template() (string, bool, bool) {
	src := l.src
	var out []byte
	for l.i < len(src) {
		c := src[l.i]
		switch {
		case c == '\\':
			out, l.i = decodeEscape(src, l.i+1, out)
		case c == '`':
			l.i++
			return string(out), true, false
		case c == '$' && l.i+1 < len(src) && src[l.i+1] == '{':
			l.i += 2
			l.braces = append(l.braces, true)
			return string(out), true, true
		case c == '\n':
			l.line++
			l.lineStart = l.i + 1
			out = append(out, c)
			l.i++
		default:
			out = append(out, c)
			l.i++
		}
	}
	return string(out), false, false
}

// regex consumes a regular expression literal and its flags.
func (l *tsLexer) regex() {
	src := l.src
	l.i++
	class := false
	for l.i < len(src) {
		c := src[l.i]
		switch {
		case c == '\\':
			l.i += 2
			continue
		case c == '\n':
			return
		case c == '[':
			class = true
		case c == ']':
			class = false
		case c == '/' && !class:
			l.i++
			for l.i < len(src) && isIdentPart(src[l.i]) {
				l.i++
			}
			return
		}
		l.i++
	}
	l.i = min(l.i, len(src))
}
