package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/jcs"
)

// Context envelope schema and limits.
const (
	ContextEnvelopeSchemaID = "gait.context.envelope"
	// MaxContextEnvelopeBytes bounds an envelope file.
	MaxContextEnvelopeBytes = 4 << 20
	// ContextSourceEnvelope is the trace's context_source when the
	// evidence came from an envelope.
	ContextSourceEnvelope = "context_envelope"
	contextAgeKey         = "context_age_seconds"
)

// ContextEnvelope is v1's context envelope (--context-envelope): the set of
// context records (retrieved documents, query results, …) an agent's call
// was made with, by reference only. It is the only source of an intent's
// context evidence (context_set_digest, context_evidence_mode,
// context_refs and auth_context.context_age_seconds): values an intent
// carries itself are dropped, as v1 drops them.
type ContextEnvelope struct {
	SchemaID         string          `json:"schema_id,omitempty"`
	SchemaVersion    string          `json:"schema_version,omitempty"`
	CreatedAt        *time.Time      `json:"created_at,omitempty"`
	ProducerVersion  string          `json:"producer_version,omitempty"`
	ContextSetID     string          `json:"context_set_id"`
	ContextSetDigest string          `json:"context_set_digest,omitempty"`
	EvidenceMode     string          `json:"evidence_mode,omitempty"`
	Records          []ContextRecord `json:"records"`
}

// ContextRecord is one context reference of an envelope.
type ContextRecord struct {
	RefID               string    `json:"ref_id"`
	SourceType          string    `json:"source_type"`
	SourceLocator       string    `json:"source_locator"`
	QueryDigest         string    `json:"query_digest"`
	ContentDigest       string    `json:"content_digest"`
	RetrievedAt         time.Time `json:"retrieved_at"`
	RedactionMode       string    `json:"redaction_mode"`
	Immutability        string    `json:"immutability"`
	FreshnessSLASeconds int64     `json:"freshness_sla_seconds,omitempty"`
	SensitivityLabel    string    `json:"sensitivity_label,omitempty"`
}

// epoch stands for a record without retrieved_at, as in v1.
var epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// canonicalRecord is a record as its digest covers it.
type canonicalRecord struct {
	ContentDigest       string `json:"content_digest"`
	FreshnessSLASeconds int64  `json:"freshness_sla_seconds,omitempty"`
	Immutability        string `json:"immutability"`
	QueryDigest         string `json:"query_digest"`
	RedactionMode       string `json:"redaction_mode"`
	RefID               string `json:"ref_id"`
	RetrievedAt         string `json:"retrieved_at"`
	SensitivityLabel    string `json:"sensitivity_label,omitempty"`
	SourceLocator       string `json:"source_locator"`
	SourceType          string `json:"source_type"`
}

