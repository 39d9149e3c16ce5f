package pack_test

import (
	"bufio"
	"bytes"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/pack/packtest"
)

// Every file of a runpack written here validates against the Gait v1
// schemas, including a signed one.
func TestRunpackValidatesAgainstCorpusSchemas(t *testing.T) {
	c := jsonschema.NewCompiler()
	schema := func(name string) *jsonschema.Schema {
		s, err := c.Compile(filepath.Join("..", "..", "shared", "conformance", "gait-v1", "schemas", "runpack", name+".schema.json"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	schemas := map[string]*jsonschema.Schema{
		pack.FileManifest: schema("manifest"), pack.FileRun: schema("run"), pack.FileRefs: schema("refs"),
		pack.FileIntents: schema("intent"), pack.FileResults: schema("result"),
	}
	validate := func(name string, doc []byte) {
		t.Helper()
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if err := schemas[name].Validate(v); err != nil {
			t.Errorf("%s does not validate: %v\n%s", name, err, doc)
		}
	}
	pair := packtest.Keys(t)
	for _, opts := range []pack.RecordOptions{{}, {PrivateKey: pair.Private, CaptureMode: pack.CaptureRaw, ContextEvidenceMode: "best_effort"}} {
		rp := packtest.Build(t, nil, opts)
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
