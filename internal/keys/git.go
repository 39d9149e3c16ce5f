package keys

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
)

// workTree returns the root of the git work tree holding path (which need
// not exist yet), or "" when there is none or no git to ask.
func workTree(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	if _, err := exec.LookPath("git"); err != nil {
		return ""
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			return ""
		}
	}
}

// gitQuiet runs git in root and reports whether it exited 0.
func gitQuiet(root string, args ...string) (bool, error) {
	cmd := exec.Command("git", append([]string{"-C", root}, args...)...)
	err := cmd.Run()
	if err == nil {
		return true, nil
	}
	if _, ok := errors.AsType[*exec.ExitError](err); ok {
		return false, nil
	}
	return false, err
}

// Exposure says how a private key file could end up in a commit: "" when
// it is outside any git work tree or ignored and untracked there, else the
// problem ("tracked by git", "not ignored by git").
func Exposure(path string) string {
	root := workTree(path)
	if root == "" {
		return ""
	}
	abs, _ := filepath.Abs(path)
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return ""
	}
	rel = filepath.ToSlash(rel)
	if tracked, _ := gitQuiet(root, "ls-files", "--error-unmatch", "--", rel); tracked {
		return "tracked by git"
	}
	if ignored, err := gitQuiet(root, "check-ignore", "-q", "--no-index", "--", rel); err == nil && !ignored {
		return "not ignored by git"
	}
	return ""
}

// ignoredDir is the directory to ignore for keys written to dir: gait-out
// for one under gait-out (all of gait's output stays out of commits), else
// dir itself.
func ignoredDir(dir string) string {
	clean := filepath.ToSlash(filepath.Clean(dir))
	if first, _, _ := strings.Cut(clean, "/"); first == "gait-out" {
		return "gait-out"
	}
	return dir
}

// IgnoredDir is the directory, relative to the working directory and with
// forward slashes, whose .gitignore entry keeps the key file at path out of
// commits.
func IgnoredDir(path string) string {
	return filepath.ToSlash(filepath.Clean(ignoredDir(filepath.Dir(path))))
}

// EnsureIgnored makes sure a private key written to dir cannot be
// committed: in a git work tree where dir is not ignored, it appends
// the directory (gait-out/ for one under it) to the work tree's .gitignore and returns that file's
// path and the line; it returns "" when nothing was needed. It refuses (exit 6) when
// the key would be tracked already or .gitignore cannot be written.
func EnsureIgnored(dir, prefix string) (ignoreFile, line string, err error) {
	priv, _ := Paths(dir, prefix)
	switch Exposure(priv) {
	case "":
		return "", "", nil
	case "tracked by git":
		return "", "", exitcode.Invalidf("%s: tracked by git; run `git rm --cached %s` and rotate the key, or pass --out-dir outside the repository", priv, filepath.ToSlash(priv))
	}
	root := workTree(priv)
	absDir, _ := filepath.Abs(ignoredDir(dir))
	relDir, relErr := filepath.Rel(root, absDir)
	if relErr != nil || strings.HasPrefix(relDir, "..") || relDir == "." {
		return "", "", exitcode.Invalidf("%s: would be committable in the git work tree %s; pass --out-dir gait-out/keys, or a directory outside the repository", priv, root)
	}
	line = "/" + filepath.ToSlash(relDir) + "/"
	ignoreFile = filepath.Join(root, ".gitignore")
	old, err := os.ReadFile(ignoreFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", "", exitcode.Invalidf("%s: %v; add %s to it, or pass --out-dir outside the repository", ignoreFile, err, line)
	}
	var buf bytes.Buffer
	buf.Write(old)
	if len(old) > 0 && !bytes.HasSuffix(old, []byte("\n")) {
		buf.WriteByte('\n')
	}
	fmt.Fprintf(&buf, "# private signing keys never go into commits\n%s\n", line)
	if err := atomicfile.WriteFile(ignoreFile, buf.Bytes(), 0o644); err != nil {
		return "", "", exitcode.Invalidf("%s: %v; add %s to it, or pass --out-dir outside the repository", ignoreFile, err, line)
	}
	return ignoreFile, line, nil
}
