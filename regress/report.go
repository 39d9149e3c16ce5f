package regress

// Grader names, one test case each in JUnit.
const (
	GraderSchema     = "schema"
	GraderIntegrity  = "integrity"
	GraderTrajectory = "trajectory"
	GraderResults    = "results"
	GraderExitCode   = "exit_code"
	GraderVerdicts   = "verdicts"
)

// Status values.
const (
	StatusPass = "pass"
	StatusFail = "fail"
)

// GraderResult is one grader's verdict on one fixture.
type GraderResult struct {
	Name        string         `json:"name"`
	Status      string         `json:"status"`
	Message     string         `json:"message,omitempty"` // one line; set when failing
	Step        int            `json:"step,omitempty"`    // 1-based first differing step
	Diff        string         `json:"diff,omitempty"`    // unified diff, expected → actual
	ReasonCodes []string       `json:"reason_codes"`
	Details     map[string]any `json:"details,omitempty"`
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

// Report is the outcome of a regress run, in config order.
type Report struct {
	FixtureSet      string          `json:"fixture_set"`
	Config          string          `json:"config"`
	Status          string          `json:"status"`
	Total           int             `json:"total"`
	Passed          int             `json:"passed"`
	Failed          int             `json:"failed"`
	Fixtures        []FixtureResult `json:"fixtures"`
	CreatedAt       string          `json:"-"`
	ProducerVersion string          `json:"-"`
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
}

type docGrader struct {
	Name        string         `json:"name"`
	Status      string         `json:"status"`
	ReasonCodes []string       `json:"reason_codes"`
	Details     map[string]any `json:"details,omitempty"`
}

// Document converts the report to the v1 result document.
func (r *Report) Document() ResultDocument {
	doc := ResultDocument{
		SchemaID: SchemaResult, SchemaVersion: SchemaVersion, CreatedAt: r.CreatedAt,
		ProducerVersion: r.ProducerVersion, FixtureSet: r.FixtureSet, Status: r.Status,
		Graders: []docGrader{},
	}
	for _, f := range r.Fixtures {
		for _, g := range f.Graders {
			details := map[string]any{"fixture": f.Name, "run_id": f.RunID}
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
			doc.Graders = append(doc.Graders, docGrader{Name: f.Name + "/" + g.Name, Status: g.Status, ReasonCodes: g.ReasonCodes, Details: details})
		}
	}
	return doc
}
