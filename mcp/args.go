package mcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gait-dev/gait/internal/jcs"
)

// MaxArgsBytes bounds the arguments of one tool call read from an agent.
const MaxArgsBytes = 4 << 20

// ErrArgs marks tool-call arguments that are not a JSON object.
var ErrArgs = errors.New("tool arguments must be a JSON object")

// ParseArgs decodes the raw arguments of a tools/call. Absent or null
// arguments are the empty object; anything but an object is ErrArgs. It
// returns the decoded object and its RFC 8785 canonical bytes.
func ParseArgs(raw json.RawMessage) (map[string]any, []byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return map[string]any{}, []byte("{}"), nil
	}
	if len(raw) > MaxArgsBytes {
		return nil, nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrArgs, len(raw), MaxArgsBytes)
	}
	if raw[0] != '{' {
		return nil, nil, ErrArgs
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrArgs, err)
	}
	if dec.More() {
		return nil, nil, fmt.Errorf("%w: trailing data", ErrArgs)
	}
	c, err := jcs.Canonicalize(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrArgs, err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, c, nil
}

// canonical encodes v as canonical JSON; v came from JSON so it cannot fail
// in practice, and a failure yields "null" rather than a panic.
func canonical(v any) []byte {
	b, err := jcs.Marshal(v)
	if err != nil {
		return []byte("null")
	}
	return b
}

// decodeJSON decodes JSON keeping numbers exact.
func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
