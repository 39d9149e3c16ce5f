// Package scout inventories the agent tools and MCP servers a repository
// defines (snapshot), measures how much of that inventory the gate policies
// cover (coverage), diffs two inventories (diff), groups recorded runs into
// families of identical behaviour (signal), and keeps the local adoption log.
// Every output is deterministic: sorted, with paths relative to the working
// directory and no wall-clock time.
package scout

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/report"
)

// Schema ids and versions of the scout artifacts.
const (
	SnapshotSchemaID = "gait.scout.inventory_snapshot"
	CoverageSchemaID = "gait.scout.inventory_coverage"
	DiffSchemaID     = "gait.scout.inventory_diff"
	SchemaVersion    = "1.0.0"

	// CreatedAt is the fixed time scout artifacts carry, so the same
	// inputs give the same bytes.
	CreatedAt = "1980-01-01T00:00:00Z"
)

// Item kinds.
const (
	KindTool      = "tool"
	KindMCPServer = "mcp_server"
)

// Risk levels, lowest first.
const (
	RiskLow      = "low"
	RiskMedium   = "medium"
	RiskHigh     = "high"
	RiskCritical = "critical"
)

// maxSourceBytes bounds each file scout reads; larger files are skipped.
const maxSourceBytes = 2 << 20

// skipDirs are directories never walked: version control, dependency and
// virtual-environment trees, caches and Gait's own output.
var skipDirs = map[string]bool{
	".git": true, ".hg": true, ".svn": true, "node_modules": true, ".venv": true, "venv": true,
	"__pycache__": true, "site-packages": true, "gait-out": true,
}

// Snapshot is a gait.scout.inventory_snapshot document.
type Snapshot struct {
	SchemaID        string `json:"schema_id"`
	SchemaVersion   string `json:"schema_version"`
	CreatedAt       string `json:"created_at"`
	ProducerVersion string `json:"producer_version"`
	SnapshotID      string `json:"snapshot_id"`
	Workspace       string `json:"workspace"`
	Items           []Item `json:"items"`
}

// Item is one tool or MCP server in an inventory.
type Item struct {
	ID           string        `json:"id"`
	Kind         string        `json:"kind"`
	Name         string        `json:"name"`
	Locator      string        `json:"locator"`
	RiskLevel    string        `json:"risk_level"`
	Tags         []string      `json:"tags,omitempty"`
	Relationship *Relationship `json:"relationship,omitempty"`
}

// Relationship links an item to the snapshot and the file it came from.
type Relationship struct {
	ParentRef        Ref      `json:"parent_ref"`
	EntityRefs       []Ref    `json:"entity_refs"`
	Edges            []Edge   `json:"edges"`
	ParentRecordID   string   `json:"parent_record_id"`
	RelatedEntityIDs []string `json:"related_entity_ids"`
}

// Ref names an entity by kind and id.
type Ref struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// Edge is a directed relation between two entities.
type Edge struct {
	Kind string `json:"kind"`
	From Ref    `json:"from"`
	To   Ref    `json:"to"`
}

// SnapshotOptions configures Take.
type SnapshotOptions struct {
	Roots           []string // directories to scan; "." when empty
	Include         []string // glob patterns a file must match (path or base name); all when empty
	Exclude         []string // glob patterns that drop a file or directory
	ProducerVersion string
}

