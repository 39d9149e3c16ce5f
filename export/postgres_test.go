package export

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// decodeLiteral reads s as one PostgreSQL string constant, the way the
// server's lexer does with standard_conforming_strings on or off, and
// fails unless the constant spans all of s.
func decodeLiteral(s string, standardStrings bool) (string, error) {
	escape := false
	switch {
	case strings.HasPrefix(s, "E'") || strings.HasPrefix(s, "e'"):
		escape, s = true, s[2:]
	case strings.HasPrefix(s, "'"):
		escape, s = !standardStrings, s[1:]
	default:
		return "", errors.New("not a string constant")
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' && i+1 < len(s) && s[i+1] == '\'':
			b.WriteByte('\'')
			i++
		case c == '\'':
			if i != len(s)-1 {
				return "", errors.New("the constant ends before the input: " + s[i:])
			}
			return b.String(), nil
		case c == '\\' && escape:
			if i+1 >= len(s) {
				return "", errors.New("dangling backslash")
			}
			i++
			switch s[i] {
			case '\\', '\'':
				b.WriteByte(s[i])
			default:
				return "", errors.New("escape sequence \\" + string(s[i]))
			}
		case c == 0:
			return "", errors.New("NUL in a constant")
		default:
			b.WriteByte(c)
		}
	}
	return "", errors.New("unterminated constant")
}

// sanitized is what a value becomes in PostgreSQL text.
func sanitized(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func checkLiteral(t *testing.T, in string) {
	t.Helper()
	lit := Literal(in)
	for _, std := range []bool{true, false} {
		got, err := decodeLiteral(lit, std)
		if err != nil {
			t.Fatalf("Literal(%q) = %s: standard_conforming_strings=%t: %v", in, lit, std, err)
		}
		if got != sanitized(in) {
			t.Fatalf("Literal(%q) = %s reads back as %q", in, lit, got)
		}
	}
	if !utf8.ValidString(lit) || strings.ContainsRune(lit, 0) {
		t.Fatalf("Literal(%q) = %q holds NUL or invalid UTF-8", in, lit)
	}
}

func TestLiteralHostile(t *testing.T) {
	for _, s := range []string{
		"", "run_demo", "it's", "''", `\`, `\'`, `'\`, `x\'; DROP TABLE t; --`, "a\x00b", "$$", "$tag$ x $tag$",
		"\xff\xfe", `E'\\'`, "\n\r\t", hostileTool, "'); DELETE FROM gait_pack_index; --",
	} {
		checkLiteral(t, s)
	}
	// v1 writes plain constants; Gait writes the same bytes for them.
	if got := Literal("it's"); got != "'it''s'" {
		t.Fatalf("Literal = %s", got)
	}
}

func FuzzLiteral(f *testing.F) {
	for _, s := range []string{"run_demo", "it's", `\'`, "a\x00b", "$$", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkLiteral(t, s) })
}

func TestSQLHostileValues(t *testing.T) {
	e := build(t)
	e.SourceRef = "run_x'; DROP TABLE gait_pack_index; --\\"
	e.Calls[1].IntentID = "intent\x00$$'"
	b, err := SQL(e, SQLOptions{IncludeDDL: true, ToolCalls: true})
	if err != nil {
		t.Fatal(err)
	}
	sql := string(b)
	for _, want := range []string{
		`E'run_x''; DROP TABLE gait_pack_index; --\\'`,
		`E'` + strings.NewReplacer(`\`, `\\`, "'", "''").Replace(hostileTool) + `'`,
		"'intent\uFFFD$$'''",
		`CREATE TABLE IF NOT EXISTS "gait_pack_index_tool_calls"`,
		"ON CONFLICT (pack_id, seq) DO UPDATE SET",
	} {
		if !strings.Contains(sql, want) {
			t.Errorf("SQL lacks %s", want)
		}
	}
	if strings.ContainsRune(sql, 0) {
		t.Error("SQL holds a NUL")
	}
}

func TestSQLV1Layout(t *testing.T) {
	e := build(t)
	b, err := SQL(e, SQLOptions{Table: "analytics.Packs"})
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.HasPrefix(s, "INSERT INTO \"analytics\".\"Packs\" (\n  pack_id,\n") || !strings.HasSuffix(s, "  created_at = EXCLUDED.created_at;\n") {
		t.Fatalf("SQL:\n%s", s)
	}
	if strings.Contains(s, "tool_calls\"") {
		t.Fatal("tool-call table without ToolCalls")
	}
}

func TestSQLRejectsTable(t *testing.T) {
	e := build(t)
	for _, tb := range []string{"a;drop", "a.b.c", `x"y`, "1abc", "a b", strings.Repeat("a", 51)} {
		if _, err := SQL(e, SQLOptions{Table: tb}); !errors.As(err, new(ErrTable)) {
			t.Errorf("table %q: err = %v", tb, err)
		}
	}
}
