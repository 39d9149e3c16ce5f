package setup_test

import (
	"os"
	"os/exec"
	"regexp"
	"testing"
)

// TestReleaseVersionsAgree: the Docker action's image and the setup
// action's default version name the same release, as the release workflow
// requires (scripts/release-check.sh), and a different tag is refused.
func TestReleaseVersionsAgree(t *testing.T) {
	data, err := os.ReadFile("../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^  image: docker://ghcr\.io/gait-dev/gait:(v\S+)$`).FindSubmatch(data)
	if m == nil {
		t.Fatal("action.yml does not run a released ghcr.io/gait-dev/gait image")
	}
	tag := string(m[1])
	if out, err := exec.Command("bash", "../scripts/release-check.sh", tag).CombinedOutput(); err != nil {
		t.Fatalf("release-check %s: %v\n%s", tag, err, out)
	}
	if out, err := exec.Command("bash", "../scripts/release-check.sh", "v0.0.1").CombinedOutput(); err == nil {
		t.Fatalf("release-check accepted a tag the actions do not name:\n%s", out)
	}
}
