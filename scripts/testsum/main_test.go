package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"start","Package":"p"}`,
		`{"Action":"run","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}`,
		`{"Action":"pass","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestB/s","Output":"    b_test.go:3: no xmllint\n"}`,
		`{"Action":"output","Package":"p","Test":"TestB/s","Output":"--- SKIP: TestB/s (0.00s)\n"}`,
		`{"Action":"skip","Package":"p","Test":"TestB/s"}`,
		`{"Action":"pass","Package":"p","Test":"TestB"}`,
		`{"Action":"output","Package":"p","Output":"ok  \tp\t0.1s\n"}`,
		`{"Action":"pass","Package":"p"}`,
		`{"Action":"skip","Package":"q"}`,
	}, "\n")
	var out bytes.Buffer
	if code := run(strings.NewReader(in), &out, "make test"); code != 0 {
		t.Fatalf("exit %d\n%s", code, &out)
	}
	want := "ok  \tp\t0.1s\nskip p TestB/s: b_test.go:3: no xmllint\nmake test: 3 tests ran (subtests included): 2 passed, 0 failed, 1 skipped\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", &out, want)
	}

	failing := `{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:9: boom\n"}` + "\n" +
		`{"Action":"fail","Package":"p","Test":"TestC"}` + "\n" + `{"Action":"fail","Package":"p"}`
	out.Reset()
	if code := run(strings.NewReader(failing), &out, "s"); code != 1 || !strings.Contains(out.String(), "c_test.go:9: boom") {
		t.Errorf("exit %d\n%s", code, &out)
	}
	out.Reset()
	if code := run(strings.NewReader(`{"Action":"fail","Package":"p","FailedBuild":"p"}`+"\n"+`{"Action":"build-fail","ImportPath":"p"}`), &out, "s"); code != 1 {
		t.Errorf("build failure: exit %d\n%s", code, &out)
	}
}
