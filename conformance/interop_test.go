package conformance_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInteropReference: the reference binary verifies runpacks Gait records
// (unsigned and signed) and passes the repository's own regress fixtures.
func TestInteropReference(t *testing.T) {
	ref := referenceBin(t)
	root := repoRoot(t)
	dir := t.TempDir()
	run := func(bin string, args ...string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
		}
	}
	runs, err := filepath.Glob(filepath.Join(root, "testdata", "runs", "*.json"))
	if err != nil || len(runs) == 0 {
		t.Fatalf("no run records in testdata/runs: %v", err)
	}
	run(gaitBin, "demo")
	for _, r := range runs {
		run(gaitBin, "run", "record", "--input", r, "--out-dir", "rec")
	}
	zips, _ := filepath.Glob(filepath.Join(dir, "rec", "*.zip"))
	for _, z := range append(zips, filepath.Join(dir, "gait-out", "runpack_run_demo.zip")) {
		run(ref, "verify", z)
	}
	run(gaitBin, "keys", "init", "--out-dir", "keys")
	run(gaitBin, "run", "record", "--input", need(t, "conformance/gait-v1/inputs/run_record.json"), "--out-dir", "signed", "--key-mode", "prod", "--private-key", filepath.Join("keys", "gait_private.key"))
	run(ref, "verify", filepath.Join("signed", "runpack_run_legacy_fixture.zip"), "--public-key", filepath.Join("keys", "gait_public.key"), "--require-signature")

	// The repository's fixtures, copied so the reference writes nothing in the checkout.
	repo := filepath.Join(dir, "repo")
	copyFile(t, filepath.Join(root, "gait.yaml"), filepath.Join(repo, "gait.yaml"))
	fixtures, _ := filepath.Glob(filepath.Join(root, "fixtures", "*", "*"))
	for _, f := range fixtures {
		rel, _ := filepath.Rel(root, f)
		copyFile(t, f, filepath.Join(repo, rel))
	}
	cmd := exec.Command(ref, "regress", "run", "--output", filepath.Join(dir, "ref_result.json"))
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("reference regress run on the repository's fixtures: %v\n%s", err, out)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
