package mcp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"slices"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// BenchmarkProxyCall measures one tools/call on loopback streamable HTTP:
// straight to the upstream (direct), and through the proxy without a
// policy, with a policy, and with a policy while recording. The proxy's
// overhead is the difference from direct. It reports p50 and p99 latency;
// run it with -benchtime=10000x for the numbers in docs/performance.md.
func BenchmarkProxyCall(b *testing.B) {
	// As `gait mcp proxy` runs (see tuneForServing in cmd/gait).
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	upstream := sdk.NewServer(&sdk.Implementation{Name: "bench-upstream", Version: "1"}, nil)
	type in struct {
		OrderID string `json:"order_id"`
	}
	sdk.AddTool(upstream, &sdk.Tool{Name: "lookup_order"}, func(_ context.Context, _ *sdk.CallToolRequest, a in) (*sdk.CallToolResult, any, error) {
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "delivered " + a.OrderID}}}, nil, nil
	})
	up := httptest.NewServer(sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return upstream }, nil))
	defer up.Close()

	for _, c := range []struct {
		name          string
		proxy, policy bool
		record        bool
	}{
		{"direct", false, false, false},
		{"proxy", true, false, false},
		{"proxy_policy", true, true, false},
		{"proxy_policy_record", true, true, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			url := up.URL
			if c.proxy {
				opts := ProxyOptions{}
				if c.policy {
					opts.Policy = loadPolicy(b)
				}
				if c.record {
					rec, err := NewRecorder(RecorderOptions{Dir: b.TempDir(), RunID: "run_bench"})
					if err != nil {
						b.Fatal(err)
					}
					opts.Recorder = rec
				}
				p, err := NewProxy(ctx, &sdk.StreamableClientTransport{Endpoint: up.URL, DisableStandaloneSSE: true}, opts)
				if err != nil {
					b.Fatal(err)
				}
				defer p.Close()
				ps := httptest.NewServer(p.Handler())
				defer ps.Close()
				url = ps.URL
			}
			cs, err := sdk.NewClient(&sdk.Implementation{Name: "bench-agent", Version: "1"}, nil).
				Connect(ctx, &sdk.StreamableClientTransport{Endpoint: url, DisableStandaloneSSE: true}, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer cs.Close()
			params := &sdk.CallToolParams{Name: "lookup_order", Arguments: map[string]any{"order_id": "A1"}}
			lat := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				res, err := cs.CallTool(ctx, params)
				lat = append(lat, time.Since(start))
				if err != nil || res.IsError {
					b.Fatalf("call: %v %+v", err, res)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds()), "p99-µs")
			}
		})
	}
}
