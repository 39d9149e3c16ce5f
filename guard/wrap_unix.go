//go:build unix

package guard

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup starts the child in its own process group and makes
// cancellation kill the whole group, so grandchildren do not outlive it.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
