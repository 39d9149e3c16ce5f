#!/usr/bin/env python3
"""A tool dispatcher that asks the Gait gate service before running a tool.

Start the service (it never runs tools itself):

    gait mcp serve --policy policy.yaml --listen 127.0.0.1:8787

then call dispatch_tool(name, arguments). Only an "allow" verdict runs the
tool; block, require_approval, dry_run, an error answer or an unreachable
service all mean the tool was NOT executed (the gate fails closed).

Standard library only.
"""

import json
import os
import sys
import urllib.error
import urllib.request

GATE_URL = os.environ.get("GAIT_GATE_URL", "http://127.0.0.1:8787")
GATE_TOKEN = os.environ.get("GAIT_GATE_TOKEN", "")  # for --auth-mode token
TIMEOUT_SECONDS = 2.0


def ask_gate(name, arguments, server=None, context=None, targets=None):
    """Returns the gate service's answer for one tool call in the mcp adapter's
    format: {"name", "args"} (the gate reads "args", not MCP's "arguments"),
    with optional "targets", "server" and "context"."""
    call = {"name": name, "args": arguments}
    if targets:
        call["targets"] = targets
    if server:
        call["server"] = server
    if context:
        call["context"] = context
    body = json.dumps({"call": call}).encode("utf-8")
    req = urllib.request.Request(GATE_URL + "/v1/evaluate", data=body, method="POST")
    req.add_header("Content-Type", "application/json")
    if GATE_TOKEN:
        req.add_header("Authorization", "Bearer " + GATE_TOKEN)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as err:
        # --http-verdict-status strict answers non-allow verdicts with 403/409
        # and a JSON body; refusals (400, 401, 413, 415) carry {"ok": false}.
        try:
            return json.load(err)
        except ValueError:
            return {"ok": False, "error": "HTTP %d" % err.code}
    except (urllib.error.URLError, OSError, ValueError) as err:
        return {"ok": False, "error": "gate unreachable: %s" % err}


def dispatch_tool(name, arguments, tools, **call_info):
    """Runs tools[name](**arguments) only when the gate allows it."""
    answer = ask_gate(name, arguments, **call_info)
    verdict = answer.get("verdict") if answer.get("ok") else None
    if verdict != "allow":
        return {
            "tool": name,
            "executed": False,
            "verdict": verdict or "error",
            "reason_codes": answer.get("reason_codes", []),
            "error": answer.get("error", ""),
        }
    result = tools[name](**arguments)
    return {"tool": name, "executed": True, "verdict": verdict,
            "reason_codes": answer.get("reason_codes", []), "result": result}


def main():
    tools = {
        "fs.read": lambda path: "contents of %s" % path,
        "db.drop": lambda table: "dropped %s" % table,
        "email.send": lambda to, body: "sent to %s" % to,
    }
    calls = [
        ("fs.read", {"path": "README.md"}),
        ("db.drop", {"table": "users"}),
        ("email.send", {"to": "ceo@example.com", "body": "hi"}),
    ]
    for name, args in calls:
        print(json.dumps(dispatch_tool(name, args, tools), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
