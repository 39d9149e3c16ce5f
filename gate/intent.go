package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/jcs"
)

// IntentRequest is the wire form of a gait.gate.intent_request: what an
// agent intends to call, on which targets, with which provenance.
type IntentRequest struct {
	SchemaID        string            `json:"schema_id"`
	SchemaVersion   string            `json:"schema_version"`
	CreatedAt       string            `json:"created_at"`
	ProducerVersion string            `json:"producer_version"`
	ToolName        string            `json:"tool_name"`
	Args            map[string]any    `json:"args"`
	ArgsDigest      string            `json:"args_digest,omitempty"`
	IntentDigest    string            `json:"intent_digest,omitempty"`
	ScriptHash      string            `json:"script_hash,omitempty"`
	Script          *Script           `json:"script,omitempty"`
	Targets         []Target          `json:"targets"`
	ArgProvenance   []ArgProvenance   `json:"arg_provenance,omitempty"`
	SkillProvenance *SkillProvenance  `json:"skill_provenance,omitempty"`
	Delegation      *IntentDelegation `json:"delegation,omitempty"`
	Relationship    json.RawMessage   `json:"relationship,omitempty"`
	Context         IntentContext     `json:"context"`
}

// Script is a multi-step intent.
type Script struct {
	Steps []ScriptStep `json:"steps"`
}

// ScriptStep is one step of a script intent.
type ScriptStep struct {
	ToolName      string          `json:"tool_name"`
	Args          map[string]any  `json:"args"`
	Targets       []Target        `json:"targets,omitempty"`
	ArgProvenance []ArgProvenance `json:"arg_provenance,omitempty"`
}

// Target is one resource a tool call touches.
type Target struct {
	Kind            string `json:"kind"`
	Value           string `json:"value"`
	Operation       string `json:"operation,omitempty"`
	Sensitivity     string `json:"sensitivity,omitempty"`
	EndpointClass   string `json:"endpoint_class,omitempty"`
	EndpointDomain  string `json:"endpoint_domain,omitempty"`
	Destructive     bool   `json:"destructive,omitempty"`
	DiscoveryMethod string `json:"discovery_method,omitempty"`
	ReadOnlyHint    bool   `json:"read_only_hint,omitempty"`
	DestructiveHint bool   `json:"destructive_hint,omitempty"`
	IdempotentHint  bool   `json:"idempotent_hint,omitempty"`
	OpenWorldHint   bool   `json:"open_world_hint,omitempty"`
}

// ArgProvenance says where one argument's value came from.
type ArgProvenance struct {
	ArgPath         string `json:"arg_path"`
	Source          string `json:"source"`
	SourceRef       string `json:"source_ref,omitempty"`
	IntegrityDigest string `json:"integrity_digest,omitempty"`
}

// SkillProvenance names the skill that produced the call.
type SkillProvenance struct {
	SkillName      string `json:"skill_name"`
	SkillVersion   string `json:"skill_version,omitempty"`
	Source         string `json:"source"`
	Publisher      string `json:"publisher"`
	Digest         string `json:"digest,omitempty"`
	SignatureKeyID string `json:"signature_key_id,omitempty"`
}

// IntentDelegation describes who delegated the call to the requester.
type IntentDelegation struct {
	RequesterIdentity string           `json:"requester_identity"`
	ScopeClass        string           `json:"scope_class,omitempty"`
	TokenRefs         []string         `json:"token_refs,omitempty"`
	Chain             []DelegationLink `json:"chain,omitempty"`
	IssuedAt          string           `json:"issued_at,omitempty"`
	ExpiresAt         string           `json:"expires_at,omitempty"`
}

// DelegationLink is one delegator → delegate hop.
type DelegationLink struct {
	DelegatorIdentity string `json:"delegator_identity"`
	DelegateIdentity  string `json:"delegate_identity"`
	ScopeClass        string `json:"scope_class,omitempty"`
	TokenRef          string `json:"token_ref,omitempty"`
	IssuedAt          string `json:"issued_at,omitempty"`
	ExpiresAt         string `json:"expires_at,omitempty"`
}

