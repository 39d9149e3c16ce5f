package pack_test

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/pack/packtest"
	"github.com/gait-dev/gait/schemas"
)

// Every file of a runpack written here validates against the project's
// schemas (schemas/runpack), including a signed one.
func TestRunpackValidatesAgainstSchemas(t *testing.T) {
	names := map[string]string{
		pack.FileManifest: "runpack/manifest", pack.FileRun: "runpack/run", pack.FileRefs: "runpack/refs",
		pack.FileIntents: "runpack/intent", pack.FileResults: "runpack/result",
	}
	validate := func(name string, doc []byte) {
		t.Helper()
		if err := schemas.Validate(names[name], doc); err != nil {
			t.Errorf("%s does not validate: %v\n%s", name, err, doc)
		}
	}
	for _, rp := range packtest.Variants(t) {
		for _, name := range []string{pack.FileManifest, pack.FileRun, pack.FileRefs} {
			validate(name, rp.File(name))
		}
		for _, name := range []string{pack.FileIntents, pack.FileResults} {
			sc := bufio.NewScanner(bytes.NewReader(rp.File(name)))
			for sc.Scan() {
				validate(name, sc.Bytes())
			}
		}
	}
}
