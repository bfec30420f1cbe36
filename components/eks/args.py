"""What an EKS cluster is built from: its name, version, network, access, logs and GPU capacity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.config.eks import gpus_per_node



@dataclass(frozen=True)
class GpuNodes:
    """The serving GPU NodePool: how many GPUs each node carries, and how many nodes at most."""

    gpus_per_node: int
    max_nodes: int

    @property
    def gpu_limit(self) -> int:
        """The pool's limit on GPUs: every node carries `gpus_per_node`, so it caps the nodes."""
        return self.gpus_per_node * self.max_nodes


def gpu_nodes_for(largest_pod_gpus: int, *, max_nodes: int) -> GpuNodes | None:
    """The GPU pool serving needs: None when no served pod asks for a GPU, else nodes with the fewest
    GPUs that still hold the largest pod (components/config/eks.py GPU_COUNTS)."""
    if largest_pod_gpus <= 0:
        return None
    return GpuNodes(gpus_per_node=gpus_per_node(largest_pod_gpus), max_nodes=max_nodes)


@dataclass(frozen=True, kw_only=True)
class EksClusterArgs:
    name: str
    """The cluster's name (the stack's prefix, e.g. `mlops-prod-aws`), also the prefix of its roles."""
    region: str
    """Where the cluster is: the kubeconfig's `aws eks get-token` asks this region."""
    kubernetes_version: str
    vpc_cidr: str
    """The VPC's range: the API server's private endpoint admits HTTPS from it (kubectl on a runner in the VPC)."""
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """The private subnets (two zones at least): the nodes and the API server's interfaces run there."""
    public_access_cidrs: Sequence[str]
    """Who may reach the public endpoint; empty: there is none."""
    log_retention_days: int
    deletion_protection: bool
    """EKS refuses to delete the cluster while true (prod, unless tearing down)."""
    key_deletion_window_days: int
    """How long the secrets key stays restorable after a destroy."""
    ci_role_arn: str | None = None
    """CI's preview role: read-only access to every object in the cluster."""
    gpu_nodes: GpuNodes | None = None
    """The serving GPU NodePool; None: no served pod asks for a GPU, and there is no pool."""
