package gate

import (
	"encoding/json"

	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/jcs"
)

// intentDigest is the digest of doc, the RFC 8785 canonical form of its
// JSON. Every decision computes it, so the common shape (no delegation,
// skill provenance or auth context) is written directly with its keys in
// canonical order; other intents go through the general encoder.
// TestIntentDocMatchesEncoder keeps the two equal.
func intentDigest(doc normalizedDoc, canonArgs []byte) (string, error) {
	if doc.Delegation != nil || doc.SkillProvenance != nil || len(doc.Context.AuthContext) > 0 {
		doc.Args = json.RawMessage(canonArgs)
		return digest.JSON(doc)
	}
	var buf [1024]byte
	return digest.Bytes(appendIntentDoc(buf[:0], doc, canonArgs)), nil
}

// appendIntentDoc writes the canonical form of a document without
// delegation, skill provenance or auth context.
func appendIntentDoc(b []byte, doc normalizedDoc, canonArgs []byte) []byte {
	b = append(b, '{')
	if len(doc.ArgProvenance) > 0 {
		b = append(b, `"arg_provenance":[`...)
		for i, p := range doc.ArgProvenance {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"arg_path":`...)
			b = jcs.AppendString(b, p.ArgPath)
			b = optString(b, "integrity_digest", p.IntegrityDigest)
			b = append(b, `,"source":`...)
			b = jcs.AppendString(b, p.Source)
			b = optString(b, "source_ref", p.SourceRef)
			b = append(b, '}')
		}
		b = append(b, "],"...)
	}
	b = append(b, `"args":`...)
	b = append(b, canonArgs...)
	c := &doc.Context
	b = append(b, `,"context":{`...)
	first := true
	key := func(name string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":`...)
	}
	str := func(name, v string, omitEmpty bool) {
		if v != "" || !omitEmpty {
			key(name)
			b = jcs.AppendString(b, v)
		}
	}
	list := func(name string, vs []string) {
		if len(vs) == 0 {
			return
		}
		key(name)
		b = append(b, '[')
		for i, v := range vs {
			if i > 0 {
				b = append(b, ',')
			}
			b = jcs.AppendString(b, v)
		}
		b = append(b, ']')
	}
	str("context_evidence_mode", c.ContextEvidenceMode, true)
	list("context_refs", c.ContextRefs)
	str("context_set_digest", c.ContextSetDigest, true)
	list("credential_scopes", c.CredentialScopes)
	str("environment_fingerprint", c.EnvironmentFingerprint, true)
	str("identity", c.Identity, false)
	str("job_id", c.JobID, true)
	str("phase", c.Phase, true)
	str("request_id", c.RequestID, true)
	str("risk_class", c.RiskClass, false)
	str("session_id", c.SessionID, true)
	str("workspace", c.Workspace, false)
	b = append(b, `},"targets":`...)
	if doc.Targets == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range doc.Targets {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendTarget(b, &doc.Targets[i])
		}
		b = append(b, ']')
	}
	b = append(b, `,"tool_name":`...)
	b = jcs.AppendString(b, doc.ToolName)
	return append(b, '}')
}

// appendTarget writes a target with its keys in canonical order.
func appendTarget(b []byte, t *Target) []byte {
	b = append(b, '{')
	comma := false
	sep := func() {
		if comma {
			b = append(b, ',')
		}
		comma = true
	}
	flag := func(name string, v bool) {
		if v {
			sep()
			b = append(b, '"')
			b = append(b, name...)
			b = append(b, `":true`...)
		}
	}
	str := func(name, v string, omitEmpty bool) {
		if v != "" || !omitEmpty {
			sep()
			b = append(b, '"')
			b = append(b, name...)
			b = append(b, `":`...)
			b = jcs.AppendString(b, v)
		}
	}
	flag("destructive", t.Destructive)
	flag("destructive_hint", t.DestructiveHint)
	str("discovery_method", t.DiscoveryMethod, true)
	str("endpoint_class", t.EndpointClass, true)
	str("endpoint_domain", t.EndpointDomain, true)
	flag("idempotent_hint", t.IdempotentHint)
	str("kind", t.Kind, false)
	flag("open_world_hint", t.OpenWorldHint)
	str("operation", t.Operation, true)
	flag("read_only_hint", t.ReadOnlyHint)
	str("sensitivity", t.Sensitivity, true)
	str("value", t.Value, false)
	return append(b, '}')
}

func optString(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":`...)
	return jcs.AppendString(b, v)
}
