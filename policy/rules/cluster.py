"""Rules that guard the GKE cluster: private nodes, a closed control plane, Workload Identity,
enforced NetworkPolicies, shielded nodes, and deletion protection in prod.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policy.rules.core import Context
from policy.rules.inputs import ANYWHERE, falsy, get, items, requires, truthy

GKE_CLUSTER = frozenset({"gcp:container/cluster:Cluster"})

check_gke_private_nodes = requires(
    ("privateClusterConfig", "enablePrivateNodes"), truthy,
    "nodes get public addresses: set privateClusterConfig.enablePrivateNodes",
)


def check_gke_control_plane_not_open(inputs: Mapping[str, Any], _: Context) -> str | None:
    blocks = items(get(inputs, "masterAuthorizedNetworksConfig", "cidrBlocks"))
    if not blocks:
        return "the control plane's endpoint admits every address: set masterAuthorizedNetworksConfig"
    open_to = [b.get("cidrBlock") for b in blocks if isinstance(b, Mapping) and b.get("cidrBlock") in ANYWHERE]
    if open_to:
        return f"the control plane admits {', '.join(map(str, open_to))}"
    return None


check_gke_workload_identity = requires(
    ("workloadIdentityConfig", "workloadPool"), bool,
    "no Workload Identity pool: pods would fall back to the node's service account",
)


def check_gke_network_policy_enforced(inputs: Mapping[str, Any], _: Context) -> str | None:
    dataplane_v2 = inputs.get("datapathProvider") == "ADVANCED_DATAPATH"
    if not dataplane_v2 and not truthy(get(inputs, "networkPolicy", "enabled")):
        return "NetworkPolicies would be accepted and not enforced: use Dataplane V2 (ADVANCED_DATAPATH)"
    return None


check_gke_shielded_nodes = requires(
    ("enableShieldedNodes",), lambda shielded: not falsy(shielded), "shielded nodes are off",
)


def check_gke_prod_deletion_protection(inputs: Mapping[str, Any], context: Context) -> str | None:
    if context.environment == "prod" and not truthy(inputs.get("deletionProtection")):
        return (
            "a prod cluster without deletionProtection can be deleted by one destroy; "
            "to tear prod down on purpose, run with --policy-pack-config policy/teardown.json"
        )
    return None
