// Command scripted is a small MCP client agent that performs the tool calls
// listed in a script file, in order. It is how Gait's own tests stand in for
// an agent under test; it also shows what `gait regress run --agent` expects
// of an agent: reach the tools through MCP, at GAIT_MCP_URL when it is set
// (streamable HTTP) and over stdin/stdout otherwise.
//
//	scripted <script.json | dir>
//
// Given a directory, the script is <dir>/<GAIT_FIXTURE>.json, so one
// command can play a different script per regress fixture. The script is a JSON array of steps:
//
//	{"tool": "refund", "args": {"order_id": "A1", "amount": 42.5}}
//	{"sleep": "30s"}           wait (a hanging agent)
//	{"exit": 3}                exit with this code (a crashing agent)
//	{"raw": "not json"}        write a raw line to the server (stdio only)
//
// Tool errors are printed and the script goes on, as an agent would.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

type step struct {
	Tool  string          `json:"tool"`
	Args  json.RawMessage `json:"args"`
	Sleep string          `json:"sleep"`
	Exit  *int            `json:"exit"`
	Raw   *string         `json:"raw"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: scripted <script.json>")
		os.Exit(2)
	}
	os.Exit(run(os.Args[1]))
}

func run(path string) int {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, os.Getenv("GAIT_FIXTURE")+".json")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scripted:", err)
		return 2
	}
	var steps []step
	if err := json.Unmarshal(data, &steps); err != nil {
		fmt.Fprintf(os.Stderr, "scripted: %s: %v\n", path, err)
		return 2
	}
	ctx := context.Background()
	var transport sdk.Transport = &sdk.StdioTransport{}
	if url := os.Getenv("GAIT_MCP_URL"); url != "" {
		transport = &sdk.StreamableClientTransport{Endpoint: url, DisableStandaloneSSE: true, MaxRetries: -1}
	}
	client := sdk.NewClient(&sdk.Implementation{Name: "scripted-agent", Version: "1.0.0"}, nil)
	session, err := client.Connect(ctx, transport, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scripted: connect:", err)
		return 1
	}
	defer session.Close()
	tools, err := session.ListTools(ctx, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scripted: tools/list:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "scripted: %d tools\n", len(tools.Tools))
	for i, s := range steps {
		switch {
		case s.Exit != nil:
			return *s.Exit
		case s.Sleep != "":
			d, err := time.ParseDuration(s.Sleep)
			if err != nil {
				fmt.Fprintf(os.Stderr, "scripted: step %d: %v\n", i+1, err)
				return 2
			}
			time.Sleep(d)
		case s.Raw != nil:
			fmt.Fprintln(os.Stdout, *s.Raw)
		default:
			var args any = map[string]any{}
			if len(s.Args) > 0 {
				args = s.Args
			}
			res, err := session.CallTool(ctx, &sdk.CallToolParams{Name: s.Tool, Arguments: args})
			if err != nil {
				fmt.Fprintf(os.Stderr, "scripted: step %d %s: %v\n", i+1, s.Tool, err)
				continue
			}
			for _, c := range res.Content {
				if t, ok := c.(*sdk.TextContent); ok {
					fmt.Fprintf(os.Stderr, "scripted: step %d %s error=%v: %s\n", i+1, s.Tool, res.IsError, t.Text)
				}
			}
		}
	}
	return 0
}
