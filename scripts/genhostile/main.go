// Command genhostile writes the hostile runpacks and the regress project
// measured in docs/performance.md: one runpack per variant (zip bombs,
// lying sizes, many entries, a disagreeing local header) and a gait.yaml
// whose fixtures are those runpacks.
//
//	go run ./scripts/genhostile -out /tmp/hostile -size 1073741824 -ratio 260
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gait-dev/gait/pack/packtest"
)

func main() {
	out := flag.String("out", "hostile", "directory to write into")
	size := flag.Int64("size", 1<<30, "bytes each bomb inflates to")
	ratio := flag.Int("ratio", 260, "inflated:compressed ratio of the bombs (0: as far as deflate goes)")
	entries := flag.Int64("entries", 60000, "entries of the many-entries variant")
	flag.Parse()
	if err := run(*out, *size, *ratio, *entries); err != nil {
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
		if v == packtest.ManyEntries {
			n = entries
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
		if err := os.WriteFile(filepath.Join(dir, "runpack.zip"), data, 0o644); err != nil { //nolint:gosec // test inputs
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
	return os.WriteFile(path, append(b, '\n'), 0o644) //nolint:gosec // test inputs
}
