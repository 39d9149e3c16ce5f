// Package conformance_test checks Gait against Gait v1: the v1 corpus of
// artifacts and schemas, the JUnit XSD and the reference binary. These inputs
// live outside the repository, so the suite runs only when
// GAIT_CONFORMANCE_DIR names the folder holding them (`make conformance`).
// When it is set, anything missing fails the suite; nothing here skips.
package conformance_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sharedDir is the absolute GAIT_CONFORMANCE_DIR; gaitBin is the Gait binary
// under test ($GAIT_BIN, or built from this module for the run).
var sharedDir, gaitBin string

func TestMain(m *testing.M) {
	dir := os.Getenv("GAIT_CONFORMANCE_DIR")
	if dir == "" {
		fmt.Println("conformance: not run; set GAIT_CONFORMANCE_DIR to the folder holding conformance/ and peers/ (make conformance GAIT_CONFORMANCE_DIR=<folder>)")
		os.Exit(0)
	}
	abs, err := filepath.Abs(dir)
	if err == nil {
		_, err = os.Stat(abs)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "conformance: GAIT_CONFORMANCE_DIR=%s: %v\n", dir, err)
		os.Exit(1)
	}
	sharedDir = abs
	if missing, err := missingInputs(); err != nil || len(missing) > 0 {
		if err == nil {
			err = fmt.Errorf("%d missing: %s", len(missing), strings.Join(missing, ", "))
		}
		fmt.Fprintf(os.Stderr, "conformance: GAIT_CONFORMANCE_DIR=%s: %v\n", dir, err)
		os.Exit(1)
	}
	if bin := os.Getenv("GAIT_BIN"); bin != "" {
		gaitBin = bin
		os.Exit(m.Run())
	}
	code, err := runWithGait(m)
	if err != nil {
		fmt.Fprintf(os.Stderr, "conformance: %v\n", err)
		os.Exit(1)
	}
	os.Exit(code)
}

// missingInputs lists the files of testdata/inputs.txt that are missing
// under GAIT_CONFORMANCE_DIR.
func missingInputs() ([]string, error) {
	list, err := os.ReadFile(filepath.Join("testdata", "inputs.txt"))
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, line := range strings.Split(string(list), "\n") {
		rel := strings.TrimSpace(line)
		if rel == "" || strings.HasPrefix(rel, "#") {
			continue
		}
		if _, err := os.Stat(filepath.Join(sharedDir, filepath.FromSlash(rel))); err != nil {
			missing = append(missing, rel)
		}
	}
	return missing, nil
}

func runWithGait(m *testing.M) (int, error) {
	tmp, err := os.MkdirTemp("", "gait-conformance-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	gaitBin = filepath.Join(tmp, "gait")
	build := exec.Command("go", "build", "-trimpath", "-o", gaitBin, "../cmd/gait")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return 0, fmt.Errorf("building gait: %w", err)
	}
	return m.Run(), nil
}

// need returns the path of rel (slash-separated, relative to
// GAIT_CONFORMANCE_DIR) and fails the test when it is missing.
func need(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(sharedDir, filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("conformance input missing: %s (GAIT_CONFORMANCE_DIR=%s)", rel, sharedDir)
	}
	return p
}

// referenceBin is the v1 reference binary, the oracle for differential tests.
func referenceBin(t testing.TB) string {
	t.Helper()
	return need(t, "peers/gait-reference")
}

func TestConformanceDirHoldsCorpus(t *testing.T) {
	for _, rel := range []string{"conformance/gait-v1/artifacts", "conformance/gait-v1/schemas", "conformance/junit/junit-10.xsd", "peers/gait-reference"} {
		need(t, rel)
	}
}
