package job

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
)

// ChainResult is what VerifyChain found.
type ChainResult struct {
	OK                 bool     `json:"ok"`
	ChainPath          string   `json:"chain_path"`
	SessionID          string   `json:"session_id,omitempty"`
	RunID              string   `json:"run_id,omitempty"`
	CheckpointsChecked int      `json:"checkpoints_checked"`
	LinkageErrors      []string `json:"linkage_errors,omitempty"`
	CheckpointErrors   []string `json:"checkpoint_errors,omitempty"`
}

// maxChainSize bounds a session chain file: a checkpoint takes about
// 450 bytes, so this holds over 30,000 of them.
const maxChainSize = 16 << 20

// ReadChain parses a session chain file (exit 6 when it is not one).
func ReadChain(path string) (*SessionChain, error) {
	if st, err := os.Stat(path); err == nil && st.Size() > maxChainSize {
		return nil, exitcode.Invalidf("%s: %d bytes, over the limit of %d for a session chain; pass the <journal>_chain.json written by `gait run session checkpoint`", path, st.Size(), maxChainSize)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, exitcode.Invalidf("%s: no such session chain; pass --chain <journal>_chain.json written by `gait run session checkpoint`", path)
		}
		return nil, exitcode.Invalidf("%s: %v", path, err)
	}
	var c SessionChain
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, exitcode.Invalidf("%s: not a session chain: %v; pass the <journal>_chain.json written by `gait run session checkpoint`", path, err)
	}
	if c.SchemaID != SchemaSessionChain {
		return nil, exitcode.Invalidf("%s: schema_id %q, want %q; pass a session chain, not another gait file", path, c.SchemaID, SchemaSessionChain)
	}
	if major, _, _ := strings.Cut(c.SchemaVersion, "."); major != "1" {
		return nil, exitcode.Invalidf("%s: schema_version %q has an unknown major version; upgrade gait to read it", path, c.SchemaVersion)
	}
	if len(c.Checkpoints) == 0 {
		return nil, exitcode.Invalidf("%s: the chain has no checkpoints; add one with `gait run session checkpoint`", path)
	}
	return &c, nil
}

// resolveRunpack finds a checkpoint's runpack: the path as written
// (relative to the working directory), else relative to the chain's folder.
func resolveRunpack(chainPath, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return filepath.Join(filepath.Dir(chainPath), p)
}

// VerifyChain checks every link of a session chain (index, sequence range,
// previous digest, checkpoint digest) and verifies every checkpoint runpack
// and its manifest digest. A broken chain is exit 2, naming each link.
func VerifyChain(chainPath string, opts pack.VerifyOptions) (ChainResult, error) {
	res := ChainResult{ChainPath: chainPath}
	c, err := ReadChain(chainPath)
	if err != nil {
		return res, err
	}
	res.SessionID, res.RunID = c.SessionID, c.RunID
	prevDigest := ""
	var prevEnd int64
	for i, cp := range c.Checkpoints {
		name := fmt.Sprintf("checkpoint %d", i+1)
		link := func(format string, args ...any) {
			res.LinkageErrors = append(res.LinkageErrors, name+": "+fmt.Sprintf(format, args...))
		}
		if cp.SchemaID != SchemaSessionCheckpoint {
			link("schema_id %q, want %q", cp.SchemaID, SchemaSessionCheckpoint)
		}
		if cp.CheckpointIndex != int64(i+1) {
			link("checkpoint_index %d at position %d", cp.CheckpointIndex, i+1)
		}
		if cp.SessionID != c.SessionID || cp.RunID != c.RunID {
			link("belongs to session %s run %s, not the chain's %s run %s", cp.SessionID, cp.RunID, c.SessionID, c.RunID)
		}
		if cp.SequenceStart < 1 || cp.SequenceEnd < cp.SequenceStart {
			link("sequence range %d..%d is empty or invalid", cp.SequenceStart, cp.SequenceEnd)
		}
		if cp.SequenceStart <= prevEnd {
			link("sequence_start %d overlaps the previous checkpoint (ended at %d)", cp.SequenceStart, prevEnd)
		}
		if cp.PrevCheckpointDigest != prevDigest {
			link("prev_checkpoint_digest %q does not match the previous checkpoint_digest %q", cp.PrevCheckpointDigest, prevDigest)
		}
		if want := CheckpointDigest(cp.ManifestDigest, cp.PrevCheckpointDigest, cp.CheckpointIndex, cp.SequenceStart, cp.SequenceEnd); cp.CheckpointDigest != want {
			link("checkpoint_digest %s does not match its fields (%s)", cp.CheckpointDigest, want)
		}
		prevDigest, prevEnd = cp.CheckpointDigest, cp.SequenceEnd
		res.CheckpointsChecked++
		if cp.RunpackPath == "" {
			res.CheckpointErrors = append(res.CheckpointErrors, name+": runpack_path is empty")
			continue
		}
		rpPath := resolveRunpack(chainPath, cp.RunpackPath)
		v, err := pack.Verify(rpPath, opts)
		if err != nil {
			res.CheckpointErrors = append(res.CheckpointErrors, name+": "+err.Error())
			continue
		}
		if v.ManifestDigest != cp.ManifestDigest {
			res.CheckpointErrors = append(res.CheckpointErrors, fmt.Sprintf("%s: runpack %s has manifest digest %s, the chain says %s", name, cp.RunpackPath, v.ManifestDigest, cp.ManifestDigest))
		}
	}
	problems := append(append([]string{}, res.LinkageErrors...), res.CheckpointErrors...)
	if len(problems) > 0 {
		return res, exitcode.VerifyFailedf("%s: %s", chainPath, strings.Join(problems, "; "))
	}
	res.OK = true
	return res, nil
}

// RunpackFromChain verifies a session chain and returns the path of one
// checkpoint's runpack: "latest" (or "") for the last checkpoint, or a
// 1-based checkpoint index.
func RunpackFromChain(chainPath, checkpoint string) (string, error) {
	if _, err := VerifyChain(chainPath, pack.VerifyOptions{}); err != nil {
		return "", err
	}
	c, err := ReadChain(chainPath)
	if err != nil {
		return "", err
	}
	i := len(c.Checkpoints)
	if checkpoint != "" && checkpoint != "latest" {
		n, err := strconv.Atoi(strings.TrimPrefix(checkpoint, "cp_"))
		if err != nil || n < 1 || n > len(c.Checkpoints) {
			return "", exitcode.Invalidf("%s: checkpoint %q is not latest or an index from 1 to %d", chainPath, checkpoint, len(c.Checkpoints))
		}
		i = n
	}
	return resolveRunpack(chainPath, c.Checkpoints[i-1].RunpackPath), nil
}
