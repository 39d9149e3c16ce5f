package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestDocsWalk follows the documentation as a new user would: every fenced
// ```sh block of README.md and docs/*.md, extracted from the Markdown (so the
// docs and this test cannot drift), runs in a scratch directory with this
// gait on PATH, file by file, in order; then every next= hint those commands
// print runs as printed. A command fails the walk when it exits 1 (internal
// error), 6 (bad input: the docs show a wrong command) or cannot run at all;
// the other codes (2 verify, 3 block, 4 approval, 5 regression) are
// outcomes the docs describe. A hint that keeps a <placeholder> fails the
// walk; hints that need the network (go install) are not run.
func TestDocsWalk(t *testing.T) {
	if testing.Short() {
		t.Skip("the docs walk runs whole scenarios")
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(repo, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{filepath.Join(repo, "README.md")}, files...)
	dir := t.TempDir()
	for _, f := range files {
		rel, _ := filepath.Rel(repo, f)
		blocks, err := shellBlocks(f)
		if err != nil {
			t.Fatal(err)
		}
		var script strings.Builder
		script.WriteString(walkPrelude)
		script.WriteString(docSetup[rel])
		n := 0
		for i, b := range blocks {
			name := fmt.Sprintf("%s block %d (line %d)", rel, i+1, b.line)
			if reason, skip := skippedBlock(rel, b.text); skip {
				t.Logf("skip %s: %s", name, reason)
				continue
			}
			n++
			fmt.Fprintf(&script, "walk_block %q <<'GAIT_DOC_BLOCK'\n%s\nGAIT_DOC_BLOCK\n", name, b.text)
		}
		if n == 0 {
			continue
		}
		script.WriteString("walk_hints\n")
		name := strings.NewReplacer("/", "_", ".", "_").Replace(rel)
		txtar := "# The commands of " + rel + ", then the hints they print.\n" +
			"exec bash walk.sh\n\n-- walk.sh --\n" + script.String()
		if os.Getenv("GAIT_WALK_DUMP") != "" {
			_ = os.WriteFile(filepath.Join(os.Getenv("GAIT_WALK_DUMP"), name+".sh"), []byte(script.String()), 0o644)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".txtar"), []byte(txtar), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	testscript.Run(t, testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("REPO", repo)
			env.Setenv("HOME", env.WorkDir)
			// Scenarios in the docs use the repository's own inputs.
			for _, d := range []string{"testdata", "examples", "policies"} {
				if err := os.Symlink(filepath.Join(repo, d), filepath.Join(env.WorkDir, d)); err != nil {
					return err
				}
			}
			return nil
		},
	})
}

// docBlock is one fenced shell block and the line it starts on.
type docBlock struct {
	line int
	text string
}

// shellBlocks returns the ```sh (or bash, shell) blocks of a Markdown file.
// A ```json block the text just before it tells the reader to save ("Save
// this as `run_record.json`") becomes a block that writes that file.
func shellBlocks(path string) ([]docBlock, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var blocks []docBlock
	var cur *docBlock
	var inFence bool
	var saveAs, prose string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case !inFence && strings.HasPrefix(trimmed, "```"):
			inFence = true
			lang := strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))
			saveAs = ""
			if _, rest, ok := strings.Cut(prose, "Save this as `"); ok && lang == "json" {
				saveAs, _, _ = strings.Cut(rest, "`")
			}
			if lang == "sh" || lang == "bash" || lang == "shell" || saveAs != "" {
				cur = &docBlock{line: n}
			}
			prose = ""
		case inFence && trimmed == "```":
			if cur != nil {
				if saveAs != "" {
					cur.text = "cat > " + saveAs + " <<'GAIT_DOC_FILE'\n" + cur.text + "GAIT_DOC_FILE\n"
				}
				blocks = append(blocks, *cur)
			}
			inFence, cur = false, nil
		case cur != nil:
			cur.text += line + "\n"
		case !inFence:
			prose += line + "\n"
		}
	}
	return blocks, sc.Err()
}

