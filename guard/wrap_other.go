//go:build !unix

package guard

import "os/exec"

// ownProcessGroup is a no-op where process groups are not available; the
// child alone is killed on cancellation.
func ownProcessGroup(*exec.Cmd) {}
