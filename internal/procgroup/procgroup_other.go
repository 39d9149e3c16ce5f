//go:build !unix

// Package procgroup runs a child process in its own process group so that
// cancelling it kills its whole tree.
package procgroup

import "os/exec"

// Own is a no-op where process groups are not available; the child alone
// is killed on cancellation.
func Own(*exec.Cmd) {}
