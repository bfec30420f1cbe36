"""The NetworkPolicy a workload adds to its namespace's deny-all (components/namespace.py): one TCP port, in or out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s


def one_port_policy(
    resource_name: str,
    *,
    name: str,
    namespace: pulumi.Input[str],
    selector: Mapping[str, str],
    direction: Literal["Ingress", "Egress"],
    port: int,
    opts: pulumi.ResourceOptions,
) -> k8s.networking.v1.NetworkPolicy:
    """Admits the `selector` pods' traffic on TCP `port`, inbound (Ingress) or outbound (Egress), from or to anywhere."""
    ports = [k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=port)]
    return k8s.networking.v1.NetworkPolicy(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace, labels=dict(selector)),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(selector)),
            policy_types=[direction],
            ingress=[k8s.networking.v1.NetworkPolicyIngressRuleArgs(ports=ports)] if direction == "Ingress" else None,
            egress=[k8s.networking.v1.NetworkPolicyEgressRuleArgs(ports=ports)] if direction == "Egress" else None,
        ),
        opts=opts,
    )
