# shellcheck shell=bash
# The Python dispatcher example against the gate service: only allow runs
# the tool; block and require_approval are reported as not executed. Needs
# python3 (skipped otherwise).
if ! command -v python3 >/dev/null 2>&1; then
  echo "skip python dispatcher: python3 not found"
else
  ex="$ROOT/examples/python-dispatcher"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  "$GAIT_BIN" mcp serve --policy "$ex/policy.yaml" --listen "127.0.0.1:$port" >"$work/serve.out" 2>&1 &
  serve_pid=$!
  for _ in $(seq 1 100); do
    python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/healthz', timeout=1)" 2>/dev/null && break
    sleep 0.1
  done
  if GAIT_GATE_URL="http://127.0.0.1:$port" python3 "$ex/dispatcher.py" >"$work/dispatch.out" 2>&1 &&
    grep -q '"executed": true, .*"tool": "fs.read", "verdict": "allow"' "$work/dispatch.out" &&
    grep -q '"executed": false, .*"tool": "db.drop", "verdict": "block"' "$work/dispatch.out" &&
    grep -q '"executed": false, .*"tool": "email.send", "verdict": "require_approval"' "$work/dispatch.out"; then
    pass=$((pass+1))
  else
    fail=$((fail+1)); echo "FAIL python dispatcher"; cat "$work/dispatch.out" "$work/serve.out"
  fi
  # with the service gone, nothing runs (fail closed)
  kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null || true
  if GAIT_GATE_URL="http://127.0.0.1:$port" python3 "$ex/dispatcher.py" >"$work/dispatch.out" 2>&1 &&
    ! grep -q '"executed": true' "$work/dispatch.out"; then
    pass=$((pass+1))
  else
    fail=$((fail+1)); echo "FAIL python dispatcher fails closed"; cat "$work/dispatch.out"
  fi
fi
