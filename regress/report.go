package regress

import "time"

// Status values.
const (
	StatusPass = "pass"
	StatusFail = "fail"
)

// GraderResult is one grader's verdict on one fixture.
type GraderResult struct {
	Name        string   `json:"name"`
	Status      string   `json:"status"`
	Message     string   `json:"message,omitempty"` // one line; set when failing
	Step        int      `json:"step,omitempty"`    // 1-based first differing step
	Diff        string   `json:"diff,omitempty"`    // unified diff, expected → actual
	ReasonCodes []string `json:"reason_codes"`
	// ContextConformance is the context drift class (context_conformance
	// grader only).
	ContextConformance string         `json:"context_conformance,omitempty"`
	Details            map[string]any `json:"details,omitempty"`
	Set                string         `json:"set"` // SetV1 or SetGait
}

// FixtureResult is the outcome of one fixture.
type FixtureResult struct {
	Name         string         `json:"name"`
	RunID        string         `json:"run_id"`
	Status       string         `json:"status"`
	FixtureFile  string         `json:"fixture_file"` // fixture.json, relative to the config's directory
	Runpack      string         `json:"runpack"`      // relative to the config's directory
	TicketFooter string         `json:"ticket_footer,omitempty"`
	Graders      []GraderResult `json:"graders"`
	// Elapsed is how long grading took; only a shard's document records it.
	Elapsed time.Duration `json:"-"`
}

// Failed returns the failing graders.
func (f FixtureResult) Failed() []GraderResult {
	var out []GraderResult
	for _, g := range f.Graders {
		if g.Status != StatusPass {
			out = append(out, g)
		}
	}
	return out
}

// Report is the outcome of a regress run, fixtures in name order.
type Report struct {
	FixtureSet      string          `json:"fixture_set"`
	Config          string          `json:"config"`
	Status          string          `json:"status"`
	Total           int             `json:"total"`  // fixtures graded
	Passed          int             `json:"passed"` // fixtures that passed
	Failed          int             `json:"failed"` // fixtures that failed
	Fixtures        []FixtureResult `json:"fixtures"`
	CreatedAt       string          `json:"-"`
	ProducerVersion string          `json:"-"`
	// Notices are one-line remarks for stderr (how a fixture was found).
	Notices []string `json:"-"`
	// Shard is set when the report grades one shard of the fixtures.
	Shard *ShardInfo `json:"-"`
}

// GraderCounts counts the graders of the run: v1's and Gait's, and how
// many of all of them failed.
func (r *Report) GraderCounts() (v1, gait, failed int) {
	for _, f := range r.Fixtures {
		for _, g := range f.Graders {
			if g.Set == SetV1 {
				v1++
			} else {
				gait++
			}
			if g.Status != StatusPass {
				failed++
			}
		}
	}
	return v1, gait, failed
}

// TopFailureReason is the first reason code of the first failing grader
// (v1's graders first, then Gait's, each in result order), or "".
func (r *Report) TopFailureReason() string {
	for _, set := range []string{SetV1, SetGait} {
		for _, f := range r.Fixtures {
			for _, g := range f.Graders {
				if g.Set == set && g.Status != StatusPass && len(g.ReasonCodes) > 0 {
					return g.ReasonCodes[0]
				}
			}
		}
	}
	return ""
}

// ExitCode is 0 when every fixture passed and 5 when any failed.
func (r *Report) ExitCode() int {
	if r.Failed > 0 {
		return 5
	}
	return 0
}

// ResultDocument is regress_result.json (gait.regress.result): graders are
// flattened with "<fixture>/<grader>" names.
type ResultDocument struct {
	SchemaID        string      `json:"schema_id"`
	SchemaVersion   string      `json:"schema_version"`
	CreatedAt       string      `json:"created_at"`
	ProducerVersion string      `json:"producer_version"`
	FixtureSet      string      `json:"fixture_set"`
	Status          string      `json:"status"`
	Graders         []docGrader `json:"graders"`
	// Shard is Gait's, in a shard's document only (see MergeReports).
	Shard *ShardInfo `json:"gait_shard,omitempty"`
}

type docGrader struct {
	Name               string         `json:"name"`
	Status             string         `json:"status"`
	ReasonCodes        []string       `json:"reason_codes"`
	ContextConformance string         `json:"context_conformance,omitempty"`
	Details            map[string]any `json:"details,omitempty"`
}

// Document converts the report to the v1 result document.
func (r *Report) Document() ResultDocument {
	doc := ResultDocument{
		SchemaID: SchemaResult, SchemaVersion: SchemaVersion, CreatedAt: r.CreatedAt,
		ProducerVersion: r.ProducerVersion, FixtureSet: r.FixtureSet, Status: r.Status,
		Graders: []docGrader{}, Shard: r.Shard,
	}
	for _, f := range r.Fixtures {
		for _, g := range f.Graders {
			details := map[string]any{"fixture": f.Name, "run_id": f.RunID}
			if g.Set == SetGait {
				details["grader_set"] = SetGait
			}
			for k, v := range g.Details {
				details[k] = v
			}
			if g.Message != "" {
				details["message"] = g.Message
			}
			if g.Step > 0 {
				details["first_differing_step"] = g.Step
			}
			if g.Diff != "" {
				details["diff"] = g.Diff
			}
			if g.Status != StatusPass {
				// What a pull request comment made from the document shows.
				if f.FixtureFile != "" {
					details["fixture_file"] = f.FixtureFile
				}
				if f.TicketFooter != "" {
					details["ticket_footer"] = f.TicketFooter
				}
			}
			doc.Graders = append(doc.Graders, docGrader{Name: f.Name + "/" + g.Name, Status: g.Status, ReasonCodes: g.ReasonCodes,
				ContextConformance: g.ContextConformance, Details: details})
		}
	}
	return doc
}
