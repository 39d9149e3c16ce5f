package conformance_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runIn runs bin with args in dir and returns stdout and the exit code.
func runIn(t *testing.T, dir, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError) //nolint:errorlint // Output returns *exec.ExitError unwrapped
		if !ok {
			t.Fatalf("%s %v: %v", bin, args, err)
		}
		code = ee.ExitCode()
	}
	t.Logf("%s %s: exit %d\n%s%s", filepath.Base(bin), strings.Join(args, " "), code, out, stderr.String())
	return string(out), code
}

// mustRun is runIn that fails the test unless the command exits 0.
func mustRun(t *testing.T, dir, bin string, args ...string) string {
	t.Helper()
	out, code := runIn(t, dir, bin, args...)
	if code != 0 {
		t.Fatalf("%s %v: exit %d", filepath.Base(bin), args, code)
	}
	return out
}

// TestCaptureReceiptsInterchange checks that each side's capture receipt is
// read by the other: the reference imports a Gait receipt with regress add,
// and Gait follows a reference receipt to the same runpack.
func TestCaptureReceiptsInterchange(t *testing.T) {
	ref := referenceBin(t)
	dir := t.TempDir()
	mustRun(t, dir, gaitBin, "demo")
	mustRun(t, dir, gaitBin, "capture", "--from", "run_demo", "--out", "gait_capture.json")
	mustRun(t, dir, ref, "regress", "add", "--from", "gait_capture.json", "--json")
	if _, err := os.Stat(filepath.Join(dir, "fixtures", "run_demo", "runpack.zip")); err != nil {
		t.Fatalf("reference regress add did not import the Gait receipt's runpack: %v", err)
	}

	mustRun(t, dir, ref, "capture", "--from", "run_demo", "--out", "ref_capture.json")
	out := mustRun(t, dir, gaitBin, "capture", "--from", "ref_capture.json", "--out", "again.json", "--json")
	var r struct {
		ArtifactPath string `json:"artifact_path"`
		RunID        string `json:"run_id"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.ArtifactPath != "gait-out/runpack_run_demo.zip" || r.RunID != "run_demo" {
		t.Fatalf("Gait resolved the reference receipt to %+v", r)
	}
}

// TestCaptureSessionCheckpointMatchesReference checks both sides pick the
// same runpack for an explicit checkpoint of the v1 session chain.
func TestCaptureSessionCheckpointMatchesReference(t *testing.T) {
	ref := referenceBin(t)
	src := need(t, "conformance/gait-v1/artifacts/sessions")
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	pick := func(bin string) string {
		out := mustRun(t, dir, bin, "capture", "--from", "demo.journal_chain.json", "--checkpoint", "1", "--out", filepath.Base(bin)+".json", "--json")
		var r struct {
			ArtifactPath string `json:"artifact_path"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		return r.ArtifactPath
	}
	if g, w := pick(gaitBin), pick(ref); g != w {
		t.Fatalf("checkpoint 1: gait picked %s, reference %s", g, w)
	}
}
