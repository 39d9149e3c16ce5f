package conformance_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyProfileAndKeysDifferential: verify and pack verify give v1's
// exit code for every combination of --profile, --require-signature and
// key source (file or variable, public or private, right or wrong key), on
// signed and unsigned runpacks and packs written by v1.
func TestVerifyProfileAndKeysDifferential(t *testing.T) {
	ref := referenceBin(t)
	dir := t.TempDir()
	run := func(bin string, env []string, args ...string) int {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		code := exitCodeOf(t, err)
		if code == 1 {
			t.Fatalf("%s %s: internal error\n%s", filepath.Base(bin), strings.Join(args, " "), out)
		}
		return code
	}
	record := `{"run":{"run_id":"run_signed","created_at":"2026-01-01T00:00:00Z","producer_version":"x"},"intents":[{"intent_id":"i1","tool_name":"tool.read","args":{"path":"/a"}}],"results":[{"intent_id":"i1","status":"ok","result":{"n":1}}],"refs":{"receipts":[]}}`
	if err := os.WriteFile(filepath.Join(dir, "run.json"), []byte(record), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"keys", "init", "--out-dir", "k"},
		{"keys", "init", "--out-dir", "other"},
		{"run", "record", "--input", "run.json", "--key-mode", "prod", "--private-key", "k/gait_private.key"},
		{"run", "record", "--input", "run.json", "--run-id", "run_unsigned"},
		{"pack", "build", "--type", "run", "--from", "run_signed", "--key-mode", "prod", "--private-key", "k/gait_private.key", "--out", "signed_pack.zip"},
		{"pack", "build", "--type", "run", "--from", "run_unsigned", "--out", "unsigned_pack.zip"},
	} {
		if code := run(ref, nil, args...); code != 0 {
			t.Fatalf("v1 %v: exit %d", args, code)
		}
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	env := []string{"PUB=" + read("k/gait_public.key"), "PRIV=" + read("k/gait_private.key"), "OTHER=" + read("other/gait_public.key")}
	keySources := [][]string{nil, {"--public-key", "k/gait_public.key"}, {"--public-key-env", "PUB"}, {"--private-key", "k/gait_private.key"},
		{"--private-key-env", "PRIV"}, {"--public-key", "other/gait_public.key"}, {"--public-key-env", "OTHER"}}
	targets := [][]string{{"verify", "gait-out/runpack_run_signed.zip"}, {"verify", "gait-out/runpack_run_unsigned.zip"},
		{"pack", "verify", "signed_pack.zip"}, {"pack", "verify", "unsigned_pack.zip"}}
	n := 0
	for _, target := range targets {
		for _, profile := range []string{"", "standard", "strict"} {
			for _, keys := range keySources {
				for _, require := range []bool{false, true} {
					args := append([]string{}, target...)
					if profile != "" {
						args = append(args, "--profile", profile)
					}
					args = append(args, keys...)
					if require {
						args = append(args, "--require-signature")
					}
					args = append(args, "--json")
					want, got := run(ref, env, args...), run(gaitBin, env, args...)
					n++
					if want != got {
						t.Errorf("%s: v1 exit %d, gait exit %d", strings.Join(args, " "), want, got)
					}
				}
			}
		}
	}
	if n < 150 {
		t.Fatalf("only %d cases", n)
	}
	// keys verify and delegate verify with keys from files and variables
	// (v1's keys verify refuses a public key alone; Gait checks that it parses)
	if code := run(ref, env, "delegate", "mint", "--delegator", "alice", "--delegate", "bot", "--scope", "tool:x", "--ttl", "1h",
		"--key-mode", "prod", "--private-key", "k/gait_private.key", "--out", "tok.json"); code != 0 {
		t.Fatalf("v1 delegate mint: exit %d", code)
	}
	for _, args := range [][]string{
		{"keys", "verify", "--private-key-env", "PRIV", "--public-key-env", "PUB"},
		{"keys", "verify", "--private-key", "k/gait_private.key", "--public-key-env", "OTHER"},
		{"keys", "verify", "--private-key", "k/gait_private.key", "--public-key", "other/gait_public.key"},
		{"keys", "verify", "--private-key-env", "NOPE"},
		{"delegate", "verify", "--token", "tok.json", "--public-key-env", "PUB"},
		{"delegate", "verify", "--token", "tok.json", "--private-key-env", "PRIV"},
		{"delegate", "verify", "--token", "tok.json", "--public-key-env", "OTHER"},
		{"delegate", "verify", "--token", "tok.json", "--public-key", "other/gait_public.key"},
	} {
		args = append(args, "--json")
		if want, got := run(ref, env, args...), run(gaitBin, env, args...); want != got {
			t.Errorf("%s: v1 exit %d, gait exit %d", strings.Join(args, " "), want, got)
		}
	}
}
