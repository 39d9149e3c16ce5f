package actions

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/regress"
)

// SetupAction is how a workflow gets gait on the runner itself, where the
// agent's runtime is, instead of in the Docker action's image.
const SetupAction = "gait-dev/gait/setup"

// checkAgent refuses a config whose agent: block names a command that
// cannot run here. In the Docker action's image only gait exists, so an
// agent block is bad input there (exit 6) rather than a fixture failure or
// a skipped grader; the message names the way to run it. A config that
// does not load is left for regress to report.
func checkAgent(config string) error {
	cfg, err := regress.LoadConfig(config)
	if err != nil || cfg.Agent == nil {
		return nil //nolint:nilerr // regress.RunWithAgent reports the same error
	}
	if why := notRunnable(filepath.Dir(config), cfg.Agent.Command); why != "" {
		return exitcode.Invalidf("%s: agent: command %q cannot run here (%s); the gait-regress Docker action has only gait, "+
			"so run agents on the runner: install gait with `uses: %s@<version>`, install the agent's runtime, then `run: gait action regress`",
			config, cfg.Agent.Command, why, SetupAction)
	}
	return nil
}

// notRunnable says why command cannot be started from dir, or "". A
// command with a slash is a path relative to dir (where regress starts
// the agent); a bare name is looked up on PATH.
func notRunnable(dir, command string) string {
	if !strings.ContainsRune(command, '/') && !strings.ContainsRune(command, filepath.Separator) {
		if _, err := exec.LookPath(command); err != nil {
			return "not found on PATH"
		}
		return ""
	}
	path := command
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "no such file"
	case err != nil:
		return oneLine(err.Error())
	case st.IsDir():
		return "a directory"
	case st.Mode().Perm()&0o111 == 0:
		return "not executable"
	}
	return ""
}
