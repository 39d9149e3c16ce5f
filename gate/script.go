package gate

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gait-dev/gait/internal/digest"
)

// maxScriptSteps bounds the steps of one script intent.
const maxScriptSteps = 1024

// Reason codes and violations of the policy's scripts block.
const (
	CodeScriptMaxSteps       = "script_max_steps_exceeded"
	CodeScriptStepThreshold  = "script_step_threshold_approval"
	CodeScriptMixedRisk      = "script_mixed_risk_blocked"
	violationScriptMaxSteps  = "script_max_steps_exceeded"
	violationScriptMixedRisk = "script_mixed_risk"
)

// ScriptInfo is the script part of a normalized script intent: its steps,
// each a normalized intent carrying the script's context, and the digest
// that approved-script registry entries bind to.
type ScriptInfo struct {
	// Hash is the SHA-256 of the canonical JSON of the normalized steps
	// ({"steps":[{tool_name, args, targets, arg_provenance}]}), as Gait v1
	// computes it.
	Hash  string
	Steps []*Intent
}

// ToolSequence is the set of the steps' tool names, sorted, as Gait v1
// records it in approved-script entries (the order of the steps is bound
// by the script hash).
func (s *ScriptInfo) ToolSequence() []string {
	out := s.StepTools()
	slices.Sort(out)
	return slices.Compact(out)
}

// StepTools is the steps' tool names in step order.
func (s *ScriptInfo) StepTools() []string {
	out := make([]string, len(s.Steps))
	for i, st := range s.Steps {
		out[i] = st.ToolName
	}
	return out
}

// CompositeRiskClass is the highest step risk: high for a destructive
// step or one that deletes files or runs processes, medium for one that
// writes files or reaches the network, low otherwise.
func (s *ScriptInfo) CompositeRiskClass() string {
	best := 0
	for _, st := range s.Steps {
		best = max(best, stepRisk(st))
	}
	return riskNames[best]
}

var riskNames = [...]string{"low", "medium", "high"}

func stepRisk(in *Intent) int {
	r := 0
	for _, t := range in.Targets {
		switch {
		case t.Destructive || t.EndpointClass == "fs.delete" || t.EndpointClass == "proc.exec":
			return 2
		case t.EndpointClass == "fs.write" || t.EndpointClass == "net.http" || t.EndpointClass == "net.dns":
			r = 1
		}
	}
	return r
}

// mixedRisk reports whether the steps are not all of one risk.
func (s *ScriptInfo) mixedRisk() bool {
	for _, st := range s.Steps[1:] {
		if stepRisk(st) != stepRisk(s.Steps[0]) {
			return true
		}
	}
	return false
}

// scriptStepDoc is the shape of one step in the script hash.
type scriptStepDoc struct {
	ToolName      string          `json:"tool_name"`
	Args          map[string]any  `json:"args"`
	Targets       []Target        `json:"targets"`
	ArgProvenance []ArgProvenance `json:"arg_provenance,omitempty"`
}

// scriptDoc is what a script intent's digest covers: the top-level
// intent and the script hash.
type scriptDoc struct {
	normalizedDoc
	ScriptHash string `json:"script_hash"`
}

// normalizeScript normalizes a script intent: every step becomes an
// intent with the script's context, delegation and skill provenance.
func normalizeScript(req IntentRequest) (*Intent, error) {
	n := len(req.Script.Steps)
	switch {
	case n == 0:
		return nil, errors.New("script.steps is empty; a script needs at least one step")
	case n > maxScriptSteps:
		return nil, fmt.Errorf("script has %d steps, more than %d", n, maxScriptSteps)
	}
	top := req
	top.Script = nil
	if strings.TrimSpace(top.ToolName) == "" {
		top.ToolName = "script"
	}
	if top.Args == nil {
		top.Args = map[string]any{}
	}
	in, err := normalize(top)
	if err != nil {
		return nil, err
	}
	info := &ScriptInfo{Steps: make([]*Intent, n)}
	docs := make([]scriptStepDoc, n)
	for i, s := range req.Script.Steps {
		sr := req
		sr.Script = nil
		sr.ToolName, sr.Args, sr.Targets, sr.ArgProvenance = s.ToolName, s.Args, s.Targets, s.ArgProvenance
		st, err := normalize(sr)
		if err != nil {
			return nil, fmt.Errorf("script step %d: %w", i, err)
		}
		info.Steps[i] = st
		docs[i] = scriptStepDoc{ToolName: st.ToolName, Args: st.Args, Targets: st.Targets, ArgProvenance: st.ArgProvenance}
		in.destructive = in.destructive || st.destructive
	}
	if info.Hash, err = digest.JSON(struct {
		Steps []scriptStepDoc `json:"steps"`
	}{docs}); err != nil {
		return nil, err
	}
	if h := lowTrim(req.ScriptHash); h != "" && h != info.Hash {
		return nil, fmt.Errorf("script_hash %s does not match the steps (%s)", h, info.Hash)
	}
	in.Script = info
	doc := scriptDoc{normalizedDoc{ToolName: in.ToolName, Args: in.Args, Targets: in.Targets, ArgProvenance: in.ArgProvenance,
		SkillProvenance: in.SkillProvenance, Delegation: in.Delegation, Context: in.Context}, info.Hash}
	if in.IntentDigest, err = digest.JSON(doc); err != nil {
		return nil, err
	}
	return in, nil
}

