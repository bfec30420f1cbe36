"""policy/rules/cluster.py: each GKE cluster rule on compliant and non-compliant inputs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from tests.policy.support import CLUSTER, GOOD_CLUSTER, PROD_ONLY, violations_of

# (rule, resource type, inputs) that the rule accepts, and that it rejects.
ACCEPTED: dict[str, tuple[str, str, Mapping[str, Any]]] = {
    "gke-private-nodes": ("gke-private-nodes", CLUSTER, GOOD_CLUSTER),
    "gke-authorized-networks": ("gke-control-plane-not-open", CLUSTER, GOOD_CLUSTER),
    "gke-workload-identity": ("gke-workload-identity", CLUSTER, GOOD_CLUSTER),
    "gke-dataplane-v2": ("gke-network-policy-enforced", CLUSTER, GOOD_CLUSTER),
    "gke-shielded": ("gke-shielded-nodes", CLUSTER, GOOD_CLUSTER),
    "gke-protected": ("gke-prod-deletion-protection", CLUSTER, GOOD_CLUSTER),
}

REJECTED: dict[str, tuple[str, str, Mapping[str, Any]]] = {
    "gke-public-nodes": ("gke-private-nodes", CLUSTER, {**GOOD_CLUSTER, "privateClusterConfig": {"enablePrivateNodes": False}}),
    "gke-open-control-plane": ("gke-control-plane-not-open", CLUSTER, {**GOOD_CLUSTER, "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "0.0.0.0/0"}]}}),
    "gke-no-authorized-networks": ("gke-control-plane-not-open", CLUSTER, {**GOOD_CLUSTER, "masterAuthorizedNetworksConfig": None}),
    "gke-no-workload-identity": ("gke-workload-identity", CLUSTER, {**GOOD_CLUSTER, "workloadIdentityConfig": None}),
    "gke-legacy-dataplane": ("gke-network-policy-enforced", CLUSTER, {**GOOD_CLUSTER, "datapathProvider": "LEGACY_DATAPATH"}),
    "gke-unshielded": ("gke-shielded-nodes", CLUSTER, {**GOOD_CLUSTER, "enableShieldedNodes": False}),
    "gke-prod-unprotected": ("gke-prod-deletion-protection", CLUSTER, {**GOOD_CLUSTER, "deletionProtection": False}),
}

# Cases whose rule applies in prod only, run with that environment.
PROD_ONLY_CASES: dict[str, str] = {"gke-prod-unprotected": "prod"}

# rule -> {type: inputs that break the rule on that type}: exactly the types the rule checks.
REJECTED_ON_EVERY_TYPE: dict[str, dict[str, Mapping[str, Any]]] = {
    "gke-private-nodes": {CLUSTER: {}},
    "gke-control-plane-not-open": {CLUSTER: {}},
    "gke-workload-identity": {CLUSTER: {}},
    "gke-network-policy-enforced": {CLUSTER: {}},
    "gke-shielded-nodes": {CLUSTER: {"enableShieldedNodes": False}},
    "gke-prod-deletion-protection": {CLUSTER: {}},
}
TYPE_CASES = [(rule, type_) for rule, by_type in REJECTED_ON_EVERY_TYPE.items() for type_ in by_type]

# (rule, type, inputs, accepted?) for each value a rule's lists hold.
VALUE_CASES: dict[str, tuple[str, str, Mapping[str, Any], bool]] = {
    "control-plane-open-ipv6": ("gke-control-plane-not-open", CLUSTER, {**GOOD_CLUSTER, "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "::/0"}]}}, False),
    "network-policy-addon-on-legacy-dataplane": ("gke-network-policy-enforced", CLUSTER, {**GOOD_CLUSTER, "datapathProvider": None, "networkPolicy": {"enabled": True}}, True),
    "shielded-nodes-unset": ("gke-shielded-nodes", CLUSTER, {}, True),
    "shielded-nodes-false-as-string": ("gke-shielded-nodes", CLUSTER, {"enableShieldedNodes": "false"}, False),
    "prod-deletion-protection-as-string": ("gke-prod-deletion-protection", CLUSTER, {"deletionProtection": "true"}, True),
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


def test_a_prod_cluster_needs_deletion_protection_and_dev_does_not() -> None:
    unprotected = {**GOOD_CLUSTER, "deletionProtection": False}
    assert violations_of("gke-prod-deletion-protection", CLUSTER, unprotected, environment="dev") == []
    [violation] = violations_of("gke-prod-deletion-protection", CLUSTER, unprotected, environment="prod")
    assert violation.severity == "mandatory" and "teardown.json" in violation.message
