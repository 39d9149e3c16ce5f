# shellcheck shell=bash
# Core flow on the built binary: the README's tour, the project's own
# fixtures, and interop with the reference implementation when present.
check "tour" "$GAIT_BIN" tour
check "demo" "$GAIT_BIN" demo
check "verify demo" "$GAIT_BIN" verify run_demo
check "own fixtures pass" "$GAIT_BIN" regress run --config "$ROOT/gait.yaml" --output "$work/own_result.json" --junit "$work/own_junit.xml"
if command -v xmllint >/dev/null 2>&1; then
  check "own JUnit validates" xmllint --noout --schema "$ROOT/../shared/conformance/junit/junit-10.xsd" "$work/own_junit.xml"
fi
for r in "$ROOT"/testdata/runs/*.json; do
  check "record $(basename "$r")" "$GAIT_BIN" run record --input "$r" --out-dir "$work/rec"
done
if [ -x "$REF" ]; then
  for z in "$work"/rec/*.zip "$work"/gait-out/runpack_run_demo.zip; do
    check "reference verifies $(basename "$z")" "$REF" verify "$z"
  done
  "$GAIT_BIN" keys init --out-dir "$work/keys" >/dev/null
  check "signed record" "$GAIT_BIN" run record --input "$ROOT/../shared/conformance/gait-v1/inputs/run_record.json" --out-dir "$work/signed" --key-mode prod --private-key "$work/keys/gait_private.key"
  check "reference verifies signature" "$REF" verify "$work/signed/runpack_run_legacy_fixture.zip" --public-key "$work/keys/gait_public.key" --require-signature
  check "reference runs our fixtures" bash -c "cd '$ROOT' && '$REF' regress run --output '$work/ref_result.json' >/dev/null"
fi
expect_code 6 "missing runpack is bad input" "$GAIT_BIN" verify "$work/nope.zip"
