package pack

// InspectEntry is one step of a run as inspect shows it.
type InspectEntry struct {
	Index        int    `json:"index"`
	IntentID     string `json:"intent_id"`
	ToolName     string `json:"tool_name"`
	ArgsDigest   string `json:"args_digest"`
	CreatedAt    string `json:"created_at"`
	Status       string `json:"status,omitempty"`
	ResultDigest string `json:"result_digest,omitempty"`
}

// InspectResult summarizes a runpack.
type InspectResult struct {
	OK             bool           `json:"ok"`
	ArtifactType   string         `json:"artifact_type"`
	Path           string         `json:"path"`
	RunID          string         `json:"run_id"`
	CaptureMode    string         `json:"capture_mode"`
	ManifestDigest string         `json:"manifest_digest"`
	Signed         bool           `json:"signed"`
	IntentsTotal   int            `json:"intents_total"`
	ResultsTotal   int            `json:"results_total"`
	RefsTotal      int            `json:"refs_total"`
	Entries        []InspectEntry `json:"entries"`
	TicketFooter   string         `json:"ticket_footer"`
}

// Inspect lists a runpack's steps with their results.
func Inspect(rp *Runpack, path string) InspectResult {
	results := rp.resultIndex()
	res := InspectResult{
		OK: true, ArtifactType: "runpack", Path: path, RunID: rp.Manifest.RunID,
		CaptureMode: rp.Manifest.CaptureMode, ManifestDigest: rp.Manifest.ManifestDigest,
		Signed: len(rp.Manifest.Signatures) > 0, IntentsTotal: len(rp.Intents),
		ResultsTotal: len(rp.Results), RefsTotal: len(rp.Refs.Receipts),
		Entries:      make([]InspectEntry, 0, len(rp.Intents)),
		TicketFooter: TicketFooter(rp.Manifest.RunID, rp.Manifest.ManifestDigest),
	}
	for i, in := range rp.Intents {
		e := InspectEntry{Index: i + 1, IntentID: in.IntentID, ToolName: in.ToolName, ArgsDigest: in.ArgsDigest, CreatedAt: in.CreatedAt}
		if r, ok := results[in.IntentID]; ok {
			e.Status, e.ResultDigest = r.Status, r.ResultDigest
		}
		res.Entries = append(res.Entries, e)
	}
	return res
}
