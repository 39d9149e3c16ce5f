package regress

// gradeSchema is v1's schema_validation: the fixture's runpack parsed and
// its digests held (a runpack that does not stops the run with exit 6
// before any grader runs), with its record counts.
func gradeSchema(g *grading) GraderResult {
	r := pass(GraderSchema)
	r.Details = g.details()
	r.Details["hash_mismatches"] = 0
	r.Details["missing_files"] = nil
	r.Details["intent_records"] = len(g.rp.Intents)
	r.Details["result_records"] = len(g.rp.Results)
	r.Details["reference_receipts"] = len(g.rp.Refs.Receipts)
	return r
}
