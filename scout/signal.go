package scout

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"

	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/report"
)

// Signal schema ids.
const (
	SignalReportSchemaID = "gait.scout.signal_report"
	FingerprintSchemaID  = "gait.scout.run_fingerprint"
)

// TopIssueLimit is how many families the report ranks as top issues.
const TopIssueLimit = 10

// Severity levels and the drivers of a family.
const (
	SeverityLow      = "low"
	SeverityMedium   = "medium"
	SeverityHigh     = "high"
	SeverityCritical = "critical"

	DriverPolicy        = "policy_change"
	DriverResultShape   = "tool_result_shape_change"
	DriverReference     = "reference_set_change"
	DriverConfiguration = "configuration_change"
)

// driverWords name a reason code's driver: the first group with a word
// the code contains wins. A policy word other than violation also adds 20
// to the family's score.
var driverWords = []struct {
	driver string
	bonus  bool
	words  []string
}{
	{DriverPolicy, true, []string{"policy", "approval", "blocked", "credential"}},
	{DriverPolicy, false, []string{"violation"}},
	{DriverResultShape, false, []string{"result_status", "diff", "schema", "grader", "unexpected_exit_code"}},
	{DriverReference, false, []string{"ref", "source", "receipt", "retrieval"}},
}

// driverOf returns the driver of one reason code ("" when it has none)
// and whether it adds the policy bonus.
func driverOf(code string) (driver string, bonus bool) {
	for _, g := range driverWords {
		if slices.ContainsFunc(g.words, func(w string) bool { return strings.Contains(code, w) }) {
			return g.driver, g.bonus
		}
	}
	return "", false
}

// SignalReport is a gait.scout.signal_report document.
type SignalReport struct {
	SchemaID        string        `json:"schema_id"`
	SchemaVersion   string        `json:"schema_version"`
	CreatedAt       string        `json:"created_at"`
	ProducerVersion string        `json:"producer_version"`
	RunCount        int           `json:"run_count"`
	FamilyCount     int           `json:"family_count"`
	Fingerprints    []Fingerprint `json:"fingerprints"`
	Families        []Family      `json:"families"`
	TopIssues       []Issue       `json:"top_issues"`
}

// Fingerprint is a gait.scout.run_fingerprint: what one run did, reduced
// to the fields that identify its behaviour. Fingerprint is the SHA-256 of
// the RFC 8785 form of action_sequence, tool_classes, target_systems,
// reason_code_vector and ref_receipt_digests.
type Fingerprint struct {
	SchemaID          string   `json:"schema_id"`
	SchemaVersion     string   `json:"schema_version"`
	CreatedAt         string   `json:"created_at"`
	ProducerVersion   string   `json:"producer_version"`
	RunID             string   `json:"run_id"`
	Fingerprint       string   `json:"fingerprint"`
	ActionSequence    []string `json:"action_sequence"`
	ToolClasses       []string `json:"tool_classes"`
	TargetSystems     []string `json:"target_systems"`
	ReasonCodeVector  []string `json:"reason_code_vector"`
	RefReceiptDigests []string `json:"ref_receipt_digests"`
	SourceRunpack     string   `json:"source_runpack"`
	// TraceCount is the number of gate trace files that belong to the run,
	// RegressEvidenceSeen whether a regress result has a failing grader
	// for it. Neither is part of the fingerprint.
	TraceCount          int  `json:"trace_count,omitempty"`
	RegressEvidenceSeen bool `json:"regress_evidence_seen,omitempty"`
}

// Family groups the runs with one fingerprint.
type Family struct {
	FamilyID         string       `json:"family_id"`
	Fingerprint      string       `json:"fingerprint"`
	Count            int          `json:"count"`
	RunIDs           []string     `json:"run_ids"`
	CanonicalRunID   string       `json:"canonical_run_id"`
	TopFailureReason string       `json:"top_failure_reason,omitempty"`
	Drivers          []string     `json:"drivers"`
	SeverityScore    int          `json:"severity_score"`
	SeverityLevel    string       `json:"severity_level"`
	ArtifactPointers []string     `json:"artifact_pointers"`
	Suggestions      []Suggestion `json:"suggestions"`
}

