"""NetworkPolicies enforced on EKS Auto Mode: its VPC CNI carries the policy agent, but its controller
runs only once this ConfigMap turns it on (EKS User Guide, "Use Network Policies with EKS Auto Mode").
Without it every namespace's deny-all would be accepted by the API server and enforce nothing."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.pods import PART_OF

CONFIG_MAP = "amazon-vpc-cni"
NAMESPACE = "kube-system"


def network_policy_controller(name: str, *, provider: k8s.Provider, parent: pulumi.Resource) -> k8s.core.v1.ConfigMap:
    """The switch that turns the network policy controller on."""
    return k8s.core.v1.ConfigMap(
        f"{name}-network-policies",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=CONFIG_MAP, namespace=NAMESPACE, labels={"app.kubernetes.io/part-of": PART_OF}),
        data={"enable-network-policy-controller": "true"},
        opts=pulumi.ResourceOptions(parent=parent, provider=provider),
    )
