package pack

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/digest"
)

// Records Gait v1 accepts are accepted as they are: any result status,
// run ids that do not start with run_, and empty args or results, which are
// kept as their digest only.
func TestBuildAcceptsV1Records(t *testing.T) {
	tests := []struct {
		name string
		edit func(*RunRecord)
		want func(t *testing.T, rp *Runpack)
	}{
		{"blocked status", func(r *RunRecord) { r.Results[0].Status = "blocked" }, nil},
		{"deny status", func(r *RunRecord) { r.Results[0].Status = "deny" }, nil},
		{"dry_run status", func(r *RunRecord) { r.Results[0].Status = "dry_run" }, nil},
		{"empty status", func(r *RunRecord) { r.Results[0].Status = "" }, nil},
		{"no created_at: the record's first time", func(r *RunRecord) { r.Run.CreatedAt = "" }, func(t *testing.T, rp *Runpack) {
			if rp.Run.CreatedAt != rp.Intents[0].CreatedAt || rp.Manifest.CreatedAt != rp.Intents[0].CreatedAt {
				t.Fatalf("created_at = %q, manifest %q, want the first intent's %q", rp.Run.CreatedAt, rp.Manifest.CreatedAt, rp.Intents[0].CreatedAt)
			}
		}},
		{"no time at all: the zip epoch", func(r *RunRecord) {
			r.Run.CreatedAt, r.Run.Timeline = "", nil
			for i := range r.Intents {
				r.Intents[i].CreatedAt = ""
			}
			for i := range r.Results {
				r.Results[i].CreatedAt = ""
			}
		}, func(t *testing.T, rp *Runpack) {
			if rp.Run.CreatedAt != epoch || rp.Intents[0].CreatedAt != epoch {
				t.Fatalf("created_at = %q / %q, want %s", rp.Run.CreatedAt, rp.Intents[0].CreatedAt, epoch)
			}
		}},
		{"upper-case run id", func(r *RunRecord) { r.Run.RunID = "Run_Upper" }, func(t *testing.T, rp *Runpack) {
			if rp.Manifest.RunID != "Run_Upper" {
				t.Fatalf("run id = %q", rp.Manifest.RunID)
			}
		}},
		{"empty args", func(r *RunRecord) { r.Intents[0].Args, r.Intents[0].ArgsDigest = json.RawMessage(`{ }`), "" }, func(t *testing.T, rp *Runpack) {
			in := rp.Intents[0]
			if in.Args != nil || in.ArgsDigest != digest.Bytes([]byte("{}")) {
				t.Fatalf("args = %s digest %s, want no args and the digest of {}", in.Args, in.ArgsDigest)
			}
			if strings.Contains(strings.SplitN(string(rp.File(FileIntents)), "\n", 2)[0], `"args":`) {
				t.Fatal("intents.jsonl keeps empty args")
			}
		}},
		{"empty result", func(r *RunRecord) { r.Results[0].Result, r.Results[0].ResultDigest = json.RawMessage(`{}`), "" }, func(t *testing.T, rp *Runpack) {
			if r := rp.Results[0]; r.Result != nil || r.ResultDigest != digest.Bytes([]byte("{}")) {
				t.Fatalf("result = %s digest %s, want no result and the digest of {}", r.Result, r.ResultDigest)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := DemoRecord()
			tt.edit(rec)
			rp, err := Build(rec, RecordOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != nil {
				tt.want(t, rp)
			}
		})
	}
}

func TestValidRunID(t *testing.T) {
	for id, want := range map[string]bool{
		// What v1 accepts is accepted...
		"run_demo": true, "Run_Upper": true, "job-1": true, "r": true, "_run": true,
		"run x": true, "run.x": true, "run_é": true, "a:b": true, strings.Repeat("a", 255): true,
		// ...except what cannot be part of one file name, or one line.
		"": false, "run/x": false, `run\x`: false, ".": false, "..": false, "run\nx": false,
		"run\u202ex": false, strings.Repeat("a", 256): false,
	} {
		if got := ValidRunID(id); got != want {
			t.Errorf("ValidRunID(%q) = %v, want %v", id, got, want)
		}
	}
}