// Issue is a family ranked among the top issues.
type Issue struct {
	Rank             int          `json:"rank"`
	FamilyID         string       `json:"family_id"`
	Fingerprint      string       `json:"fingerprint"`
	Count            int          `json:"count"`
	CanonicalRunID   string       `json:"canonical_run_id"`
	TopFailureReason string       `json:"top_failure_reason,omitempty"`
	Drivers          []string     `json:"drivers"`
	SeverityScore    int          `json:"severity_score"`
	SeverityLevel    string       `json:"severity_level"`
	Suggestions      []Suggestion `json:"suggestions"`
}

// Suggestion is the next step for a family's driver.
type Suggestion struct {
	Kind        string `json:"kind"`
	Summary     string `json:"summary"`
	LikelyScope string `json:"likely_scope"`
}

var suggestions = map[string]Suggestion{
	DriverPolicy: {Kind: "policy_fixture", Summary: "Add or tighten a policy fixture and check it with `gait policy test <policy.yaml> <intent.json>`.",
		LikelyScope: "policy YAML + policy fixtures"},
	DriverResultShape: {Kind: "regress_fixture", Summary: "Add or update a regress fixture, then run `gait regress run`.",
		LikelyScope: "fixtures/* + gait.yaml"},
	DriverReference: {Kind: "regress_fixture", Summary: "Pin the retrieval filters and the set of reference receipts, record the run again, then run `gait regress run`.",
		LikelyScope: "run input + refs receipts"},
	DriverConfiguration: {Kind: "configuration", Summary: "Pin the runtime, model and tool configuration, then record the run again and bootstrap a regress fixture from it.",
		LikelyScope: "wrapper runtime config + CI env"},
}

// classBase is a family's base severity by the riskiest tool class its
// runs used.
var classBase = map[string]int{report.ClassRead: 45, report.ClassExecute: 75, report.ClassWrite: 105, report.ClassDestructive: 135}

// SignalOptions configures BuildSignal.
type SignalOptions struct {
	Runs            []string // runpack paths
	Traces          []string // gate trace paths (gait.gate.trace)
	Regress         []string // regress result paths (gait.regress.result)
	ProducerVersion string
}

