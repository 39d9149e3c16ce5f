package gate

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/capped"
	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/keys"
)

// ApprovedScriptSchemaID names one signed entry of an approved-script
// registry.
const ApprovedScriptSchemaID = "gait.gate.approved_script_entry"

// Reason codes of the approved-script fast path (registry_reason).
const (
	CodeApprovedScriptMatch    = "approved_script_match"
	CodeApprovedScriptNotFound = "approved_script_not_found"
	CodeApprovedScriptNoScript = "not_script"
)

// DefaultApprovedScriptTTL is how long an approval lasts unless --ttl says.
const DefaultApprovedScriptTTL = 168 * time.Hour

// maxRegistryBytes bounds a registry file.
const maxRegistryBytes = 16 << 20

// ApprovedScript is a gait.gate.approved_script_entry: an approver's
// signed consent to run one script (by hash and tool sequence) under one
// policy digest until it expires.
type ApprovedScript struct {
	SchemaID         string          `json:"schema_id"`
	SchemaVersion    string          `json:"schema_version"`
	CreatedAt        string          `json:"created_at"`
	ProducerVersion  string          `json:"producer_version"`
	PatternID        string          `json:"pattern_id"`
	PolicyDigest     string          `json:"policy_digest"`
	ScriptHash       string          `json:"script_hash"`
	ToolSequence     []string        `json:"tool_sequence"`
	Scope            []string        `json:"scope,omitempty"`
	ApproverIdentity string          `json:"approver_identity"`
	ExpiresAt        string          `json:"expires_at"`
	Signature        *keys.Signature `json:"signature,omitempty"`
}

// ScriptRegistry is an approved-script registry file: {"entries": [...]},
// sorted by pattern id. Gait v1 also reads a bare array of entries.
type ScriptRegistry struct {
	Entries []ApprovedScript `json:"entries"`
}

// ParseScriptRegistry decodes a registry file's bytes: an object with an
// "entries" array, or a bare array of entries. Entries with unknown
// fields are refused: they are security documents.
func ParseScriptRegistry(data []byte) (ScriptRegistry, error) {
	data = bytes.TrimSpace(data)
	var r ScriptRegistry
	if len(data) > 0 && data[0] == '[' {
		if err := strictJSON(data, &r.Entries); err != nil {
			return r, errors.New("not an approved-script registry: " + strings.TrimPrefix(err.Error(), "not a valid token: "))
		}
		return r, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return r, fmt.Errorf("not an approved-script registry: %s", jsonErr(err))
	}
	raw, ok := top["entries"]
	if !ok || string(raw) == "null" {
		return r, errors.New(`not an approved-script registry: no "entries" array`)
	}
	if err := strictJSON(raw, &r.Entries); err != nil {
		return r, errors.New("not an approved-script registry: " + strings.TrimPrefix(err.Error(), "not a valid token: "))
	}
	return r, nil
}

// ReadScriptRegistry reads a registry file; a missing file is an empty
// registry (exists is false).
func ReadScriptRegistry(path string) (r ScriptRegistry, exists bool, err error) {
	data, err := capped.ReadFile(path, maxRegistryBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return ScriptRegistry{}, false, nil
	}
	if err != nil {
		return r, true, err
	}
	r, err = ParseScriptRegistry(data)
	return r, true, err
}

// Put adds e, replacing the entry with the same pattern id, and keeps the
// entries sorted by pattern id.
func (r *ScriptRegistry) Put(e ApprovedScript) {
	r.Entries = slices.DeleteFunc(r.Entries, func(x ApprovedScript) bool { return x.PatternID == e.PatternID })
	r.Entries = append(r.Entries, e)
	r.Sort()
}

// Sort orders the entries by pattern id.
func (r *ScriptRegistry) Sort() {
	slices.SortStableFunc(r.Entries, func(a, b ApprovedScript) int { return strings.Compare(a.PatternID, b.PatternID) })
}

// WriteScriptRegistry writes r as indented JSON through an atomic rename.
func WriteScriptRegistry(path string, r ScriptRegistry) error {
	if r.Entries == nil {
		r.Entries = []ApprovedScript{}
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}

// ApproveScriptRequest holds what ApproveScript signs.
type ApproveScriptRequest struct {
	PatternID, Approver string
	Scope               []string
	TTL                 time.Duration
	Now                 time.Time
	ProducerVersion     string
}

// ApproveScript builds and signs the registry entry approving the script
// intent in under policy p. The pattern id defaults to
// "pattern_" + the first 12 hex digits of the script hash.
func ApproveScript(p *Policy, in *Intent, req ApproveScriptRequest, priv ed25519.PrivateKey) (ApprovedScript, error) {
	if in.Script == nil {
		return ApprovedScript{}, exitcode.Invalidf("the intent has no script.steps; approve-script approves script intents only")
	}
	approver := strings.TrimSpace(req.Approver)
	if approver == "" {
		return ApprovedScript{}, exitcode.Invalidf("--approver is empty; name who approves the script")
	}
	if req.TTL <= 0 {
		return ApprovedScript{}, exitcode.Invalidf("--ttl %s is not positive; pass a duration such as 168h", req.TTL)
	}
	pattern := strings.TrimSpace(req.PatternID)
	if pattern == "" {
		pattern = "pattern_" + in.Script.Hash[:12]
	}
	now := req.Now.UTC()
	e := ApprovedScript{
		SchemaID: ApprovedScriptSchemaID, SchemaVersion: SchemaVersion, CreatedAt: now.Format(time.RFC3339Nano),
		ProducerVersion: producer(req.ProducerVersion), PatternID: pattern, PolicyDigest: p.Digest(),
		ScriptHash: in.Script.Hash, ToolSequence: in.Script.ToolSequence(), Scope: normList(req.Scope, false),
		ApproverIdentity: approver, ExpiresAt: now.Add(req.TTL).Format(time.RFC3339Nano),
	}
	sig, err := signDoc(e, priv)
	if err != nil {
		return e, err
	}
	e.Signature = &sig
	return e, nil
}

// Expiry parses the entry's expires_at (zero when it does not parse).
func (e ApprovedScript) Expiry() time.Time {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(e.ExpiresAt))
	if err != nil {
		return time.Time{}
	}
	return t
}

