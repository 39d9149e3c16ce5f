package guard

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gait-dev/gait/internal/exitcode"
)

// SchemaRetention is the schema of a retention report.
const SchemaRetention = "gait.guard.retention_report"

// RetainOptions say what to expire under Root.
type RetainOptions struct {
	Root     string
	TraceTTL time.Duration // trace_*.json older than this go
	PackTTL  time.Duration // evidence_pack_*.zip and *.gaitenc older than this go
	DryRun   bool
	Now      time.Time
}

// RetainedFile is one file retention looked at.
type RetainedFile struct {
	Action     string `json:"action"` // deleted, would_delete or kept
	AgeSeconds int64  `json:"age_seconds"`
	Kind       string `json:"kind"` // trace or pack
	ModifiedAt string `json:"modified_at"`
	Path       string `json:"path"`
}

// RetentionReport is what Retain did (or, in a dry run, would do).
type RetentionReport struct {
	SchemaID        string         `json:"schema_id"`
	SchemaVersion   string         `json:"schema_version"`
	CreatedAt       string         `json:"created_at"`
	ProducerVersion string         `json:"producer_version"`
	RootPath        string         `json:"root_path"`
	DryRun          bool           `json:"dry_run"`
	TraceTTLSeconds int64          `json:"trace_ttl_seconds"`
	PackTTLSeconds  int64          `json:"pack_ttl_seconds"`
	ScannedFiles    int            `json:"scanned_files"`
	DeletedFiles    []RetainedFile `json:"deleted_files"`
	KeptFiles       []RetainedFile `json:"kept_files"`
}

// retentionKind classifies a file by name: gate traces (trace_*.json) and
// evidence packs (evidence_pack_*.zip, and encrypted artifacts *.gaitenc).
// Runpacks and everything else are never touched.
func retentionKind(name string) string {
	switch {
	case strings.HasPrefix(name, "trace_") && strings.HasSuffix(name, ".json"):
		return "trace"
	case strings.HasPrefix(name, "evidence_pack_") && strings.HasSuffix(name, ".zip"), strings.HasSuffix(name, ".gaitenc"):
		return "pack"
	}
	return ""
}

// Retain walks Root and deletes traces and evidence packs older than their
// TTL (by modification time), regular files only; symlinks are not
// followed. A dry run deletes nothing and reports would_delete. Paths in the
// report are sorted (the walk's lexical order).
func Retain(opts RetainOptions, producerVersion string) (RetentionReport, error) {
	rep := RetentionReport{
		SchemaID: SchemaRetention, SchemaVersion: SchemaVersion, CreatedAt: opts.Now.UTC().Format(time.RFC3339Nano),
		ProducerVersion: producerVersion, RootPath: opts.Root, DryRun: opts.DryRun,
		TraceTTLSeconds: int64(opts.TraceTTL / time.Second), PackTTLSeconds: int64(opts.PackTTL / time.Second),
		DeletedFiles: []RetainedFile{}, KeptFiles: []RetainedFile{},
	}
	if opts.TraceTTL <= 0 || opts.PackTTL <= 0 {
		return rep, exitcode.Invalidf("--trace-ttl and --pack-ttl must be positive durations (e.g. 168h)")
	}
	if st, err := os.Stat(opts.Root); err != nil || !st.IsDir() {
		return rep, exitcode.Invalidf("%s: not a folder; pass --root with the folder holding traces and packs", opts.Root)
	}
	// Walk and delete through an os.Root, so nothing outside --root can be
	// reached, even if a folder is swapped for a symlink mid-walk.
	root, err := os.OpenRoot(opts.Root)
	if err != nil {
		return rep, exitcode.Invalidf("%s: %v; pass --root with a readable folder", opts.Root, unwrapPathErr(err))
	}
	defer root.Close()
	err = fs.WalkDir(root.FS(), ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		kind := retentionKind(d.Name())
		if kind == "" {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rep.ScannedFiles++
		age := opts.Now.Sub(info.ModTime())
		ttl := opts.TraceTTL
		if kind == "pack" {
			ttl = opts.PackTTL
		}
		path := filepath.Join(opts.Root, filepath.FromSlash(rel))
		f := RetainedFile{Action: "kept", AgeSeconds: int64(age / time.Second), Kind: kind, ModifiedAt: info.ModTime().UTC().Format(time.RFC3339), Path: path}
		if age <= ttl {
			rep.KeptFiles = append(rep.KeptFiles, f)
			return nil
		}
		f.Action = "would_delete"
		if !opts.DryRun {
			if err := root.Remove(rel); err != nil {
				return err
			}
			f.Action = "deleted"
		}
		rep.DeletedFiles = append(rep.DeletedFiles, f)
		return nil
	})
	if err != nil {
		return rep, exitcode.Wrap(exitcode.Internal, err)
	}
	return rep, nil
}
