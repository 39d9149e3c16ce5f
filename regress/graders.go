package regress

// Grader names. The first five are Gait v1's, with v1's meaning and reason
// codes; the others are Gait's own.
const (
	GraderContext    = "context_conformance"
	GraderDiff       = "diff"
	GraderExitCode   = "expected_exit_code"
	GraderSchema     = "schema_validation"
	GraderTrajectory = "trajectory"
	GraderIntegrity  = "integrity"
	GraderResults    = "results"
	GraderPolicy     = "policy"
)

// Grader sets: v1's graders and Gait's additions.
const (
	SetV1   = "v1"
	SetGait = "gait"
)

// Grader is one check run on every fixture.
type Grader struct {
	Name  string
	Set   string // SetV1 or SetGait
	grade func(*grading) GraderResult
}

// Graders is the ordered set every fixture is graded with: Gait v1's
// graders in v1's order (context_conformance only when the run asks for
// it), then Gait's. Each lives in its own file (grader_<name>.go).
var Graders = []Grader{
	{GraderContext, SetV1, gradeContext},
	{GraderDiff, SetV1, gradeDiff},
	{GraderExitCode, SetV1, gradeExitCode},
	{GraderSchema, SetV1, gradeSchema},
	{GraderTrajectory, SetV1, gradeTrajectory},
	{GraderIntegrity, SetGait, gradeIntegrity},
	{GraderResults, SetGait, gradeResults},
	{GraderPolicy, SetGait, gradePolicy},
}
