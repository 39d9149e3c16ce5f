//go:build unix

// Package procgroup runs a child process in its own process group so that
// cancelling it kills its whole tree.
package procgroup

import (
	"os/exec"
	"syscall"
)

// Own starts the child in its own process group and makes cancellation
// kill the whole group, so grandchildren do not outlive it.
func Own(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