// StepVerdict is the policy's decision on one step of a script.
type StepVerdict struct {
	Index       int      `json:"index"`
	ToolName    string   `json:"tool_name"`
	Verdict     Verdict  `json:"verdict"`
	ReasonCodes []string `json:"reason_codes,omitempty"`
	Violations  []string `json:"violations,omitempty"`
	MatchedRule string   `json:"matched_rule,omitempty"`
}

// evaluateScript decides a script: every step is evaluated on its own and
// the most restrictive verdict wins; reason codes and violations are the
// union, matched rules are listed sorted; an approval, delegation or brokered credential one step needs,
// the script needs. The first rate limit and destructive budget among the
// steps' rules count the script as one call of the tool "script", as in
// Gait v1. The policy's scripts block then applies: more than
// max_steps blocks, more than require_approval_above needs approval, and
// block_mixed_risk blocks steps of different risks.
func (p *Policy) evaluateScript(in *Intent) Decision {
	s := in.Script
	d := Decision{Verdict: Allow, Steps: make([]StepVerdict, len(s.Steps))}
	var reasons, violations, rules []string
	for i, st := range s.Steps {
		sd := p.Evaluate(st)
		d.Steps[i] = StepVerdict{Index: i, ToolName: st.ToolName, Verdict: sd.Verdict, ReasonCodes: sd.ReasonCodes, Violations: sd.Violations, MatchedRule: sd.MatchedRule}
		if sd.Verdict.rank() > d.Verdict.rank() {
			d.Verdict = sd.Verdict
		}
		reasons = append(reasons, sd.ReasonCodes...)
		violations = append(violations, sd.Violations...)
		if sd.MatchedRule != "" && !slices.Contains(rules, sd.MatchedRule) {
			rules = append(rules, sd.MatchedRule)
		}
		if sd.Verdict == RequireApproval {
			d.MinApprovals = max(d.MinApprovals, sd.MinApprovals)
		}
		if d.RateLimit.Requests == 0 {
			d.RateLimit = sd.RateLimit
		}
		if d.DestructiveBudget.Requests == 0 {
			d.DestructiveBudget = sd.DestructiveBudget
		}
		d.RequireDistinctApprovers = d.RequireDistinctApprovers || sd.RequireDistinctApprovers
		d.RequireDelegation = d.RequireDelegation || sd.RequireDelegation
		if sd.RequireBrokerCredential {
			if !d.RequireBrokerCredential {
				d.BrokerReference = sd.BrokerReference
			}
			d.RequireBrokerCredential = true
			d.BrokerScopes = append(d.BrokerScopes, sd.BrokerScopes...)
		}
	}
	slices.Sort(rules)
	d.MatchedRule = strings.Join(rules, ",")
	d.BrokerScopes = normList(d.BrokerScopes, false)
	if sc := p.doc.Scripts; sc != nil {
		n := len(s.Steps)
		if sc.MaxSteps > 0 && n > sc.MaxSteps {
			d.Verdict = Block
			reasons = append(reasons, CodeScriptMaxSteps)
			violations = append(violations, violationScriptMaxSteps)
		}
		if sc.RequireApprovalAbove > 0 && n > sc.RequireApprovalAbove {
			if d.Verdict.rank() < RequireApproval.rank() {
				d.Verdict = RequireApproval
				d.MinApprovals = max(d.MinApprovals, 1)
			}
			reasons = append(reasons, CodeScriptStepThreshold)
		}
		if sc.BlockMixedRisk && s.mixedRisk() {
			d.Verdict = Block
			reasons = append(reasons, CodeScriptMixedRisk)
			violations = append(violations, violationScriptMixedRisk)
		}
	}
	d.ReasonCodes = mergeSorted(reasons)
	d.Violations = mergeSorted(violations)
	return d
}
