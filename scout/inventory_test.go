package scout

import (
	"bytes"
	"cmp"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
)

// expectedItem is one line of an expected inventory file.
type expectedItem struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Locator   string `json:"locator"`
	RiskLevel string `json:"risk_level"`
}

func readExpected(t *testing.T, path string) []expectedItem {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want []expectedItem
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return want
}

// checkInventory compares a snapshot with an expected inventory: every
// expected item is found, with its name, file and risk, and nothing else.
func checkInventory(t *testing.T, snap *Snapshot, want []expectedItem) {
	t.Helper()
	got := map[string]expectedItem{}
	for _, it := range snap.Items {
		got[it.ID] = expectedItem{it.ID, it.Name, it.Locator, it.RiskLevel}
	}
	for _, w := range want {
		g, ok := got[w.ID]
		switch {
		case !ok:
			t.Errorf("missing %s (%s in %s)", w.ID, w.Name, w.Locator)
		case g != w:
			t.Errorf("%s: got %+v, want %+v", w.ID, g, w)
		}
		delete(got, w.ID)
	}
	for id, g := range got {
		t.Errorf("unexpected %s (%q in %s): a decoy was detected", id, g.Name, g.Locator)
	}
}

func TestFixtureRepoInventory(t *testing.T) {
	want := readExpected(t, filepath.Join("testdata", "repo_inventory.json"))
	t.Chdir(filepath.Join("testdata", "repo"))
	snap, err := Take(SnapshotOptions{ProducerVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	checkInventory(t, snap, want)
	if snap.Workspace != "." || snap.CreatedAt != CreatedAt || snap.SchemaID != SnapshotSchemaID {
		t.Errorf("header: workspace=%q created_at=%q schema_id=%q", snap.Workspace, snap.CreatedAt, snap.SchemaID)
	}
	if !slices.IsSortedFunc(snap.Items, func(a, b Item) int { return cmp.Compare(a.ID, b.ID) }) {
		t.Error("items are not sorted by id")
	}
	for _, it := range snap.Items {
		if it.Relationship == nil || it.Relationship.ParentRecordID != snap.SnapshotID {
			t.Errorf("%s: relationship does not point at the snapshot", it.ID)
		}
	}
}

// TestExamplesInventory scans the repository's examples/ as a user would
// from the repository root.
func TestExamplesInventory(t *testing.T) {
	want := readExpected(t, filepath.Join("testdata", "examples_inventory.json"))
	t.Chdir("..")
	snap, err := Take(SnapshotOptions{Roots: []string{"examples"}})
	if err != nil {
		t.Fatal(err)
	}
	checkInventory(t, snap, want)
	if snap.Workspace != "examples" {
		t.Errorf("workspace = %q, want examples", snap.Workspace)
	}
}

func TestSnapshotDeterministic(t *testing.T) {
	t.Chdir(filepath.Join("testdata", "repo"))
	var prev []byte
	for range 3 {
		snap, err := Take(SnapshotOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(snap)
		if err != nil {
			t.Fatal(err)
		}
		if prev != nil && !bytes.Equal(prev, b) {
			t.Fatal("two snapshots of the same tree differ")
		}
		prev = b
	}
}

func TestSnapshotRootsIncludeExclude(t *testing.T) {
	t.Chdir(filepath.Join("testdata", "repo"))
	ids := func(opts SnapshotOptions) []string {
		t.Helper()
		snap, err := Take(opts)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range snap.Items {
			out = append(out, it.ID+"@"+it.Locator)
		}
		return out
	}
	got := ids(SnapshotOptions{Roots: []string{".cursor", ".vscode"}})
	want := []string{"mcp_server:browser@.cursor/mcp.json", "mcp_server:shell_runner@.vscode/mcp.json"}
	if !slices.Equal(got, want) {
		t.Errorf("roots: got %v, want %v", got, want)
	}
	got = ids(SnapshotOptions{Include: []string{"crew.py"}})
	if want := []string{"tool:framework:crewai:crew_search@agents/crew.py"}; !slices.Equal(got, want) {
		t.Errorf("include by base name: got %v, want %v", got, want)
	}
	got = ids(SnapshotOptions{Include: []string{"*.json", "*.yaml"}, Exclude: []string{".cursor", "config/*", "claude_*"}})
	want = []string{"mcp_server:github@.mcp.json", "mcp_server:postgres_admin@.mcp.json", "mcp_server:shell_runner@.vscode/mcp.json"}
	if !slices.Equal(got, want) {
		t.Errorf("include and exclude: got %v, want %v", got, want)
	}
}

func TestSnapshotEmpty(t *testing.T) {
	snap, err := Take(SnapshotOptions{Roots: []string{t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"items":[]`)) {
		t.Errorf("empty snapshot: %s", b)
	}
	if filepath.IsAbs(snap.Workspace) || strings.Contains(snap.Workspace, "/") {
		t.Errorf("workspace %q is absolute", snap.Workspace)
	}
}

func TestSnapshotBadInput(t *testing.T) {
	for name, opts := range map[string]SnapshotOptions{
		"missing root":  {Roots: []string{"testdata/no_such_dir"}},
		"file as root":  {Roots: []string{"inventory.go"}},
		"bad pattern":   {Include: []string{"[a-"}},
		"bad exclusion": {Exclude: []string{"\\"}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Take(opts); err == nil {
				t.Fatal("no error")
			} else if code := exitcode.Of(err); code != exitcode.InvalidInput {
				t.Fatalf("exit code %d, want 6: %v", code, err)
			}
		})
	}
}

func TestRiskLevel(t *testing.T) {
	for name, want := range map[string]string{
		"delete_user": RiskCritical, "dropTable": RiskCritical, "refund_payment": RiskCritical, "wire-transfer": RiskCritical,
		"write_file": RiskHigh, "send_email": RiskHigh, "update_record": RiskHigh,
		"execute_shell": RiskMedium, "run_sql": RiskMedium,
		"read_file": RiskLow, "search_orders": RiskLow, "github": RiskLow, "helper": RiskLow,
	} {
		if got := RiskLevel(name); got != want {
			t.Errorf("RiskLevel(%q) = %s, want %s", name, got, want)
		}
	}
}

func TestNormalizeIdentifier(t *testing.T) {
	for in, want := range map[string]string{
		"My-Server.v2": "my_server_v2", "a b/c": "a_b_c", "ünï": "n", "in_.hidden": "in__hidden", "__": "", "Crew Search": "crew_search",
	} {
		if got := normalizeIdentifier(in); got != want {
			t.Errorf("normalizeIdentifier(%q) = %q, want %q", in, got, want)
		}
	}
}
