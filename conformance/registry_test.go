package conformance_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/jcs"
	"github.com/gait-dev/gait/schemas"
)

// v1Sign signs a registry pack the way v1 does, written here from the
// format's description and not with Gait's registry package: the digest is
// the SHA-256 of the RFC 8785 form of the pack without signatures (with
// pack_type, publisher and source lower-cased), and the signature is
// ed25519 over the 32 digest bytes.
func v1Sign(t *testing.T, doc map[string]any, priv ed25519.PrivateKey) (signed []byte, digest string) {
	t.Helper()
	delete(doc, "signatures")
	c, err := jcs.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(c)
	pub := priv.Public().(ed25519.PublicKey)
	kid := sha256.Sum256(pub)
	doc["signatures"] = []map[string]string{{
		"alg": "ed25519", "key_id": hex.EncodeToString(kid[:]),
		"sig": base64.StdEncoding.EncodeToString(ed25519.Sign(priv, sum[:])), "signed_digest": hex.EncodeToString(sum[:]),
	}}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b, hex.EncodeToString(sum[:])
}

func writeKey(t *testing.T, path string, raw []byte) {
	t.Helper()
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(raw)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRegistryInterop: a pack signed the v1 way installs and verifies with
// both Gait and the reference; a pack `gait registry sign` makes installs
// and verifies with the reference; each reads the other's cache.
func TestRegistryInterop(t *testing.T) {
	ref := referenceBin(t)
	dir := t.TempDir()
	run := func(wantCode int, bin string, args ...string) string {
		t.Helper()
		out, code := runIn(t, dir, bin, args...)
		if code != wantCode {
			t.Errorf("%s %s: exit %d, want %d", filepath.Base(bin), strings.Join(args, " "), code, wantCode)
		}
		return out
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	writeKey(t, filepath.Join(dir, "pub_public.key"), pub)
	writeKey(t, filepath.Join(dir, "pub_private.key"), priv)
	doc := map[string]any{
		"schema_id": "gait.registry.pack", "schema_version": "1.0.0", "created_at": "2026-01-01T00:00:00Z",
		"producer_version": "0.0.0-v1", "pack_name": "baseline-highrisk", "pack_version": "1.1.0", "pack_type": "policy",
		"publisher": "acme", "source": "registry", "risk_class": "high", "use_case": "tool-gating",
		"compatibility": []string{"gait>=1.0.0"}, "provenance": map[string]any{"build": "ci", "run": 42},
		"artifacts": []map[string]string{{"path": "policy.yaml", "sha256": strings.Repeat("a", 64), "media_type": "application/yaml"}},
	}
	v1Pack, v1Digest := v1Sign(t, doc, priv)
	if err := os.WriteFile(filepath.Join(dir, "v1_pack.json"), v1Pack, 0o644); err != nil {
		t.Fatal(err)
	}

	// v1-signed → Gait (and the reference agrees).
	for _, bin := range []string{gaitBin, ref} {
		out := run(0, bin, "registry", "verify", "--path", "v1_pack.json", "--public-key", "pub_public.key", "--publisher-allowlist", "acme", "--json")
		if !strings.Contains(out, `"digest":"`+v1Digest+`"`) {
			t.Errorf("%s registry verify: digest is not %s:\n%s", filepath.Base(bin), v1Digest, out)
		}
	}
	run(0, gaitBin, "registry", "install", "--source", "v1_pack.json", "--public-key", "pub_public.key", "--pin", "sha256:"+v1Digest, "--cache-dir", "gait_cache")
	run(0, ref, "registry", "install", "--source", "v1_pack.json", "--public-key", "pub_public.key", "--pin", "sha256:"+v1Digest, "--cache-dir", "ref_cache")

	// Gait-signed → the reference.
	draft := map[string]any{
		"schema_id": "gait.registry.pack", "schema_version": "1.0.0", "created_at": "2026-02-01T00:00:00Z",
		"producer_version": "0.0.0-dev", "pack_name": "skill-guardrails", "pack_version": "1.0.0", "pack_type": "Skill",
		"publisher": " Acme ", "source": "Registry", "artifacts": []map[string]string{{"path": "SKILL.md", "sha256": strings.Repeat("b", 64)}},
	}
	b, _ := json.Marshal(draft)
	if err := os.WriteFile(filepath.Join(dir, "draft.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	var signed struct {
		Digest string `json:"digest"`
	}
	if err := json.Unmarshal([]byte(run(0, gaitBin, "registry", "sign", "--path", "draft.json", "--out", "gait_pack.json", "--private-key", "pub_private.key", "--json")), &signed); err != nil {
		t.Fatal(err)
	}
	out := run(0, ref, "registry", "verify", "--path", "gait_pack.json", "--public-key", "pub_public.key", "--publisher-allowlist", "acme", "--json")
	if !strings.Contains(out, `"digest":"`+signed.Digest+`"`) || !strings.Contains(out, `"signature_verified":true`) {
		t.Errorf("reference registry verify of a Gait-signed pack:\n%s", out)
	}
	run(0, ref, "registry", "install", "--source", "gait_pack.json", "--public-key", "pub_public.key", "--publisher-allowlist", "acme", "--pin", "sha256:"+signed.Digest, "--cache-dir", "ref_cache")
	run(0, gaitBin, "registry", "install", "--source", "gait_pack.json", "--public-key", "pub_public.key", "--pin", "sha256:"+signed.Digest, "--cache-dir", "gait_cache")

	// Each lists and verifies the other's cache the same way.
	for _, pair := range [][2]string{{gaitBin, "ref_cache"}, {ref, "gait_cache"}} {
		out := run(0, pair[0], "registry", "list", "--cache-dir", pair[1], "--json")
		for _, d := range []string{v1Digest, signed.Digest} {
			if !strings.Contains(out, `"digest":"`+d+`"`) {
				t.Errorf("%s registry list --cache-dir %s lacks %s:\n%s", filepath.Base(pair[0]), pair[1], d, out)
			}
		}
		if strings.Contains(out, `"pin_verified":false`) {
			t.Errorf("%s registry list --cache-dir %s: a pin does not verify:\n%s", filepath.Base(pair[0]), pair[1], out)
		}
		cached := filepath.Join(pair[1], "skill-guardrails", "1.0.0", signed.Digest, "registry_pack.json")
		out = run(0, pair[0], "registry", "verify", "--path", cached, "--public-key", "pub_public.key", "--json")
		if !strings.Contains(out, `"pin_verified":true`) {
			t.Errorf("%s registry verify %s:\n%s", filepath.Base(pair[0]), cached, out)
		}
	}

	// What the reference writes validates against Gait's schemas.
	run(0, ref, "registry", "verify", "--path", "v1_pack.json", "--public-key", "pub_public.key", "--report-out", "ref_report.json")
	for file, schema := range map[string]string{
		filepath.Join("ref_cache", "skill-guardrails", "1.0.0", signed.Digest, "registry_pack.json"): "registry/pack",
		filepath.Join("ref_cache", "baseline-highrisk", "1.1.0", v1Digest, "registry_pack.json"):     "registry/pack",
		"v1_pack.json":    "registry/pack",
		"ref_report.json": "registry/verification_report",
	} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if err := schemas.Validate(schema, data); err != nil {
			t.Errorf("schemas/%s rejects the reference's %s: %v", schema, file, err)
		}
	}

	// Both refuse a tampered pack and a wrong pin with exit 2.
	tampered := strings.Replace(string(v1Pack), `"risk_class": "high"`, `"risk_class": "low"`, 1)
	if err := os.WriteFile(filepath.Join(dir, "tampered.json"), []byte(tampered), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, bin := range []string{gaitBin, ref} {
		run(2, bin, "registry", "install", "--source", "tampered.json", "--public-key", "pub_public.key", "--cache-dir", "x_cache")
		run(2, bin, "registry", "install", "--source", "v1_pack.json", "--public-key", "pub_public.key", "--pin", "sha256:"+strings.Repeat("0", 64), "--cache-dir", "x_cache")
		run(2, bin, "registry", "install", "--source", "v1_pack.json", "--public-key", "pub_public.key", "--publisher-allowlist", "other", "--cache-dir", "x_cache")
	}
}
