package conformance_test

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/pack/packtest"
)

// Every file of a runpack written here validates against the Gait v1
// schemas, including a signed one.
func TestPackRunpackValidatesAgainstV1Schemas(t *testing.T) {
	c := jsonschema.NewCompiler()
	schema := func(name string) *jsonschema.Schema {
		s, err := c.Compile(need(t, "conformance/gait-v1/schemas/runpack/"+name+".schema.json"))
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
	// A minimal record: no env, timeline, producer or per-record fields.
	minimal := func(r *pack.RunRecord) {
		r.Run.Env, r.Run.Timeline, r.Run.ProducerVersion = nil, nil, ""
		for i := range r.Intents {
			r.Intents[i].ProducerVersion, r.Intents[i].CreatedAt = "", ""
		}
		for i := range r.Results {
			r.Results[i].ProducerVersion, r.Results[i].CreatedAt = "", ""
		}
		r.Refs = pack.Refs{}
	}
	for _, c := range []struct {
		edit func(*pack.RunRecord)
		opts pack.RecordOptions
	}{
		{nil, pack.RecordOptions{}},
		{nil, pack.RecordOptions{PrivateKey: pair.Private, CaptureMode: pack.CaptureRaw, ContextEvidenceMode: "best_effort"}},
		{minimal, pack.RecordOptions{}},
	} {
		rp := packtest.Build(t, c.edit, c.opts)
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
