package pack

import (
	"encoding/json"
	"slices"
)

// PackInspectResult describes a pack: its manifest, its typed payload and,
// for job packs, the checkpoint lineage.
type PackInspectResult struct {
	OK         bool           `json:"ok"`
	Path       string         `json:"path"`
	PackID     string         `json:"pack_id"`
	PackType   string         `json:"pack_type"`
	SourceRef  string         `json:"source_ref"`
	Signed     bool           `json:"signed"`
	Manifest   PackManifest   `json:"manifest"`
	RunPayload *RunPayload    `json:"run_payload,omitempty"`
	JobPayload *JobPayload    `json:"job_payload,omitempty"`
	Job        *JobLineage    `json:"job_lineage,omitempty"`
	Run        *InspectResult `json:"run,omitempty"`
}

// JobLineage summarizes a job pack's history.
type JobLineage struct {
	EventCount     int             `json:"event_count"`
	LastEventType  string          `json:"last_event_type,omitempty"`
	CheckpointRefs []CheckpointRef `json:"checkpoint_refs"`
}

// CheckpointRef names one checkpoint of a packed job.
type CheckpointRef struct {
	CheckpointID string `json:"checkpoint_id"`
	Type         string `json:"type"`
	ReasonCode   string `json:"reason_code"`
}

// InspectPack describes an opened pack.
func InspectPack(p *Pack, path string) PackInspectResult {
	m := p.Manifest
	res := PackInspectResult{OK: true, Path: path, PackID: m.PackID, PackType: m.PackType, SourceRef: m.SourceRef,
		Signed: len(m.Signatures) > 0, Manifest: m}
	switch m.PackType {
	case PackTypeRun:
		var rpl RunPayload
		if json.Unmarshal(p.files[FileRunPayload], &rpl) == nil {
			res.RunPayload = &rpl
		}
		if rp, err := OpenBytes(FileSourceRunpack, p.files[FileSourceRunpack]); err == nil {
			in := Inspect(rp, FileSourceRunpack)
			res.Run = &in
		}
	case PackTypeJob:
		var jp JobPayload
		if json.Unmarshal(p.files[FileJobPayload], &jp) == nil {
			res.JobPayload = &jp
		}
		lin := &JobLineage{CheckpointRefs: []CheckpointRef{}}
		var st struct {
			Checkpoints []CheckpointRef `json:"checkpoints"`
		}
		if json.Unmarshal(p.files[FileJobState], &st) == nil && st.Checkpoints != nil {
			lin.CheckpointRefs = st.Checkpoints
		}
		for _, line := range splitLines(p.files[FileJobEvents]) {
			var ev struct {
				Type string `json:"type"`
			}
			if json.Unmarshal(line, &ev) == nil {
				lin.EventCount++
				lin.LastEventType = ev.Type
			}
		}
		res.Job = lin
	}
	return res
}

// PackDiffSummary is the summary of a pack diff.
type PackDiffSummary struct {
	Changed       bool     `json:"changed"`
	AddedFiles    []string `json:"added_files,omitempty"`
	RemovedFiles  []string `json:"removed_files,omitempty"`
	ChangedFiles  []string `json:"changed_files,omitempty"`
	ManifestDelta bool     `json:"manifest_delta"`
}

// PackDiffResult is a gait.pack.diff document: which declared files differ
// between two packs. It carries no wall-clock time.
type PackDiffResult struct {
	SchemaID      string          `json:"schema_id"`
	SchemaVersion string          `json:"schema_version"`
	CreatedAt     string          `json:"created_at"`
	LeftPackID    string          `json:"left_pack_id"`
	RightPackID   string          `json:"right_pack_id"`
	LeftPackType  string          `json:"left_pack_type"`
	RightPackType string          `json:"right_pack_type"`
	Summary       PackDiffSummary `json:"summary"`
}

// DiffPacks compares two packs by their declared contents.
func DiffPacks(left, right *Pack) PackDiffResult {
	l, r := left.Manifest, right.Manifest
	res := PackDiffResult{SchemaID: SchemaPackDiff, SchemaVersion: SchemaVersion, CreatedAt: packTime,
		LeftPackID: l.PackID, RightPackID: r.PackID, LeftPackType: l.PackType, RightPackType: r.PackType}
	lf, rf := map[string]string{}, map[string]string{}
	for _, e := range l.Contents {
		lf[e.Path] = e.SHA256
	}
	for _, e := range r.Contents {
		rf[e.Path] = e.SHA256
	}
	s := &res.Summary
	for p, d := range lf {
		rd, ok := rf[p]
		switch {
		case !ok:
			s.RemovedFiles = append(s.RemovedFiles, p)
		case rd != d:
			s.ChangedFiles = append(s.ChangedFiles, p)
		}
	}
	for p := range rf {
		if _, ok := lf[p]; !ok {
			s.AddedFiles = append(s.AddedFiles, p)
		}
	}
	slices.Sort(s.AddedFiles)
	slices.Sort(s.RemovedFiles)
	slices.Sort(s.ChangedFiles)
	s.ManifestDelta = l.PackID != r.PackID
	s.Changed = s.ManifestDelta || len(s.AddedFiles)+len(s.RemovedFiles)+len(s.ChangedFiles) > 0
	return res
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	start := 0
	for i, c := range b {
		if c == '\n' {
			if i > start {
				out = append(out, b[start:i])
			}
			start = i + 1
		}
	}
	if start < len(b) {
		out = append(out, b[start:])
	}
	return out
}
