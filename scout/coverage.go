package scout

import (
	"math"
	"slices"
	"strings"

	"github.com/gait-dev/gait/gate"
)

// Coverage is a gait.scout.inventory_coverage document: how much of an
// inventory the gate policies name.
type Coverage struct {
	SchemaID               string   `json:"schema_id"`
	SchemaVersion          string   `json:"schema_version"`
	SnapshotID             string   `json:"snapshot_id"`
	DiscoveredTools        int      `json:"discovered_tools"`
	GatedTools             int      `json:"gated_tools"`
	HighRiskUngatedTools   int      `json:"high_risk_ungated_tools"`
	CoveragePercent        float64  `json:"coverage_percent"`
	PolicyDigests          []string `json:"policy_digests"`
	DiscoveredToolNames    []string `json:"discovered_tool_names"`
	GatedToolNames         []string `json:"gated_tool_names"`
	HighRiskUngatedToolIDs []string `json:"high_risk_ungated_tool_ids,omitempty"`
}

// BuildCoverage matches every item of snap against the tool names the
// policies' rules match (match.tool_name, match.tool_names). A name
// matches when it is equal ignoring case, equal after identifier
// normalization (My-Server and my_server), or equal once the policy's
// "tool." prefix is dropped (tool.delete_user and delete_user). A high or
// critical item no rule names is listed in HighRiskUngatedToolIDs.
func BuildCoverage(snap *Snapshot, policies []*gate.Policy) *Coverage {
	names := map[string]bool{}
	cov := &Coverage{SchemaID: CoverageSchemaID, SchemaVersion: SchemaVersion, SnapshotID: snap.SnapshotID,
		PolicyDigests: []string{}, DiscoveredToolNames: []string{}, GatedToolNames: []string{}}
	for _, p := range policies {
		cov.PolicyDigests = append(cov.PolicyDigests, p.Digest())
		for _, n := range p.ToolNames() {
			for _, form := range nameForms(n) {
				names[form] = true
			}
		}
	}
	slices.Sort(cov.PolicyDigests)
	cov.PolicyDigests = slices.Compact(cov.PolicyDigests)
	gated := func(name string) bool {
		return slices.ContainsFunc(nameForms(name), func(f string) bool { return names[f] })
	}
	for _, it := range snap.Items {
		cov.DiscoveredToolNames = append(cov.DiscoveredToolNames, it.Name)
		if gated(it.Name) {
			cov.GatedToolNames = append(cov.GatedToolNames, it.Name)
		} else if IsHighRisk(it.RiskLevel) {
			cov.HighRiskUngatedToolIDs = append(cov.HighRiskUngatedToolIDs, it.ID)
		}
	}
	for _, l := range []*[]string{&cov.DiscoveredToolNames, &cov.GatedToolNames, &cov.HighRiskUngatedToolIDs} {
		slices.Sort(*l)
		*l = slices.Compact(*l)
	}
	cov.DiscoveredTools = len(cov.DiscoveredToolNames)
	cov.GatedTools = len(cov.GatedToolNames)
	cov.HighRiskUngatedTools = len(cov.HighRiskUngatedToolIDs)
	if cov.DiscoveredTools > 0 {
		cov.CoveragePercent = math.Round(float64(cov.GatedTools)*10000/float64(cov.DiscoveredTools)) / 100
	}
	return cov
}

// nameForms are the forms a tool name is compared in.
func nameForms(name string) []string {
	lower := strings.ToLower(strings.TrimSpace(name))
	forms := []string{lower, normalizeIdentifier(lower)}
	if rest, ok := strings.CutPrefix(lower, "tool."); ok {
		forms = append(forms, rest, normalizeIdentifier(rest))
	}
	return slices.DeleteFunc(forms, func(s string) bool { return s == "" })
}
