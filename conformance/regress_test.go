package conformance_test

import (
	"testing"

	"github.com/gait-dev/gait/regress"
)

// TestRegressCorpusFixturesPass: v1's gait.yaml and fixture pass here.
func TestRegressCorpusFixturesPass(t *testing.T) {
	rep, err := regress.Run(need(t, "conformance/gait-v1/artifacts/regress/gait.yaml"), regress.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != regress.StatusPass || rep.Passed != 1 || rep.ExitCode() != 0 {
		t.Fatalf("%+v", rep)
	}
}
