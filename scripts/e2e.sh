#!/usr/bin/env bash
# End-to-end checks of the built binary on the repository's own inputs: the
# README flow on a fresh directory and the project's fixtures. Interop with
# the reference implementation runs in the conformance suite.
set -euo pipefail
GAIT_BIN=${GAIT_BIN:?set GAIT_BIN to the built gait binary}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

pass=0 fail=0
check() { # check NAME CMD...
  local name=$1; shift
  if "$@" >"$work/out" 2>&1; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL $name"; cat "$work/out"; fi
}
expect_code() { # expect_code CODE NAME CMD...
  local want=$1 name=$2; shift 2
  set +e; "$@" >"$work/out" 2>&1; local got=$?; set -e
  if [ "$got" = "$want" ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL $name: exit $got, want $want"; cat "$work/out"; fi
}

check "version" "$GAIT_BIN" version
for s in "$ROOT"/scripts/e2e.d/*.sh; do
  [ -e "$s" ] || continue
  # shellcheck source=/dev/null
  source "$s"
done

echo "e2e: $pass passed, $fail failed"
[ "$fail" = 0 ]