// VerifyApprovedScript checks one entry: complete, signed by pub over its
// canonical JSON (without the signature), and not expired at now.
func VerifyApprovedScript(e ApprovedScript, pub ed25519.PublicKey, now time.Time) error {
	if e.SchemaID != ApprovedScriptSchemaID || e.PatternID == "" || !digest.Valid(lowTrim(e.PolicyDigest)) ||
		!digest.Valid(lowTrim(e.ScriptHash)) || len(e.ToolSequence) == 0 || e.ApproverIdentity == "" {
		return errors.New("entry is incomplete or has a bad schema")
	}
	exp := e.Expiry()
	if exp.IsZero() {
		return fmt.Errorf("expires_at %q is not an RFC 3339 time", e.ExpiresAt)
	}
	if e.Signature == nil {
		return errors.New("entry is not signed")
	}
	body := e
	body.Signature = nil
	d, err := digest.JSON(body)
	if err != nil {
		return err
	}
	if err := keys.VerifySignature(pub, *e.Signature, d); err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	if !now.Before(exp) {
		return fmt.Errorf("entry expired at %s", exp.UTC().Format(time.RFC3339))
	}
	return nil
}

// ScriptRegistryStrict reports whether the approved-script registry must
// be present-and-valid (fail closed) for an intent: under the oss-prod
// profile, and for high and critical risk classes.
func ScriptRegistryStrict(profile Profile, riskClass string) bool {
	rc := lowTrim(riskClass)
	return profile == ProfileOSSProd || rc == "high" || rc == "critical"
}

// ErrScriptRegistry marks an approved-script registry that cannot be used
// where it must be (see OpenScriptRegistry).
var ErrScriptRegistry = errors.New("approved-script registry unusable")

// OpenScriptRegistry loads and verifies the registry at path with pub for
// the approved-script fast path. A missing file is an empty registry.
// When strict (see ScriptRegistryStrict), a missing key, an unreadable or
// malformed file, or an entry that is unsigned, wrongly signed or expired
// is an error wrapping ErrScriptRegistry and exitcode.PolicyBlock: the
// call must not run. Otherwise such a registry is not used (nil, nil).
func OpenScriptRegistry(path string, pub ed25519.PublicKey, now time.Time, strict bool) (*ScriptRegistry, error) {
	fail := func(format string, args ...any) (*ScriptRegistry, error) {
		if !strict {
			return nil, nil
		}
		msg := fmt.Sprintf(format, args...)
		return nil, exitcode.Wrap(exitcode.PolicyBlock, fmt.Errorf("%s: %w: %s", path, ErrScriptRegistry, msg))
	}
	if len(pub) != ed25519.PublicKeySize {
		return fail("no key to verify it; pass --approved-script-public-key K (high-risk and oss-prod calls fail closed)")
	}
	r, _, err := ReadScriptRegistry(path)
	if err != nil {
		return fail("%v; fix or remove the registry file", err)
	}
	for i, e := range r.Entries {
		if err := VerifyApprovedScript(e, pub, now); err != nil {
			return fail("entry %d (%s): %v; re-approve it with `gait approve-script`", i, e.PatternID, err)
		}
	}
	return &r, nil
}

// Match returns the entry approving the script intent in under the policy
// digest, if any: same script hash, same policy digest, and a
// tool_sequence equal to the steps' tool names in step order. As in Gait
// v1, entries record the sorted distinct tool names, so a script whose
// steps are not in that order (or repeat a tool) never matches and is
// evaluated step by step instead.
func (r *ScriptRegistry) Match(in *Intent, policyDigest string) (ApprovedScript, bool) {
	if r == nil || in.Script == nil {
		return ApprovedScript{}, false
	}
	seq := in.Script.StepTools()
	for _, e := range r.Entries {
		if strings.EqualFold(e.ScriptHash, in.Script.Hash) && strings.EqualFold(e.PolicyDigest, policyDigest) && slices.Equal(e.ToolSequence, seq) {
			return e, true
		}
	}
	return ApprovedScript{}, false
}
