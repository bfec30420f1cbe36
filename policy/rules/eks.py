"""Rules that guard an EKS cluster: an API endpoint the internet cannot reach unless from listed
networks, the control plane's api, audit and authenticator logs, Secrets encrypted with a KMS key,
and deletion protection in prod.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policy.rules.core import Context
from policy.rules.data import TEARDOWN_HINT
from policy.rules.inputs import ANYWHERE, falsy, get, items, truthy

EKS_CLUSTER = frozenset({"aws:eks/cluster:Cluster"})
REQUIRED_LOG_TYPES = ("api", "audit", "authenticator")
"""Every API request, who made it, and how they authenticated."""


def check_eks_endpoint_not_open(inputs: Mapping[str, Any], _: Context) -> str | None:
    # The provider's endpoint_public_access defaults to true, and EKS opens a public endpoint
    # without CIDRs to 0.0.0.0/0.
    if falsy(get(inputs, "vpcConfig", "endpointPublicAccess")):
        return None
    cidrs = [str(cidr) for cidr in items(get(inputs, "vpcConfig", "publicAccessCidrs"))]
    if not cidrs:
        return ("the API server's public endpoint admits every address: list vpcConfig.publicAccessCidrs, "
                "or set endpointPublicAccess false")
    open_to = [cidr for cidr in cidrs if cidr in ANYWHERE]
    if open_to:
        return f"the API server's public endpoint admits {', '.join(open_to)}"
    return None


def check_eks_control_plane_logs(inputs: Mapping[str, Any], _: Context) -> str | None:
    enabled = {str(kind) for kind in items(inputs.get("enabledClusterLogTypes"))}
    missing = [kind for kind in REQUIRED_LOG_TYPES if kind not in enabled]
    if missing:
        return f"the control plane does not log {', '.join(missing)}: add them to enabledClusterLogTypes"
    return None


def check_eks_secrets_encrypted(inputs: Mapping[str, Any], _: Context) -> str | None:
    config = inputs.get("encryptionConfig")
    resources = {str(r) for r in items(get(config, "resources"))}
    if "secrets" not in resources or not get(config, "provider", "keyArn"):
        return "Kubernetes Secrets are not envelope-encrypted: set encryptionConfig with a KMS key for resources [secrets]"
    return None


def check_eks_prod_deletion_protection(inputs: Mapping[str, Any], context: Context) -> str | None:
    if context.environment == "prod" and not truthy(inputs.get("deletionProtection")):
        return f"a prod cluster without deletionProtection can be deleted by one destroy; {TEARDOWN_HINT}"
    return None