// ParseContextEnvelope decodes and checks an envelope: one JSON object with
// known fields only, a context_set_id, an evidence mode of best_effort
// (the default) or required, and records with ref_id, source_type,
// source_locator, redaction_mode, hex SHA-256 query and content digests,
// an immutability of unknown (the default), mutable or immutable and a
// freshness SLA >= 0. It normalizes the envelope (trimmed fields,
// lower-case digests and modes, records sorted) and fills
// ContextSetDigest, refusing a different one the envelope states.
func ParseContextEnvelope(data []byte) (*ContextEnvelope, error) {
	var env ContextEnvelope
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("parse context envelope: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("parse context envelope: more than one JSON value")
	}
	if env.SchemaID != "" && env.SchemaID != ContextEnvelopeSchemaID {
		return nil, fmt.Errorf("unsupported context envelope schema_id: %s", env.SchemaID)
	}
	if env.SchemaVersion != "" && env.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("unsupported context envelope schema_version: %s", env.SchemaVersion)
	}
	if env.ContextSetID = strings.TrimSpace(env.ContextSetID); env.ContextSetID == "" {
		return nil, errors.New("context_set_id is required")
	}
	switch env.EvidenceMode = strings.ToLower(strings.TrimSpace(env.EvidenceMode)); env.EvidenceMode {
	case "":
		env.EvidenceMode = "best_effort"
	case "best_effort", "required":
	default:
		return nil, errors.New("context evidence mode must be best_effort or required")
	}
	canon := make([]canonicalRecord, 0, len(env.Records))
	for i := range env.Records {
		r := &env.Records[i]
		r.RefID, r.SourceType = strings.TrimSpace(r.RefID), strings.TrimSpace(r.SourceType)
		r.SourceLocator, r.RedactionMode = strings.TrimSpace(r.SourceLocator), strings.TrimSpace(r.RedactionMode)
		if r.RefID == "" || r.SourceType == "" || r.SourceLocator == "" || r.RedactionMode == "" {
			return nil, errors.New("context record fields ref_id/source_type/source_locator/redaction_mode are required")
		}
		r.QueryDigest, r.ContentDigest = strings.ToLower(strings.TrimSpace(r.QueryDigest)), strings.ToLower(strings.TrimSpace(r.ContentDigest))
		if !digest.Valid(r.QueryDigest) || !digest.Valid(r.ContentDigest) {
			return nil, errors.New("context record digests must be sha256 hex")
		}
		switch r.Immutability = strings.ToLower(strings.TrimSpace(r.Immutability)); r.Immutability {
		case "":
			r.Immutability = "unknown"
		case "unknown", "mutable", "immutable":
		default:
			return nil, errors.New("context record immutability must be unknown|mutable|immutable")
		}
		if r.FreshnessSLASeconds < 0 {
			return nil, errors.New("context record freshness_sla_seconds must be >= 0")
		}
		if r.RetrievedAt.IsZero() {
			r.RetrievedAt = epoch
		}
		r.RetrievedAt = r.RetrievedAt.UTC()
		canon = append(canon, canonicalRecord{
			ContentDigest: r.ContentDigest, FreshnessSLASeconds: r.FreshnessSLASeconds, Immutability: r.Immutability,
			QueryDigest: r.QueryDigest, RedactionMode: r.RedactionMode, RefID: r.RefID,
			RetrievedAt: r.RetrievedAt.Format(time.RFC3339Nano), SensitivityLabel: r.SensitivityLabel,
			SourceLocator: r.SourceLocator, SourceType: r.SourceType,
		})
	}
	// The digest does not depend on the records' order: they are sorted
	// by ref_id, source_type, source_locator, then the rest.
	order := make([]int, len(canon))
	keys := make([]string, len(canon))
	for i := range canon {
		order[i] = i
		b, err := json.Marshal(canon[i])
		if err != nil {
			return nil, err
		}
		c := canon[i]
		keys[i] = c.RefID + "\x00" + c.SourceType + "\x00" + c.SourceLocator + "\x00" + string(b)
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	sortedCanon := make([]canonicalRecord, len(canon))
	sortedRecs := make([]ContextRecord, len(canon))
	for i, j := range order {
		sortedCanon[i], sortedRecs[i] = canon[j], env.Records[j]
	}
	env.Records = sortedRecs
	sum, err := digest.JSON(sortedCanon)
	if err != nil {
		return nil, err
	}
	if stated := strings.TrimSpace(env.ContextSetDigest); stated != "" {
		if !digest.Valid(stated) {
			return nil, errors.New("context_set_digest must be sha256 hex")
		}
		if !strings.EqualFold(stated, sum) {
			return nil, errors.New("context_set_digest mismatch")
		}
	}
	env.ContextSetDigest = sum
	return &env, nil
}

// LoadContextEnvelope reads and parses an envelope file (exit 6 on any
// problem, naming the file).
func LoadContextEnvelope(path string) (*ContextEnvelope, error) {
	data, err := readBounded(path, MaxContextEnvelopeBytes)
	if err != nil {
		return nil, exitcode.Invalidf("%s: cannot read the context envelope: %v; pass --context-envelope with a %s JSON file", path, err, ContextEnvelopeSchemaID)
	}
	env, err := ParseContextEnvelope(data)
	if err != nil {
		return nil, exitcode.Invalidf("%s: %v; fix the context envelope (%s)", path, err, ContextEnvelopeSchemaID)
	}
	return env, nil
}

