package scout

// tokKind is the kind of a source token the detectors look at.
type tokKind uint8

const (
	tName    tokKind = iota + 1 // identifier or keyword
	tString                     // string literal
	tOp                         // punctuation, one or two characters
	tNumber                     // numeric literal
	tNewline                    // end of a Python logical line
)

// token is one lexed token. Strings carry their value in text when lit is
// true (a plain literal with no interpolation); an f-string or a template
// with substitutions has lit false and is never used as a name.
type token struct {
	text string
	line int32 // 1-based line of the token's first character
	col  int32 // 0-based byte column of the token's first character
	kind tokKind
	lit  bool
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || (c|0x20) >= 'a' && (c|0x20) <= 'z' || c >= 0x80
}

func isIdentPart(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// twoCharOps are the operators lexed as one token, so "==" is never read as
// a keyword argument's "=".
var twoCharOps = map[string]bool{
	"==": true, "!=": true, "<=": true, ">=": true, ":=": true, "->": true, "=>": true,
	"**": true, "&&": true, "||": true, "??": true, "?.": true, "+=": true, "-=": true,
}

// decodeEscape appends the value of the escape sequence at src[i] (just
// after a backslash) to out and returns the index after it. Only the
// escapes a tool name could plausibly use are decoded; others keep their
// character.
func decodeEscape(src []byte, i int, out []byte) ([]byte, int) {
	if i >= len(src) {
		return out, i
	}
	switch c := src[i]; c {
	case 'n':
		return append(out, '\n'), i + 1
	case 't':
		return append(out, '\t'), i + 1
	case '\r':
		if i+1 < len(src) && src[i+1] == '\n' {
			return out, i + 2
		}
		return out, i + 1
	case '\n':
		return out, i + 1 // line continuation inside a string
	default:
		return append(out, c), i + 1
	}
}
