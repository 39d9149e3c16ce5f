package regress

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gait-dev/gait/internal/exitcode"
)

// MergeReports combines the reports of every shard of one run (read with
// ReadResult; names are their files, for errors) into the report an
// unsharded run on the same fixtures gives: its document and JUnit are
// byte for byte the same. Reports that are not shards, that come from
// another config, commit, fixture set or producer, or whose shards overlap
// or leave one out are invalid input (exit 6) naming the shard.
func MergeReports(reps []*Report, names []string) (*Report, error) {
	if len(reps) == 0 {
		return nil, exitcode.Invalidf("no result documents to merge; pass the regress_result.json of every shard")
	}
	var first *ShardInfo
	byIndex := map[int]string{}
	owner := map[string]string{}
	for i, rep := range reps {
		name, sh := names[i], rep.Shard
		if sh == nil {
			return nil, exitcode.Invalidf("%s: not a shard's result (no gait_shard); merge the documents that `gait regress run --shard i/n` wrote", name)
		}
		if first == nil {
			first = sh
		}
		fr := reps[0]
		switch {
		case sh.Count != first.Count:
			return nil, exitcode.Invalidf("%s: shard %d/%d, but %s is of %d shards; merge the shards of one run", name, sh.Index, sh.Count, names[0], first.Count)
		case sh.ConfigDigest != first.ConfigDigest:
			return nil, exitcode.Invalidf("%s: shard %d/%d graded another config or other flags than %s; merge the shards of one run", name, sh.Index, sh.Count, names[0])
		case sh.Commit != first.Commit:
			return nil, exitcode.Invalidf("%s: shard %d/%d graded commit %q, %s commit %q; merge the shards of one run", name, sh.Index, sh.Count, sh.Commit, names[0], first.Commit)
		case sh.FixturesTotal != first.FixturesTotal || rep.FixtureSet != fr.FixtureSet || rep.CreatedAt != fr.CreatedAt:
			return nil, exitcode.Invalidf("%s: shard %d/%d graded another fixture set than %s; merge the shards of one run", name, sh.Index, sh.Count, names[0])
		case rep.ProducerVersion != fr.ProducerVersion:
			return nil, exitcode.Invalidf("%s: shard %d/%d was written by gait %s, %s by %s; run every shard with one gait", name, sh.Index, sh.Count, rep.ProducerVersion, names[0], fr.ProducerVersion)
		}
		if other, dup := byIndex[sh.Index]; dup {
			return nil, exitcode.Invalidf("%s: shard %d/%d is also %s; pass each shard once", name, sh.Index, sh.Count, other)
		}
		byIndex[sh.Index] = name
		if len(rep.Fixtures) != len(sh.Fixtures) {
			return nil, exitcode.Invalidf("%s: shard %d/%d grades %d fixtures, its gait_shard.fixtures lists %d; the document was edited", name, sh.Index, sh.Count, len(rep.Fixtures), len(sh.Fixtures))
		}
		for j, f := range sh.Fixtures {
			if rep.Fixtures[j].Name != f.Name {
				return nil, exitcode.Invalidf("%s: shard %d/%d grades fixture %q where its gait_shard.fixtures lists %q; the document was edited", name, sh.Index, sh.Count, rep.Fixtures[j].Name, f.Name)
			}
			if other, dup := owner[f.Name]; dup {
				return nil, exitcode.Invalidf("%s: shard %d/%d overlaps %s (fixture %q); run every shard with the same --timings", name, sh.Index, sh.Count, other, f.Name)
			}
			owner[f.Name] = name
		}
	}
	for i := 1; i <= first.Count; i++ {
		if _, ok := byIndex[i]; !ok {
			return nil, exitcode.Invalidf("shard %d/%d is missing; pass the regress_result.json of every shard", i, first.Count)
		}
	}
	if len(owner) != first.FixturesTotal {
		return nil, exitcode.Invalidf("%s: the shards grade %d of %d fixtures; run every shard with the same --timings", names[0], len(owner), first.FixturesTotal)
	}
	out := &Report{FixtureSet: reps[0].FixtureSet, Status: StatusPass, CreatedAt: reps[0].CreatedAt,
		ProducerVersion: reps[0].ProducerVersion, Fixtures: make([]FixtureResult, 0, len(owner))}
	for _, rep := range reps {
		for j, f := range rep.Fixtures {
			// A passing fixture's graders do not carry these.
			f.FixtureFile, f.TicketFooter = rep.Shard.Fixtures[j].FixtureFile, rep.Shard.Fixtures[j].TicketFooter
			out.Fixtures = append(out.Fixtures, f)
		}
	}
	slices.SortFunc(out.Fixtures, func(a, b FixtureResult) int { return strings.Compare(a.Name, b.Name) })
	for _, f := range out.Fixtures {
		out.Total++
		if f.Status == StatusPass {
			out.Passed++
		} else {
			out.Failed++
			out.Status = StatusFail
		}
	}
	return out, nil
}

// ResultFiles expands paths for merge and --timings: a file is itself, a
// folder stands for every regress_result*.json under it (as
// actions/download-artifact lays shards out), in lexical order.
func ResultFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, exitcode.Invalidf("%s: cannot read: %s; pass result documents or the folder that holds them", p, fileProblem(err))
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		before := len(out)
		err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasPrefix(d.Name(), "regress_result") && strings.HasSuffix(d.Name(), ".json") {
				out = append(out, q)
			}
			return nil
		})
		if err != nil {
			return nil, exitcode.Invalidf("%s: cannot read: %s", p, fileProblem(err))
		}
		if len(out) == before {
			return nil, exitcode.Invalidf("%s: holds no regress_result*.json; download every shard's artifact into it", p)
		}
	}
	return out, nil
}

// MergeFiles reads the result documents at paths (see ResultFiles) and
// merges them with MergeReports.
func MergeFiles(paths []string) (*Report, error) {
	files, err := ResultFiles(paths)
	if err != nil {
		return nil, err
	}
	reps := make([]*Report, len(files))
	errs := make([]error, len(files))
	parallel(len(files), 0, func(i int) { reps[i], errs[i] = ReadResultFile(files[i]) })
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return MergeReports(reps, files)
}
