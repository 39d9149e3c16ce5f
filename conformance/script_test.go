package conformance_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gait-dev/gait/internal/scripttest"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestScripts runs the scripts in testdata/script with the Gait binary under
// test on PATH as gait. $SHARED is GAIT_CONFORMANCE_DIR, $CORPUS the v1
// corpus in it, $EVENTS the GitHub event payloads, $REF the reference
// binary and $REPO the module root.
func TestScripts(t *testing.T) {
	for _, rel := range []string{"conformance/gait-v1", "conformance/github-events", "peers/gait-reference"} {
		need(t, rel)
	}
	bin := t.TempDir()
	if err := os.Symlink(gaitBin, filepath.Join(bin, "gait")); err != nil {
		t.Fatal(err)
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("GAIT_UPDATE") == "1",
		Cmds:                scripttest.Cmds(),
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", bin+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv("SHARED", sharedDir)
			env.Setenv("CORPUS", filepath.Join(sharedDir, "conformance", "gait-v1"))
			env.Setenv("EVENTS", filepath.Join(sharedDir, "conformance", "github-events"))
			env.Setenv("REF", filepath.Join(sharedDir, "peers", "gait-reference"))
			env.Setenv("REPO", repo)
			return nil
		},
	})
}
