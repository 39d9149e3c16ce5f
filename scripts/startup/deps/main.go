// Command deps only imports the modules gait is built on (their package
// initialization is all it does): the start-up floor of any binary made
// from them, for scripts/startup.
package main

import (
	_ "net/http"
	"os"

	_ "github.com/google/go-github/v60/github"
	_ "github.com/modelcontextprotocol/go-sdk/mcp"
	_ "github.com/spf13/cobra"
	_ "gopkg.in/yaml.v3"
)

func main() { _, _ = os.Stdout.WriteString("deps\n") }
