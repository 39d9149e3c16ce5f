#!/usr/bin/env bash
# Whole-process timings, min/median/max over N runs, for docs/performance.md.
# usage: scripts/bench-cli.sh N cmd args...
set -euo pipefail
n=$1; shift
python3 - "$n" "$@" <<'PY'
import subprocess, sys, time
n = int(sys.argv[1]); cmd = sys.argv[2:]
ts = []
for _ in range(n):
    t = time.perf_counter(); subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); ts.append((time.perf_counter() - t) * 1000)
ts.sort()
print(f"min={ts[0]:.2f}ms median={ts[len(ts)//2]:.2f}ms max={ts[-1]:.2f}ms runs={n}")
PY
