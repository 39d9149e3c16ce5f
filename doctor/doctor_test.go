package doctor

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/keys"
	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/pack/packtest"
	"github.com/gait-dev/gait/regress"
)

// setup makes a healthy working directory in a fresh temp dir: gait-out with
// the demo runpack and a key pair, a fixture made from it, a policy.
func setup(t *testing.T) {
	t.Helper()
	t.Chdir(t.TempDir())
	packtest.Write(t, pack.DefaultPath("gait-out", pack.DemoRunID), nil)
	if _, err := keys.Init("gait-out/keys", "gait", false); err != nil {
		t.Fatal(err)
	}
	write(t, "policies/agents.yaml", "schema_id: gait.gate.policy\nschema_version: 1.0.0\ndefault_verdict: allow\n")
	if _, err := regress.Init(regress.InitOptions{From: pack.DemoRunID, OutDir: "gait-out", ConfigPath: "gait.yaml"}); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func find(t *testing.T, res Result, id string) Check {
	t.Helper()
	for _, c := range res.Checks {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no %s check in %+v", id, res.Checks)
	return Check{}
}

func TestHealthy(t *testing.T) {
	setup(t)
	for _, prod := range []bool{false, true} {
		res := Run(Options{ProductionReadiness: prod, Version: "v1.0.0"})
		if !res.OK || res.Status != Pass || len(res.FixCommands) != 0 {
			t.Errorf("production=%v: healthy setup: %+v", prod, res)
		}
		for _, id := range []string{CheckOutputDir, CheckKeys, CheckKeyPermissions, CheckPolicies, CheckConfig, CheckFixtures, CheckVersion} {
			if c := find(t, res, id); c.Status != Pass {
				t.Errorf("production=%v: %s = %+v", prod, id, c)
			}
		}
	}
}

// Each case breaks one thing and names the check, its status, whether the
// whole result fails, a message fragment and the fix it must suggest.
func TestBroken(t *testing.T) {
	cases := []struct {
		name    string
		prod    bool
		breakIt func(t *testing.T)
		id      string
		status  Status
		failed  bool
		message string
		fix     string
	}{
		{"output dir missing", false, func(*testing.T) { _ = os.RemoveAll("gait-out") }, CheckOutputDir, Warn, false,
			"does not exist yet", "mkdir -p gait-out"},
		{"output dir is a file", false, func(t *testing.T) { _ = os.RemoveAll("gait-out"); write(t, "gait-out", "x") }, CheckOutputDir, Fail, true,
			"is a file", "mv gait-out gait-out.old && mkdir -p gait-out"},
		{"no keys in dev mode", false, func(*testing.T) { _ = os.RemoveAll("gait-out/keys") }, CheckKeys, Warn, false,
			"dev mode", "gait keys init --out-dir gait-out/keys"},
		{"no keys in production", true, func(*testing.T) { _ = os.RemoveAll("gait-out/keys") }, CheckKeys, Fail, true,
			"production refuses dev mode", "gait keys init --out-dir gait-out/keys"},
		{"mismatched pair", true, func(t *testing.T) {
			p, _ := keys.Generate()
			write(t, "gait-out/keys/gait_public.key", keys.Encode(p.Public))
		}, CheckKeys, Fail, true, "not one pair", "gait keys init --out-dir gait-out/keys --force"},
		{"corrupt private key", false, func(t *testing.T) { write(t, "gait-out/keys/gait_private.key", "not base64!") }, CheckKeys, Warn, false,
			"gait_private.key", "gait keys init --out-dir gait-out/keys --force"},
		{"policy does not parse", false, func(t *testing.T) { write(t, "policies/bad.yaml", "rules: [") }, CheckPolicies, Fail, true,
			"bad.yaml", "gait policy validate policies/bad.yaml"},
		{"no gait.yaml", false, func(*testing.T) { _ = os.Remove("gait.yaml") }, CheckConfig, Warn, false,
			"run_demo can become the first", "gait regress bootstrap --from run_demo"},
		{"no gait.yaml and no runs", false, func(*testing.T) { _ = os.Remove("gait.yaml"); _ = os.RemoveAll("gait-out") }, CheckConfig, Warn, false,
			"gait demo writes one", "gait demo"},
		{"malformed gait.yaml", false, func(t *testing.T) { write(t, "gait.yaml", "fixtures: [") }, CheckConfig, Fail, true,
			"malformed config", "git checkout -- gait.yaml"},
		{"fixture runpack tampered", false, func(t *testing.T) { write(t, "fixtures/run_demo/runpack.zip", "not a zip") }, CheckFixtures, Fail, true,
			"fixture run_demo", "gait regress add --from run_demo --name run_demo --config gait.yaml"},
		{"fixture.json missing, run gone", false, func(*testing.T) {
			_ = os.Remove("fixtures/run_demo/fixture.json")
			_ = os.Remove("gait-out/runpack_run_demo.zip")
		}, CheckFixtures, Fail, true, "fixture.json", "git checkout -- fixtures/run_demo"},
		{"development build in production", true, func(*testing.T) {}, CheckVersion, Warn, false,
			"development build", "go install github.com/gait-dev/gait/cmd/gait@" + ReleasedVersion},
	}
	if runtime.GOOS != "windows" {
		cases = append(cases, struct {
			name    string
			prod    bool
			breakIt func(t *testing.T)
			id      string
			status  Status
			failed  bool
			message string
			fix     string
		}{"private key readable by others", true, func(t *testing.T) { must(t, os.Chmod("gait-out/keys/gait_private.key", 0o644)) }, CheckKeyPermissions, Fail, true,
			"readable by others", "chmod 600 gait-out/keys/gait_private.key"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			setup(t)
			tc.breakIt(t)
			version := "v1.0.0"
			if tc.id == CheckVersion {
				version = "0.0.0-dev"
			}
			res := Run(Options{ProductionReadiness: tc.prod, Version: version})
			c := find(t, res, tc.id)
			if c.Status != tc.status || !strings.Contains(c.Message, tc.message) || c.Fix != tc.fix {
				t.Errorf("%s = %+v\nwant status %s, message containing %q, fix %q", tc.id, c, tc.status, tc.message, tc.fix)
			}
			if res.OK == tc.failed {
				t.Errorf("ok = %v, want %v (%+v)", res.OK, !tc.failed, res.Checks)
			}
			if !strings.Contains(strings.Join(res.FixCommands, "\n"), tc.fix) {
				t.Errorf("fix %q not in fix_commands %q", tc.fix, res.FixCommands)
			}
		})
	}
}

// TestExplicitKeys: keys someone names must work even in dev mode.
func TestExplicitKeys(t *testing.T) {
	setup(t)
	res := Run(Options{PrivateKey: "k/ci_private.key"})
	c := find(t, res, CheckKeys)
	if c.Status != Fail || res.OK || c.Fix != "gait keys init --out-dir k --prefix ci" {
		t.Errorf("missing named key: %+v", c)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
