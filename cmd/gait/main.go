// Command gait turns AI-agent runs into verifiable runpacks and permanent CI
// regressions. This package only parses flags, calls the library packages
// and renders their results; see run in root.go.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}
