// Command genrun writes a large synthetic run record for the benchmarks in
// docs/performance.md: go run ./scripts/genrun -n 20000 -kind words > big.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
)

func main() {
	n := flag.Int("n", 20000, "number of intents (each with a result)")
	kind := flag.String("kind", "words", "words: random words (deflate's worst case); api: nested API-style JSON")
	flag.Parse()
	r := rand.New(rand.NewPCG(7, 11)) //nolint:gosec // reproducible benchmark data, not secrets
	words := strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega")
	text := func(k int) string {
		parts := make([]string, k)
		for i := range parts {
			parts[i] = fmt.Sprintf("%s%d", words[r.IntN(len(words))], r.IntN(100000))
		}
		return strings.Join(parts, " ")
	}
	var intents, results []map[string]any
	for i := range *n {
		id := fmt.Sprintf("intent_%d", i)
		switch *kind {
		case "words":
			intents = append(intents, map[string]any{"intent_id": id, "tool_name": "tool.read", "args": map[string]any{"path": fmt.Sprintf("/data/%d.txt", i), "query": text(60)}})
			results = append(results, map[string]any{"intent_id": id, "status": "ok", "result": map[string]any{"body": text(120), "n": i}})
		case "api":
			intents = append(intents, map[string]any{"intent_id": id, "tool_name": "tool.orders.list", "args": map[string]any{"customer_id": fmt.Sprintf("cus_%d", r.IntN(99999)), "fields": []string{"name", "email", "tier", "orders"}, "page": r.IntN(20)}})
			var orders []map[string]any
			for range 6 {
				orders = append(orders, map[string]any{
					"order_id": fmt.Sprintf("ord_%d", r.IntN(1000000)), "status": []string{"delivered", "pending", "refunded"}[r.IntN(3)],
					"total_cents": r.IntN(99999), "currency": "EUR", "created_at": fmt.Sprintf("2026-0%d-1%dT1%d:00:00Z", 1+r.IntN(9), r.IntN(10), r.IntN(10)),
					"items": []map[string]any{{"sku": fmt.Sprintf("sku_%d", r.IntN(5000)), "qty": 1 + r.IntN(4)}, {"sku": fmt.Sprintf("sku_%d", r.IntN(5000)), "qty": 1 + r.IntN(4)}},
				})
			}
			results = append(results, map[string]any{"intent_id": id, "status": "ok", "result": map[string]any{"customer": map[string]any{"id": fmt.Sprintf("cus_%d", i), "tier": "standard"}, "orders": orders}})
		default:
			fmt.Fprintf(os.Stderr, "genrun: -kind %q is not words or api\n", *kind)
			os.Exit(6)
		}
	}
	rec := map[string]any{
		"run":          map[string]any{"run_id": "run_bench", "created_at": "2026-01-01T00:00:00Z", "producer_version": "bench", "env": map[string]any{"os": "linux", "arch": "amd64", "runtime": "go"}, "timeline": []any{}},
		"intents":      intents,
		"results":      results,
		"refs":         map[string]any{"receipts": []any{}},
		"capture_mode": "raw",
	}
	if err := json.NewEncoder(os.Stdout).Encode(rec); err != nil {
		fmt.Fprintln(os.Stderr, "genrun:", err)
		os.Exit(1)
	}
}
