package conformance_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gait-dev/gait/schemas"
)

// hostileTool is a tool name a recorded run could carry into the SQL.
const hostileTool = "tool'); DROP TABLE gait_pack_index; --\\ $$ \x00 \"q\" $tag$"

// exportPacks returns packs to export: the corpus's run and job packs, and
// run packs of the v1 run record and of a hostile variant of it, each built
// by Gait and by the reference.
func exportPacks(t *testing.T, dir string) []string {
	t.Helper()
	ref := referenceBin(t)
	packs := []string{
		need(t, "conformance/gait-v1/artifacts/pack_run_run_demo.zip"),
		need(t, "conformance/gait-v1/artifacts/pack_job_job_demo.zip"),
		need(t, "conformance/gait-v1/artifacts/pack_job_demo_durable.zip"),
	}
	raw, err := os.ReadFile(need(t, "conformance/gait-v1/inputs/run_record.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	rec["results"].([]any)[0].(map[string]any)["status"] = "blocked"
	rec["results"].([]any)[0].(map[string]any)["result"] = map[string]any{"verdict": "block", "reason": "regress_drift_failed"}
	rec["intents"].([]any)[0].(map[string]any)["tool_name"] = hostileTool
	hostile, _ := json.Marshal(rec)
	inputs := map[string][]byte{"legacy": raw, "hostile": hostile}
	for _, name := range []string{"legacy", "hostile"} {
		in := filepath.Join(dir, name+".json")
		if err := os.WriteFile(in, inputs[name], 0o644); err != nil {
			t.Fatal(err)
		}
		rp := filepath.Join(dir, name, "runpack_run_legacy_fixture.zip")
		mustRun(t, dir, gaitBin, "run", "record", "--input", in, "--out-dir", filepath.Join(dir, name))
		for _, bin := range []string{gaitBin, ref} {
			out := filepath.Join(dir, fmt.Sprintf("pack_%s_%s.zip", name, filepath.Base(bin)))
			mustRun(t, dir, bin, "pack", "build", "--type", "run", "--from", rp, "--out", out)
			packs = append(packs, out)
		}
	}
	return packs
}

// TestExportMatchesReference: for every pack, Gait's --otel-out and
// --postgres-sql-out are byte for byte the reference's, with each table
// and DDL option.
func TestExportMatchesReference(t *testing.T) {
	ref := referenceBin(t)
	dir := t.TempDir()
	for _, p := range exportPacks(t, dir) {
		for _, flags := range [][]string{nil, {"--postgres-include-ddl=false", "--postgres-table", "analytics.Packs"}} {
			outs := map[string][2][]byte{}
			for _, bin := range []string{gaitBin, ref} {
				o := filepath.Join(dir, "out_"+filepath.Base(bin))
				_ = os.RemoveAll(o)
				if err := os.MkdirAll(o, 0o755); err != nil {
					t.Fatal(err)
				}
				args := append([]string{"pack", "export", p, "--otel-out", filepath.Join(o, "otel.jsonl"), "--postgres-sql-out", filepath.Join(o, "index.sql")}, flags...)
				mustRun(t, dir, bin, args...)
				otel, _ := os.ReadFile(filepath.Join(o, "otel.jsonl"))
				sql, _ := os.ReadFile(filepath.Join(o, "index.sql"))
				outs[filepath.Base(bin)] = [2][]byte{otel, sql}
			}
			g, r := outs[filepath.Base(gaitBin)], outs[filepath.Base(ref)]
			if err := schemas.ValidateLines("export/otel_record", r[0]); err != nil {
				t.Errorf("schemas/export/otel_record rejects the reference's --otel-out for %s: %v", filepath.Base(p), err)
			}
			if !bytes.Equal(g[0], r[0]) {
				t.Errorf("%s %v: --otel-out differs from the reference:\ngait: %s\nref:  %s", filepath.Base(p), flags, g[0], r[0])
			}
			if !bytes.Equal(g[1], r[1]) {
				t.Errorf("%s %v: --postgres-sql-out differs from the reference:\ngait: %s\nref:  %s", filepath.Base(p), flags, g[1], r[1])
			}
		}
	}
}

// postgres is a throwaway PostgreSQL cluster reached over a socket.
type postgres struct {
	sock, port string
}

// startPostgres starts a cluster in a temporary folder with initdb and
// pg_ctl (run as the postgres user when the test runs as root), or skips
// when no server binaries are installed.
func startPostgres(t *testing.T) *postgres {
	t.Helper()
	if _, err := exec.LookPath("psql"); err != nil {
		t.Skip("psql not installed; the SQL is not run on PostgreSQL (.ci/run installs postgresql)")
	}
	initdb, err := exec.LookPath("initdb")
	if err != nil {
		found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
		sort.Strings(found)
		if len(found) == 0 {
			t.Skip("no PostgreSQL server binaries (initdb); the SQL is not run on PostgreSQL (.ci/run installs postgresql)")
		}
		initdb = found[len(found)-1]
	}
	initdb, _ = filepath.EvalSymlinks(initdb)
	pgctl := filepath.Join(filepath.Dir(initdb), "pg_ctl")
	var wrap []string
	uid, gid := -1, -1
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("running as root and there is no postgres user to run the server as")
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		wrap = []string{"runuser", "-u", "postgres", "--"}
	}
	// Not t.TempDir: the server runs as the postgres user, which must reach
	// the folder, and t.TempDir's parent is private to the test's user.
	base, err := os.MkdirTemp("", "gait-pg-") //nolint:usetesting // see above
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	data, sock := filepath.Join(base, "data"), filepath.Join(base, "sock")
	for _, d := range []string{data, sock} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if uid >= 0 {
			if err := os.Chown(d, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	_ = l.Close()
	run := func(args ...string) {
		t.Helper()
		full := append(append([]string{}, wrap...), args...)
		cmd := exec.Command(full[0], full[1:]...)
		cmd.Dir = base
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run(initdb, "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale", "--no-sync")
	run(pgctl, "-D", data, "-l", filepath.Join(data, "server.log"), "-w", "-o",
		"-k "+sock+" -p "+port+" -c listen_addresses='' -c fsync=off", "start")
	t.Cleanup(func() {
		full := append(append([]string{}, wrap...), pgctl, "-D", data, "-m", "immediate", "stop")
		_ = exec.Command(full[0], full[1:]...).Run()
	})
	return &postgres{sock: sock, port: port}
}

// psql runs a file or a command; env adds PGOPTIONS and the like.
func (p *postgres) psql(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("psql", append([]string{"-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", p.sock, "-p", p.port, "-U", "postgres", "-d", "postgres"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestExportSQLOnPostgres runs Gait's SQL on a real server: DDL and upserts
// apply, run twice (and with standard_conforming_strings off) they stay
// idempotent, and hostile values arrive as inert text.
func TestExportSQLOnPostgres(t *testing.T) {
	pg := startPostgres(t)
	dir := t.TempDir()
	packs := exportPacks(t, dir)
	pg.psql(t, nil, "-c", "CREATE SCHEMA analytics")
	var files []string
	for i, p := range packs {
		for j, flags := range [][]string{{"--postgres-tool-calls"}, {"--postgres-table", "analytics.packs", "--postgres-tool-calls"}} {
			f := filepath.Join(dir, fmt.Sprintf("index_%d_%d.sql", i, j))
			mustRun(t, dir, gaitBin, append([]string{"pack", "export", p, "--postgres-sql-out", f}, flags...)...)
			files = append(files, f)
		}
	}
	for _, env := range [][]string{nil, nil, {"PGOPTIONS=-c standard_conforming_strings=off"}} {
		for _, f := range files {
			pg.psql(t, env, "-f", f)
		}
	}
	distinct := map[string]bool{}
	for _, p := range packs {
		out := mustRun(t, dir, gaitBin, "pack", "export", p, "--otel-out", filepath.Join(dir, "x.jsonl"), "--json")
		var res struct {
			PackID string `json:"pack_id"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatal(err)
		}
		distinct[res.PackID] = true
	}
	for _, table := range []string{"gait_pack_index", "analytics.packs"} {
		if got := strings.TrimSpace(pg.psql(t, nil, "-c", "SELECT count(*) FROM "+table)); got != strconv.Itoa(len(distinct)) {
			t.Errorf("%s holds %s rows, want %d (one per pack)", table, got, len(distinct))
		}
	}
	want := strings.ReplaceAll(hostileTool, "\x00", "\uFFFD")
	got := pg.psql(t, nil, "-c", "SELECT DISTINCT tool_name FROM gait_pack_index_tool_calls WHERE tool_name LIKE 'tool''%' ORDER BY 1")
	if strings.TrimSuffix(got, "\n") != want {
		t.Errorf("hostile tool name reads back as %q, want %q", got, want)
	}
	if got := strings.TrimSpace(pg.psql(t, nil, "-c", "SELECT count(*) FROM analytics.packs_tool_calls WHERE verdict = 'block'")); got == "0" {
		t.Error("no blocked tool call was indexed")
	}
}
