package ui

import (
	"cmp"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/report"
)

func itoa(n int) string { return strconv.Itoa(n) }

// Where the UI looks, relative to the workspace.
const (
	outDir      = "gait-out"
	fixturesDir = "fixtures"
	// maxWalkDepth bounds how deep the scans go under gait-out/ and fixtures/.
	maxWalkDepth = 4
)

// errOutside is the answer for a path that is not a workspace file the UI
// shows.
var errOutside = errors.New("not a file of this workspace's gait-out/ or fixtures/")

// resolve turns a workspace-relative path from a request into an absolute
// path, refusing anything that leaves the workspace: absolute paths, "..",
// backslashes, and symlinks that point elsewhere. Only files under
// gait-out/ and fixtures/ (and the workspace's own regress result) are
// reachable.
func (s *Server) resolve(rel string) (string, error) {
	if rel == "" || strings.ContainsAny(rel, "\\\x00") || !filepath.IsLocal(rel) {
		return "", errOutside
	}
	rel = filepath.Clean(filepath.FromSlash(rel))
	top, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
	if top != outDir && top != fixturesDir && rel != "regress_result.json" {
		return "", errOutside
	}
	target, err := filepath.EvalSymlinks(filepath.Join(s.root, rel))
	if err != nil {
		return "", err
	}
	inside, err := filepath.Rel(s.root, target)
	if err != nil || !filepath.IsLocal(inside) {
		return "", errOutside
	}
	return target, nil
}

// relPath is abs relative to the workspace, with forward slashes.
func (s *Server) relPath(abs string) string {
	r, err := filepath.Rel(s.root, abs)
	if err != nil {
		return abs
	}
	return filepath.ToSlash(r)
}

// fileEntry is a file found by a scan.
type fileEntry struct {
	Rel  string // workspace-relative, forward slashes
	Abs  string
	Size int64
	Mod  int64 // modification time, Unix nanoseconds
}

// scan walks dirs (workspace-relative) to maxWalkDepth and returns the
// regular files match accepts, sorted by path. Symlinks are not followed.
func (s *Server) scan(match func(rel, name string) bool, dirs ...string) []fileEntry {
	var out []fileEntry
	for _, d := range dirs {
		base := filepath.Join(s.root, d)
		_ = filepath.WalkDir(base, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			rel := s.relPath(p)
			if e.IsDir() {
				if strings.Count(rel, "/") >= maxWalkDepth {
					return filepath.SkipDir
				}
				return nil
			}
			if !e.Type().IsRegular() || !match(rel, e.Name()) {
				return nil
			}
			info, err := e.Info()
			if err != nil {
				return nil
			}
			out = append(out, fileEntry{Rel: rel, Abs: p, Size: info.Size(), Mod: info.ModTime().UnixNano()})
			return nil
		})
	}
	slices.SortFunc(out, func(a, b fileEntry) int { return cmp.Compare(a.Rel, b.Rel) })
	return out
}

// isRunpackName reports whether a file found under gait-out/ or fixtures/
// is shown as a run: gait-out/runpack_*.zip, and any .zip in a fixture
// folder (runpack.zip, candidate runpacks).
func isRunpackName(rel, name string) bool {
	if !strings.HasSuffix(name, ".zip") {
		return false
	}
	if strings.HasPrefix(rel, fixturesDir+"/") {
		return true
	}
	return strings.HasPrefix(name, "runpack_")
}

// runs lists the workspace's runpacks.
func (s *Server) runs() []fileEntry {
	return s.scan(isRunpackName, outDir, fixturesDir)
}

// cache keeps what is costly to compute per file (verify results, decoded
// runpacks), keyed by path, size and modification time.
type cache struct {
	mu       sync.Mutex
	verified map[string]verifyEntry
	packs    []packEntry // most recent first, at most maxPacks
	// The last report top ranking and the versions of the files it read.
	topKey     string
	topReport  *report.TopReport
	topProblem string
}

const maxPacks = 4

type verifyEntry struct {
	key string
	res pack.VerifyResult
	err string
}

type packEntry struct {
	key string
	rp  *pack.Runpack
}

func newCache() *cache { return &cache{verified: map[string]verifyEntry{}} }

func fileKey(abs string) string {
	info, err := os.Stat(abs)
	if err != nil {
		return abs
	}
	return abs + "|" + strconv.FormatInt(info.Size(), 10) + "|" + strconv.FormatInt(info.ModTime().UnixNano(), 10)
}

// verify verifies a runpack once per version of the file.
func (c *cache) verify(abs string) (pack.VerifyResult, string) {
	key := fileKey(abs)
	c.mu.Lock()
	e, ok := c.verified[abs]
	c.mu.Unlock()
	if ok && e.key == key {
		return e.res, e.err
	}
	res, err := pack.Verify(abs, pack.VerifyOptions{})
	e = verifyEntry{key: key, res: res}
	if err != nil {
		e.err = err.Error()
	}
	c.mu.Lock()
	c.verified[abs] = e
	c.mu.Unlock()
	return e.res, e.err
}

// open decodes a runpack, keeping the last few so that paging through a
// long run reads it once.
func (c *cache) open(abs string) (*pack.Runpack, error) {
	key := fileKey(abs)
	c.mu.Lock()
	for i, e := range c.packs {
		if e.key == key {
			c.packs = append([]packEntry{e}, slices.Delete(c.packs, i, i+1)...)
			c.mu.Unlock()
			return e.rp, nil
		}
	}
	c.mu.Unlock()
	rp, err := pack.Open(abs)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.packs = append([]packEntry{{key, rp}}, c.packs...)
	if len(c.packs) > maxPacks {
		c.packs = c.packs[:maxPacks]
	}
	c.mu.Unlock()
	return rp, nil
}

// top returns the ranking of runs and traces, computed again only when one
// of the files changed.
func (c *cache) top(runs, traces []string, rank func() (*report.TopReport, error)) (*report.TopReport, string) {
	var key strings.Builder
	for _, p := range append(slices.Clone(runs), traces...) {
		key.WriteString(fileKey(p))
		key.WriteByte('\n')
	}
	c.mu.Lock()
	if c.topKey == key.String() && (c.topReport != nil || c.topProblem != "") {
		defer c.mu.Unlock()
		return c.topReport, c.topProblem
	}
	c.mu.Unlock()
	rep, err := rank()
	problem := ""
	if err != nil {
		problem = err.Error()
	}
	c.mu.Lock()
	c.topKey, c.topReport, c.topProblem = key.String(), rep, problem
	c.mu.Unlock()
	return rep, problem
}