// IntentContext says who asks, where, and how risky the call is.
type IntentContext struct {
	Identity               string         `json:"identity"`
	Workspace              string         `json:"workspace"`
	RiskClass              string         `json:"risk_class"`
	Phase                  string         `json:"phase,omitempty"`
	JobID                  string         `json:"job_id,omitempty"`
	SessionID              string         `json:"session_id,omitempty"`
	RequestID              string         `json:"request_id,omitempty"`
	AuthContext            map[string]any `json:"auth_context,omitempty"`
	CredentialScopes       []string       `json:"credential_scopes,omitempty"`
	EnvironmentFingerprint string         `json:"environment_fingerprint,omitempty"`
	ContextSetDigest       string         `json:"context_set_digest,omitempty"`
	ContextEvidenceMode    string         `json:"context_evidence_mode,omitempty"`
	ContextRefs            []string       `json:"context_refs,omitempty"`
}

// Intent is a normalized intent: lower-cased names, trimmed values, targets
// with inferred endpoint classes, domains and destructiveness, sorted and
// de-duplicated lists, and the args and intent digests. Evaluate takes an
// Intent; build one with ParseIntent or Normalize.
type Intent struct {
	ToolName        string
	Args            map[string]any
	Targets         []Target
	ArgProvenance   []ArgProvenance
	SkillProvenance *SkillProvenance
	Delegation      *Delegation
	Context         IntentContext
	CreatedAt       time.Time // zero when the request had none
	ProducerVersion string
	ArgsDigest      string
	IntentDigest    string
	// Script is set for a script intent (one with script.steps); the
	// steps are evaluated one by one and the script is decided as a whole.
	Script *ScriptInfo

	destructive bool
}

// Delegation is the normalized delegation block of an intent.
type Delegation struct {
	RequesterIdentity string    `json:"requester_identity"`
	ScopeClass        string    `json:"scope_class,omitempty"`
	TokenRefs         []string  `json:"token_refs,omitempty"`
	Chain             []Link    `json:"chain,omitempty"`
	IssuedAt          time.Time `json:"issued_at"`
	ExpiresAt         time.Time `json:"expires_at"`
}

// Link is a normalized delegation hop.
type Link struct {
	DelegatorIdentity string    `json:"delegator_identity"`
	DelegateIdentity  string    `json:"delegate_identity"`
	ScopeClass        string    `json:"scope_class,omitempty"`
	TokenRef          string    `json:"token_ref,omitempty"`
	IssuedAt          time.Time `json:"issued_at"`
	ExpiresAt         time.Time `json:"expires_at"`
}

// Destructive reports whether any target is destructive.
func (in *Intent) Destructive() bool { return in.destructive }

// Profile selects how strict input handling is.
type Profile string

// Profiles: standard tolerates unknown intent fields; oss-prod rejects
// them, requires prod keys and broker credentials on high-risk rules.
const (
	ProfileStandard Profile = "standard"
	ProfileOSSProd  Profile = "oss-prod"
)

// ParseProfile validates a --profile value.
func ParseProfile(s string) (Profile, error) {
	switch Profile(s) {
	case "", ProfileStandard:
		return ProfileStandard, nil
	case ProfileOSSProd:
		return ProfileOSSProd, nil
	}
	return "", exitcode.Invalidf("profile %q is not standard or oss-prod; pass --profile standard or --profile oss-prod", s)
}

// ErrInvalidIntent marks an intent that cannot be normalized; errors.Is
// matches every *IntentError against it.
var ErrInvalidIntent = errors.New("invalid intent")

// IntentError says why an intent cannot be normalized.
type IntentError struct{ Problem string }

func (e *IntentError) Error() string { return "invalid intent: " + e.Problem }

// Is makes errors.Is(err, ErrInvalidIntent) hold.
func (e *IntentError) Is(target error) bool { return target == ErrInvalidIntent }

