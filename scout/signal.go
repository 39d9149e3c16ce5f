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
	SeverityLow    = "low"
	SeverityMedium = "medium"
	SeverityHigh   = "high"

	DriverPolicy        = "policy_change"
	DriverResultShape   = "tool_result_shape_change"
	DriverConfiguration = "configuration_change"
)

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
	DriverConfiguration: {Kind: "configuration", Summary: "Pin the runtime, model and tool configuration, then record the run again and bootstrap a regress fixture from it.",
		LikelyScope: "wrapper runtime config + CI env"},
}

// classBase is a family's base severity by the riskiest tool class its
// runs used.
var classBase = map[string]int{report.ClassRead: 45, report.ClassExecute: 75, report.ClassWrite: 105, report.ClassDestructive: 135}

// SignalOptions configures BuildSignal.
type SignalOptions struct {
	Runs            []string // runpack paths
	ProducerVersion string
}

// BuildSignal fingerprints each runpack and groups identical fingerprints
// into families, ranked by severity. The severity score is the base of the
// riskiest tool class (read 45, execute 75, write 105, destructive 135)
// plus the number of runs (at most 10), plus the number of distinct
// non-ok result statuses (at most 10), plus 20 when a result was blocked
// (a policy driver); 110 and above is high, 70 and above medium.
func BuildSignal(opts SignalOptions) (*SignalReport, error) {
	if len(opts.Runs) == 0 {
		return nil, exitcode.Invalidf("no runpacks to fingerprint; pass --runs <run_id|runpack.zip|dir>")
	}
	rep := &SignalReport{SchemaID: SignalReportSchemaID, SchemaVersion: SchemaVersion, CreatedAt: CreatedAt,
		ProducerVersion: opts.ProducerVersion, Fingerprints: []Fingerprint{}, Families: []Family{}, TopIssues: []Issue{}}
	for _, p := range opts.Runs {
		rp, err := pack.Open(p)
		if err != nil {
			return nil, exitcode.Invalidf("%s: %v; pass a runpack written by `gait run record` or `gait demo`", p, err)
		}
		fp, err := fingerprintRun(rp, p, opts.ProducerVersion)
		if err != nil {
			return nil, err
		}
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
		return cmp.Or(cmp.Compare(b.SeverityScore, a.SeverityScore), cmp.Compare(a.FamilyID, b.FamilyID))
	})
	for i, f := range rep.Families[:min(TopIssueLimit, len(rep.Families))] {
		rep.TopIssues = append(rep.TopIssues, Issue{Rank: i + 1, FamilyID: f.FamilyID, Fingerprint: f.Fingerprint, Count: f.Count,
			CanonicalRunID: f.CanonicalRunID, TopFailureReason: f.TopFailureReason, Drivers: f.Drivers,
			SeverityScore: f.SeverityScore, SeverityLevel: f.SeverityLevel, Suggestions: f.Suggestions})
	}
	rep.RunCount, rep.FamilyCount = len(rep.Fingerprints), len(rep.Families)
	return rep, nil
}

// receipt holds the reference-receipt fields a fingerprint uses.
type receipt struct {
	SourceType    string `json:"source_type"`
	SourceLocator string `json:"source_locator"`
	ContentDigest string `json:"content_digest"`
}

func fingerprintRun(rp *pack.Runpack, source, producer string) (Fingerprint, error) {
	fp := Fingerprint{SchemaID: FingerprintSchemaID, SchemaVersion: SchemaVersion, CreatedAt: CreatedAt, ProducerVersion: producer,
		RunID: rp.Manifest.RunID, SourceRunpack: source, ActionSequence: []string{}, ToolClasses: []string{},
		TargetSystems: []string{}, ReasonCodeVector: []string{}, RefReceiptDigests: []string{}}
	for _, in := range rp.Intents {
		fp.ActionSequence = append(fp.ActionSequence, in.ToolName)
		fp.ToolClasses = append(fp.ToolClasses, report.ToolClass(in.ToolName))
	}
	for _, r := range rp.Results {
		if s := strings.ToLower(strings.TrimSpace(r.Status)); s != "" && s != "ok" {
			fp.ReasonCodeVector = append(fp.ReasonCodeVector, "result_status_"+normalizeIdentifier(s))
		}
	}
	for _, raw := range rp.Refs.Receipts {
		var rc receipt
		if err := json.Unmarshal(raw, &rc); err != nil {
			return fp, exitcode.Invalidf("%s: refs.json receipt: %v; record the run again with `gait run record`", source, err)
		}
		if rc.SourceType != "" || rc.SourceLocator != "" {
			fp.TargetSystems = append(fp.TargetSystems, normalizeIdentifier(rc.SourceType)+":"+normalizeIdentifier(rc.SourceLocator))
		}
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
	policy, shape := false, false
	for _, r := range reasons {
		if r == "result_status_blocked" {
			policy = true
		} else {
			shape = true
		}
	}
	if policy {
		f.Drivers = append(f.Drivers, DriverPolicy)
	}
	if shape {
		f.Drivers = append(f.Drivers, DriverResultShape)
	}
	if len(f.Drivers) == 0 {
		f.Drivers = append(f.Drivers, DriverConfiguration)
	}
	base := classBase[report.ClassRead]
	for _, c := range first.ToolClasses {
		base = max(base, classBase[c])
	}
	f.SeverityScore = base + min(f.Count, 10) + min(len(reasons), 10)
	if policy {
		f.SeverityScore += 20
	}
	switch {
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
