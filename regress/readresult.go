package regress

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/gait-dev/gait/internal/exitcode"
)

// MaxResultBytes bounds the result document ReadResult accepts. A document
// is about 4 KiB per fixture, so this holds some 2,000 fixtures; the
// comment made from it holds 65,536 characters whatever its size.
const MaxResultBytes = 8 << 20

// The details keys Document adds to v1's, read back into the report.
const (
	detailFixture      = "fixture"
	detailRunID        = "run_id"
	detailGraderSet    = "grader_set"
	detailMessage      = "message"
	detailStep         = "first_differing_step"
	detailDiff         = "diff"
	detailFixtureFile  = "fixture_file"
	detailTicketFooter = "ticket_footer"
)

// ReadResultFile reads the result document at path; see ReadResult.
func ReadResultFile(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, exitcode.Invalidf("%s: cannot read the result document: %s; pass the regress_result.json that `gait regress run` or `gait action regress` wrote", path, fileProblem(err))
	}
	defer f.Close()
	return ReadResult(f, path)
}

// ReadResult reads a result document (regress_result.json, written by
// Document) back into a report: fixtures with their graders, counts,
// messages, diffs, fixture files and ticket footers. It reads at most
// MaxResultBytes and checks the document as v1's schema does: a document
// that is too large, is not one JSON object, has an unknown key or schema,
// or names a fixture or grader badly is bad input (exit 6) naming name.
// Fields that only gait writes are optional, so a v1 document is read too.
func ReadResult(r io.Reader, name string) (*Report, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxResultBytes+1))
	if err != nil {
		return nil, exitcode.Invalidf("%s: cannot read the result document: %v", name, oneLine(err.Error()))
	}
	if len(data) > MaxResultBytes {
		return nil, exitcode.Invalidf("%s: result document is larger than %d MiB; a pull request comment cannot show it, run regress on fewer fixtures (--fixture)", name, MaxResultBytes>>20)
	}
	var doc ResultDocument
	if err := decodeStrict(data, &doc); err != nil {
		return nil, exitcode.Invalidf("%s: %v", name, err)
	}
	rep, err := doc.report()
	if err != nil {
		return nil, exitcode.Invalidf("%s: %v", name, err)
	}
	return rep, nil
}

// report is the inverse of Document.
func (doc *ResultDocument) report() (*Report, error) {
	switch {
	case doc.SchemaID != SchemaResult:
		return nil, fmt.Errorf("schema_id %q, want %q; pass the regress_result.json that gait wrote", doc.SchemaID, SchemaResult)
	case !strings.HasPrefix(doc.SchemaVersion, "1."):
		return nil, fmt.Errorf("schema_version %q has an unknown major version (this gait reads 1.x)", doc.SchemaVersion)
	case doc.Status != StatusPass && doc.Status != StatusFail:
		return nil, fmt.Errorf("status %q, want pass or fail", doc.Status)
	case doc.Graders == nil:
		return nil, fmt.Errorf("graders is missing; pass the regress_result.json that gait wrote")
	}
	rep := &Report{FixtureSet: doc.FixtureSet, Status: StatusPass, CreatedAt: doc.CreatedAt, ProducerVersion: doc.ProducerVersion, Shard: doc.Shard}
	index := map[string]int{}
	for i, dg := range doc.Graders {
		g, fixture, err := dg.result()
		if err != nil {
			return nil, fmt.Errorf("graders[%d]: %w", i, err)
		}
		n, seen := index[fixture]
		if !seen {
			n = len(rep.Fixtures)
			index[fixture] = n
			rep.Fixtures = append(rep.Fixtures, FixtureResult{Name: fixture, Status: StatusPass})
		} else if n != len(rep.Fixtures)-1 {
			return nil, fmt.Errorf("graders[%d]: fixture %q's graders are not together", i, fixture)
		}
		f := &rep.Fixtures[n]
		if err := f.take(dg.Details); err != nil {
			return nil, fmt.Errorf("graders[%d]: %w", i, err)
		}
		if g.Status != StatusPass {
			f.Status = StatusFail
		}
		f.Graders = append(f.Graders, g)
	}
	for _, f := range rep.Fixtures {
		rep.Total++
		if f.Status == StatusPass {
			rep.Passed++
		} else {
			rep.Failed++
			rep.Status = StatusFail
		}
	}
	if rep.Status != doc.Status {
		return nil, fmt.Errorf("status %q, but %d of its graders fail; the document was edited", doc.Status, failedGraders(rep))
	}
	return rep, nil
}

func failedGraders(rep *Report) int {
	_, _, failed := rep.GraderCounts()
	return failed
}

// result reads one grader back, with the fixture it grades.
func (dg *docGrader) result() (GraderResult, string, error) {
	if dg.Status != StatusPass && dg.Status != StatusFail {
		return GraderResult{}, "", fmt.Errorf("status %q, want pass or fail", dg.Status)
	}
	if dg.ReasonCodes == nil {
		return GraderResult{}, "", fmt.Errorf("grader %q has no reason_codes", dg.Name)
	}
	fixture, _ := dg.Details[detailFixture].(string)
	if fixture == "" {
		fixture, _, _ = strings.Cut(dg.Name, "/")
	}
	name, ok := strings.CutPrefix(dg.Name, fixture+"/")
	if !ok || name == "" || strings.Contains(name, "/") || !fixtureNamePattern().MatchString(fixture) {
		return GraderResult{}, "", fmt.Errorf("grader name %q is not <fixture>/<grader>", dg.Name)
	}
	g := GraderResult{Name: name, Status: dg.Status, ReasonCodes: dg.ReasonCodes, ContextConformance: dg.ContextConformance, Set: SetV1}
	for k, v := range dg.Details {
		var bad bool
		switch k {
		case detailFixtureFile, detailTicketFooter:
			continue // the fixture's
		case detailGraderSet:
			g.Set, bad = v.(string)
			bad = !bad || g.Set != SetGait
		case detailMessage:
			g.Message, bad = v.(string)
			bad = !bad
		case detailDiff:
			g.Diff, bad = v.(string)
			bad = !bad
		case detailStep:
			f, isNum := v.(float64)
			g.Step = int(f)
			bad = !isNum || f < 1 || f != float64(g.Step)
		default:
			if g.Details == nil {
				g.Details = map[string]any{}
			}
			g.Details[k] = v
			continue
		}
		if bad {
			return GraderResult{}, "", fmt.Errorf("grader %q: details.%s has the wrong type or value", dg.Name, k)
		}
	}
	return g, fixture, nil
}

// take reads the fixture's own fields from one of its graders' details.
func (f *FixtureResult) take(details map[string]any) error {
	for _, field := range []struct {
		key string
		dst *string
	}{{detailRunID, &f.RunID}, {detailFixtureFile, &f.FixtureFile}, {detailTicketFooter, &f.TicketFooter}} {
		v, ok := details[field.key]
		if !ok {
			continue
		}
		s, ok := v.(string)
		if !ok || (*field.dst != "" && *field.dst != s) {
			return fmt.Errorf("fixture %q: details.%s differs between its graders or is not a string", f.Name, field.key)
		}
		*field.dst = s
	}
	if p := f.FixtureFile; p != "" && (path.Clean(p) != p || !localPath(p)) {
		return fmt.Errorf("fixture %q: details.fixture_file %q is not a relative path inside the repository", f.Name, p)
	}
	return nil
}

// fileProblem words an error opening a file without repeating its path.
func fileProblem(err error) string {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return oneLine(pe.Err.Error())
	}
	return oneLine(err.Error())
}