// BuildSignal fingerprints each runpack and groups identical fingerprints
// into families, ranked by severity.
//
// A run's reason codes are its non-ok result statuses
// (result_status_<status>), what the gate traces that belong to it
// answered (trace_verdict_<verdict> unless allow, violation_<name>) and the
// reason codes of the failing graders of its regress fixtures. A trace
// belongs to the run whose id is its correlation_id, else its trace_id; a
// fixture to the run its details.run_id names, else the run named like the
// fixture. Traces and fixtures of runs not given are ignored.
//
// The severity score is the base of the riskiest tool class (read 45,
// execute 75, write 105, destructive 135) plus the number of runs (at most
// 10), plus the number of reason codes (at most 9), plus 20 when a code
// names a policy, an approval, a blocked call or a credential; 150 and
// above is critical, 110 and above high, 70 and above medium.
func BuildSignal(opts SignalOptions) (*SignalReport, error) {
	if len(opts.Runs) == 0 {
		return nil, exitcode.Invalidf("no runpacks to fingerprint; pass --runs <run_id|runpack.zip|dir>")
	}
	rep := &SignalReport{SchemaID: SignalReportSchemaID, SchemaVersion: SchemaVersion, CreatedAt: CreatedAt,
		ProducerVersion: opts.ProducerVersion, Fingerprints: []Fingerprint{}, Families: []Family{}, TopIssues: []Issue{}}
	runpacks := make([]*pack.Runpack, len(opts.Runs))
	ids := map[string]bool{}
	for i, p := range opts.Runs {
		rp, err := pack.Open(p)
		if err != nil {
			return nil, exitcode.Invalidf("%s: %v; pass a runpack written by `gait run record` or `gait demo`", p, err)
		}
		runpacks[i] = rp
		ids[rp.Manifest.RunID] = true
	}
	seen, err := observations(ids, opts.Traces, opts.Regress)
	if err != nil {
		return nil, err
	}
	for i, rp := range runpacks {
		ob := seen[rp.Manifest.RunID]
		if ob == nil {
			ob = &observation{}
		}
		fp, err := fingerprintRun(rp, opts.Runs[i], opts.ProducerVersion, ob.codes)
		if err != nil {
			return nil, err
		}
		fp.TraceCount, fp.RegressEvidenceSeen = len(ob.traces), ob.regress
		rep.Fingerprints = append(rep.Fingerprints, fp)
	}
	slices.SortStableFunc(rep.Fingerprints, func(a, b Fingerprint) int {
		return cmp.Or(cmp.Compare(a.RunID, b.RunID), cmp.Compare(a.SourceRunpack, b.SourceRunpack))
	})
	groups := map[string][]Fingerprint{}
	for _, fp := range rep.Fingerprints {
		groups[fp.Fingerprint] = append(groups[fp.Fingerprint], fp)
	}
	for _, fps := range groups {
		rep.Families = append(rep.Families, family(fps))
	}
	slices.SortFunc(rep.Families, func(a, b Family) int {
		return cmp.Or(cmp.Compare(b.SeverityScore, a.SeverityScore), cmp.Compare(b.Count, a.Count), cmp.Compare(a.FamilyID, b.FamilyID))
	})
	for i, f := range rep.Families[:min(TopIssueLimit, len(rep.Families))] {
		rep.TopIssues = append(rep.TopIssues, Issue{Rank: i + 1, FamilyID: f.FamilyID, Fingerprint: f.Fingerprint, Count: f.Count,
			CanonicalRunID: f.CanonicalRunID, TopFailureReason: f.TopFailureReason, Drivers: f.Drivers,
			SeverityScore: f.SeverityScore, SeverityLevel: f.SeverityLevel, Suggestions: f.Suggestions})
	}
	rep.RunCount, rep.FamilyCount = len(rep.Fingerprints), len(rep.Families)
	return rep, nil
}

// observation is what the traces and regress results say about one run.
type observation struct {
	codes   []string        // reason codes they add
	traces  map[string]bool // the trace files that belong to the run
	regress bool            // a regress result has a failing grader for it
}

// observations reads the gate traces and regress results and returns what
// they say, by run id, about the runs in ids.
func observations(ids map[string]bool, traces, results []string) (map[string]*observation, error) {
	out := map[string]*observation{}
	of := func(run string) *observation {
		if out[run] == nil {
			out[run] = &observation{traces: map[string]bool{}}
		}
		return out[run]
	}
	for _, p := range traces {
		tr, err := readTrace(p)
		if err != nil {
			return nil, err
		}
		if run, ok := tr.runFor(ids); ok {
			ob := of(run)
			ob.codes = append(ob.codes, tr.codes()...)
			ob.traces[p] = true
		}
	}
	for _, p := range results {
		byRun, err := regressCodes(p)
		if err != nil {
			return nil, err
		}
		for run, codes := range byRun {
			if ids[run] {
				ob := of(run)
				ob.codes, ob.regress = append(ob.codes, codes...), true
			}
		}
	}
	return out, nil
}

// receipt holds the reference-receipt fields a fingerprint uses.
type receipt struct {
	SourceType    string `json:"source_type"`
	SourceLocator string `json:"source_locator"`
	ContentDigest string `json:"content_digest"`
}

