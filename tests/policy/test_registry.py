"""policy/rules/registry.py: each ECR rule on compliant and non-compliant inputs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from tests.policy.support import PROD_ONLY, REPO, violations_of

# (rule, resource type, inputs) that the rule accepts, and that it rejects.
ACCEPTED: dict[str, tuple[str, str, Mapping[str, Any]]] = {
    "immutable-tags": ("ecr-immutable-tags", REPO, {"imageTagMutability": "IMMUTABLE"}),
    "immutable-tags-with-cache-exclusion": ("ecr-immutable-tags", REPO, {"imageTagMutability": "IMMUTABLE_WITH_EXCLUSION"}),
    "scan-on-push": ("ecr-scan-on-push", REPO, {"imageScanningConfiguration": {"scanOnPush": True}}),
}

REJECTED: dict[str, tuple[str, str, Mapping[str, Any]]] = {
    "mutable-tags": ("ecr-immutable-tags", REPO, {"imageTagMutability": "MUTABLE"}),
    "default-mutability": ("ecr-immutable-tags", REPO, {}),
    "no-scan": ("ecr-scan-on-push", REPO, {"imageScanningConfiguration": {"scanOnPush": False}}),
}

# Cases whose rule applies in prod only, run with that environment.
PROD_ONLY_CASES: dict[str, str] = {}

# rule -> {type: inputs that break the rule on that type}: exactly the types the rule checks.
REJECTED_ON_EVERY_TYPE: dict[str, dict[str, Mapping[str, Any]]] = {
    "ecr-immutable-tags": {REPO: {}},
    "ecr-scan-on-push": {REPO: {}},
}
TYPE_CASES = [(rule, type_) for rule, by_type in REJECTED_ON_EVERY_TYPE.items() for type_ in by_type]

# (rule, type, inputs, accepted?) for each value a rule's lists hold.
VALUE_CASES: dict[str, tuple[str, str, Mapping[str, Any], bool]] = {
    "scan-on-push-as-string": ("ecr-scan-on-push", REPO, {"imageScanningConfiguration": {"scanOnPush": "true"}}, True),
}


@pytest.mark.parametrize("case", ACCEPTED)
def test_rule_accepts_compliant_input(case: str) -> None:
    rule, type_, inputs = ACCEPTED[case]
    assert violations_of(rule, type_, inputs) == []


@pytest.mark.parametrize("case", REJECTED)
def test_rule_rejects_noncompliant_input(case: str) -> None:
    rule, type_, inputs = REJECTED[case]
    found = violations_of(rule, type_, inputs, environment=PROD_ONLY_CASES.get(case, "dev"))
    assert len(found) == 1 and found[0].message


@pytest.mark.parametrize(("rule", "type_"), TYPE_CASES, ids=[f"{r}-{t.rsplit(':', 1)[-1]}" for r, t in TYPE_CASES])
def test_each_rule_checks_each_of_its_types(rule: str, type_: str) -> None:
    # A type the rule skips is a resource of that kind deployed unchecked (a V2 bucket, a CronJob's pods).
    [violation] = violations_of(rule, type_, REJECTED_ON_EVERY_TYPE[rule][type_], environment="prod")
    assert violation.rule == rule


@pytest.mark.parametrize("environment", ["dev", "prod"])
@pytest.mark.parametrize("rule", sorted(REJECTED_ON_EVERY_TYPE))
def test_each_resource_rule_applies_in_the_environments_it_names(rule: str, environment: str) -> None:
    type_, inputs = next(iter(REJECTED_ON_EVERY_TYPE[rule].items()))
    fires = bool(violations_of(rule, type_, inputs, environment=environment))
    assert fires == (environment == "prod" or rule not in PROD_ONLY)


@pytest.mark.parametrize("case", VALUE_CASES)
def test_each_value_a_rule_lists_is_accepted_or_refused(case: str) -> None:
    rule, type_, inputs, accepted = VALUE_CASES[case]
    assert (violations_of(rule, type_, inputs, environment="prod") == []) == accepted
