# shellcheck shell=bash
# The incident walk-through of docs/incidents.md on the built binary, with
# the repository's own inputs: capture, reduce, regress fixture, evidence
# packs, chain verification, encryption and retention.
inc="$work/incident"
mkdir -p "$inc/gait-out" && cd "$inc"
cp "$ROOT/testdata/incident/trace_refund.json" gait-out/trace_refund.json
check "incident: record" "$GAIT_BIN" run record --input "$ROOT/testdata/incident/run_incident.json"
check "incident: capture" "$GAIT_BIN" capture --from run_incident
check "incident: capture receipt resolves" "$GAIT_BIN" capture --from gait-out/capture.json --out gait-out/capture_again.json
check "incident: reduce" "$GAIT_BIN" run reduce --from run_incident --predicate non_ok_status
reduced=gait-out/runpack_run_incident_reduced_non_ok_status.zip
check "incident: reduced verifies" "$GAIT_BIN" verify "$reduced"
check "incident: reduced keeps the refund and its invoice lookup" grep -q '"reduced_intent_count": 2' "$reduced.reduce_report.json"
check "incident: fixture from the reduced run" "$GAIT_BIN" regress add --from "$reduced" --name refund_over_total
check "incident: fixture passes" "$GAIT_BIN" regress run --output gait-out/regress_result.json
check "incident: incident pack" "$GAIT_BIN" incident pack --from run_incident --case-id INC-2291 --out gait-out/evidence_pack_inc_2291.zip
check "incident: pack verifies" "$GAIT_BIN" guard verify gait-out/evidence_pack_inc_2291.zip
check "incident: chain verifies" "$GAIT_BIN" verify chain --run run_incident --trace gait-out/trace_refund.json --pack gait-out/evidence_pack_inc_2291.zip
GAIT_EVIDENCE_KEY=$(head -c 32 /dev/urandom | base64) && export GAIT_EVIDENCE_KEY
check "incident: encrypt" "$GAIT_BIN" guard encrypt --in gait-out/evidence_pack_inc_2291.zip --key-env GAIT_EVIDENCE_KEY
check "incident: decrypt" "$GAIT_BIN" guard decrypt --in gait-out/evidence_pack_inc_2291.zip.gaitenc --out handed_over.zip --key-env GAIT_EVIDENCE_KEY
check "incident: decrypted pack is the pack" cmp handed_over.zip gait-out/evidence_pack_inc_2291.zip
check "incident: retention dry run" "$GAIT_BIN" guard retain --root gait-out --dry-run --report-out retention.json
expect_code 6 "incident: unknown template refused" "$GAIT_BIN" incident pack --from run_incident --template hipaa
expect_code 6 "incident: predicate that never fires refused" "$GAIT_BIN" run reduce --from run_incident --predicate missing_result
unset GAIT_EVIDENCE_KEY
cd "$work"