// IntentProblem returns the problem text of an *IntentError in err's chain,
// or err's text.
func IntentProblem(err error) string {
	if ie, ok := errors.AsType[*IntentError](err); ok {
		return ie.Problem
	}
	return err.Error()
}

// maxIntentBytes bounds an intent document.
const maxIntentBytes = 16 << 20

// LoadIntent reads an intent request file and decodes it; errors are user
// errors naming the file. Normalization is separate (see Normalize) so a
// policy can fail closed on intents it cannot normalize.
func LoadIntent(file string, profile Profile) (IntentRequest, error) {
	data, err := readBounded(file, maxIntentBytes)
	if err != nil {
		return IntentRequest{}, exitcode.Invalidf("%s: cannot read intent: %v; pass an existing gait.gate.intent_request JSON file with --intent", file, err)
	}
	req, err := DecodeIntent(data, profile)
	if err != nil {
		return IntentRequest{}, exitcode.Invalidf("%s: %v; fix the intent (schema gait.gate.intent_request)", file, err)
	}
	return req, nil
}

// Known top-level and nested field names, for unknown-field checks.
var (
	intentFields     = []string{"schema_id", "schema_version", "created_at", "producer_version", "tool_name", "args", "args_digest", "intent_digest", "script_hash", "script", "targets", "arg_provenance", "skill_provenance", "delegation", "relationship", "context"}
	targetFields     = []string{"kind", "value", "operation", "sensitivity", "endpoint_class", "endpoint_domain", "destructive", "discovery_method", "read_only_hint", "destructive_hint", "idempotent_hint", "open_world_hint"}
	provenanceFields = []string{"arg_path", "source", "source_ref", "integrity_digest"}
	delegationFields = []string{"requester_identity", "scope_class", "token_refs", "chain", "issued_at", "expires_at"}
)

// DecodeIntent decodes intent JSON. Numbers in args keep their exact text.
// With ProfileOSSProd, unknown fields are errors; with standard they are
// ignored.
func DecodeIntent(data []byte, profile Profile) (IntentRequest, error) {
	var req IntentRequest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return IntentRequest{}, fmt.Errorf("intent is not valid JSON: %s", jsonErr(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return IntentRequest{}, errors.New("intent has trailing data after the JSON object")
	}
	if req.SchemaID != "" && req.SchemaID != IntentSchemaID {
		return IntentRequest{}, fmt.Errorf("schema_id %q is not %s", req.SchemaID, IntentSchemaID)
	}
	if req.SchemaVersion != "" && req.SchemaVersion != SchemaVersion {
		return IntentRequest{}, fmt.Errorf("schema_version %q is not supported (want %s)", req.SchemaVersion, SchemaVersion)
	}
	if profile == ProfileOSSProd {
		if err := checkUnknownFields(data); err != nil {
			return IntentRequest{}, err
		}
	}
	return req, nil
}

func jsonErr(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %s has the wrong type (%s)", te.Field, te.Value)
	}
	return err.Error()
}

func checkUnknownFields(data []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return err
	}
	if err := unknownIn("intent", top, intentFields); err != nil {
		return err
	}
	check := func(name string, raw json.RawMessage, allowed []string) error {
		if len(raw) == 0 {
			return nil
		}
		var items []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return err
		}
		for _, it := range items {
			if err := unknownIn(name, it, allowed); err != nil {
				return err
			}
		}
		return nil
	}
	if err := check("targets[]", top["targets"], targetFields); err != nil {
		return err
	}
	if err := check("arg_provenance[]", top["arg_provenance"], provenanceFields); err != nil {
		return err
	}
	if raw := top["delegation"]; len(raw) > 0 && string(raw) != "null" {
		var d map[string]json.RawMessage
		if err := json.Unmarshal(raw, &d); err != nil {
			return err
		}
		if err := unknownIn("delegation", d, delegationFields); err != nil {
			return err
		}
	}
	return nil
}

