// Command hello is the start-up floor of a Go binary, for scripts/startup.
package main

import "os"

func main() { _, _ = os.Stdout.WriteString("hello\n") }
