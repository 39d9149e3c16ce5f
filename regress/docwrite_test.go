package regress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
)

var nastyStrings = []string{
	"", "plain", `quote " and ' apostrophe`, "a & b < c > d", "tab\tnew\nline\rcr\b\f", "]]>",
	"ctl \x00\x01\x1f\x7f", "bad utf8 \xff\xfe", "é ü 漢字 \u2028 \u2029 \ufffe \U0001F600", `\backslash`,
}

func randomDocReport(r *rand.Rand) *Report {
	pick := func() string { return nastyStrings[r.IntN(len(nastyStrings))] }
	values := func() any {
		switch r.IntN(13) {
		case 0:
			return nil
		case 1:
			return pick()
		case 2:
			return r.IntN(1000) - 500
		case 3:
			return []string{}
		case 4:
			return []string{pick(), pick()}
		case 5:
			return []string(nil)
		case 6:
			return float64(r.IntN(100))
		case 7:
			return r.Float64() * 1e-7
		case 8:
			return []any{pick(), 1.5, map[string]any{"k": []any{}, "a": map[string]any{}}}
		case 9:
			return map[string]any{pick(): true, "z": nil}
		case 10:
			return struct{ A string }{pick()}
		case 11:
			return []json.RawMessage{json.RawMessage(`"a\u00e9 b"`), json.RawMessage(`[ 1, {"k" : [], "a":{ }}, 2.50 ]`), json.RawMessage(` true `), json.RawMessage(`{}`)}[r.IntN(4)]
		}
		return 1e22
	}
	rep := &Report{FixtureSet: pick(), Status: StatusPass, CreatedAt: pick(), ProducerVersion: pick()}
	if r.IntN(3) == 0 {
		rep.Shard = &ShardInfo{Index: 1, Count: 2, ConfigDigest: pick(), FixturesTotal: 3, Fixtures: []ShardFixture{{Name: pick(), TicketFooter: pick()}}}
	}
	for i := range r.IntN(4) {
		f := FixtureResult{Name: fmt.Sprintf("f%d", i), RunID: pick(), Status: StatusPass, FixtureFile: pick(), TicketFooter: pick()}
		for j := range r.IntN(4) {
			g := GraderResult{Name: fmt.Sprintf("g%d", j), Status: StatusPass, ReasonCodes: []string{}, Set: SetV1}
			if r.IntN(2) == 0 {
				g.Set = SetGait
			}
			if r.IntN(2) == 0 {
				g.Status, g.Message, g.Diff, g.Step = StatusFail, pick(), pick(), r.IntN(3)
				g.ReasonCodes = []string{pick(), pick()}[:r.IntN(3)]
				f.Status, rep.Status = StatusFail, StatusFail
			}
			if r.IntN(5) == 0 {
				g.ReasonCodes = nil
			}
			if r.IntN(3) == 0 {
				g.ContextConformance = pick()
			}
			keys := []string{"fixture", "run_id", "message", "diff", "grader_set", "fixture_file", "ticket_footer", "first_differing_step", "x", pick()}
			for range r.IntN(5) {
				if g.Details == nil {
					g.Details = map[string]any{}
				}
				g.Details[keys[r.IntN(len(keys))]] = values()
			}
			f.Graders = append(f.Graders, g)
		}
		rep.Fixtures = append(rep.Fixtures, f)
	}
	return rep
}

// WriteDocument writes what encoding/json writes for Document.
func TestWriteDocumentMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 3000 {
		rep := randomDocReport(r)
		var got, want bytes.Buffer
		if err := WriteDocument(&got, rep); err != nil {
			t.Fatal(err)
		}
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep.Document()); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("report %d: WriteDocument differs from encoding/json:\ngot:\n%s\nwant:\n%s", i, got.Bytes(), want.Bytes())
		}
	}
}