func unknownIn(where string, m map[string]json.RawMessage, allowed []string) error {
	for k := range m {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("unknown field %q in %s (rejected by the oss-prod profile)", k, where)
		}
	}
	return nil
}

// ParseIntent decodes and normalizes intent JSON in one step.
func ParseIntent(data []byte, profile Profile) (*Intent, error) {
	req, err := DecodeIntent(data, profile)
	if err != nil {
		return nil, &IntentError{Problem: err.Error()}
	}
	return Normalize(req)
}

// normalizedDoc is the document whose digest is the intent digest. Its
// shape follows Gait v1 so digests agree across implementations.
type normalizedDoc struct {
	ToolName string `json:"tool_name"`
	Args     any    `json:"args"` // the args, or their canonical JSON

	Targets         []Target         `json:"targets"`
	ArgProvenance   []ArgProvenance  `json:"arg_provenance,omitempty"`
	SkillProvenance *SkillProvenance `json:"skill_provenance,omitempty"`
	Delegation      *Delegation      `json:"delegation,omitempty"`
	Context         IntentContext    `json:"context"`
}

// Normalize validates an intent request and returns its normalized form
// with digests. Errors wrap ErrInvalidIntent.
func Normalize(req IntentRequest) (*Intent, error) {
	in, err := normalize(req)
	if err != nil {
		return nil, &IntentError{Problem: err.Error()}
	}
	return in, nil
}

func normalize(req IntentRequest) (*Intent, error) {
	if req.Script != nil {
		return normalizeScript(req)
	}
	tool := strings.ToLower(strings.TrimSpace(req.ToolName))
	if tool == "" {
		return nil, errors.New("tool_name is required")
	}
	if req.Args == nil {
		return nil, errors.New("args is required (an object, possibly empty)")
	}
	argsV, err := normValue(req.Args, 0)
	if err != nil {
		return nil, fmt.Errorf("args: %w", err)
	}
	args := argsV.(map[string]any)
	targets, err := normTargets(tool, req.Targets)
	if err != nil {
		return nil, err
	}
	prov, err := normProvenance(req.ArgProvenance)
	if err != nil {
		return nil, err
	}
	skill, err := normSkill(req.SkillProvenance)
	if err != nil {
		return nil, err
	}
	ctx, err := normContext(req.Context)
	if err != nil {
		return nil, err
	}
	del, err := normDelegation(req.Delegation)
	if err != nil {
		return nil, err
	}
	var created time.Time
	if s := strings.TrimSpace(req.CreatedAt); s != "" {
		created, err = time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("created_at %q is not an RFC 3339 time", s)
		}
	}
	in := &Intent{
		ToolName: tool, Args: args, Targets: targets, ArgProvenance: prov, SkillProvenance: skill,
		Delegation: del, Context: ctx, CreatedAt: created.UTC(), ProducerVersion: req.ProducerVersion,
	}
	for i := range targets {
		if targets[i].Destructive {
			in.destructive = true
		}
	}
	// The args are canonicalized once: for their digest and, as raw JSON,
	// inside the intent document.
	canonArgs, err := jcs.Marshal(args)
	if err != nil {
		return nil, fmt.Errorf("args: %w", err)
	}
	in.ArgsDigest = digest.Bytes(canonArgs)
	doc := normalizedDoc{ToolName: tool, Targets: targets, ArgProvenance: prov, SkillProvenance: skill, Delegation: del, Context: ctx}
	if in.IntentDigest, err = intentDigest(doc, canonArgs); err != nil {
		return nil, err
	}
	return in, nil
}

const maxDepth = 64

func normValue(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("nested too deeply")
	}
	switch t := v.(type) {
	case nil, bool, json.Number, float64, int, int64:
		return t, nil
	case string:
		return strings.TrimSpace(t), nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			k = strings.TrimSpace(k)
			if k == "" {
				return nil, errors.New("an object has an empty key")
			}
			n, err := normValue(x, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			n, err := normValue(x, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	}
	// Other Go values (from IntentFromToolCall callers): round-trip through JSON.
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, err
	}
	return normValue(x, depth+1)
}

