"""policy/rules/cluster.py: each GKE cluster rule on compliant and non-compliant inputs."""

from __future__ import annotations

from tests.policy.support import CLUSTER, GOOD_CLUSTER, RuleCases, violations_of

class TestClusterRules(RuleCases):
    """Each GKE cluster rule on the inputs it accepts and refuses, on each of its types, in each environment."""

    ACCEPTED = {
        "gke-private-nodes": ("gke-private-nodes", CLUSTER, GOOD_CLUSTER),
        "gke-authorized-networks": ("gke-control-plane-not-open", CLUSTER, GOOD_CLUSTER),
        "gke-workload-identity": ("gke-workload-identity", CLUSTER, GOOD_CLUSTER),
        "gke-dataplane-v2": ("gke-network-policy-enforced", CLUSTER, GOOD_CLUSTER),
        "gke-shielded": ("gke-shielded-nodes", CLUSTER, GOOD_CLUSTER),
        "gke-protected": ("gke-prod-deletion-protection", CLUSTER, GOOD_CLUSTER),
    }

    REJECTED = {
        "gke-public-nodes": ("gke-private-nodes", CLUSTER, {**GOOD_CLUSTER, "privateClusterConfig": {"enablePrivateNodes": False}}),
        "gke-open-control-plane": ("gke-control-plane-not-open", CLUSTER, {**GOOD_CLUSTER, "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "0.0.0.0/0"}]}}),
        "gke-no-authorized-networks": ("gke-control-plane-not-open", CLUSTER, {**GOOD_CLUSTER, "masterAuthorizedNetworksConfig": None}),
        "gke-no-workload-identity": ("gke-workload-identity", CLUSTER, {**GOOD_CLUSTER, "workloadIdentityConfig": None}),
        "gke-legacy-dataplane": ("gke-network-policy-enforced", CLUSTER, {**GOOD_CLUSTER, "datapathProvider": "LEGACY_DATAPATH"}),
        "gke-unshielded": ("gke-shielded-nodes", CLUSTER, {**GOOD_CLUSTER, "enableShieldedNodes": False}),
        "gke-prod-unprotected": ("gke-prod-deletion-protection", CLUSTER, {**GOOD_CLUSTER, "deletionProtection": False}),
    }

    PROD_ONLY_CASES = {"gke-prod-unprotected": "prod"}

    REJECTED_ON_EVERY_TYPE = {
        "gke-private-nodes": {CLUSTER: {}},
        "gke-control-plane-not-open": {CLUSTER: {}},
        "gke-workload-identity": {CLUSTER: {}},
        "gke-network-policy-enforced": {CLUSTER: {}},
        "gke-shielded-nodes": {CLUSTER: {"enableShieldedNodes": False}},
        "gke-prod-deletion-protection": {CLUSTER: {}},
    }

    VALUE_CASES = {
        "control-plane-open-ipv6": ("gke-control-plane-not-open", CLUSTER, {**GOOD_CLUSTER, "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "::/0"}]}}, False),
        "network-policy-addon-on-legacy-dataplane": ("gke-network-policy-enforced", CLUSTER, {**GOOD_CLUSTER, "datapathProvider": None, "networkPolicy": {"enabled": True}}, True),
        "shielded-nodes-unset": ("gke-shielded-nodes", CLUSTER, {}, True),
        "shielded-nodes-false-as-string": ("gke-shielded-nodes", CLUSTER, {"enableShieldedNodes": "false"}, False),
        "prod-deletion-protection-as-string": ("gke-prod-deletion-protection", CLUSTER, {"deletionProtection": "true"}, True),
    }


def test_a_prod_cluster_needs_deletion_protection_and_dev_does_not() -> None:
    unprotected = {**GOOD_CLUSTER, "deletionProtection": False}
    assert violations_of("gke-prod-deletion-protection", CLUSTER, unprotected, environment="dev") == []
    [violation] = violations_of("gke-prod-deletion-protection", CLUSTER, unprotected, environment="prod")
    assert violation.severity == "mandatory" and "teardown.json" in violation.message
