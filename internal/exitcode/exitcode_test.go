package exitcode

import (
	"errors"
	"fmt"
	"testing"
)

func TestOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Code
	}{
		{"nil", nil, OK},
		{"plain", errors.New("boom"), Internal},
		{"invalid", Invalidf("bad %s", "x"), InvalidInput},
		{"wrapped twice", fmt.Errorf("ctx: %w", VerifyFailedf("digest")), VerifyFailed},
		{"wrap code", Wrap(RegressFailed, errors.New("r")), RegressFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Of(tt.err); got != tt.want {
				t.Fatalf("Of() = %v, want %v", got, tt.want)
			}
		})
	}
	if Wrap(InvalidInput, nil) != nil {
		t.Fatal("Wrap(nil) must stay nil")
	}
}

func TestCodesAreStable(t *testing.T) {
	want := map[Code]int{OK: 0, Internal: 1, VerifyFailed: 2, PolicyBlock: 3, ApprovalRequired: 4, RegressFailed: 5, InvalidInput: 6}
	for c, n := range want {
		if int(c) != n {
			t.Errorf("%s = %d, want %d", c, int(c), n)
		}
	}
}
