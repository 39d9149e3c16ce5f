package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gait-dev/gait/report"
)

// field is one key=value line of text output.
type field struct {
	Key   string
	Value string
}

// kv builds text fields from alternating keys and values.
func kv(pairs ...string) []field {
	out := make([]field, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, field{pairs[i], pairs[i+1]})
	}
	return out
}

// emit prints a command's result: the value as one JSON object with --json,
// otherwise the text fields as key=value lines. A value that is not one
// plain line is Go-quoted, so no value can add a line of its own.
func (a *app) emit(result any, text []field) {
	if a.json {
		a.writeJSON(result)
		return
	}
	var b strings.Builder
	for _, f := range text {
		b.WriteString(f.Key)
		b.WriteByte('=')
		b.WriteString(report.TextValue(f.Value))
		b.WriteByte('\n')
	}
	fmt.Fprint(a.out, b.String())
}

func (a *app) writeJSON(v any) {
	enc := json.NewEncoder(a.out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(a.errOut, "gait: encoding JSON output: %v\n", err)
	}
}

// diag prints a diagnostic line on stderr (never on stdout).
func (a *app) diag(format string, args ...any) {
	fmt.Fprintf(a.errOut, format+"\n", args...)
}