// RefIDs returns the envelope's distinct ref ids, sorted.
func (e *ContextEnvelope) RefIDs() []string {
	ids := make([]string, 0, len(e.Records))
	for _, r := range e.Records {
		ids = append(ids, r.RefID)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Age is the age in whole seconds of the envelope's oldest record at now
// (0 for a record from the future). A record without retrieved_at, and an
// envelope without records, count as retrieved on 1980-01-01, as in v1:
// evidence of unknown age is never fresh.
func (e *ContextEnvelope) Age(now time.Time) int64 {
	oldest := epoch
	for i, r := range e.Records {
		if i == 0 || r.RetrievedAt.Before(oldest) {
			oldest = r.RetrievedAt
		}
	}
	return max(int64(now.Sub(oldest)/time.Second), 0)
}

// HasContextEvidence reports whether an intent context carries context
// evidence of its own (which ApplyContextEnvelope drops).
func HasContextEvidence(c IntentContext) bool {
	_, age := c.AuthContext[contextAgeKey]
	return age || c.ContextSetDigest != "" || c.ContextEvidenceMode != "" || len(c.ContextRefs) > 0
}

// ApplyContextEnvelope sets the context evidence of an intent request from
// env (nil: no envelope). Evidence the request carries itself is checked
// (a malformed context_set_digest or context_evidence_mode is an error,
// and so is a digest or mode that is not env's) and then dropped, so
// only an envelope the operator passed can satisfy
// require_context_evidence, required_context_evidence_mode and
// max_context_age_seconds. The age is taken at now.
func ApplyContextEnvelope(req *IntentRequest, env *ContextEnvelope, now time.Time) error {
	c := &req.Context
	stated := strings.TrimSpace(c.ContextSetDigest)
	if stated != "" && !digest.Valid(stated) {
		return errors.New("context.context_set_digest is not a sha256 hex digest")
	}
	mode := strings.ToLower(strings.TrimSpace(c.ContextEvidenceMode))
	if mode != "" && mode != "best_effort" && mode != "required" {
		return fmt.Errorf("context.context_evidence_mode %q is not best_effort or required", c.ContextEvidenceMode)
	}
	if env != nil && stated != "" && !strings.EqualFold(stated, env.ContextSetDigest) {
		return errors.New("context.context_set_digest is not the context envelope's digest")
	}
	if env != nil && mode != "" && mode != env.EvidenceMode {
		return fmt.Errorf("context.context_evidence_mode %s is not the context envelope's evidence mode %s", mode, env.EvidenceMode)
	}
	c.ContextSetDigest, c.ContextEvidenceMode, c.ContextRefs = "", "", nil
	if _, ok := c.AuthContext[contextAgeKey]; ok {
		ac := make(map[string]any, len(c.AuthContext))
		for k, v := range c.AuthContext {
			if k != contextAgeKey {
				ac[k] = v
			}
		}
		c.AuthContext = ac
	}
	if env != nil {
		c.ContextSetDigest, c.ContextEvidenceMode, c.ContextRefs = env.ContextSetDigest, env.EvidenceMode, env.RefIDs()
		ac := make(map[string]any, len(c.AuthContext)+1)
		for k, v := range c.AuthContext {
			ac[k] = v
		}
		ac[contextAgeKey] = env.Age(now)
		c.AuthContext = ac
	}
	if len(c.AuthContext) == 0 {
		c.AuthContext = nil
	}
	return nil
}

// Receipts returns the envelope's records as a runpack's reference
// receipts: each record's canonical JSON, in the order its digest uses, as
// v1's run record --context-envelope writes them.
func (e *ContextEnvelope) Receipts() ([]json.RawMessage, error) {
	out := make([]json.RawMessage, 0, len(e.Records))
	for _, r := range e.Records {
		b, err := jcs.Marshal(canonicalRecord{
			ContentDigest: r.ContentDigest, FreshnessSLASeconds: r.FreshnessSLASeconds, Immutability: r.Immutability,
			QueryDigest: r.QueryDigest, RedactionMode: r.RedactionMode, RefID: r.RefID,
			RetrievedAt: r.RetrievedAt.Format(time.RFC3339Nano), SensitivityLabel: r.SensitivityLabel,
			SourceLocator: r.SourceLocator, SourceType: r.SourceType,
		})
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// HasRawRecords reports whether a record keeps raw content
// (redaction_mode raw), which v1's run record accepts only with
// --unsafe-context-raw.
func (e *ContextEnvelope) HasRawRecords() bool {
	for _, r := range e.Records {
		if strings.EqualFold(r.RedactionMode, "raw") {
			return true
		}
	}
	return false
}
