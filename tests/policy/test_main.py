"""policy/__main__.py: the CrossGuard pack has one policy per rule, with its enforcement level.

The pack is only checked for wiring, never built, because building a PolicyPack starts a
server and blocks.
"""

from __future__ import annotations

import json

from offline.engine import ROOT
from policy.rules import RULES, StackRule


def test_policy_pack_has_one_policy_per_rule_with_its_enforcement_level() -> None:
    from pulumi_policy import EnforcementLevel, StackValidationPolicy

    from policy.__main__ import policies

    built = policies()
    assert [p.name for p in built] == [rule.name for rule in RULES]
    for policy, rule in zip(built, RULES):
        level = EnforcementLevel.MANDATORY if rule.severity == "mandatory" else EnforcementLevel.ADVISORY
        assert policy.enforcement_level == level
        assert isinstance(policy, StackValidationPolicy) == isinstance(rule, StackRule)


def test_the_teardown_config_lowers_every_prod_protection_rule() -> None:
    lowered = json.loads((ROOT / "policy" / "teardown.json").read_text())
    assert set(lowered) == {"prod-data-protected", "gke-prod-deletion-protection", "eks-prod-deletion-protection",
                            "rds-prod-deletion-protection"}
    assert all(level == {"enforcementLevel": "advisory"} for level in lowered.values())
