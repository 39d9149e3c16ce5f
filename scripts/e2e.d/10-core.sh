# shellcheck shell=bash
# Core flow on the built binary: the README's tour and the project's own
# fixtures and run records.
check "tour" "$GAIT_BIN" tour
check "demo" "$GAIT_BIN" demo
check "verify demo" "$GAIT_BIN" verify run_demo
check "own fixtures pass" "$GAIT_BIN" regress run --config "$ROOT/gait.yaml" --output "$work/own_result.json" --junit "$work/own_junit.xml"
for r in "$ROOT"/testdata/runs/*.json; do
  check "record $(basename "$r")" "$GAIT_BIN" run record --input "$r" --out-dir "$work/rec"
done
"$GAIT_BIN" keys init --out-dir "$work/keys" >/dev/null
check "signed record" "$GAIT_BIN" run record --input "$ROOT/testdata/runs/support_refund.json" --out-dir "$work/signed" --key-mode prod --private-key "$work/keys/gait_private.key"
check "signature verifies" "$GAIT_BIN" verify "$work/signed/runpack_run_support_refund.zip" --public-key "$work/keys/gait_public.key" --require-signature
expect_code 6 "missing runpack is bad input" "$GAIT_BIN" verify "$work/nope.zip"
