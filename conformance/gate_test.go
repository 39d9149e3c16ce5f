package conformance_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/internal/digest"
)

// corpusPath is a file of the v1 corpus; a missing one fails the test.
func corpusPath(t testing.TB, parts ...string) string {
	t.Helper()
	return need(t, "conformance/gait-v1/"+strings.Join(parts, "/"))
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func mustDigest(t testing.TB, v any) string {
	t.Helper()
	d, err := digest.JSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// referenceVerdicts were recorded by running the Gait v1 reference
// (`gait gate eval --policy P --intent I --json`, no tokens) on every
// policy and intent in inputs/policy. Columns: policy, intent, verdict,
// matched rule, reason codes, violations, "policy_digest:intent_digest",
// exit code, required approvals. The two pairs where the reference fails
// with an internal error (base_high_risk and baseline-highrisk with
// endpoint/fixtures/intent_destructive.json, a rate-limit lock file
// problem) are not listed.
var referenceVerdicts = []struct {
	policy, intent, verdict, rule string
	reasons, violations           []string
	digests                       string
	exit, approvals               int
}{
	{"base_high_risk.yaml", "endpoint/fixtures/intent_allow.json", "block", "block-undelegated-egress-write", []string{"delegation_required_for_egress_write"}, []string{"missing_or_invalid_delegation"}, "b1cf87ef800b22e7d5e366225fab4d2f1e9b113170d16144ac33289e7f3be6d7:bb3cd42d1d455bd89ecde32fbd361414c4eca0c35b60ee9a160ac8d3417322c2", 3, 0},
	{"base_high_risk.yaml", "endpoint/fixtures/intent_block.json", "require_approval", "destructive-budget-guard", []string{"approval_token_missing", "destructive_budget_guard"}, []string{"approval_not_granted", "destructive_operation"}, "b1cf87ef800b22e7d5e366225fab4d2f1e9b113170d16144ac33289e7f3be6d7:56306d8bd752d5b462e3f017d2482ce575985e3ef673945c39a1a58411214149", 4, 1},
	{"base_high_risk.yaml", "intents/intent_delegated_egress_invalid.json", "block", "block-undelegated-egress-write", []string{"delegation_required_for_egress_write"}, []string{"missing_or_invalid_delegation"}, "b1cf87ef800b22e7d5e366225fab4d2f1e9b113170d16144ac33289e7f3be6d7:07822a3bb6bd414159abb37a9b006c81c525f6161ea7eac89c9299decfb743c2", 3, 0},
	{"base_high_risk.yaml", "intents/intent_delegated_egress_valid.json", "block", "allow-delegated-egress-write", []string{"delegated_egress_write_allowed", "delegation_token_missing"}, []string{"delegation_not_granted"}, "b1cf87ef800b22e7d5e366225fab4d2f1e9b113170d16144ac33289e7f3be6d7:dd91fd72add2a0a7d50a7c1bc682bb84387e12b6573176c32e12298014da0f81", 3, 0},
	{"base_high_risk.yaml", "intents/intent_delete.json", "block", "block-destructive-tool-delete", []string{"destructive_apply_requires_approval", "destructive_tool_blocked"}, []string{"destructive_operation"}, "b1cf87ef800b22e7d5e366225fab4d2f1e9b113170d16144ac33289e7f3be6d7:bb0a019bb5c1677041c780acde04ac38e2bb65e960f6574a5c8da439f70ffd56", 3, 0},
	{"base_high_risk.yaml", "intents/intent_read.json", "allow", "allow-safe-tool-read", []string{"safe_read_allowed"}, []string{}, "b1cf87ef800b22e7d5e366225fab4d2f1e9b113170d16144ac33289e7f3be6d7:7cb7de9dfb5207f7cdea2f0b0a9e8e3ece290df366c766165e1995b7ed39e88f", 0, 0},
	{"base_high_risk.yaml", "intents/intent_tainted_egress.json", "block", "block-tainted-egress-write", []string{"blocked_tainted_egress"}, []string{"tainted_data_exfiltration"}, "b1cf87ef800b22e7d5e366225fab4d2f1e9b113170d16144ac33289e7f3be6d7:3d61f934270abefba410ebc25d041b8509f98c6f429607c0376803b999127537", 3, 0},
	{"base_high_risk.yaml", "intents/intent_write.json", "require_approval", "destructive-budget-guard", []string{"approval_token_missing", "destructive_budget_guard"}, []string{"approval_not_granted", "destructive_operation"}, "b1cf87ef800b22e7d5e366225fab4d2f1e9b113170d16144ac33289e7f3be6d7:dfc167dcb3d79e877289e4f145a956f3c68368bf9fa2913dd046ce89fe01967e", 4, 1},
	{"base_low_risk.yaml", "endpoint/fixtures/intent_allow.json", "require_approval", "require-approval-tool-write", []string{"approval_required_for_write", "approval_token_missing"}, []string{"approval_not_granted", "approval_required"}, "aa9e4371c827fc38f26c95588061b8376f20ef6524917ebab69bcc41aa3ed5c9:bb3cd42d1d455bd89ecde32fbd361414c4eca0c35b60ee9a160ac8d3417322c2", 4, 1},
	{"base_low_risk.yaml", "endpoint/fixtures/intent_block.json", "require_approval", "require-approval-tool-write", []string{"approval_required_for_write", "approval_token_missing"}, []string{"approval_not_granted", "approval_required"}, "aa9e4371c827fc38f26c95588061b8376f20ef6524917ebab69bcc41aa3ed5c9:56306d8bd752d5b462e3f017d2482ce575985e3ef673945c39a1a58411214149", 4, 1},
	{"base_low_risk.yaml", "endpoint/fixtures/intent_destructive.json", "require_approval", "require-approval-tool-write", []string{"approval_required_for_write", "approval_token_missing", "destructive_apply_requires_approval"}, []string{"approval_not_granted", "approval_required"}, "aa9e4371c827fc38f26c95588061b8376f20ef6524917ebab69bcc41aa3ed5c9:c6027177ce6b0468c8a8650d4b4325b0cb76f8f014d3000517c65b5e71afd046", 4, 1},
	{"base_low_risk.yaml", "intents/intent_delegated_egress_invalid.json", "require_approval", "require-approval-tool-write", []string{"approval_required_for_write", "approval_token_missing"}, []string{"approval_not_granted", "approval_required"}, "aa9e4371c827fc38f26c95588061b8376f20ef6524917ebab69bcc41aa3ed5c9:07822a3bb6bd414159abb37a9b006c81c525f6161ea7eac89c9299decfb743c2", 4, 1},
	{"base_low_risk.yaml", "intents/intent_delegated_egress_valid.json", "require_approval", "require-approval-tool-write", []string{"approval_required_for_write", "approval_token_missing"}, []string{"approval_not_granted", "approval_required"}, "aa9e4371c827fc38f26c95588061b8376f20ef6524917ebab69bcc41aa3ed5c9:dd91fd72add2a0a7d50a7c1bc682bb84387e12b6573176c32e12298014da0f81", 4, 1},
	{"base_low_risk.yaml", "intents/intent_delete.json", "block", "block-destructive-tool-delete", []string{"destructive_apply_requires_approval", "destructive_tool_blocked"}, []string{"destructive_operation"}, "aa9e4371c827fc38f26c95588061b8376f20ef6524917ebab69bcc41aa3ed5c9:bb0a019bb5c1677041c780acde04ac38e2bb65e960f6574a5c8da439f70ffd56", 3, 0},
	{"base_low_risk.yaml", "intents/intent_read.json", "allow", "allow-safe-tool-read", []string{"safe_read_allowed"}, []string{}, "aa9e4371c827fc38f26c95588061b8376f20ef6524917ebab69bcc41aa3ed5c9:7cb7de9dfb5207f7cdea2f0b0a9e8e3ece290df366c766165e1995b7ed39e88f", 0, 0},
	{"base_low_risk.yaml", "intents/intent_tainted_egress.json", "require_approval", "require-approval-tool-write", []string{"approval_required_for_write", "approval_token_missing"}, []string{"approval_not_granted", "approval_required"}, "aa9e4371c827fc38f26c95588061b8376f20ef6524917ebab69bcc41aa3ed5c9:3d61f934270abefba410ebc25d041b8509f98c6f429607c0376803b999127537", 4, 1},
	{"base_low_risk.yaml", "intents/intent_write.json", "require_approval", "require-approval-tool-write", []string{"approval_required_for_write", "approval_token_missing"}, []string{"approval_not_granted", "approval_required"}, "aa9e4371c827fc38f26c95588061b8376f20ef6524917ebab69bcc41aa3ed5c9:dfc167dcb3d79e877289e4f145a956f3c68368bf9fa2913dd046ce89fe01967e", 4, 1},
	{"base_medium_risk.yaml", "endpoint/fixtures/intent_allow.json", "require_approval", "require-approval-tool-write", []string{"approval_required_for_write", "approval_token_missing"}, []string{"approval_not_granted", "approval_required"}, "878ec724f40b96d97dbf669a907c70622073d513952bfb6d40e483754eb564ce:bb3cd42d1d455bd89ecde32fbd361414c4eca0c35b60ee9a160ac8d3417322c2", 4, 1},
	{"base_medium_risk.yaml", "endpoint/fixtures/intent_block.json", "require_approval", "require-approval-tool-write", []string{"approval_required_for_write", "approval_token_missing"}, []string{"approval_not_granted", "approval_required"}, "878ec724f40b96d97dbf669a907c70622073d513952bfb6d40e483754eb564ce:56306d8bd752d5b462e3f017d2482ce575985e3ef673945c39a1a58411214149", 4, 1},
	{"base_medium_risk.yaml", "endpoint/fixtures/intent_destructive.json", "require_approval", "require-approval-tool-write", []string{"approval_required_for_write", "approval_token_missing", "destructive_apply_requires_approval"}, []string{"approval_not_granted", "approval_required"}, "878ec724f40b96d97dbf669a907c70622073d513952bfb6d40e483754eb564ce:c6027177ce6b0468c8a8650d4b4325b0cb76f8f014d3000517c65b5e71afd046", 4, 1},
	{"base_medium_risk.yaml", "intents/intent_delegated_egress_invalid.json", "require_approval", "require-approval-tool-write", []string{"approval_required_for_write", "approval_token_missing"}, []string{"approval_not_granted", "approval_required"}, "878ec724f40b96d97dbf669a907c70622073d513952bfb6d40e483754eb564ce:07822a3bb6bd414159abb37a9b006c81c525f6161ea7eac89c9299decfb743c2", 4, 1},
	{"base_medium_risk.yaml", "intents/intent_delegated_egress_valid.json", "require_approval", "require-approval-tool-write", []string{"approval_required_for_write", "approval_token_missing"}, []string{"approval_not_granted", "approval_required"}, "878ec724f40b96d97dbf669a907c70622073d513952bfb6d40e483754eb564ce:dd91fd72add2a0a7d50a7c1bc682bb84387e12b6573176c32e12298014da0f81", 4, 1},
	{"base_medium_risk.yaml", "intents/intent_delete.json", "block", "block-destructive-tool-delete", []string{"destructive_apply_requires_approval", "destructive_tool_blocked"}, []string{"destructive_operation"}, "878ec724f40b96d97dbf669a907c70622073d513952bfb6d40e483754eb564ce:bb0a019bb5c1677041c780acde04ac38e2bb65e960f6574a5c8da439f70ffd56", 3, 0},
	{"base_medium_risk.yaml", "intents/intent_read.json", "allow", "allow-safe-tool-read", []string{"safe_read_allowed"}, []string{}, "878ec724f40b96d97dbf669a907c70622073d513952bfb6d40e483754eb564ce:7cb7de9dfb5207f7cdea2f0b0a9e8e3ece290df366c766165e1995b7ed39e88f", 0, 0},
	{"base_medium_risk.yaml", "intents/intent_tainted_egress.json", "require_approval", "require-approval-tool-write", []string{"approval_required_for_write", "approval_token_missing"}, []string{"approval_not_granted", "approval_required"}, "878ec724f40b96d97dbf669a907c70622073d513952bfb6d40e483754eb564ce:3d61f934270abefba410ebc25d041b8509f98c6f429607c0376803b999127537", 4, 1},
	{"base_medium_risk.yaml", "intents/intent_write.json", "require_approval", "require-approval-tool-write", []string{"approval_required_for_write", "approval_token_missing"}, []string{"approval_not_granted", "approval_required"}, "878ec724f40b96d97dbf669a907c70622073d513952bfb6d40e483754eb564ce:dfc167dcb3d79e877289e4f145a956f3c68368bf9fa2913dd046ce89fe01967e", 4, 1},
	{"baseline-highrisk.yaml", "endpoint/fixtures/intent_allow.json", "block", "block-undelegated-egress-write", []string{"delegation_required_for_egress_write"}, []string{"missing_or_invalid_delegation"}, "b1cf87ef800b22e7d5e366225fab4d2f1e9b113170d16144ac33289e7f3be6d7:bb3cd42d1d455bd89ecde32fbd361414c4eca0c35b60ee9a160ac8d3417322c2", 3, 0},
	{"baseline-highrisk.yaml", "endpoint/fixtures/intent_block.json", "require_approval", "destructive-budget-guard", []string{"approval_token_missing", "destructive_budget_guard"}, []string{"approval_not_granted", "destructive_operation"}, "b1cf87ef800b22e7d5e366225fab4d2f1e9b113170d16144ac33289e7f3be6d7:56306d8bd752d5b462e3f017d2482ce575985e3ef673945c39a1a58411214149", 4, 1},
	{"baseline-highrisk.yaml", "intents/intent_delegated_egress_invalid.json", "block", "block-undelegated-egress-write", []string{"delegation_required_for_egress_write"}, []string{"missing_or_invalid_delegation"}, "b1cf87ef800b22e7d5e366225fab4d2f1e9b113170d16144ac33289e7f3be6d7:07822a3bb6bd414159abb37a9b006c81c525f6161ea7eac89c9299decfb743c2", 3, 0},
	{"baseline-highrisk.yaml", "intents/intent_delegated_egress_valid.json", "block", "allow-delegated-egress-write", []string{"delegated_egress_write_allowed", "delegation_token_missing"}, []string{"delegation_not_granted"}, "b1cf87ef800b22e7d5e366225fab4d2f1e9b113170d16144ac33289e7f3be6d7:dd91fd72add2a0a7d50a7c1bc682bb84387e12b6573176c32e12298014da0f81", 3, 0},
	{"baseline-highrisk.yaml", "intents/intent_delete.json", "block", "block-destructive-tool-delete", []string{"destructive_apply_requires_approval", "destructive_tool_blocked"}, []string{"destructive_operation"}, "b1cf87ef800b22e7d5e366225fab4d2f1e9b113170d16144ac33289e7f3be6d7:bb0a019bb5c1677041c780acde04ac38e2bb65e960f6574a5c8da439f70ffd56", 3, 0},
	{"baseline-highrisk.yaml", "intents/intent_read.json", "allow", "allow-safe-tool-read", []string{"safe_read_allowed"}, []string{}, "b1cf87ef800b22e7d5e366225fab4d2f1e9b113170d16144ac33289e7f3be6d7:7cb7de9dfb5207f7cdea2f0b0a9e8e3ece290df366c766165e1995b7ed39e88f", 0, 0},
	{"baseline-highrisk.yaml", "intents/intent_tainted_egress.json", "block", "block-tainted-egress-write", []string{"blocked_tainted_egress"}, []string{"tainted_data_exfiltration"}, "b1cf87ef800b22e7d5e366225fab4d2f1e9b113170d16144ac33289e7f3be6d7:3d61f934270abefba410ebc25d041b8509f98c6f429607c0376803b999127537", 3, 0},
	{"baseline-highrisk.yaml", "intents/intent_write.json", "require_approval", "destructive-budget-guard", []string{"approval_token_missing", "destructive_budget_guard"}, []string{"approval_not_granted", "destructive_operation"}, "b1cf87ef800b22e7d5e366225fab4d2f1e9b113170d16144ac33289e7f3be6d7:dfc167dcb3d79e877289e4f145a956f3c68368bf9fa2913dd046ce89fe01967e", 4, 1},
	{"endpoint/allow_safe_endpoints.yaml", "endpoint/fixtures/intent_allow.json", "allow", "endpoint-safe-allow", []string{"matched_rule_endpoint_safe_allow"}, []string{}, "52dd8ea582e6a14537f3e4833127e46ebc58336a972ff934aff387dce8842a44:bb3cd42d1d455bd89ecde32fbd361414c4eca0c35b60ee9a160ac8d3417322c2", 0, 0},
	{"endpoint/allow_safe_endpoints.yaml", "endpoint/fixtures/intent_block.json", "block", "endpoint-safe-allow", []string{"endpoint_path_not_allowlisted", "endpoint_policy_violation", "matched_rule_endpoint_safe_allow"}, []string{"endpoint_path_not_allowlisted", "endpoint_policy_violation"}, "52dd8ea582e6a14537f3e4833127e46ebc58336a972ff934aff387dce8842a44:56306d8bd752d5b462e3f017d2482ce575985e3ef673945c39a1a58411214149", 3, 0},
	{"endpoint/allow_safe_endpoints.yaml", "endpoint/fixtures/intent_destructive.json", "allow", "", []string{"default_allow"}, []string{}, "52dd8ea582e6a14537f3e4833127e46ebc58336a972ff934aff387dce8842a44:c6027177ce6b0468c8a8650d4b4325b0cb76f8f014d3000517c65b5e71afd046", 0, 0},
	{"endpoint/allow_safe_endpoints.yaml", "intents/intent_delegated_egress_invalid.json", "block", "endpoint-safe-allow", []string{"endpoint_domain_not_allowlisted", "endpoint_policy_violation", "matched_rule_endpoint_safe_allow"}, []string{"endpoint_domain_not_allowlisted", "endpoint_policy_violation"}, "52dd8ea582e6a14537f3e4833127e46ebc58336a972ff934aff387dce8842a44:07822a3bb6bd414159abb37a9b006c81c525f6161ea7eac89c9299decfb743c2", 3, 0},
	{"endpoint/allow_safe_endpoints.yaml", "intents/intent_delegated_egress_valid.json", "block", "endpoint-safe-allow", []string{"endpoint_domain_not_allowlisted", "endpoint_policy_violation", "matched_rule_endpoint_safe_allow"}, []string{"endpoint_domain_not_allowlisted", "endpoint_policy_violation"}, "52dd8ea582e6a14537f3e4833127e46ebc58336a972ff934aff387dce8842a44:dd91fd72add2a0a7d50a7c1bc682bb84387e12b6573176c32e12298014da0f81", 3, 0},
	{"endpoint/allow_safe_endpoints.yaml", "intents/intent_delete.json", "allow", "", []string{"default_allow"}, []string{}, "52dd8ea582e6a14537f3e4833127e46ebc58336a972ff934aff387dce8842a44:bb0a019bb5c1677041c780acde04ac38e2bb65e960f6574a5c8da439f70ffd56", 0, 0},
	{"endpoint/allow_safe_endpoints.yaml", "intents/intent_read.json", "allow", "", []string{"default_allow"}, []string{}, "52dd8ea582e6a14537f3e4833127e46ebc58336a972ff934aff387dce8842a44:7cb7de9dfb5207f7cdea2f0b0a9e8e3ece290df366c766165e1995b7ed39e88f", 0, 0},
	{"endpoint/allow_safe_endpoints.yaml", "intents/intent_tainted_egress.json", "block", "endpoint-safe-allow", []string{"endpoint_domain_not_allowlisted", "endpoint_policy_violation", "matched_rule_endpoint_safe_allow"}, []string{"endpoint_domain_not_allowlisted", "endpoint_policy_violation"}, "52dd8ea582e6a14537f3e4833127e46ebc58336a972ff934aff387dce8842a44:3d61f934270abefba410ebc25d041b8509f98c6f429607c0376803b999127537", 3, 0},
	{"endpoint/allow_safe_endpoints.yaml", "intents/intent_write.json", "block", "endpoint-safe-allow", []string{"endpoint_path_not_allowlisted", "endpoint_policy_violation", "matched_rule_endpoint_safe_allow"}, []string{"endpoint_path_not_allowlisted", "endpoint_policy_violation"}, "52dd8ea582e6a14537f3e4833127e46ebc58336a972ff934aff387dce8842a44:dfc167dcb3d79e877289e4f145a956f3c68368bf9fa2913dd046ce89fe01967e", 3, 0},
	{"endpoint/block_denied_endpoints.yaml", "endpoint/fixtures/intent_allow.json", "allow", "endpoint-deny", []string{"matched_rule_endpoint_deny"}, []string{}, "2c40a4674ab591d53b4e72c280c91f5ae35c119dc004d320c3c054730be788f2:bb3cd42d1d455bd89ecde32fbd361414c4eca0c35b60ee9a160ac8d3417322c2", 0, 0},
	{"endpoint/block_denied_endpoints.yaml", "endpoint/fixtures/intent_block.json", "block", "endpoint-deny", []string{"endpoint_path_denied", "endpoint_policy_violation", "matched_rule_endpoint_deny"}, []string{"endpoint_path_denied", "endpoint_policy_violation"}, "2c40a4674ab591d53b4e72c280c91f5ae35c119dc004d320c3c054730be788f2:56306d8bd752d5b462e3f017d2482ce575985e3ef673945c39a1a58411214149", 3, 0},
	{"endpoint/block_denied_endpoints.yaml", "endpoint/fixtures/intent_destructive.json", "require_approval", "endpoint-deny", []string{"approval_token_missing", "destructive_apply_requires_approval", "matched_rule_endpoint_deny"}, []string{"approval_not_granted"}, "2c40a4674ab591d53b4e72c280c91f5ae35c119dc004d320c3c054730be788f2:c6027177ce6b0468c8a8650d4b4325b0cb76f8f014d3000517c65b5e71afd046", 4, 1},
	{"endpoint/block_denied_endpoints.yaml", "intents/intent_delegated_egress_invalid.json", "allow", "endpoint-deny", []string{"matched_rule_endpoint_deny"}, []string{}, "2c40a4674ab591d53b4e72c280c91f5ae35c119dc004d320c3c054730be788f2:07822a3bb6bd414159abb37a9b006c81c525f6161ea7eac89c9299decfb743c2", 0, 0},
	{"endpoint/block_denied_endpoints.yaml", "intents/intent_delegated_egress_valid.json", "allow", "endpoint-deny", []string{"matched_rule_endpoint_deny"}, []string{}, "2c40a4674ab591d53b4e72c280c91f5ae35c119dc004d320c3c054730be788f2:dd91fd72add2a0a7d50a7c1bc682bb84387e12b6573176c32e12298014da0f81", 0, 0},
	{"endpoint/block_denied_endpoints.yaml", "intents/intent_delete.json", "allow", "", []string{"default_allow"}, []string{}, "2c40a4674ab591d53b4e72c280c91f5ae35c119dc004d320c3c054730be788f2:bb0a019bb5c1677041c780acde04ac38e2bb65e960f6574a5c8da439f70ffd56", 0, 0},
	{"endpoint/block_denied_endpoints.yaml", "intents/intent_read.json", "allow", "", []string{"default_allow"}, []string{}, "2c40a4674ab591d53b4e72c280c91f5ae35c119dc004d320c3c054730be788f2:7cb7de9dfb5207f7cdea2f0b0a9e8e3ece290df366c766165e1995b7ed39e88f", 0, 0},
	{"endpoint/block_denied_endpoints.yaml", "intents/intent_tainted_egress.json", "allow", "endpoint-deny", []string{"matched_rule_endpoint_deny"}, []string{}, "2c40a4674ab591d53b4e72c280c91f5ae35c119dc004d320c3c054730be788f2:3d61f934270abefba410ebc25d041b8509f98c6f429607c0376803b999127537", 0, 0},
	{"endpoint/block_denied_endpoints.yaml", "intents/intent_write.json", "allow", "endpoint-deny", []string{"matched_rule_endpoint_deny"}, []string{}, "2c40a4674ab591d53b4e72c280c91f5ae35c119dc004d320c3c054730be788f2:dfc167dcb3d79e877289e4f145a956f3c68368bf9fa2913dd046ce89fe01967e", 0, 0},
	{"endpoint/require_approval_destructive.yaml", "endpoint/fixtures/intent_allow.json", "allow", "endpoint-destructive-approval", []string{"matched_rule_endpoint_destructive_approval"}, []string{}, "d535c25ac3cbfbc99e6e88d54a957193ac9111898dfa21a40e4f83191afa3de7:bb3cd42d1d455bd89ecde32fbd361414c4eca0c35b60ee9a160ac8d3417322c2", 0, 0},
	{"endpoint/require_approval_destructive.yaml", "endpoint/fixtures/intent_block.json", "allow", "endpoint-destructive-approval", []string{"matched_rule_endpoint_destructive_approval"}, []string{}, "d535c25ac3cbfbc99e6e88d54a957193ac9111898dfa21a40e4f83191afa3de7:56306d8bd752d5b462e3f017d2482ce575985e3ef673945c39a1a58411214149", 0, 0},
	{"endpoint/require_approval_destructive.yaml", "endpoint/fixtures/intent_destructive.json", "require_approval", "endpoint-destructive-approval", []string{"approval_token_missing", "destructive_apply_requires_approval", "endpoint_destructive_guard", "endpoint_destructive_operation", "matched_rule_endpoint_destructive_approval"}, []string{"approval_not_granted", "destructive_operation", "endpoint_destructive_guard"}, "d535c25ac3cbfbc99e6e88d54a957193ac9111898dfa21a40e4f83191afa3de7:c6027177ce6b0468c8a8650d4b4325b0cb76f8f014d3000517c65b5e71afd046", 4, 1},
	{"endpoint/require_approval_destructive.yaml", "intents/intent_delegated_egress_invalid.json", "allow", "endpoint-destructive-approval", []string{"matched_rule_endpoint_destructive_approval"}, []string{}, "d535c25ac3cbfbc99e6e88d54a957193ac9111898dfa21a40e4f83191afa3de7:07822a3bb6bd414159abb37a9b006c81c525f6161ea7eac89c9299decfb743c2", 0, 0},
	{"endpoint/require_approval_destructive.yaml", "intents/intent_delegated_egress_valid.json", "allow", "endpoint-destructive-approval", []string{"matched_rule_endpoint_destructive_approval"}, []string{}, "d535c25ac3cbfbc99e6e88d54a957193ac9111898dfa21a40e4f83191afa3de7:dd91fd72add2a0a7d50a7c1bc682bb84387e12b6573176c32e12298014da0f81", 0, 0},
	{"endpoint/require_approval_destructive.yaml", "intents/intent_delete.json", "allow", "", []string{"default_allow"}, []string{}, "d535c25ac3cbfbc99e6e88d54a957193ac9111898dfa21a40e4f83191afa3de7:bb0a019bb5c1677041c780acde04ac38e2bb65e960f6574a5c8da439f70ffd56", 0, 0},
	{"endpoint/require_approval_destructive.yaml", "intents/intent_read.json", "allow", "", []string{"default_allow"}, []string{}, "d535c25ac3cbfbc99e6e88d54a957193ac9111898dfa21a40e4f83191afa3de7:7cb7de9dfb5207f7cdea2f0b0a9e8e3ece290df366c766165e1995b7ed39e88f", 0, 0},
	{"endpoint/require_approval_destructive.yaml", "intents/intent_tainted_egress.json", "allow", "endpoint-destructive-approval", []string{"matched_rule_endpoint_destructive_approval"}, []string{}, "d535c25ac3cbfbc99e6e88d54a957193ac9111898dfa21a40e4f83191afa3de7:3d61f934270abefba410ebc25d041b8509f98c6f429607c0376803b999127537", 0, 0},
	{"endpoint/require_approval_destructive.yaml", "intents/intent_write.json", "allow", "endpoint-destructive-approval", []string{"matched_rule_endpoint_destructive_approval"}, []string{}, "d535c25ac3cbfbc99e6e88d54a957193ac9111898dfa21a40e4f83191afa3de7:dfc167dcb3d79e877289e4f145a956f3c68368bf9fa2913dd046ce89fe01967e", 0, 0},
	{"knowledge_worker_safe.yaml", "endpoint/fixtures/intent_allow.json", "require_approval", "require-approval-write", []string{"approval_required_for_write", "approval_token_missing"}, []string{"approval_not_granted", "approval_required"}, "f00ca6610a38bc3c81c27d63307406506bfe699d4c8658a2c365b34451c5fb7c:bb3cd42d1d455bd89ecde32fbd361414c4eca0c35b60ee9a160ac8d3417322c2", 4, 1},
	{"knowledge_worker_safe.yaml", "endpoint/fixtures/intent_block.json", "require_approval", "require-approval-write", []string{"approval_required_for_write", "approval_token_missing"}, []string{"approval_not_granted", "approval_required"}, "f00ca6610a38bc3c81c27d63307406506bfe699d4c8658a2c365b34451c5fb7c:56306d8bd752d5b462e3f017d2482ce575985e3ef673945c39a1a58411214149", 4, 1},
	{"knowledge_worker_safe.yaml", "endpoint/fixtures/intent_destructive.json", "require_approval", "require-approval-write", []string{"approval_required_for_write", "approval_token_missing", "destructive_apply_requires_approval"}, []string{"approval_not_granted", "approval_required"}, "f00ca6610a38bc3c81c27d63307406506bfe699d4c8658a2c365b34451c5fb7c:c6027177ce6b0468c8a8650d4b4325b0cb76f8f014d3000517c65b5e71afd046", 4, 1},
	{"knowledge_worker_safe.yaml", "intents/intent_delegated_egress_invalid.json", "require_approval", "require-approval-write", []string{"approval_required_for_write", "approval_token_missing"}, []string{"approval_not_granted", "approval_required"}, "f00ca6610a38bc3c81c27d63307406506bfe699d4c8658a2c365b34451c5fb7c:07822a3bb6bd414159abb37a9b006c81c525f6161ea7eac89c9299decfb743c2", 4, 1},
	{"knowledge_worker_safe.yaml", "intents/intent_delegated_egress_valid.json", "require_approval", "require-approval-write", []string{"approval_required_for_write", "approval_token_missing"}, []string{"approval_not_granted", "approval_required"}, "f00ca6610a38bc3c81c27d63307406506bfe699d4c8658a2c365b34451c5fb7c:dd91fd72add2a0a7d50a7c1bc682bb84387e12b6573176c32e12298014da0f81", 4, 1},
	{"knowledge_worker_safe.yaml", "intents/intent_delete.json", "require_approval", "break-glass-permanent-delete", []string{"approval_token_missing", "break_glass_required_for_permanent_delete", "destructive_apply_requires_approval"}, []string{"approval_not_granted", "destructive_operation"}, "f00ca6610a38bc3c81c27d63307406506bfe699d4c8658a2c365b34451c5fb7c:bb0a019bb5c1677041c780acde04ac38e2bb65e960f6574a5c8da439f70ffd56", 4, 2},
	{"knowledge_worker_safe.yaml", "intents/intent_read.json", "allow", "allow-read-only", []string{"safe_read_allowed"}, []string{}, "f00ca6610a38bc3c81c27d63307406506bfe699d4c8658a2c365b34451c5fb7c:7cb7de9dfb5207f7cdea2f0b0a9e8e3ece290df366c766165e1995b7ed39e88f", 0, 0},
	{"knowledge_worker_safe.yaml", "intents/intent_tainted_egress.json", "require_approval", "require-approval-write", []string{"approval_required_for_write", "approval_token_missing"}, []string{"approval_not_granted", "approval_required"}, "f00ca6610a38bc3c81c27d63307406506bfe699d4c8658a2c365b34451c5fb7c:3d61f934270abefba410ebc25d041b8509f98c6f429607c0376803b999127537", 4, 1},
	{"knowledge_worker_safe.yaml", "intents/intent_write.json", "require_approval", "require-approval-write", []string{"approval_required_for_write", "approval_token_missing"}, []string{"approval_not_granted", "approval_required"}, "f00ca6610a38bc3c81c27d63307406506bfe699d4c8658a2c365b34451c5fb7c:dfc167dcb3d79e877289e4f145a956f3c68368bf9fa2913dd046ce89fe01967e", 4, 1},
	{"skills/allow_trusted.yaml", "endpoint/fixtures/intent_allow.json", "block", "", []string{"default_block"}, []string{}, "968669da2661c3c58a47699820284e59d8a18e3ad2f7427b8ce9811da50fc0bc:bb3cd42d1d455bd89ecde32fbd361414c4eca0c35b60ee9a160ac8d3417322c2", 3, 0},
	{"skills/allow_trusted.yaml", "endpoint/fixtures/intent_block.json", "block", "", []string{"default_block"}, []string{}, "968669da2661c3c58a47699820284e59d8a18e3ad2f7427b8ce9811da50fc0bc:56306d8bd752d5b462e3f017d2482ce575985e3ef673945c39a1a58411214149", 3, 0},
	{"skills/allow_trusted.yaml", "endpoint/fixtures/intent_destructive.json", "block", "", []string{"default_block"}, []string{}, "968669da2661c3c58a47699820284e59d8a18e3ad2f7427b8ce9811da50fc0bc:c6027177ce6b0468c8a8650d4b4325b0cb76f8f014d3000517c65b5e71afd046", 3, 0},
	{"skills/allow_trusted.yaml", "intents/intent_delegated_egress_invalid.json", "block", "", []string{"default_block"}, []string{}, "968669da2661c3c58a47699820284e59d8a18e3ad2f7427b8ce9811da50fc0bc:07822a3bb6bd414159abb37a9b006c81c525f6161ea7eac89c9299decfb743c2", 3, 0},
	{"skills/allow_trusted.yaml", "intents/intent_delegated_egress_valid.json", "block", "", []string{"default_block"}, []string{}, "968669da2661c3c58a47699820284e59d8a18e3ad2f7427b8ce9811da50fc0bc:dd91fd72add2a0a7d50a7c1bc682bb84387e12b6573176c32e12298014da0f81", 3, 0},
	{"skills/allow_trusted.yaml", "intents/intent_delete.json", "block", "", []string{"default_block"}, []string{}, "968669da2661c3c58a47699820284e59d8a18e3ad2f7427b8ce9811da50fc0bc:bb0a019bb5c1677041c780acde04ac38e2bb65e960f6574a5c8da439f70ffd56", 3, 0},
	{"skills/allow_trusted.yaml", "intents/intent_read.json", "block", "", []string{"default_block"}, []string{}, "968669da2661c3c58a47699820284e59d8a18e3ad2f7427b8ce9811da50fc0bc:7cb7de9dfb5207f7cdea2f0b0a9e8e3ece290df366c766165e1995b7ed39e88f", 3, 0},
	{"skills/allow_trusted.yaml", "intents/intent_tainted_egress.json", "block", "", []string{"default_block"}, []string{}, "968669da2661c3c58a47699820284e59d8a18e3ad2f7427b8ce9811da50fc0bc:3d61f934270abefba410ebc25d041b8509f98c6f429607c0376803b999127537", 3, 0},
	{"skills/allow_trusted.yaml", "intents/intent_write.json", "block", "", []string{"default_block"}, []string{}, "968669da2661c3c58a47699820284e59d8a18e3ad2f7427b8ce9811da50fc0bc:dfc167dcb3d79e877289e4f145a956f3c68368bf9fa2913dd046ce89fe01967e", 3, 0},
	{"skills/block_untrusted.yaml", "endpoint/fixtures/intent_allow.json", "allow", "", []string{"default_allow"}, []string{}, "e55380d8e86db8915041ea1aab8192fc2776ebb15e3b810cd2ea436f45bc58b2:bb3cd42d1d455bd89ecde32fbd361414c4eca0c35b60ee9a160ac8d3417322c2", 0, 0},
	{"skills/block_untrusted.yaml", "endpoint/fixtures/intent_block.json", "allow", "", []string{"default_allow"}, []string{}, "e55380d8e86db8915041ea1aab8192fc2776ebb15e3b810cd2ea436f45bc58b2:56306d8bd752d5b462e3f017d2482ce575985e3ef673945c39a1a58411214149", 0, 0},
	{"skills/block_untrusted.yaml", "endpoint/fixtures/intent_destructive.json", "allow", "", []string{"default_allow"}, []string{}, "e55380d8e86db8915041ea1aab8192fc2776ebb15e3b810cd2ea436f45bc58b2:c6027177ce6b0468c8a8650d4b4325b0cb76f8f014d3000517c65b5e71afd046", 0, 0},
	{"skills/block_untrusted.yaml", "intents/intent_delegated_egress_invalid.json", "allow", "", []string{"default_allow"}, []string{}, "e55380d8e86db8915041ea1aab8192fc2776ebb15e3b810cd2ea436f45bc58b2:07822a3bb6bd414159abb37a9b006c81c525f6161ea7eac89c9299decfb743c2", 0, 0},
	{"skills/block_untrusted.yaml", "intents/intent_delegated_egress_valid.json", "allow", "", []string{"default_allow"}, []string{}, "e55380d8e86db8915041ea1aab8192fc2776ebb15e3b810cd2ea436f45bc58b2:dd91fd72add2a0a7d50a7c1bc682bb84387e12b6573176c32e12298014da0f81", 0, 0},
	{"skills/block_untrusted.yaml", "intents/intent_delete.json", "allow", "", []string{"default_allow"}, []string{}, "e55380d8e86db8915041ea1aab8192fc2776ebb15e3b810cd2ea436f45bc58b2:bb0a019bb5c1677041c780acde04ac38e2bb65e960f6574a5c8da439f70ffd56", 0, 0},
	{"skills/block_untrusted.yaml", "intents/intent_read.json", "allow", "", []string{"default_allow"}, []string{}, "e55380d8e86db8915041ea1aab8192fc2776ebb15e3b810cd2ea436f45bc58b2:7cb7de9dfb5207f7cdea2f0b0a9e8e3ece290df366c766165e1995b7ed39e88f", 0, 0},
	{"skills/block_untrusted.yaml", "intents/intent_tainted_egress.json", "allow", "", []string{"default_allow"}, []string{}, "e55380d8e86db8915041ea1aab8192fc2776ebb15e3b810cd2ea436f45bc58b2:3d61f934270abefba410ebc25d041b8509f98c6f429607c0376803b999127537", 0, 0},
	{"skills/block_untrusted.yaml", "intents/intent_write.json", "allow", "", []string{"default_allow"}, []string{}, "e55380d8e86db8915041ea1aab8192fc2776ebb15e3b810cd2ea436f45bc58b2:dfc167dcb3d79e877289e4f145a956f3c68368bf9fa2913dd046ce89fe01967e", 0, 0},
	{"skills/require_approval_untrusted_source.yaml", "endpoint/fixtures/intent_allow.json", "allow", "", []string{"default_allow"}, []string{}, "1606b2bbd0aa4b3eaa0cf3a0c98460adc418d796f58dfd8940a40cba414f1f8c:bb3cd42d1d455bd89ecde32fbd361414c4eca0c35b60ee9a160ac8d3417322c2", 0, 0},
	{"skills/require_approval_untrusted_source.yaml", "endpoint/fixtures/intent_block.json", "allow", "", []string{"default_allow"}, []string{}, "1606b2bbd0aa4b3eaa0cf3a0c98460adc418d796f58dfd8940a40cba414f1f8c:56306d8bd752d5b462e3f017d2482ce575985e3ef673945c39a1a58411214149", 0, 0},
	{"skills/require_approval_untrusted_source.yaml", "endpoint/fixtures/intent_destructive.json", "allow", "", []string{"default_allow"}, []string{}, "1606b2bbd0aa4b3eaa0cf3a0c98460adc418d796f58dfd8940a40cba414f1f8c:c6027177ce6b0468c8a8650d4b4325b0cb76f8f014d3000517c65b5e71afd046", 0, 0},
	{"skills/require_approval_untrusted_source.yaml", "intents/intent_delegated_egress_invalid.json", "allow", "", []string{"default_allow"}, []string{}, "1606b2bbd0aa4b3eaa0cf3a0c98460adc418d796f58dfd8940a40cba414f1f8c:07822a3bb6bd414159abb37a9b006c81c525f6161ea7eac89c9299decfb743c2", 0, 0},
	{"skills/require_approval_untrusted_source.yaml", "intents/intent_delegated_egress_valid.json", "allow", "", []string{"default_allow"}, []string{}, "1606b2bbd0aa4b3eaa0cf3a0c98460adc418d796f58dfd8940a40cba414f1f8c:dd91fd72add2a0a7d50a7c1bc682bb84387e12b6573176c32e12298014da0f81", 0, 0},
	{"skills/require_approval_untrusted_source.yaml", "intents/intent_delete.json", "allow", "", []string{"default_allow"}, []string{}, "1606b2bbd0aa4b3eaa0cf3a0c98460adc418d796f58dfd8940a40cba414f1f8c:bb0a019bb5c1677041c780acde04ac38e2bb65e960f6574a5c8da439f70ffd56", 0, 0},
	{"skills/require_approval_untrusted_source.yaml", "intents/intent_read.json", "allow", "", []string{"default_allow"}, []string{}, "1606b2bbd0aa4b3eaa0cf3a0c98460adc418d796f58dfd8940a40cba414f1f8c:7cb7de9dfb5207f7cdea2f0b0a9e8e3ece290df366c766165e1995b7ed39e88f", 0, 0},
	{"skills/require_approval_untrusted_source.yaml", "intents/intent_tainted_egress.json", "allow", "", []string{"default_allow"}, []string{}, "1606b2bbd0aa4b3eaa0cf3a0c98460adc418d796f58dfd8940a40cba414f1f8c:3d61f934270abefba410ebc25d041b8509f98c6f429607c0376803b999127537", 0, 0},
	{"skills/require_approval_untrusted_source.yaml", "intents/intent_write.json", "allow", "", []string{"default_allow"}, []string{}, "1606b2bbd0aa4b3eaa0cf3a0c98460adc418d796f58dfd8940a40cba414f1f8c:dfc167dcb3d79e877289e4f145a956f3c68368bf9fa2913dd046ce89fe01967e", 0, 0},
}

// TestGateCorpusMatchesReference: every policy and intent of the corpus
// gives the reference's verdict, rule, reason codes and digests.
func TestGateCorpusMatchesReference(t *testing.T) {
	base := corpusPath(t, "inputs", "policy")
	policies := map[string]*gate.Policy{}
	for _, tc := range referenceVerdicts {
		t.Run(tc.policy+"/"+tc.intent, func(t *testing.T) {
			p := policies[tc.policy]
			if p == nil {
				var err error
				if p, err = gate.LoadPolicy(filepath.Join(base, tc.policy)); err != nil {
					t.Fatal(err)
				}
				policies[tc.policy] = p
			}
			data, err := os.ReadFile(filepath.Join(base, tc.intent))
			if err != nil {
				t.Fatal(err)
			}
			in, err := gate.ParseIntent(data, gate.ProfileStandard)
			if err != nil {
				t.Fatal(err)
			}
			out := p.Enforce(in, gate.EnforceOptions{})
			if got := p.Digest() + ":" + in.IntentDigest; got != tc.digests {
				t.Errorf("digests = %s, want %s", got, tc.digests)
			}
			if string(out.Verdict) != tc.verdict || out.Decision.MatchedRule != tc.rule {
				t.Errorf("verdict %s rule %q, want %s rule %q", out.Verdict, out.Decision.MatchedRule, tc.verdict, tc.rule)
			}
			if !slices.Equal(out.ReasonCodes, tc.reasons) {
				t.Errorf("reason codes %v, want %v", out.ReasonCodes, tc.reasons)
			}
			if !slices.Equal(out.Violations, tc.violations) && (len(out.Violations) != 0 || len(tc.violations) != 0) {
				t.Errorf("violations %v, want %v", out.Violations, tc.violations)
			}
			if int(out.Verdict.ExitCode()) != tc.exit {
				t.Errorf("exit %d, want %d", out.Verdict.ExitCode(), tc.exit)
			}
			if out.RequiredApprovals != tc.approvals {
				t.Errorf("required approvals %d, want %d", out.RequiredApprovals, tc.approvals)
			}
		})
	}
}

// TestGateCorpusArtifacts checks the recorded gate_*.json and trace_*.json.
func TestGateCorpusArtifacts(t *testing.T) {
	p, err := gate.LoadPolicy(corpusPath(t, "inputs", "policy", "base_high_risk.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"delete", "write", "read"} {
		var want struct {
			Verdict      gate.Verdict `json:"verdict"`
			ReasonCodes  []string     `json:"reason_codes"`
			Violations   []string     `json:"violations"`
			MatchedRule  string       `json:"matched_rule"`
			IntentDigest string       `json:"intent_digest"`
			PolicyDigest string       `json:"policy_digest"`
		}
		raw, err := os.ReadFile(corpusPath(t, "artifacts", "gate", "gate_"+name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(corpusPath(t, "inputs", "policy", "intents", "intent_"+name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		in, err := gate.ParseIntent(data, gate.ProfileStandard)
		if err != nil {
			t.Fatal(err)
		}
		out := p.Enforce(in, gate.EnforceOptions{})
		if out.Verdict != want.Verdict || out.Decision.MatchedRule != want.MatchedRule || !slices.Equal(out.ReasonCodes, want.ReasonCodes) ||
			!slices.Equal(nonNil(out.Violations), nonNil(want.Violations)) || in.IntentDigest != want.IntentDigest || p.Digest() != want.PolicyDigest {
			t.Errorf("%s: got %+v %s %s, want %+v", name, out, in.IntentDigest, p.Digest(), want)
		}
		var trace map[string]any
		raw, err = os.ReadFile(corpusPath(t, "artifacts", "gate", "trace_"+name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &trace); err != nil {
			t.Fatal(err)
		}
		if trace["args_digest"] != in.ArgsDigest || trace["intent_digest"] != in.IntentDigest {
			t.Errorf("%s: trace digests %v %v, want %s %s", name, trace["args_digest"], trace["intent_digest"], in.ArgsDigest, in.IntentDigest)
		}
		// The recorded trace follows the signing convention: signed_digest
		// is the digest of the trace without its signature.
		sig := trace["signature"].(map[string]any)
		delete(trace, "signature")
		if d := mustDigest(t, trace); d != sig["signed_digest"] {
			t.Errorf("%s: signed_digest %v, computed %s", name, sig["signed_digest"], d)
		}
	}
}

// TestGateInteropReference: the reference binary and Gait agree.
func TestGateInteropReference(t *testing.T) {
	ref := referenceBin(t)
	pol := corpusPath(t, "inputs", "policy", "knowledge_worker_safe.yaml")
	intent := corpusPath(t, "inputs", "policy", "intents", "intent_delete.json")
	cmd := exec.Command(ref, "gate", "eval", "--policy", pol, "--intent", intent, "--json", "--trace-out", filepath.Join(t.TempDir(), "t.json"))
	cmd.Dir = t.TempDir()
	raw, _ := cmd.Output()
	var got struct {
		Verdict     gate.Verdict `json:"verdict"`
		ReasonCodes []string     `json:"reason_codes"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("reference output: %v: %s", err, raw)
	}
	p, err := gate.LoadPolicy(pol)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(intent)
	in, err := gate.ParseIntent(data, gate.ProfileStandard)
	if err != nil {
		t.Fatal(err)
	}
	out := p.Enforce(in, gate.EnforceOptions{})
	if out.Verdict != got.Verdict || strings.Join(out.ReasonCodes, ",") != strings.Join(got.ReasonCodes, ",") {
		t.Errorf("gait %s %v, reference %s %v", out.Verdict, out.ReasonCodes, got.Verdict, got.ReasonCodes)
	}
}
