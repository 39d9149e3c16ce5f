package pack_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/safezip/ziptest"
	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/pack/packtest"
)

// retained returns what f's result keeps alive on the heap once f returns.
func retained(f func() any) (uint64, any) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := f()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	if after.HeapAlloc < before.HeapAlloc {
		return 0, v
	}
	return after.HeapAlloc - before.HeapAlloc, v
}

// A runpack whose digests all hold can still be costly once decoded: many
// tiny records, or records carrying large args. Read the way `run inspect`
// and a regress fixture read it (with and without the args a policy
// needs), it is refused at the record limit or held without its payloads,
// in a few MiB, however far its entries inflate.
func TestDecodedRunpacksStayFlat(t *testing.T) {
	const mib = 1 << 20
	many := writeHostile(t, packtest.ManyRecords, 8*mib, 0)
	for _, opts := range []pack.ReadOptions{{}, {Args: true}} {
		var err error
		n := ziptest.Allocated(func() { _, err = pack.OpenWith(many, opts) })
		if exitcode.Of(err) != exitcode.InvalidInput || !errors.Is(err, pack.ErrIntegrity) || !strings.Contains(err.Error(), "records") {
			t.Fatalf("many records %+v: %v (exit %d), want exit 6 naming the record limit", opts, err, exitcode.Of(err))
		}
		t.Logf("many records %+v: allocated %d MiB", opts, n>>20)
		// Without the limit, decoding held the 8 MiB and every one of its
		// 95,000 records: over 80 MiB allocated.
		if n > allocSlack*48*mib {
			t.Errorf("many records %+v: allocated %d MiB, want at most 48", opts, n>>20)
		}
	}

	fat := writeHostile(t, packtest.FatRecords, 12*mib, 0)
	var err error
	n := ziptest.Allocated(func() { _, err = pack.Open(fat) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fat records: allocated %d MiB", n>>20)
	if n > allocSlack*8*mib {
		t.Errorf("fat records: allocated %d MiB, want at most 8 (the records' args are not kept)", n>>20)
	}
	held, v := retained(func() any {
		rp, err := pack.Open(fat)
		if err != nil {
			t.Fatal(err)
		}
		return rp
	})
	rp := v.(*pack.Runpack)
	if len(rp.Intents) != 12 || len(rp.Intents[0].Args) != 0 || rp.Intents[0].ToolName != "tool.read" {
		t.Fatalf("fat records: %d intents, args %d bytes", len(rp.Intents), len(rp.Intents[0].Args))
	}
	t.Logf("fat records: holds %d KiB", held>>10)
	if held > 1*mib {
		t.Errorf("fat records: the decoded runpack holds %d KiB, want at most 1 MiB", held>>10)
	}
	// Kept whole for a policy, the args count against MaxHeldArgs.
	rp, err = pack.OpenWith(fat, pack.ReadOptions{Args: true})
	if err != nil || len(rp.Intents[0].Args) < mib {
		t.Fatalf("fat records with args: %v", err)
	}
}

// Records and lines over the limits are refused with exit 6 naming the
// limit; at the limits they are read.
func TestDecodeLimits(t *testing.T) {
	defer func(n int64) { pack.MaxHeldArgs = n }(pack.MaxHeldArgs)
	pack.MaxHeldArgs = 6 << 20
	fat := writeHostile(t, packtest.FatRecords, 8<<20, 0)
	if _, err := pack.Open(fat); err != nil {
		t.Fatalf("summary read: %v", err)
	}
	_, err := pack.OpenWith(fat, pack.ReadOptions{Args: true})
	if exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), "hold more than") {
		t.Fatalf("args of %d MiB: %v, want exit 6 naming the limit", pack.MaxHeldArgs>>20, err)
	}
}

// A summary read drops payloads over InlinePayload but keeps their
// digests and a result's recorded verdict; readers that ask for args or
// results get them whole, byte for byte.
func TestReadOptionsKeepPayloads(t *testing.T) {
	big := `{"text":"` + strings.Repeat("x", 2*pack.InlinePayload) + `"}`
	path := filepath.Join(t.TempDir(), "runpack.zip")
	packtest.Write(t, path, func(r *pack.RunRecord) {
		r.Intents[0].Args = json.RawMessage(big)
		r.Results[0].Result = json.RawMessage(`{"verdict":"block","body":"` + strings.Repeat("y", 2*pack.InlinePayload) + `"}`)
		r.Results[1].Result = json.RawMessage(`{"Verdict":"block"}`)
	})
	built := packtest.Build(t, nil, pack.RecordOptions{})
	for _, opts := range []pack.ReadOptions{{}, {Args: true}, {Args: true, Results: true}} {
		rp, err := pack.OpenWith(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		in, res := rp.Intents[0], rp.Results[0]
		if got := string(in.Args); (got == big) != opts.Args || in.ArgsDigest == "" {
			t.Errorf("%+v: args %d bytes, digest %q", opts, len(got), in.ArgsDigest)
		}
		if (len(res.Result) > 0) != opts.Results || res.ResultDigest == "" || res.Verdict != "block" {
			t.Errorf("%+v: result %d bytes, digest %q, verdict %q", opts, len(res.Result), res.ResultDigest, res.Verdict)
		}
		if v := rp.Results[1].Verdict; v != "" {
			t.Errorf("%+v: verdict %q read from a key other than \"verdict\"", opts, v)
		}
		if len(rp.Intents) != len(built.Intents) || string(rp.Intents[1].Args) != string(built.Intents[1].Args) {
			t.Errorf("%+v: small args not kept: %s", opts, rp.Intents[1].Args)
		}
	}
}
