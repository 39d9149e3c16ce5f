package regress

// gradeIntegrity is Gait's integrity grader: the fixture's runpack (and
// candidate) opened with every digest checked. A runpack that fails stops
// the run with exit 6 before any grader runs, so this grader records what
// was checked: the manifest digests and file counts.
func gradeIntegrity(g *grading) GraderResult {
	r := pass(GraderIntegrity, "digests_match")
	r.Details = map[string]any{"manifest_digest": g.rp.Manifest.ManifestDigest, "files_checked": len(g.rp.Manifest.Files)}
	if g.candidate != g.rp {
		r.Details["candidate_manifest_digest"] = g.candidate.Manifest.ManifestDigest
	}
	return r
}
