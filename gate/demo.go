package gate

// DemoPolicy is the policy of `gait demo --policy`: reads pass, writes need
// two approvals, and destructive tools are blocked outright.
const DemoPolicy = `# The demo policy written by "gait demo --policy".
schema_id: gait.gate.policy
schema_version: 1.0.0
default_verdict: block
fail_closed:
  enabled: true
  risk_classes: [high, critical]
  required_fields: [targets, arg_provenance]
rules:
  - name: block-destructive-tools
    priority: 10
    effect: block
    match:
      tool_names: [tool.delete, tool.fs.delete, tool.db.drop]
    reason_codes: [destructive_tool_blocked]
    violations: [destructive_operation]
  - name: require-approval-writes
    priority: 20
    effect: require_approval
    min_approvals: 2
    require_distinct_approvers: true
    match:
      tool_names: [tool.write, tool.fs.write]
    reason_codes: [write_requires_approval]
  - name: allow-reads
    priority: 30
    effect: allow
    match:
      tool_names: [tool.read, tool.search, tool.fetch]
    reason_codes: [read_allowed]
`

// DemoIntent is the intent of `gait demo --policy`: an agent about to
// delete a file in its workspace.
const DemoIntent = `{
  "schema_id": "gait.gate.intent_request",
  "schema_version": "1.0.0",
  "created_at": "2026-02-06T00:00:00Z",
  "producer_version": "0.0.0-demo",
  "tool_name": "tool.delete",
  "args": {"path": "/srv/workspace/reports"},
  "targets": [{"kind": "path", "value": "/srv/workspace/reports"}],
  "arg_provenance": [{"arg_path": "$.path", "source": "user"}],
  "context": {"identity": "demo-agent", "workspace": "/srv/workspace", "risk_class": "high"}
}
`
