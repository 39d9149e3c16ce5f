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