func lowTrim(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// discoveryWords spells a discovery method with underscores.
var discoveryWords = strings.NewReplacer("-", "_", " ", "_")

func normTargets(tool string, in []Target) ([]Target, error) {
	out := make([]Target, 0, len(in))
	for _, t := range in {
		n := Target{
			Kind: lowTrim(t.Kind), Value: strings.TrimSpace(t.Value), Operation: lowTrim(t.Operation),
			Sensitivity: lowTrim(t.Sensitivity), EndpointClass: lowTrim(t.EndpointClass), EndpointDomain: lowTrim(t.EndpointDomain),
			ReadOnlyHint: t.ReadOnlyHint, DestructiveHint: t.DestructiveHint, IdempotentHint: t.IdempotentHint, OpenWorldHint: t.OpenWorldHint,
		}
		if n.Kind == "" || n.Value == "" {
			return nil, errors.New("every target needs kind and value")
		}
		if !slices.Contains(targetKinds, n.Kind) {
			return nil, fmt.Errorf("target kind %q is not one of %s", n.Kind, strings.Join(targetKinds, ", "))
		}
		if n.EndpointClass == "" {
			n.EndpointClass = inferEndpointClass(n.Kind, n.Operation, tool)
		}
		if !slices.Contains(endpointClasses, n.EndpointClass) {
			return nil, fmt.Errorf("target endpoint_class %q is not one of %s", n.EndpointClass, strings.Join(endpointClasses, ", "))
		}
		if n.EndpointDomain == "" {
			n.EndpointDomain = inferDomain(n.Kind, n.Value)
		}
		n.DiscoveryMethod = discoveryWords.Replace(lowTrim(t.DiscoveryMethod))
		if n.DiscoveryMethod == "" {
			n.DiscoveryMethod = "unknown"
		}
		if !slices.Contains(discoveryMethods, n.DiscoveryMethod) {
			return nil, fmt.Errorf("target discovery_method %q is not one of %s", n.DiscoveryMethod, strings.Join(discoveryMethods, ", "))
		}
		n.Destructive = t.Destructive || t.DestructiveHint || inferDestructive(n.EndpointClass, n.Operation)
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, compareTargets)
	return out, nil
}

func compareTargets(a, b Target) int {
	for _, p := range [][2]string{{a.Kind, b.Kind}, {a.Value, b.Value}, {a.Operation, b.Operation}, {a.Sensitivity, b.Sensitivity}, {a.EndpointClass, b.EndpointClass}, {a.EndpointDomain, b.EndpointDomain}} {
		if c := strings.Compare(p[0], p[1]); c != 0 {
			return c
		}
	}
	if c := cmpBool(a.Destructive, b.Destructive); c != 0 {
		return c
	}
	if c := strings.Compare(a.DiscoveryMethod, b.DiscoveryMethod); c != 0 {
		return c
	}
	for _, p := range [][2]bool{{a.ReadOnlyHint, b.ReadOnlyHint}, {a.DestructiveHint, b.DestructiveHint}, {a.IdempotentHint, b.IdempotentHint}, {a.OpenWorldHint, b.OpenWorldHint}} {
		if c := cmpBool(p[0], p[1]); c != 0 {
			return c
		}
	}
	return 0
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

func hasHint(tool string, hints ...string) bool {
	base := path.Base(tool)
	for _, h := range hints {
		if strings.Contains(base, h) {
			return true
		}
	}
	return false
}

func inferEndpointClass(kind, op, tool string) string {
	switch kind {
	case "path":
		switch op {
		case "read", "get", "list", "open", "cat", "head", "download", "stat":
			return "fs.read"
		case "write", "append", "put", "create", "update", "save", "copy", "move", "rename":
			return "fs.write"
		case "delete", "remove", "rm", "unlink", "rmdir", "drop", "truncate":
			return "fs.delete"
		}
		switch {
		case hasHint(tool, "read", "list", "fetch", "search"):
			return "fs.read"
		case hasHint(tool, "write", "update", "save", "create"):
			return "fs.write"
		case hasHint(tool, "delete", "remove", "rm", "drop"):
			return "fs.delete"
		}
		return "other"
	case "host", "url":
		switch op {
		case "dns", "resolve", "lookup":
			return "net.dns"
		}
		return "net.http"
	case "other":
		switch op {
		case "exec", "spawn", "run", "shell", "command":
			return "proc.exec"
		}
		if hasHint(tool, "exec", "shell", "command", "spawn", "run") {
			return "proc.exec"
		}
	}
	return "other"
}

func inferDomain(kind, value string) string {
	switch kind {
	case "host":
		h := strings.TrimPrefix(strings.TrimPrefix(value, "http://"), "https://")
		if i := strings.IndexByte(h, '/'); i >= 0 {
			h = h[:i]
		}
		if i := strings.IndexByte(h, ':'); i >= 0 {
			h = h[:i]
		}
		return lowTrim(h)
	case "url":
		u, err := url.Parse(value)
		if err != nil {
			return ""
		}
		return lowTrim(u.Hostname())
	}
	return ""
}

func inferDestructive(class, op string) bool {
	switch class {
	case "fs.delete", "proc.exec":
		return true
	}
	switch op {
	case "delete", "remove", "rm", "unlink", "rmdir", "drop", "truncate", "exec", "spawn":
		return true
	}
	return false
}

func normProvenance(in []ArgProvenance) ([]ArgProvenance, error) {
	out := make([]ArgProvenance, 0, len(in))
	for _, p := range in {
		n := ArgProvenance{ArgPath: strings.TrimSpace(p.ArgPath), Source: lowTrim(p.Source), SourceRef: strings.TrimSpace(p.SourceRef), IntegrityDigest: lowTrim(p.IntegrityDigest)}
		if n.ArgPath == "" || n.Source == "" {
			return nil, errors.New("every arg_provenance entry needs arg_path and source")
		}
		if !slices.Contains(provenanceSources, n.Source) {
			return nil, fmt.Errorf("arg_provenance source %q is not one of %s", n.Source, strings.Join(provenanceSources, ", "))
		}
		if n.IntegrityDigest != "" && !digest.Valid(n.IntegrityDigest) {
			return nil, fmt.Errorf("arg_provenance integrity_digest %q is not a sha256 hex digest", n.IntegrityDigest)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b ArgProvenance) int {
		return strings.Compare(a.ArgPath+"\x00"+a.Source+"\x00"+a.SourceRef+"\x00"+a.IntegrityDigest, b.ArgPath+"\x00"+b.Source+"\x00"+b.SourceRef+"\x00"+b.IntegrityDigest)
	})
	return out, nil
}

func normSkill(in *SkillProvenance) (*SkillProvenance, error) {
	if in == nil {
		return nil, nil
	}
	out := &SkillProvenance{
		SkillName: strings.TrimSpace(in.SkillName), SkillVersion: strings.TrimSpace(in.SkillVersion), Source: lowTrim(in.Source),
		Publisher: strings.TrimSpace(in.Publisher), Digest: lowTrim(in.Digest), SignatureKeyID: strings.TrimSpace(in.SignatureKeyID),
	}
	if out.SkillName == "" || out.Source == "" || out.Publisher == "" {
		return nil, errors.New("skill_provenance needs skill_name, source and publisher")
	}
	if out.Digest != "" && !digest.Valid(out.Digest) {
		return nil, errors.New("skill_provenance digest is not a sha256 hex digest")
	}
	return out, nil
}

func normStrings(in []string) []string {
	out := normList(in, false)
	if len(out) == 0 {
		return nil
	}
	return out
}

func normContext(c IntentContext) (IntentContext, error) {
	out := IntentContext{
		Identity: strings.TrimSpace(c.Identity), Workspace: strings.ReplaceAll(strings.TrimSpace(c.Workspace), `\`, "/"),
		RiskClass: lowTrim(c.RiskClass), Phase: lowTrim(c.Phase), JobID: strings.TrimSpace(c.JobID),
		SessionID: strings.TrimSpace(c.SessionID), RequestID: strings.TrimSpace(c.RequestID),
		CredentialScopes: normStrings(c.CredentialScopes), EnvironmentFingerprint: strings.TrimSpace(c.EnvironmentFingerprint),
		ContextSetDigest: lowTrim(c.ContextSetDigest), ContextEvidenceMode: lowTrim(c.ContextEvidenceMode), ContextRefs: normStrings(c.ContextRefs),
	}
	switch {
	case out.Identity == "":
		return out, errors.New("context.identity is required")
	case out.Workspace == "":
		return out, errors.New("context.workspace is required")
	case out.RiskClass == "":
		return out, errors.New("context.risk_class is required")
	}
	if out.Phase == "" {
		out.Phase = "apply"
	}
	if out.Phase != "plan" && out.Phase != "apply" {
		return out, fmt.Errorf("context.phase %q is not plan or apply", out.Phase)
	}
	if out.ContextSetDigest != "" && !digest.Valid(out.ContextSetDigest) {
		return out, errors.New("context.context_set_digest is not a sha256 hex digest")
	}
	if m := out.ContextEvidenceMode; m != "" && m != "best_effort" && m != "required" {
		return out, fmt.Errorf("context.context_evidence_mode %q is not best_effort or required", m)
	}
	if len(c.AuthContext) > 0 {
		v, err := normValue(c.AuthContext, 0)
		if err != nil {
			return out, fmt.Errorf("context.auth_context: %w", err)
		}
		if m := v.(map[string]any); len(m) > 0 {
			out.AuthContext = m
		}
	}
	return out, nil
}

func parseOptTime(field, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not an RFC 3339 time", field, s)
	}
	return t.UTC(), nil
}

func normDelegation(in *IntentDelegation) (*Delegation, error) {
	if in == nil {
		return nil, nil
	}
	out := &Delegation{RequesterIdentity: strings.TrimSpace(in.RequesterIdentity), ScopeClass: lowTrim(in.ScopeClass), TokenRefs: normStrings(in.TokenRefs)}
	if out.RequesterIdentity == "" {
		return nil, errors.New("delegation.requester_identity is required")
	}
	var err error
	if out.IssuedAt, err = parseOptTime("delegation.issued_at", in.IssuedAt); err != nil {
		return nil, err
	}
	if out.ExpiresAt, err = parseOptTime("delegation.expires_at", in.ExpiresAt); err != nil {
		return nil, err
	}
	if !out.IssuedAt.IsZero() && !out.ExpiresAt.IsZero() && !out.ExpiresAt.After(out.IssuedAt) {
		return nil, errors.New("delegation.expires_at must be after issued_at")
	}
	for i, l := range in.Chain {
		n := Link{DelegatorIdentity: strings.TrimSpace(l.DelegatorIdentity), DelegateIdentity: strings.TrimSpace(l.DelegateIdentity), ScopeClass: lowTrim(l.ScopeClass), TokenRef: strings.TrimSpace(l.TokenRef)}
		if n.DelegatorIdentity == "" || n.DelegateIdentity == "" {
			return nil, fmt.Errorf("delegation.chain[%d] needs delegator_identity and delegate_identity", i)
		}
		if n.IssuedAt, err = parseOptTime(fmt.Sprintf("delegation.chain[%d].issued_at", i), l.IssuedAt); err != nil {
			return nil, err
		}
		if n.ExpiresAt, err = parseOptTime(fmt.Sprintf("delegation.chain[%d].expires_at", i), l.ExpiresAt); err != nil {
			return nil, err
		}
		if !n.IssuedAt.IsZero() && !n.ExpiresAt.IsZero() && !n.ExpiresAt.After(n.IssuedAt) {
			return nil, fmt.Errorf("delegation.chain[%d].expires_at must be after issued_at", i)
		}
		out.Chain = append(out.Chain, n)
	}
	return out, nil
}
