package regress

import (
	"strings"

	"github.com/gait-dev/gait/pack"
)

// stubKinds are the kinds of tool a stub replay answers without a recorded
// result, each with the words in a tool name that mark it, checked in this
// order (so "http.write" is http, "sql_file" is file).
var stubKinds = []struct {
	kind  string
	words []string
}{
	{"http", []string{"http", "url", "fetch"}},
	{"file", []string{"file", "path", "write", "fs"}},
	{"db", []string{"db", "sql", "query", "table"}},
	{"queue", []string{"queue", "topic", "publish", "kafka"}},
}

// StubKind names the stub a replay answers tool with when the run recorded
// no result for it (http, file, db or queue), or "" when there is none.
func StubKind(tool string) string {
	name := strings.ToLower(tool)
	for _, k := range stubKinds {
		for _, w := range k.words {
			if strings.Contains(name, w) {
				return k.kind
			}
		}
	}
	return ""
}

// stubReplay is a stub replay as Gait v1 grades it: every intent with a
// recorded result replays it, intents of a stubbed kind get a stub, and
// any other intent without a result is missing (exit code 2).
// A run that records two results for one intent cannot be replayed: Err
// names the intent.
type stubReplay struct {
	ExitCode       int
	MissingResults []string
	Err            string
}

func replayStubbed(rp *pack.Runpack) stubReplay {
	has := make(map[string]bool, len(rp.Results))
	for _, r := range rp.Results {
		if has[r.IntentID] {
			return stubReplay{Err: "duplicate result for intent_id: " + r.IntentID}
		}
		has[r.IntentID] = true
	}
	rep := stubReplay{MissingResults: []string{}}
	for _, in := range rp.Intents {
		if !has[in.IntentID] && StubKind(in.ToolName) == "" {
			rep.MissingResults = append(rep.MissingResults, in.IntentID)
		}
	}
	if len(rep.MissingResults) > 0 {
		rep.ExitCode = 2
	}
	return rep
}
