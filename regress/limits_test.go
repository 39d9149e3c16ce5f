package regress

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
)

// A fixture.json or gait.yaml over its limit is refused after reading one
// byte past the limit, never read whole.
func TestOversizedInputsRefused(t *testing.T) {
	dir := t.TempDir()
	big := func(name string, n int) string {
		path := filepath.Join(dir, name)
		data := append([]byte(`{"x":"`), bytes.Repeat([]byte{'a'}, n)...)
		if err := os.WriteFile(path, append(data, `"}`...), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	_, err := LoadFixture(big("fixture.json", MaxFixtureSize))
	if exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), "over the limit") || strings.Contains(err.Error(), "\n") {
		t.Errorf("fixture.json: %v, want exit 6, one line naming the limit", err)
	}
	_, err = LoadConfig(big("gait.yaml", MaxConfigSize))
	if exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), "over the limit") {
		t.Errorf("gait.yaml: %v, want exit 6 naming the limit", err)
	}
}
