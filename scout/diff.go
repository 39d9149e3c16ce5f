package scout

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
)

// maxSnapshotBytes bounds a snapshot file read by diff.
const maxSnapshotBytes = 64 << 20

// Diff is a gait.scout.inventory_diff document: what changed between two
// snapshots. Items match by id.
type Diff struct {
	SchemaID        string       `json:"schema_id"`
	SchemaVersion   string       `json:"schema_version"`
	LeftSnapshotID  string       `json:"left_snapshot_id"`
	RightSnapshotID string       `json:"right_snapshot_id"`
	Added           []DiffItem   `json:"added,omitempty"`
	Removed         []DiffItem   `json:"removed,omitempty"`
	Changed         []DiffChange `json:"changed,omitempty"`
	AddedCount      int          `json:"added_count"`
	RemovedCount    int          `json:"removed_count"`
	ChangedCount    int          `json:"changed_count"`
}

// DiffItem is an item present on one side only.
type DiffItem struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Locator   string `json:"locator"`
	RiskLevel string `json:"risk_level"`
}

// DiffChange is an item present on both sides whose name, kind, locator,
// risk level or tags differ.
type DiffChange struct {
	ID              string `json:"id"`
	Kind            string `json:"kind"`
	Name            string `json:"name"`
	BeforeLocator   string `json:"before_locator"`
	AfterLocator    string `json:"after_locator"`
	BeforeRiskLevel string `json:"before_risk_level"`
	AfterRiskLevel  string `json:"after_risk_level"`
}

// Drift reports whether the diff found any difference.
func (d *Diff) Drift() bool { return d.AddedCount+d.RemovedCount+d.ChangedCount > 0 }

// ReadSnapshot reads and checks a snapshot file. Every error is a user
// error (exit 6) naming the file.
func ReadSnapshot(path string) (*Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, exitcode.Invalidf("%s: cannot read snapshot: %v; pass a file written by `gait scout snapshot`", path, errors.Unwrap(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSnapshotBytes+1))
	if err != nil {
		return nil, exitcode.Invalidf("%s: cannot read snapshot: %v; pass a file written by `gait scout snapshot`", path, err)
	}
	if len(data) > maxSnapshotBytes {
		return nil, exitcode.Invalidf("%s: snapshot is larger than %d bytes; pass a file written by `gait scout snapshot`", path, maxSnapshotBytes)
	}
	snap, err := ParseSnapshot(data)
	if err != nil {
		return nil, exitcode.Invalidf("%s: %v; pass a file written by `gait scout snapshot`", path, err)
	}
	return snap, nil
}

// ParseSnapshot decodes a snapshot document and checks its schema id and
// that every item has an id.
func ParseSnapshot(data []byte) (*Snapshot, error) {
	var snap Snapshot
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&snap); err != nil {
		return nil, fmt.Errorf("not a JSON snapshot: %w", err)
	}
	if snap.SchemaID != SnapshotSchemaID {
		return nil, fmt.Errorf("schema_id is %q, not %s", snap.SchemaID, SnapshotSchemaID)
	}
	for i, it := range snap.Items {
		if it.ID == "" {
			return nil, fmt.Errorf("items[%d] has no id", i)
		}
	}
	return &snap, nil
}

// DiffSnapshots compares two snapshots by item id; each list is sorted by id.
func DiffSnapshots(left, right *Snapshot) *Diff {
	d := &Diff{SchemaID: DiffSchemaID, SchemaVersion: SchemaVersion, LeftSnapshotID: left.SnapshotID, RightSnapshotID: right.SnapshotID}
	l, r := byID(left.Items), byID(right.Items)
	for _, id := range slices.Sorted(maps.Keys(r)) {
		it := r[id]
		before, ok := l[id]
		switch {
		case !ok:
			d.Added = append(d.Added, diffItem(it))
		case before.Kind != it.Kind || before.Name != it.Name || before.Locator != it.Locator ||
			before.RiskLevel != it.RiskLevel || !slices.Equal(before.Tags, it.Tags):
			d.Changed = append(d.Changed, DiffChange{ID: id, Kind: it.Kind, Name: it.Name,
				BeforeLocator: before.Locator, AfterLocator: it.Locator, BeforeRiskLevel: before.RiskLevel, AfterRiskLevel: it.RiskLevel})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(l)) {
		if _, ok := r[id]; !ok {
			d.Removed = append(d.Removed, diffItem(l[id]))
		}
	}
	d.AddedCount, d.RemovedCount, d.ChangedCount = len(d.Added), len(d.Removed), len(d.Changed)
	return d
}

func diffItem(it Item) DiffItem {
	return DiffItem{ID: it.ID, Kind: it.Kind, Name: it.Name, Locator: it.Locator, RiskLevel: it.RiskLevel}
}

// byID indexes items by id; of duplicate ids the first wins.
func byID(items []Item) map[string]Item {
	m := make(map[string]Item, len(items))
	for _, it := range items {
		if _, dup := m[it.ID]; !dup {
			m[it.ID] = it
		}
	}
	return m
}

// WriteFile writes a scout document (snapshot, coverage, diff, signal
// report) to path as indented JSON, atomically, so a snapshot committed to
// a repository diffs line by line.
func WriteFile(path string, doc any) error {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
