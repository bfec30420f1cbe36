"""policy/rules/eks.py: each EKS cluster rule on compliant and non-compliant inputs."""

from __future__ import annotations

from typing import Any

from tests.policy.support import EKS, GOOD_EKS, RuleCases, violations_of


def vpc(**changes: Any) -> dict[str, Any]:
    return {**GOOD_EKS, "vpcConfig": {**GOOD_EKS["vpcConfig"], **changes}}


class TestEksRules(RuleCases):
    """Each EKS cluster rule on the inputs it accepts and refuses, on its type, in each environment."""

    ACCEPTED = {
        "eks-public-from-listed-networks": ("eks-endpoint-not-open", EKS, GOOD_EKS),
        "eks-private-only": ("eks-endpoint-not-open", EKS, vpc(endpointPublicAccess=False, publicAccessCidrs=None)),
        "eks-all-three-logs": ("eks-control-plane-logs", EKS, GOOD_EKS),
        "eks-secrets-with-a-key": ("eks-secrets-encrypted", EKS, GOOD_EKS),
        "eks-protected": ("eks-prod-deletion-protection", EKS, GOOD_EKS),
    }

    REJECTED = {
        "eks-public-to-anywhere": ("eks-endpoint-not-open", EKS, vpc(publicAccessCidrs=["203.0.113.0/24", "0.0.0.0/0"])),
        "eks-public-without-cidrs": ("eks-endpoint-not-open", EKS, vpc(publicAccessCidrs=[])),
        "eks-public-by-default": ("eks-endpoint-not-open", EKS, {**GOOD_EKS, "vpcConfig": {"subnetIds": ["subnet-a"]}}),
        "eks-no-audit-log": ("eks-control-plane-logs", EKS, {**GOOD_EKS, "enabledClusterLogTypes": ["api", "authenticator"]}),
        "eks-no-logs": ("eks-control-plane-logs", EKS, {**GOOD_EKS, "enabledClusterLogTypes": None}),
        "eks-secrets-in-the-clear": ("eks-secrets-encrypted", EKS, {**GOOD_EKS, "encryptionConfig": None}),
        "eks-prod-unprotected": ("eks-prod-deletion-protection", EKS, {**GOOD_EKS, "deletionProtection": False}),
    }

    PROD_ONLY_CASES = {"eks-prod-unprotected": "prod"}

    REJECTED_ON_EVERY_TYPE = {
        "eks-endpoint-not-open": {EKS: {}},
        "eks-control-plane-logs": {EKS: {}},
        "eks-secrets-encrypted": {EKS: {}},
        "eks-prod-deletion-protection": {EKS: {}},
    }

    VALUE_CASES = {
        "endpoint-open-ipv6": ("eks-endpoint-not-open", EKS, vpc(publicAccessCidrs=["::/0"]), False),
        "endpoint-public-false-as-string": ("eks-endpoint-not-open", EKS, vpc(endpointPublicAccess="false", publicAccessCidrs=None), True),
        "logs-in-any-order-with-more": ("eks-control-plane-logs", EKS, {"enabledClusterLogTypes": ["scheduler", "authenticator", "audit", "api"]}, True),
        "logs-without-api": ("eks-control-plane-logs", EKS, {"enabledClusterLogTypes": ["audit", "authenticator"]}, False),
        "logs-without-authenticator": ("eks-control-plane-logs", EKS, {"enabledClusterLogTypes": ["api", "audit"]}, False),
        "encryption-of-another-resource": ("eks-secrets-encrypted", EKS, {**GOOD_EKS, "encryptionConfig": {"provider": {"keyArn": "k"}, "resources": ["configmaps"]}}, False),
        "encryption-without-a-key": ("eks-secrets-encrypted", EKS, {**GOOD_EKS, "encryptionConfig": {"resources": ["secrets"]}}, False),
        "prod-deletion-protection-as-string": ("eks-prod-deletion-protection", EKS, {"deletionProtection": "true"}, True),
    }


def test_a_missing_log_type_is_named() -> None:
    [violation] = violations_of("eks-control-plane-logs", EKS, {"enabledClusterLogTypes": ["api"]})
    assert violation.message == "the control plane does not log audit, authenticator: add them to enabledClusterLogTypes"


def test_an_open_endpoint_names_the_cidr() -> None:
    [violation] = violations_of("eks-endpoint-not-open", EKS, vpc(publicAccessCidrs=["0.0.0.0/0"]))
    assert violation.message == "the API server's public endpoint admits 0.0.0.0/0"


def test_a_prod_cluster_needs_deletion_protection_and_dev_does_not() -> None:
    unprotected = {**GOOD_EKS, "deletionProtection": False}
    assert violations_of("eks-prod-deletion-protection", EKS, unprotected, environment="dev") == []
    [violation] = violations_of("eks-prod-deletion-protection", EKS, unprotected, environment="prod")
    assert violation.severity == "mandatory" and "teardown.json" in violation.message