// fingerprintRun fingerprints one runpack; extra are the reason codes its
// traces and regress results add.
func fingerprintRun(rp *pack.Runpack, source, producer string, extra []string) (Fingerprint, error) {
	fp := Fingerprint{SchemaID: FingerprintSchemaID, SchemaVersion: SchemaVersion, CreatedAt: CreatedAt, ProducerVersion: producer,
		RunID: rp.Manifest.RunID, SourceRunpack: source, ActionSequence: []string{}, ToolClasses: []string{},
		TargetSystems: []string{}, ReasonCodeVector: []string{}, RefReceiptDigests: []string{}}
	for _, in := range rp.Intents {
		fp.ActionSequence = append(fp.ActionSequence, in.ToolName)
		fp.ToolClasses = append(fp.ToolClasses, report.ToolClass(in.ToolName))
	}
	for _, r := range rp.Results {
		if s := signalCode(r.Status); s != "ok" {
			fp.ReasonCodeVector = append(fp.ReasonCodeVector, "result_status_"+s)
		}
	}
	fp.ReasonCodeVector = append(fp.ReasonCodeVector, extra...)
	for _, raw := range rp.Refs.Receipts {
		var rc receipt
		if err := json.Unmarshal(raw, &rc); err != nil {
			return fp, exitcode.Invalidf("%s: refs.json receipt: %v; record the run again with `gait run record`", source, err)
		}
		fp.TargetSystems = append(fp.TargetSystems, signalCode(rc.SourceType)+":"+signalCode(rc.SourceLocator))
		if rc.ContentDigest != "" {
			fp.RefReceiptDigests = append(fp.RefReceiptDigests, rc.ContentDigest)
		}
	}
	for _, l := range []*[]string{&fp.ToolClasses, &fp.TargetSystems, &fp.ReasonCodeVector, &fp.RefReceiptDigests} {
		slices.Sort(*l)
		*l = slices.Compact(*l)
	}
	d, err := digest.JSON(map[string][]string{
		"action_sequence": fp.ActionSequence, "tool_classes": fp.ToolClasses, "target_systems": fp.TargetSystems,
		"reason_code_vector": fp.ReasonCodeVector, "ref_receipt_digests": fp.RefReceiptDigests,
	})
	if err != nil {
		return fp, err
	}
	fp.Fingerprint = d
	return fp, nil
}

// family summarises the runs sharing one fingerprint (sorted by run id).
func family(fps []Fingerprint) Family {
	first := fps[0]
	f := Family{FamilyID: "fam_" + first.Fingerprint[:12], Fingerprint: first.Fingerprint, Count: len(fps),
		CanonicalRunID: first.RunID, RunIDs: []string{}, ArtifactPointers: []string{}, Suggestions: []Suggestion{}}
	for _, fp := range fps {
		f.RunIDs = append(f.RunIDs, fp.RunID)
		f.ArtifactPointers = append(f.ArtifactPointers, fp.SourceRunpack)
	}
	slices.Sort(f.RunIDs)
	f.RunIDs = slices.Compact(f.RunIDs)
	slices.Sort(f.ArtifactPointers)
	f.ArtifactPointers = slices.Compact(f.ArtifactPointers)
	reasons := first.ReasonCodeVector
	if len(reasons) > 0 {
		f.TopFailureReason = reasons[0] // every run of the family has the same vector
	}
	bonus := false
	for _, r := range reasons {
		d, b := driverOf(r)
		bonus = bonus || b
		if d != "" && !slices.Contains(f.Drivers, d) {
			f.Drivers = append(f.Drivers, d)
		}
	}
	slices.Sort(f.Drivers)
	if len(f.Drivers) == 0 {
		f.Drivers = append(f.Drivers, DriverConfiguration)
	}
	base := classBase[report.ClassRead]
	for _, c := range first.ToolClasses {
		base = max(base, classBase[c])
	}
	f.SeverityScore = base + min(f.Count, 10) + min(len(reasons), 9)
	if bonus {
		f.SeverityScore += 20
	}
	switch {
	case f.SeverityScore >= 150:
		f.SeverityLevel = SeverityCritical
	case f.SeverityScore >= 110:
		f.SeverityLevel = SeverityHigh
	case f.SeverityScore >= 70:
		f.SeverityLevel = SeverityMedium
	default:
		f.SeverityLevel = SeverityLow
	}
	for _, d := range f.Drivers {
		f.Suggestions = append(f.Suggestions, suggestions[d])
	}
	return f
}