// Take walks the roots and returns the inventory of tools and MCP servers
// they define, sorted by id. Symbolic links inside a root are not followed.
func Take(opts SnapshotOptions) (*Snapshot, error) {
	roots := opts.Roots
	if len(roots) == 0 {
		roots = []string{"."}
	}
	for _, p := range slices.Concat(opts.Include, opts.Exclude) {
		if _, err := path.Match(p, ""); err != nil {
			return nil, exitcode.Invalidf("pattern %q: %v; pass shell globs such as '*.py' or 'src/*'", p, err)
		}
	}
	cwd, _ := os.Getwd()
	var items []Item
	var shown []string
	for _, root := range roots {
		st, err := os.Stat(root)
		if err != nil {
			return nil, exitcode.Invalidf("%s: root cannot be read: %v; pass existing directories with --roots", root, errors.Unwrap(err))
		}
		if !st.IsDir() {
			return nil, exitcode.Invalidf("%s: root is not a directory; pass directories with --roots", root)
		}
		shown = append(shown, displayPath(cwd, root))
		found, err := scanRoot(cwd, root, opts)
		if err != nil {
			return nil, err
		}
		items = append(items, found...)
	}
	items = dedupe(items)
	if items == nil {
		items = []Item{} // an empty inventory is [], not null
	}
	snap := &Snapshot{
		SchemaID: SnapshotSchemaID, SchemaVersion: SchemaVersion, CreatedAt: CreatedAt,
		ProducerVersion: opts.ProducerVersion, Workspace: strings.Join(shown, ","), Items: items,
	}
	snap.SnapshotID = snapshotID(items)
	for i := range snap.Items {
		snap.Items[i].Relationship = relationship(snap.SnapshotID, snap.Items[i])
	}
	return snap, nil
}

