package actions

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
)

// TestShardMatrix runs the matrix template's jobs against a fake GitHub:
// four shards that only write files, then one merge job that reports once,
// with the unsharded run's JUnit and result document.
func TestShardMatrix(t *testing.T) {
	r := newRepo(t, []string{"alpha", "beta", "gamma", "delta", "epsilon"}, []string{"zeta", "eta"})
	gh := newFakeGitHub(t, testToken)
	for i := 1; i <= 4; i++ {
		rn := newRunner(t, r, gh, "pull_request.synchronize")
		rn.env["INPUT_SHARD"] = fmt.Sprintf("%d/4", i)
		rn.env["INPUT_JUNIT"] = fmt.Sprintf("gait-out/shard-%d/junit.xml", i)
		out := rn.run()
		if out.err != nil {
			t.Fatalf("shard %d: %v", i, out.err)
		}
		if out.summary != "" || len(annotations(out.stdout, "error")) != 0 {
			t.Errorf("shard %d wrote a summary or annotations:\n%s", i, out.stdout)
		}
		if !strings.HasPrefix(out.outputs[OutputSummary], fmt.Sprintf("gait regress shard %d/4 ", i)) {
			t.Errorf("shard %d: summary output %q", i, out.outputs[OutputSummary])
		}
		// actions/download-artifact puts each artifact in its own folder.
		data, err := os.ReadFile(filepath.Join(r.dir, "gait-out", fmt.Sprintf("shard-%d", i), resultName))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(r.dir, "shards", fmt.Sprintf("gait-shard-%d", i), resultName)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gh.verify() // no API call from a shard

	whole := newRunner(t, r, nil, "pull_request.synchronize")
	whole.env["INPUT_COMMENT"] = "false"
	whole.env["INPUT_JUNIT"] = "gait-out/whole/junit.xml"
	want := whole.run()

	rn := newRunner(t, r, gh, "pull_request.synchronize")
	rn.env["INPUT_MERGE"] = "shards"
	out := rn.run()
	if out.err != nil {
		t.Fatal(out.err)
	}
	if out.res.ExitCode != int(exitcode.RegressFailed) || out.res.Failed != 2 || out.res.Comment != "created" {
		t.Fatalf("merge result %+v", out.res)
	}
	gh.verify(createCalls()...)
	if n := len(gh.mine()); n != 1 {
		t.Fatalf("%d comments, want exactly one", n)
	}
	if got := len(annotations(out.stdout, "error")); got != 2 {
		t.Errorf("%d error annotations, want one per failing fixture:\n%s", got, out.stdout)
	}
	for _, f := range []string{"junit.xml", resultName} {
		got, exp := out.files[filepath.Join(r.dir, "gait-out", f)], want.files[filepath.Join(r.dir, "gait-out", "whole", f)]
		if got == "" || got != exp {
			t.Errorf("merged %s differs from the unsharded run's:\n%s\nwant:\n%s", f, got, exp)
		}
	}
	if want.summary == "" || want.summary != out.summary {
		t.Errorf("merged summary differs from the unsharded run's:\n%s\nwant:\n%s", out.summary, want.summary)
	}
}

func TestShardInputs(t *testing.T) {
	r := newRepo(t, []string{"alpha", "beta"}, nil)
	for _, tt := range []struct{ shard, merge, want string }{
		{"5/4", "", `--shard "5/4"`},
		{"1/2", "shards", "shard and merge are both set"},
		{"", "missing", "missing: cannot read"},
	} {
		rn := newRunner(t, r, nil, "")
		rn.env["INPUT_SHARD"], rn.env["INPUT_MERGE"] = tt.shard, tt.merge
		out := rn.run()
		if exitcode.Of(out.err) != exitcode.InvalidInput || !strings.Contains(out.err.Error(), tt.want) {
			t.Errorf("shard %q merge %q: err = %v, want exit 6 with %q", tt.shard, tt.merge, out.err, tt.want)
		}
	}
}
