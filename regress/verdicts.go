package regress

import (
	"encoding/json"
	"sync"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/internal/exitcode"
)

// GateEvaluator re-evaluates recorded tool calls with the gate. Each policy
// file is compiled once and shared by every fixture that names it.
type GateEvaluator struct {
	mu       sync.Mutex
	policies map[string]*policyOnce
}

type policyOnce struct {
	once   sync.Once
	policy *gate.Policy
	err    error
}

// NewGateEvaluator returns an evaluator with an empty policy cache.
func NewGateEvaluator() *GateEvaluator {
	return &GateEvaluator{policies: map[string]*policyOnce{}}
}

// Evaluate gives the gate's verdict for each call under the policy at path.
// A call the gate cannot read is blocked, as the gate fails closed.
func (e *GateEvaluator) Evaluate(path string, calls []ToolCall) ([]Verdict, error) {
	e.mu.Lock()
	p, ok := e.policies[path]
	if !ok {
		p = &policyOnce{}
		e.policies[path] = p
	}
	e.mu.Unlock()
	p.once.Do(func() { p.policy, p.err = gate.LoadPolicy(path) })
	if p.err != nil {
		return nil, p.err
	}
	out := make([]Verdict, len(calls))
	for i, c := range calls {
		var args map[string]any
		if len(c.Args) > 0 {
			if err := json.Unmarshal(c.Args, &args); err != nil {
				return nil, exitcode.Invalidf("call %d (%s): args are not a JSON object", i+1, c.ToolName)
			}
		}
		d, _, err := p.policy.EvaluateToolCall(c.ToolName, args, gate.ToolCallContext{})
		if err != nil {
			out[i] = Verdict{Verdict: "block", MatchedRule: "invalid_intent", ReasonCodes: []string{"invalid_intent"}}
			continue
		}
		out[i] = Verdict{Verdict: string(d.Verdict), MatchedRule: d.MatchedRule, ReasonCodes: append([]string(nil), d.ReasonCodes...)}
	}
	return out, nil
}
