"""The GPU NodePool serving gets when a served project asks for GPUs: on Auto Mode's built-in Karpenter,
tainted, on-demand, scaled from zero, capped, and never consolidated while a GPU pod runs."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.eks.args import GpuNodes
from components.pods import GPU_RESOURCE, PART_OF

NAME = "gpu"
NODE_CLASS = {"group": "eks.amazonaws.com", "kind": "NodeClass", "name": "default"}
"""Auto Mode's default NodeClass (its AMI, the cluster's subnets and security group, the node role)."""
GPU_FAMILIES = ["g4dn", "g5", "g6", "g6e"]
"""NVIDIA inference families Auto Mode runs (T4, A10G, L4, L40S), with its driver and device plugin."""
GPU_TAINT = {"key": GPU_RESOURCE, "value": "true", "effect": "NoSchedule"}
"""Only pods that tolerate it land here: the GPU pods (components/pods.py tolerates the key)."""
EMPTY_FOR = "10m"
"""How long a GPU node stays empty before it goes: a rollout's or a restart's gap does not lose it."""
EXPIRE_AFTER = "336h"
"""A node is replaced after 14 days (with the current AMI and its patches), as Auto Mode's own pools."""
DRAIN_FOR = "24h"
"""How long a node being replaced waits for its pods to leave (the PodDisruptionBudget decides when)."""


def gpu_node_pool_spec(gpu: GpuNodes) -> dict[str, Any]:
    """The NodePool's spec: nodes of `gpu.gpus_per_node` NVIDIA GPUs, at most `gpu.max_nodes` of them."""
    return {
        "template": {
            "spec": {
                "nodeClassRef": NODE_CLASS,
                "requirements": [
                    # Serving must not lose its node to a spot reclaim.
                    {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
                    {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
                    {"key": "eks.amazonaws.com/instance-family", "operator": "In", "values": GPU_FAMILIES},
                    # Every node the same GPU count, so the GPU limit below is a node limit.
                    {"key": "eks.amazonaws.com/instance-gpu-count", "operator": "In", "values": [str(gpu.gpus_per_node)]},
                ],
                "taints": [GPU_TAINT],
                "expireAfter": EXPIRE_AFTER,
                "terminationGracePeriod": DRAIN_FOR,
            }
        },
        "disruption": {
            # Only an empty node is consolidated: a node running a GPU pod is never taken away to save money.
            "consolidationPolicy": "WhenEmpty",
            "consolidateAfter": EMPTY_FOR,
            # One GPU node at a time, whatever the reason (empty, drifted, expired).
            "budgets": [{"nodes": "1"}],
        },
        "limits": {GPU_RESOURCE: str(gpu.gpu_limit)},
    }


def gpu_node_pool(name: str, gpu: GpuNodes, *, provider: k8s.Provider, parent: pulumi.Resource) -> k8s.apiextensions.CustomResource:
    """The NodePool object (cluster-scoped: no namespace); Auto Mode's Karpenter reconciles it."""
    return k8s.apiextensions.CustomResource(
        f"{name}-gpu-pool",
        api_version="karpenter.sh/v1",
        kind="NodePool",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=NAME, labels={"app.kubernetes.io/part-of": PART_OF}),
        spec=gpu_node_pool_spec(gpu),
        opts=pulumi.ResourceOptions(parent=parent, provider=provider),
    )