// skippedBlocks are the blocks the walk does not run, by file and a text
// the block contains, with the reason.
var skippedBlocks = []struct{ file, contains, reason string }{
	{"README.md", "go run ./cmd/gait tour", "runs from a clone with the Go toolchain; `gait tour` is walked in quickstart.md"},
	{"README.md", "make test", "runs this test"},
	{"README.md", "make conformance", "needs the Gait v1 corpus"},
	{"README.md", "go install", "needs the network"},
	{"docs/quickstart.md", "go install", "needs the network; gait is already on PATH"},
	{"docs/testing.md", "make test", "runs this test"},
	{"docs/regress.md", "--shard 2/4", "shows one of the n CI jobs of a sharded run; merge needs every shard"},
	{"docs/performance.md", "go run ./scripts/genfixtures", "a benchmark: runs from a clone with the Go toolchain, on 10,000 fixtures"},
	{"docs/release.md", "cosign", "needs the network and a release"},
	{"docs/mcp.md", "node ./order-desk-server.js", "needs a real MCP server (node)"},
	{"docs/mcp.md", "--agent -- ./bin/agent", "needs a real agent"},
	{"docs/mcp.md", "runpack_run_mcp_20260301T100001Z.zip", "needs the recording of the proxy block above"},
	{"docs/incidents.md", "python agent.py", "needs a real agent and pytest"},
	{"docs/incidents.md", "vault-read", "needs a secret store"},
	{"docs/incidents.md", "evidence_pack_pack_<id>", "shows the shape of the commands; the worked example below runs them"},
	{"docs/incidents.md", "j/agent.journal_chain.json", "shows the shape of capture sources; the worked example below runs them"},
	{"docs/incidents.md", "--from incident.zip", "shows the shape of reduce; the worked example below runs it"},
	{"docs/incidents.md", "gait migrate incident/", "needs a v1 runpack"},
	{"docs/mcp.md", "gait mcp serve --replay", "serves until stopped and needs a recorded fixture"},
	{"docs/gate.md", "python3 examples/python-dispatcher", "serves until stopped and runs the repository's example with python3; scripts/e2e.d/30-python-dispatcher.sh runs it"},
	{"docs/performance.md", "go run ./scripts/gateload", "a load test: a minute of traffic against a running service, from a clone with the Go toolchain"},
}

func skippedBlock(file, text string) (string, bool) {
	for _, s := range skippedBlocks {
		if s.file == filepath.ToSlash(file) && strings.Contains(text, s.contains) {
			return s.reason, true
		}
	}
	return "", false
}

// docSetup prepares what a doc's commands assume exists: the example
// run_8812 the README and regress docs start from, and a git work tree.
var docSetup = map[string]string{
	"README.md":         setupRun8812,
	"docs/regress.md":   setupRun8812,
	"docs/incidents.md": setupRun8812,
	"docs/action.md":    setupFixture,
	"docs/registry.md":  setupRunRecord,
}

// setupRunRecord is the run_record.json that the hint of `gait keys init`
// records.
const setupRunRecord = "walk_setup cp testdata/runs/support_refund.json run_record.json\n"

// setupFixture is a repository with one passing fixture.
const setupFixture = `walk_setup gait demo
walk_setup gait regress bootstrap --from run_demo
`

const setupRun8812 = `walk_setup gait run record --input testdata/runs/support_refund.json --run-id run_8812
walk_setup cp testdata/runs/support_refund.json run_record.json
`

// walkPrelude runs each block with an ERR trap that fails on exit 1, 6
// or a command that cannot run, and collects the next= hints printed.
const walkPrelude = `set -u
export GIT_AUTHOR_NAME=walk GIT_AUTHOR_EMAIL=walk@example.com GIT_COMMITTER_NAME=walk GIT_COMMITTER_EMAIL=walk@example.com
git init -q . 2>/dev/null || true
: > hints.txt
failed=0
walk_check() {
	rc=$?
	case $rc in
	0|2|3|4|5) ;;
	*) echo "FAIL ($CURRENT): exit $rc: $BASH_COMMAND" >&2; exit 1 ;;
	esac
}
walk_setup() { "$@" >/dev/null || { echo "setup failed: $*" >&2; exit 1; }; }
walk_block() {
	CURRENT=$1
	body=$(cat)
	echo "== $CURRENT" >&2
	# Not in an || list: there bash would not run the ERR trap.
	# Each block continues the shell of the one before (its exports).
	( [ -f env.sh ] && . ./env.sh; trap walk_check ERR; eval "$body"; export -p > env.sh; exit 0 ) > out.txt 2> err.txt
	if [ $? -ne 0 ]; then cat out.txt err.txt >&2; exit 1; fi
	grep -h '^next=' out.txt | sed 's/^next=//' >> hints.txt || true
}
walk_hints() {
	sort -u hints.txt > hints.sorted
	while IFS= read -r hint; do
		case $hint in
		*'<'*) echo "FAIL (hint): keeps a placeholder, so it cannot run as printed: $hint" >&2; exit 1 ;;
		'go install '*) echo "hint that needs the network (not run): $hint" >&2; continue ;;
		esac
		CURRENT="hint: $hint"
		echo "== $CURRENT" >&2
		rc=0
		timeout 120 bash -c "[ -f env.sh ] && . ./env.sh; $hint" > out.txt 2> err.txt < /dev/null || rc=$?
		case $rc in
		0|2|3|4|5) ;;
		*) cat out.txt err.txt >&2; echo "FAIL (hint): exit $rc: $hint" >&2; exit 1 ;;
		esac
	done < hints.sorted
}
`
