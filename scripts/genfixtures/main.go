// Command genfixtures writes a regress config with many small fixtures for
// the benchmarks in docs/performance.md. Each fixture is a copy of one made
// from a runpack (gait demo writes one):
//
//	gait demo && go run ./scripts/genfixtures -from gait-out/runpack_run_demo.zip -n 10000 -dir big
//	gait regress run --config big/gait.yaml
//
// Every -fail'th fixture gets a fixture.json that expects another tool at
// step 2, so it fails.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gait-dev/gait/regress"
)

func main() {
	from := flag.String("from", "gait-out/runpack_run_demo.zip", "runpack the fixtures are made from")
	n := flag.Int("n", 10000, "number of fixtures")
	dir := flag.String("dir", "bench-fixtures", "folder to write gait.yaml and fixtures/ into (must not exist)")
	failEvery := flag.Int("fail", 0, "make every Nth fixture fail (0: none)")
	flag.Parse()
	if err := gen(*from, *dir, *n, *failEvery); err != nil {
		fmt.Fprintln(os.Stderr, "genfixtures:", err)
		os.Exit(1)
	}
}

func gen(from, dir string, n, failEvery int) error {
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("%s exists; pass a new -dir", dir)
	}
	tmp := filepath.Join(dir, "template")
	res, err := regress.Init(regress.InitOptions{From: from, Name: "template", ConfigPath: filepath.Join(tmp, regress.DefaultConfig), OutDir: tmp})
	if err != nil {
		return err
	}
	runpack, err := os.ReadFile(res.RunpackPath)
	if err != nil {
		return err
	}
	fixtureJSON, err := os.ReadFile(filepath.Join(filepath.Dir(res.RunpackPath), regress.FixtureFile))
	if err != nil {
		return err
	}
	var fixture map[string]any
	if err := json.Unmarshal(fixtureJSON, &fixture); err != nil {
		return err
	}
	type ref struct {
		Name    string `json:"name"`
		RunID   string `json:"run_id"`
		Runpack string `json:"runpack"`
	}
	refs := make([]ref, n)
	for i := range n {
		name := fmt.Sprintf("f%06d", i)
		fdir := filepath.Join(dir, "fixtures", name)
		if err := os.MkdirAll(fdir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(fdir, "runpack.zip"), runpack, 0o644); err != nil {
			return err
		}
		fixture["name"] = name
		if failEvery > 0 && i%failEvery == failEvery-1 {
			seq, _ := fixture["expected_tool_sequence"].([]any)
			bad := append([]any{}, seq...)
			if len(bad) > 1 {
				bad[1] = "tool.other"
			}
			fixture["expected_tool_sequence"] = bad
			err = writeJSON(filepath.Join(fdir, regress.FixtureFile), fixture)
			fixture["expected_tool_sequence"] = seq
		} else {
			err = writeJSON(filepath.Join(fdir, regress.FixtureFile), fixture)
		}
		if err != nil {
			return err
		}
		refs[i] = ref{Name: name, RunID: res.RunID, Runpack: "fixtures/" + name + "/runpack.zip"}
	}
	cfg := map[string]any{"schema_id": "gait.regress.config", "schema_version": "1.0.0", "fixture_set": "bench", "fixtures": refs}
	if err := writeJSON(filepath.Join(dir, regress.DefaultConfig), cfg); err != nil {
		return err
	}
	return os.RemoveAll(tmp)
}

func writeJSON(p string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(p, append(data, '\n'), 0o644)
}
