package job

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
)

// A chain file larger than any real one is refused before it is read.
func TestReadChainRefusesHugeFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big_chain.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxChainSize + 1); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	_, err = ReadChain(path)
	if exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("got exit %d: %v", exitcode.Of(err), err)
	}
}
