package export

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultTable is the pack index table v1 writes to.
const DefaultTable = "gait_pack_index"

// SQLOptions configure SQL.
type SQLOptions struct {
	Table      string // table or schema.table; DefaultTable when ""
	IncludeDDL bool   // CREATE TABLE / INDEX IF NOT EXISTS before the upsert
	// ToolCalls adds a <table>_tool_calls table with one row per tool call
	// of a run pack (not in v1).
	ToolCalls bool
}

// identPattern is compiled on first use, not when gait starts.
var identPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) })

// ErrTable marks a --postgres-table value that is not an identifier.
type ErrTable struct{ Table string }

func (e ErrTable) Error() string {
	return fmt.Sprintf("postgres table %q is not <table> or <schema.table> of letters, digits and _ (not starting with a digit)", e.Table)
}

// table checks and quotes the table name and returns the prefix of index
// names (the table part, lower-cased).
func table(raw string) (quoted, last string, err error) {
	t := strings.TrimSpace(raw)
	if t == "" {
		t = DefaultTable
	}
	parts := strings.Split(t, ".")
	if len(parts) > 2 {
		return "", "", ErrTable{raw}
	}
	q := make([]string, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if !identPattern().MatchString(p) || len(p) > 50 {
			return "", "", ErrTable{raw}
		}
		q[i] = quoteIdent(p)
		last = p
	}
	return strings.Join(q, "."), last, nil
}

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Literal quotes s as a PostgreSQL string constant that means s whatever
// the server's standard_conforming_strings: a plain '…' constant (quotes
// doubled, as v1 writes it) when s has no backslash, else an escape string
// E'…' with backslashes and quotes escaped. PostgreSQL text cannot hold NUL
// or invalid UTF-8: each NUL and each invalid byte sequence becomes U+FFFD.
func Literal(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	if !strings.Contains(s, `\`) {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return "E'" + strings.NewReplacer(`\`, `\\`, "'", "''").Replace(s) + "'"
}

func timestamp(t time.Time) string {
	return Literal(t.UTC().Format(time.RFC3339Nano)) + "::timestamptz"
}

var indexColumns = []string{
	"pack_id", "pack_type", "source_ref", "manifest_digest", "files_checked", "hash_mismatches", "missing_files",
	"undeclared_files", "signature_status", "signatures_total", "signatures_valid", "tool_calls_total",
	"tool_calls_success", "tool_calls_success_rate", "policy_blocked", "approval_required", "regress_failures", "created_at",
}

var indexTypes = map[string]string{
	"pack_id": "TEXT PRIMARY KEY", "pack_type": "TEXT NOT NULL", "source_ref": "TEXT NOT NULL", "manifest_digest": "TEXT NOT NULL",
	"signature_status": "TEXT NOT NULL", "tool_calls_success_rate": "DOUBLE PRECISION NOT NULL", "created_at": "TIMESTAMPTZ NOT NULL",
}

var callColumns = []string{"pack_id", "seq", "intent_id", "tool_name", "status", "verdict", "args_digest", "result_digest",
	"trace_id", "span_id", "started_at", "ended_at"}

var callTypes = map[string]string{"pack_id": "TEXT NOT NULL", "seq": "INTEGER NOT NULL",
	"started_at": "TIMESTAMPTZ NOT NULL", "ended_at": "TIMESTAMPTZ NOT NULL"}

// SQL returns PostgreSQL statements that index the pack: optional DDL, then
// an upsert keyed by pack_id, the same text v1 writes. With ToolCalls, a
// second table gets one upserted row per tool call. Every value is a
// quoted literal (see Literal); identifiers are checked and quoted.
func SQL(e *Export, opts SQLOptions) ([]byte, error) {
	q, last, err := table(opts.Table)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	if opts.IncludeDDL {
		writeCreate(&b, q, indexColumns, indexTypes, "")
		prefix := strings.ToLower(last)
		fmt.Fprintf(&b, "CREATE INDEX IF NOT EXISTS %s ON %s (pack_type, created_at DESC);\n", quoteIdent("idx_"+prefix+"_pack_type_created_at"), q)
		fmt.Fprintf(&b, "CREATE INDEX IF NOT EXISTS %s ON %s (source_ref);\n\n", quoteIdent("idx_"+prefix+"_source_ref"), q)
	}
	m := e.Metrics
	values := []string{
		Literal(e.PackID), Literal(e.PackType), Literal(e.SourceRef), Literal(e.ManifestDigest),
		strconv.Itoa(e.FilesChecked), strconv.Itoa(e.HashMismatches), strconv.Itoa(e.MissingFiles), strconv.Itoa(e.UndeclaredFiles),
		Literal(e.SignatureStatus), strconv.Itoa(e.SignaturesTotal), strconv.Itoa(e.SignaturesValid),
		strconv.Itoa(m.ToolCallsTotal), strconv.Itoa(m.ToolCallsSuccess), strconv.FormatFloat(m.ToolCallsSuccessRate, 'f', 6, 64),
		strconv.Itoa(m.PolicyBlocked), strconv.Itoa(m.ApprovalRequired), strconv.Itoa(m.RegressFailures), timestamp(e.CreatedAt),
	}
	writeUpsert(&b, q, indexColumns, [][]string{values}, []string{"pack_id"})
	if opts.ToolCalls {
		ct := q[:len(q)-1] + `_tool_calls"`
		if opts.IncludeDDL {
			b.WriteString("\n")
			writeCreate(&b, ct, callColumns, callTypes, "pack_id, seq")
		}
		if len(e.Calls) > 0 {
			b.WriteString("\n")
			rows := make([][]string, len(e.Calls))
			for i, c := range e.Calls {
				traceID, spanID := e.callIDs(c)
				rows[i] = []string{Literal(e.PackID), strconv.Itoa(c.Seq), Literal(c.IntentID), Literal(c.ToolName),
					Literal(c.Status), Literal(c.Verdict), Literal(c.ArgsDigest), Literal(c.ResultDigest),
					Literal(traceID), Literal(spanID), timestamp(c.Start), timestamp(c.End)}
			}
			writeUpsert(&b, ct, callColumns, rows, []string{"pack_id", "seq"})
		}
	}
	return []byte(b.String()), nil
}

func writeCreate(b *strings.Builder, q string, cols []string, types map[string]string, pk string) {
	fmt.Fprintf(b, "CREATE TABLE IF NOT EXISTS %s (\n", q)
	for i, c := range cols {
		t := types[c]
		if t == "" {
			t = "INTEGER NOT NULL"
			if pk != "" {
				t = "TEXT NOT NULL"
			}
		}
		sep := ","
		if i == len(cols)-1 && pk == "" {
			sep = ""
		}
		fmt.Fprintf(b, "  %s %s%s\n", c, t, sep)
	}
	if pk != "" {
		fmt.Fprintf(b, "  PRIMARY KEY (%s)\n", pk)
	}
	b.WriteString(");\n")
}

func writeUpsert(b *strings.Builder, q string, cols []string, rows [][]string, key []string) {
	fmt.Fprintf(b, "INSERT INTO %s (\n  %s\n) VALUES", q, strings.Join(cols, ",\n  "))
	for i, r := range rows {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(b, " (\n  %s\n)", strings.Join(r, ",\n  "))
	}
	fmt.Fprintf(b, "\nON CONFLICT (%s) DO UPDATE SET\n", strings.Join(key, ", "))
	var set []string
	for _, c := range cols {
		if !contains(key, c) {
			set = append(set, "  "+c+" = EXCLUDED."+c)
		}
	}
	b.WriteString(strings.Join(set, ",\n"))
	b.WriteString(";\n")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
