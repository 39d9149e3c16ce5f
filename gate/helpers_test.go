package gate

import (
	"testing"

	"github.com/gait-dev/gait/internal/digest"
)

func mustDigest(t testing.TB, v any) string {
	t.Helper()
	d, err := digest.JSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
