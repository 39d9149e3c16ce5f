package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/export"
	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
)

func newPackExportCmd(a *app) *cobra.Command {
	var otelOut, otlpOut, sqlOut, table, publicKey, publicKeyEnv string
	var ddl, toolCalls bool
	cmd := &cobra.Command{
		Use:   "export <pack.zip> [--otel-out F] [--otlp-out F] [--postgres-sql-out F]",
		Short: "Export a pack to OpenTelemetry and PostgreSQL",
		Long: `pack export verifies a pack, then writes it for the tools a team already runs:
--otel-out writes Gait v1's records (a gait.pack.verify span, a
gait.pack.export.metadata event and the pack metrics, with gait.* attributes),
one JSON object a line, the bytes v1 writes. --otlp-out writes the same records
as OTLP/JSON lines a collector's otlpjsonfile receiver reads (TracesData,
LogsData, MetricsData), plus, for a run pack, the run's tool calls as
OpenTelemetry GenAI spans (invoke_agent, execute_tool) with deterministic ids.
--postgres-sql-out writes DDL (--postgres-include-ddl) and an upsert into
--postgres-table; --postgres-tool-calls adds a <table>_tool_calls table. A
pack that fails verification is not exported (exit 2). Outputs are replaced
atomically; the same pack always gives the same bytes.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if otelOut == "" && otlpOut == "" && sqlOut == "" {
				return exitcode.Invalidf("pack export: no output; pass --otel-out F, --otlp-out F or --postgres-sql-out F")
			}
			pub, err := a.publicKey(publicKey, publicKeyEnv)
			if err != nil {
				return err
			}
			var sql []byte
			sqlOpts := export.SQLOptions{Table: table, IncludeDDL: ddl, ToolCalls: toolCalls}
			e, err := export.Build(args[0], export.Options{PublicKey: pub})
			if err != nil {
				return err
			}
			if sqlOut != "" {
				if sql, err = export.SQL(e, sqlOpts); err != nil {
					if _, ok := errors.AsType[export.ErrTable](err); ok {
						return exitcode.Invalidf("--postgres-table: %v; pass a name like gait_pack_index or analytics.gait_pack_index", err)
					}
					return err
				}
			}
			outputs := []struct {
				path string
				data func() ([]byte, error)
			}{
				{otelOut, e.V1Lines},
				{otlpOut, func() ([]byte, error) { return e.OTLPLines(producerVersion()) }},
				{sqlOut, func() ([]byte, error) { return sql, nil }},
			}
			for _, o := range outputs {
				if o.path == "" {
					continue
				}
				b, err := o.data()
				if err != nil {
					return err
				}
				if err := atomicfile.WriteFile(o.path, b, 0o644); err != nil {
					return err
				}
			}
			text := kv("pack_id", e.PackID, "pack_type", e.PackType, "source_ref", e.SourceRef,
				"tool_calls_total", fmt.Sprint(e.Metrics.ToolCallsTotal), "signature_status", e.SignatureStatus)
			for _, f := range []struct{ k, v string }{{"otel_path", otelOut}, {"otlp_path", otlpOut}, {"postgres_sql_path", sqlOut}} {
				if f.v != "" {
					text = append(text, field{f.k, f.v})
				}
			}
			a.emit(struct {
				OK              bool          `json:"ok"`
				Operation       string        `json:"operation"`
				SchemaID        string        `json:"schema_id"`
				SchemaVersion   string        `json:"schema_version"`
				Path            string        `json:"path"`
				PackID          string        `json:"pack_id"`
				PackType        string        `json:"pack_type"`
				SourceRef       string        `json:"source_ref"`
				OtelPath        string        `json:"otel_path,omitempty"`
				OTLPPath        string        `json:"otlp_path,omitempty"`
				PostgresSQLPath string        `json:"postgres_sql_path,omitempty"`
				Export          export.Record `json:"export"`
			}{true, "export", "gait.pack.output", "1.0.0", args[0], e.PackID, e.PackType, e.SourceRef, otelOut, otlpOut, sqlOut, e.Record}, text)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&otelOut, "otel-out", "", "write Gait v1's OpenTelemetry records (JSON lines) here")
	f.StringVar(&otlpOut, "otlp-out", "", "write OTLP/JSON lines (traces with GenAI tool spans, logs, metrics) here")
	f.StringVar(&sqlOut, "postgres-sql-out", "", "write PostgreSQL DDL and an upsert here")
	f.StringVar(&table, "postgres-table", export.DefaultTable, "table or schema.table for the SQL")
	f.BoolVar(&ddl, "postgres-include-ddl", true, "start the SQL with CREATE TABLE/INDEX IF NOT EXISTS")
	f.BoolVar(&toolCalls, "postgres-tool-calls", false, "also write one row per tool call into <table>_tool_calls")
	f.StringVar(&publicKey, "public-key", "", "ed25519 public key that checks the pack's signature (signature_status verified)")
	f.StringVar(&publicKeyEnv, "public-key-env", "", "environment variable holding the public key text")
	return cmd
}
