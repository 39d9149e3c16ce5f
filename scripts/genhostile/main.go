// Command genhostile writes the hostile runpacks and the regress project
// measured in docs/performance.md: one runpack per variant (zip bombs,
// lying sizes, many entries, a disagreeing local header, records whose
// digests hold but cost memory once decoded) and a gait.yaml
// whose fixtures are those runpacks.
//
//	go run ./scripts/genhostile -out /tmp/hostile -size 1073741824 -ratio 260
//
// With -testdata it writes instead the few small hostile runpacks committed
// under testdata/hostile for the command-line scripts.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/pack/packtest"
)

func main() {
	out := flag.String("out", "hostile", "directory to write into")
	size := flag.Int64("size", 1<<30, "bytes each bomb inflates to")
	ratio := flag.Int("ratio", 260, "inflated:compressed ratio of the bombs (0: as far as deflate goes)")
	entries := flag.Int64("entries", 60000, "entries of the many-entries variant")
	testdata := flag.String("testdata", "", "write the small committed set into this directory instead")
	flag.Parse()
	var err error
	if *testdata != "" {
		err = small(*testdata)
	} else {
		err = run(*out, *size, *ratio, *entries)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genhostile:", err)
		os.Exit(1)
	}
}

func run(out string, size int64, ratio int, entries int64) error {
	type fixture struct {
		Name    string `json:"name"`
		RunID   string `json:"run_id"`
		Runpack string `json:"runpack"`
	}
	var fixtures []fixture
	for _, v := range packtest.HostileVariants {
		n := size
		switch v {
		case packtest.ManyEntries:
			n = entries
		case packtest.ManyRecords, packtest.FatRecords:
			// Records whose digests hold: as large as an entry may be.
			n = min(size, pack.RunpackLimits.MaxEntrySize-2<<20)
		}
		data, err := packtest.Hostile(v, n, ratio)
		if err != nil {
			return err
		}
		name := "hostile_" + v
		dir := filepath.Join(out, "fixtures", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "runpack.zip"), data, 0o644); err != nil {
			return err
		}
		fx := map[string]any{
			"schema_id": "gait.regress.fixture", "schema_version": "1.0.0",
			"name": name, "run_id": "run_demo", "runpack": "runpack.zip",
			"expected_replay_exit_code": 0,
		}
		if err := writeJSON(filepath.Join(dir, "fixture.json"), fx); err != nil {
			return err
		}
		fixtures = append(fixtures, fixture{name, "run_demo", "fixtures/" + name + "/runpack.zip"})
	}
	return writeJSON(filepath.Join(out, "gait.yaml"), map[string]any{
		"schema_id": "gait.regress.config", "schema_version": "1.0.0",
		"fixture_set": "hostile", "fixtures": fixtures,
	})
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// small writes the committed set: each a few KiB, each refused.
func small(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	write := func(name string, data []byte, err error) error {
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	data, err := packtest.Hostile(packtest.BombDeclared, 16<<20, 0)
	if err := write("bomb_declared.zip", data, err); err != nil {
		return err
	}
	data, err = packtest.Hostile(packtest.BombUndeclared, 1<<20, 100)
	if err := write("bomb_undeclared.zip", data, err); err != nil {
		return err
	}
	data, err = packtest.Hostile(packtest.ManyEntries, 100, 0)
	if err := write("many_entries.zip", data, err); err != nil {
		return err
	}
	data, err = packtest.Hostile(packtest.LocalHeader, 0, 0)
	if err := write("local_header.zip", data, err); err != nil {
		return err
	}
	data, err = packtest.WithRunID("run_x\n## forged heading")
	return write("runid_newline.zip", data, err)
}
