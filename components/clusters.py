"""Which Kubernetes cluster the workloads run on, and how their pods reach AWS: decided once.

Components get a `Cluster`: a `kubernetes.Provider` to register through, the workload
identities that fit that cluster, and the `kubectl` prefix for the commands in the
outputs. They never learn which kind of cluster it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi_kubernetes as k8s

from components.config import StackConfig
from components.identity import AccessKeyIdentities, WorkloadIdentities


@dataclass(frozen=True)
class Cluster:
    provider: k8s.Provider
    identities: WorkloadIdentities
    kubectl: str
    """`kubectl`, with `--context` when the stack names one, for the commands in the outputs."""


def build_cluster(name: str, cfg: StackConfig) -> Cluster:
    """The cluster `serving.cluster` names."""
    if cfg.serving.cluster == "kubeconfig":
        context = cfg.kubernetes_context
        return Cluster(
            # None: the kubeconfig's current context ($KUBECONFIG or ~/.kube/config).
            provider=k8s.Provider(name, context=context),
            # No cloud identity can trust a cluster we know nothing about: static keys (dev only).
            identities=AccessKeyIdentities(name_prefix=f"{cfg.project}-{cfg.stack}", region=cfg.aws_region),
            kubectl=f"kubectl --context {context}" if context else "kubectl",
        )
    raise ValueError(f"serving.cluster {cfg.serving.cluster!r} is not implemented")
