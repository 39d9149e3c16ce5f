package schemas

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSchemasCompile: every schema is draft 2020-12, says what it describes,
// and compiles with format assertions on.
func TestSchemasCompile(t *testing.T) {
	names := Names()
	if len(names) < 20 {
		t.Fatalf("only %d schemas: %v", len(names), names)
	}
	for _, n := range names {
		data, err := files.ReadFile(n + ".schema.json")
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Schema      string `json:"$schema"`
			Title       string `json:"title"`
			Description string `json:"description"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if doc.Schema != "https://json-schema.org/draft/2020-12/schema" || doc.Title == "" || doc.Description == "" {
			t.Errorf("%s: $schema %q, title %q, description %q", n, doc.Schema, doc.Title, doc.Description)
		}
		if _, err := Get(n); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := `{"schema_id":"gait.regress.config","schema_version":"1.0.0","fixture_set":"default","fixtures":[{"name":"a","run_id":"a","runpack":"fixtures/a/runpack.zip"}]}`
	if err := Validate("regress/config", []byte(ok)); err != nil {
		t.Errorf("valid config: %v", err)
	}
	for _, bad := range []string{
		`{"schema_id":"gait.regress.config","schema_version":"2.0.0","fixture_set":"default","fixtures":[]}`,
		`{"schema_id":"gait.regress.fixture","schema_version":"1.0.0","fixture_set":"default","fixtures":[]}`,
		`{"schema_id":"gait.regress.config","schema_version":"1.0.0","fixture_set":"default","fixtures":[{"name":"a"}]}`,
		`not json`,
	} {
		if err := Validate("regress/config", []byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	if err := Validate("no/such", []byte(ok)); err == nil || !strings.Contains(err.Error(), "regress/config") {
		t.Errorf("unknown schema: %v", err)
	}
	if err := ValidateLines("job/event", []byte("\n"+`{"schema_id":"gait.job.event"}`+"\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("ValidateLines: %v", err)
	}
}
