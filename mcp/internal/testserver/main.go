// Command testserver is a small MCP server with order-desk tools, the
// "real" upstream in Gait's MCP tests. It appends every tools/call it runs
// to the file named by -log, so tests can assert what reached it.
//
//	testserver [-log calls.log] [-listen 127.0.0.1:0]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

type orderArgs struct {
	OrderID string `json:"order_id"`
}

type refundArgs struct {
	OrderID string  `json:"order_id"`
	Amount  float64 `json:"amount"`
	Token   string  `json:"api_token,omitempty"`
}

type emailArgs struct {
	To   string `json:"to"`
	Body string `json:"body"`
}

type accountArgs struct {
	Customer string `json:"customer"`
}

func main() {
	logPath := flag.String("log", "", "append each tools/call to this file")
	listen := flag.String("listen", "", "serve streamable HTTP on this address instead of stdio")
	flag.Parse()

	var mu sync.Mutex
	logCall := func(tool string, args any) {
		if *logPath == "" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		f, err := os.OpenFile(*logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return
		}
		defer f.Close()
		b, _ := json.Marshal(args)
		fmt.Fprintf(f, "%s %s\n", tool, b)
	}
	text := func(s string) *sdk.CallToolResult {
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: s}}}
	}

	s := sdk.NewServer(&sdk.Implementation{Name: "order-desk", Version: "1.0.0"}, nil)
	sdk.AddTool(s, &sdk.Tool{Name: "lookup_order", Description: "Look up an order"},
		func(_ context.Context, _ *sdk.CallToolRequest, a orderArgs) (*sdk.CallToolResult, any, error) {
			logCall("lookup_order", a)
			return text(fmt.Sprintf(`{"order_id":%q,"status":"delivered","total":42.5}`, a.OrderID)), nil, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "refund", Description: "Refund an order"},
		func(_ context.Context, _ *sdk.CallToolRequest, a refundArgs) (*sdk.CallToolResult, any, error) {
			logCall("refund", a)
			return text(fmt.Sprintf("refunded %.2f on %s (ref rf_%s)", a.Amount, a.OrderID, a.OrderID)), nil, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "send_email", Description: "Email a customer"},
		func(_ context.Context, _ *sdk.CallToolRequest, a emailArgs) (*sdk.CallToolResult, any, error) {
			logCall("send_email", a)
			return text("sent to " + a.To), nil, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "delete_account", Description: "Delete a customer account"},
		func(_ context.Context, _ *sdk.CallToolRequest, a accountArgs) (*sdk.CallToolResult, any, error) {
			logCall("delete_account", a)
			return text("deleted " + a.Customer), nil, nil
		})

	if *listen != "" {
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Fprintf(os.Stderr, "url=http://%s/mcp\n", ln.Addr())
		h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, nil)
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		log.Fatal(srv.Serve(ln))
	}
	if err := s.Run(context.Background(), &sdk.StdioTransport{}); err != nil {
		log.Print(err)
	}
}