// displayPath renders p relative to cwd with forward slashes; a path
// outside cwd is shown relative to its own parent, never absolute.
func displayPath(cwd, p string) string {
	abs, err := filepath.Abs(p)
	if err == nil && cwd != "" {
		if rel, err := filepath.Rel(cwd, abs); err == nil && filepath.IsLocal(rel) || rel == "." {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(filepath.Base(filepath.Clean(p)))
}

func scanRoot(cwd, root string, opts SnapshotOptions) ([]Item, error) {
	base := displayPath(cwd, root)
	// A root named on the command line is followed when it is a symbolic
	// link; links inside it are not.
	walkRoot := root
	if resolved, err := filepath.EvalSymlinks(root); err == nil {
		walkRoot = resolved
	}
	var items []Item
	err := filepath.WalkDir(walkRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == walkRoot {
				return err
			}
			return nil // unreadable entries are skipped, not fatal
		}
		rel, _ := filepath.Rel(walkRoot, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if p != walkRoot && (skipDirs[d.Name()] || matchAny(opts.Exclude, rel)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || matchAny(opts.Exclude, rel) || len(opts.Include) > 0 && !matchAny(opts.Include, rel) {
			return nil
		}
		kind := sourceKind(d.Name())
		if kind == "" {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() > maxSourceBytes {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		items = append(items, detectFile(path.Join(base, rel), kind, data)...)
		return nil
	})
	if err != nil {
		return nil, exitcode.Invalidf("%s: %v; pass readable directories with --roots", root, err)
	}
	return items, nil
}

// matchAny reports whether any pattern matches the slash path rel or its
// base name.
func matchAny(patterns []string, rel string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, rel); ok {
			return true
		}
		if ok, _ := path.Match(p, path.Base(rel)); ok {
			return true
		}
	}
	return false
}

// sourceKind says how a file is read: "py", "ts" or "config" (JSON/YAML).
func sourceKind(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".py":
		return "py"
	case ".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs":
		return "ts"
	case ".json", ".yaml", ".yml":
		return "config"
	}
	return ""
}

// detectFile returns the inventory items one file defines; kind is "py",
// "ts" or "config".
func detectFile(locator, kind string, data []byte) []Item {
	var items []Item
	switch kind {
	case "config":
		for _, s := range parseMCPConfig(locator, data) {
			if strings.TrimSpace(s.Name) != "" {
				items = append(items, Item{ID: KindMCPServer + ":" + idPart(s.Name), Kind: KindMCPServer, Name: s.Name, Locator: locator,
					RiskLevel: RiskLevel(s.Name), Tags: []string{"mcp"}})
			}
		}
	case "py", "ts":
		found := detectPython
		if kind == "ts" {
			found = detectTS
		}
		for _, f := range found(data) {
			items = append(items, toolItem(f, locator))
		}
	}
	return items
}

func toolItem(f foundTool, locator string) Item {
	fw := cmp.Or(f.Framework, "unknown")
	return Item{
		ID: KindTool + ":framework:" + fw + ":" + idPart(f.Name), Kind: KindTool,
		Name: f.Name, Locator: locator, RiskLevel: RiskLevel(f.Name), Tags: []string{"framework:" + fw},
	}
}

// idPart is a name's part of an item id: its normalized identifier, or for
// a name with no ASCII letter or digit (say, in another script) "u_" and a
// digest prefix of the name, so it still has a stable, distinct id.
func idPart(name string) string {
	if id := normalizeIdentifier(name); id != "" {
		return id
	}
	return "u_" + digest.Bytes([]byte(name))[:12]
}

// normalizeIdentifier lowercases s and turns every rune other than a-z and
// 0-9 into "_", trimming "_" at both ends (v1's item id form).
func normalizeIdentifier(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return strings.Trim(b.String(), "_")
}

// moneyWords move money; a tool named with one is critical.
var moneyWords = map[string]bool{"pay": true, "payment": true, "payments": true, "transfer": true, "wire": true, "refund": true, "charge": true, "withdraw": true, "payout": true}

// execWords run code or commands; a tool named with one is medium risk.
var execWords = map[string]bool{"exec": true, "execute": true, "shell": true, "bash": true, "sh": true, "cmd": true, "command": true, "eval": true, "run": true, "terminal": true, "subprocess": true, "sql": true, "script": true}

// RiskLevel rates a tool or server by the words in its name, using the
// same verb classes as `gait report top` (report.ToolClass): destructive
// verbs and money movement are critical, writes and egress high, code or
// command execution medium, everything else low.
func RiskLevel(name string) string {
	words := report.NameWords(name)
	switch {
	case report.ToolClass(name) == report.ClassDestructive, slices.ContainsFunc(words, func(w string) bool { return moneyWords[w] }):
		return RiskCritical
	case report.ToolClass(name) == report.ClassWrite:
		return RiskHigh
	case slices.ContainsFunc(words, func(w string) bool { return execWords[w] }):
		return RiskMedium
	}
	return RiskLow
}

// IsHighRisk reports whether a risk level is high or critical.
func IsHighRisk(level string) bool { return level == RiskHigh || level == RiskCritical }

// dedupe keeps one item per id, the one with the smallest locator, and
// sorts by id.
func dedupe(items []Item) []Item {
	slices.SortStableFunc(items, func(a, b Item) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Locator, b.Locator))
	})
	return slices.CompactFunc(items, func(a, b Item) bool { return a.ID == b.ID })
}

// snapshotID derives the snapshot's id from its items (without their
// relationships): the same inventory always has the same id.
func snapshotID(items []Item) string {
	type bare struct {
		ID, Kind, Name, Locator, RiskLevel string
		Tags                               []string
	}
	var bs []bare
	for _, it := range items {
		bs = append(bs, bare{it.ID, it.Kind, it.Name, it.Locator, it.RiskLevel, it.Tags})
	}
	d, err := digest.JSON(bs)
	if err != nil {
		d = digest.Bytes(fmt.Appendf(nil, "%v", bs))
	}
	return "snap_" + d[:12]
}

func relationship(snapID string, it Item) *Relationship {
	resource := Ref{Kind: "resource", ID: it.Locator}
	tool := Ref{Kind: "tool", ID: it.ID}
	related := []string{it.Locator, it.ID}
	slices.Sort(related)
	refs := []Ref{resource, tool}
	slices.SortFunc(refs, func(a, b Ref) int { return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID)) })
	return &Relationship{
		ParentRef:        Ref{Kind: "evidence", ID: snapID},
		EntityRefs:       refs,
		Edges:            []Edge{{Kind: "derived_from", From: tool, To: resource}},
		ParentRecordID:   snapID,
		RelatedEntityIDs: related,
	}
}
