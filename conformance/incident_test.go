package conformance_test

import (
	"encoding/json"
	"fmt"
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

// TestReduceInterchange checks that a run reduced by Gait verifies with the
// reference and the other way round, and both pick the same failing step.
func TestReduceInterchange(t *testing.T) {
	ref := referenceBin(t)
	dir := t.TempDir()
	var intents, results []string
	for i := range 20 {
		status := "ok"
		if i == 13 {
			status = "error"
		}
		intents = append(intents, fmt.Sprintf(`{"intent_id":"intent_%d","tool_name":"tool.read","args":{"n":%d}}`, i, i))
		results = append(results, fmt.Sprintf(`{"intent_id":"intent_%d","status":%q,"result":{"n":%d}}`, i, status, i))
	}
	rec := fmt.Sprintf(`{"run":{"run_id":"run_fail","created_at":"2026-02-05T00:00:00Z","env":{"os":"linux","arch":"amd64","runtime":"go"},"timeline":[]},"intents":[%s],"results":[%s],"refs":{"receipts":[]}}`,
		strings.Join(intents, ","), strings.Join(results, ","))
	if err := os.WriteFile(filepath.Join(dir, "fail.json"), []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, dir, gaitBin, "run", "record", "--input", "fail.json")
	selected := func(out string) string {
		var r struct {
			Report struct {
				SelectedIntentID   string `json:"selected_intent_id"`
				ReducedIntentCount int    `json:"reduced_intent_count"`
			} `json:"report"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%s/%d", r.Report.SelectedIntentID, r.Report.ReducedIntentCount)
	}
	g := selected(mustRun(t, dir, gaitBin, "run", "reduce", "--from", "run_fail", "--predicate", "non_ok_status", "--out", "g.zip", "--json"))
	w := selected(mustRun(t, dir, ref, "run", "reduce", "--from", "gait-out/runpack_run_fail.zip", "--predicate", "non_ok_status", "--out", "r.zip", "--json"))
	if g != w {
		t.Fatalf("gait kept %s, reference %s", g, w)
	}
	mustRun(t, dir, ref, "verify", "g.zip", "--json")
	mustRun(t, dir, gaitBin, "verify", "r.zip", "--json")
}

// TestGuardPacksInterchange checks that evidence packs verify across
// implementations, signed and unsigned, and that both build the same
// entries from the same inputs.
func TestGuardPacksInterchange(t *testing.T) {
	ref := referenceBin(t)
	dir := t.TempDir()
	for _, f := range []string{"trace_read.json", "trace_delete.json"} {
		b, err := os.ReadFile(need(t, "conformance/gait-v1/artifacts/gate/"+f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, dir, gaitBin, "demo")
	mustRun(t, dir, gaitBin, "keys", "init", "--out-dir", "k")
	args := []string{"guard", "pack", "--run", "run_demo", "--template", "incident_response", "--trace", "trace_read.json,trace_delete.json", "--case-id", "INC-1", "--key-mode", "prod", "--private-key", "k/gait_private.key"}
	out := mustRun(t, dir, gaitBin, append(args, "--out", "gait.zip", "--json")...)
	mustRun(t, dir, ref, append(args, "--out", "ref.zip", "--json")...)
	for _, verify := range []struct{ bin, pack string }{{ref, "gait.zip"}, {gaitBin, "ref.zip"}, {gaitBin, "gait.zip"}, {ref, "ref.zip"}} {
		got := mustRun(t, dir, verify.bin, "guard", "verify", verify.pack, "--profile", "strict", "--public-key", "k/gait_public.key", "--json")
		if !strings.Contains(got, `"signature_status":"verified"`) {
			t.Errorf("%s guard verify %s: signature not verified: %s", filepath.Base(verify.bin), verify.pack, got)
		}
	}
	var g struct {
		PackID string `json:"pack_id"`
	}
	if err := json.Unmarshal([]byte(out), &g); err != nil {
		t.Fatal(err)
	}
	refOut := mustRun(t, dir, ref, "guard", "verify", "ref.zip", "--json")
	if !strings.Contains(refOut, `"pack_id":"`+g.PackID+`"`) {
		t.Errorf("pack ids differ: gait %s, reference %s", g.PackID, refOut)
	}
}

// TestIncidentPackMatchesReference checks that Gait's incident pack selects
// the same evidence in the window as the reference, and that each side's
// pack verifies with the other.
func TestIncidentPackMatchesReference(t *testing.T) {
	ref := referenceBin(t)
	dir := t.TempDir()
	mustRun(t, dir, gaitBin, "demo")
	trace, err := os.ReadFile(need(t, "conformance/gait-v1/artifacts/gate/trace_read.json"))
	if err != nil {
		t.Fatal(err)
	}
	regress, err := os.ReadFile(need(t, "conformance/gait-v1/artifacts/regress/regress_result.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"trace_read.json": trace, "regress_result.json": regress} {
		if err := os.WriteFile(filepath.Join(dir, "gait-out", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, window := range []string{"24h", "1h"} {
		gOut := mustRun(t, dir, gaitBin, "incident", "pack", "--from", "run_demo", "--window", window, "--out", "g.zip", "--json")
		rOut := mustRun(t, dir, ref, "incident", "pack", "--from", "run_demo", "--window", window, "--out", "r.zip", "--json")
		var g, r struct {
			PackID string `json:"pack_id"`
		}
		if json.Unmarshal([]byte(gOut), &g) != nil || json.Unmarshal([]byte(rOut), &r) != nil || g.PackID != r.PackID {
			t.Errorf("window %s: pack ids differ (same contents expected): gait %s, reference %s", window, gOut, rOut)
		}
		mustRun(t, dir, ref, "guard", "verify", "g.zip", "--json")
		mustRun(t, dir, gaitBin, "guard", "verify", "r.zip", "--json")
	}
}

// TestVerifyChainInterchange checks that each side's verify chain accepts a
// signed run, gate trace and evidence pack written by the other, and that
// each side's trace verify accepts the other's signed trace.
func TestVerifyChainInterchange(t *testing.T) {
	ref := referenceBin(t)
	for _, side := range []struct{ name, writer, reader string }{{"gait-writes", gaitBin, ref}, {"reference-writes", ref, gaitBin}} {
		t.Run(side.name, func(t *testing.T) {
			dir := t.TempDir()
			mustRun(t, dir, gaitBin, "keys", "init", "--out-dir", "k")
			in := need(t, "conformance/gait-v1/inputs/run_record.json")
			mustRun(t, dir, side.writer, "run", "record", "--input", in, "--key-mode", "prod", "--private-key", "k/gait_private.key", "--out-dir", "gait-out")
			mustRun(t, dir, side.writer, "demo", "--policy")
			pol := need(t, "conformance/gait-v1/inputs/policy/base_high_risk.yaml")
			intent := need(t, "conformance/gait-v1/inputs/policy/intents/intent_read.json")
			mustRun(t, dir, side.writer, "gate", "eval", "--policy", pol, "--intent", intent, "--key-mode", "prod", "--private-key", "k/gait_private.key", "--trace-out", "t.json")
			mustRun(t, dir, side.writer, "guard", "pack", "--run", "gait-out/runpack_run_legacy_fixture.zip", "--trace", "t.json", "--key-mode", "prod", "--private-key", "k/gait_private.key", "--out", "ev.zip")
			mustRun(t, dir, side.reader, "verify", "chain", "--run", "gait-out/runpack_run_legacy_fixture.zip", "--trace", "t.json", "--pack", "ev.zip",
				"--profile", "strict", "--public-key", "k/gait_public.key", "--json")
			mustRun(t, dir, side.reader, "trace", "verify", "t.json", "--public-key", "k/gait_public.key", "--json")
		})
	}
}

// TestEncryptionInterchange checks that each side decrypts what the other
// encrypted, and refuses a wrong key.
func TestEncryptionInterchange(t *testing.T) {
	ref := referenceBin(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "plain.txt"), []byte("incident evidence\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	key := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	t.Setenv("GAIT_TEST_KEY", key)
	t.Setenv("GAIT_WRONG_KEY", "HwAeAB0AHAAbABoAGQAYABcAFgAVABQAEwASABEAEAA=")
	for _, side := range []struct{ name, enc, dec string }{{"gait-to-reference", gaitBin, ref}, {"reference-to-gait", ref, gaitBin}} {
		t.Run(side.name, func(t *testing.T) {
			mustRun(t, dir, side.enc, "guard", "encrypt", "--in", "plain.txt", "--out", side.name+".gaitenc", "--key-env", "GAIT_TEST_KEY")
			mustRun(t, dir, side.dec, "guard", "decrypt", "--in", side.name+".gaitenc", "--out", side.name+".txt", "--key-env", "GAIT_TEST_KEY")
			got, err := os.ReadFile(filepath.Join(dir, side.name+".txt"))
			if err != nil || string(got) != "incident evidence\n" {
				t.Fatalf("round trip gave %q, %v", got, err)
			}
			if _, code := runIn(t, dir, side.dec, "guard", "decrypt", "--in", side.name+".gaitenc", "--out", "wrong.txt", "--key-env", "GAIT_WRONG_KEY"); code == 0 {
				t.Fatal("a wrong key decrypted")
			}
		})
	}
}

// TestWrapperExitCodesMatchReference checks that trace|test|enforce end
// with the reference's exit codes for the same child and traces, and that
// trace verify accepts the reference's signed corpus trace shape.
func TestWrapperExitCodesMatchReference(t *testing.T) {
	ref := referenceBin(t)
	dir := t.TempDir()
	for _, v := range []string{"read", "write", "delete"} {
		b, err := os.ReadFile(need(t, "conformance/gait-v1/artifacts/gate/trace_"+v+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, v+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	child := "for t in \"$@\"; do echo \"trace_path=$t\"; done\n"
	if err := os.WriteFile(filepath.Join(dir, "child.sh"), []byte(child), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][]string{
		{"trace", "read.json"}, {"trace", "delete.json"}, {"test", "write.json"},
		{"enforce", "read.json"}, {"enforce", "delete.json"}, {"enforce", "write.json"}, {"enforce", "missing.json"},
		{"enforce", "read.json", "delete.json"}, {"test"},
	} {
		args := append([]string{c[0], "--", "sh", "child.sh"}, c[1:]...)
		_, g := runIn(t, dir, gaitBin, args...)
		_, r := runIn(t, dir, ref, args...)
		if g != r {
			t.Errorf("%v: gait exit %d, reference %d", c, g, r)
		}
	}
	mustRun(t, dir, gaitBin, "trace", "verify", "read.json")
}

// TestMigrateCorpusIsCurrent checks that the v1 corpus runpacks are already
// what Gait's writer writes (no_change), and that the reference agrees about
// an unsigned runpack Gait migrated. (The reference reports any signed
// runpack as migrated, even its own, so signed ones are checked on Gait's
// side only, with the reference verifying the output.)
func TestMigrateCorpusIsCurrent(t *testing.T) {
	ref := referenceBin(t)
	dir := t.TempDir()
	for i, rel := range []string{"conformance/gait-v1/artifacts/runpack_run_demo.zip", "conformance/gait-v1/artifacts/signed/runpack_run_legacy_fixture.zip"} {
		out := filepath.Join(dir, fmt.Sprintf("m%d.zip", i))
		got := mustRun(t, dir, gaitBin, "migrate", need(t, rel), "--out", out, "--json")
		if !strings.Contains(got, `"status":"no_change"`) {
			t.Errorf("%s: %s", rel, got)
		}
		mustRun(t, dir, ref, "verify", out, "--json")
		if i == 1 {
			continue
		}
		refOut := mustRun(t, dir, ref, "migrate", out, "--out", out+".ref.zip", "--json")
		if !strings.Contains(refOut, `"status":"no_change"`) {
			t.Errorf("reference on Gait's %s: %s", out, refOut)
		}
	}
}

// TestEvidencePackInventoryAndPDF checks that inventory snapshots and the
// rendered summary.pdf give the reference's pack, byte for byte (same pack
// id), for every template, and that each side verifies the other's.
func TestEvidencePackInventoryAndPDF(t *testing.T) {
	ref := referenceBin(t)
	dir := t.TempDir()
	inv := `{"schema_id":"gait.scout.inventory_snapshot","schema_version":"1.0.0","created_at":"2026-02-05T00:00:00Z","snapshot_id":"s1","items":[{"tool":"tool.read"}],"extra":1}`
	if err := os.WriteFile(filepath.Join(dir, "inv.json"), []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, dir, gaitBin, "demo")
	packID := func(out string) string {
		var r struct {
			PackID string `json:"pack_id"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil || r.PackID == "" {
			t.Fatalf("no pack_id in %s", out)
		}
		return r.PackID
	}
	for _, tmpl := range []string{"soc2", "pci", "incident_response"} {
		args := []string{"guard", "pack", "--run", "run_demo", "--inventory", "inv.json", "--render-pdf", "--template", tmpl, "--case-id", "C(1)", "--json"}
		g := packID(mustRun(t, dir, gaitBin, append(args, "--out", "g_"+tmpl+".zip")...))
		r := packID(mustRun(t, dir, ref, append(args, "--out", "r_"+tmpl+".zip")...))
		if g != r {
			t.Errorf("%s: gait pack %s, reference pack %s", tmpl, g, r)
		}
		mustRun(t, dir, ref, "guard", "verify", "g_"+tmpl+".zip", "--json")
		mustRun(t, dir, gaitBin, "guard", "verify", "r_"+tmpl+".zip", "--json")
	}
	g := packID(mustRun(t, dir, gaitBin, "incident", "pack", "--from", "run_demo", "--render-pdf", "--out", "gi.zip", "--json"))
	r := packID(mustRun(t, dir, ref, "incident", "pack", "--from", "run_demo", "--render-pdf", "--out", "ri.zip", "--json"))
	if g != r {
		t.Errorf("incident pack: gait %s, reference %s", g, r)
	}
}
