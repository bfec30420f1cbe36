"""Which Kubernetes cluster the workloads run on, and how their pods reach AWS: decided once.

Components get a `Cluster`: a `kubernetes.Provider` to register through, the workload
identities that fit that cluster, how the serving Service is exposed, whether pods need an
image pull secret, and the `kubectl` prefix for the commands in the outputs. They never
learn which kind of cluster it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi_kubernetes as k8s

from components.config import StackConfig
from components.gke import GkeCluster, load_balancer_annotations
from components.identity import AccessKeyIdentities, WorkloadIdentities
from components.serving import ServiceExposure
from components.web_identity import WebIdentityIdentities


@dataclass(frozen=True)
class Cluster:
    provider: k8s.Provider
    identities: WorkloadIdentities
    kubectl: str
    """`kubectl`, with `--context` when the stack names one, for the commands in the outputs."""
    exposure: ServiceExposure
    nodes_pull_images: bool
    """The nodes pull from the registry with their own identity, so pods need no pull secret."""
    gpu_nodes_start_from_zero: bool
    """A GPU run waits for a node the cluster adds for it (a GPU pool that scales from zero)."""


def kubeconfig_cluster(name: str, cfg: StackConfig) -> Cluster:
    """A cluster you bring (`serving.cluster: kubeconfig`), for example kind for dev."""
    context = cfg.kubernetes_context
    return Cluster(
        # None: the kubeconfig's current context ($KUBECONFIG or ~/.kube/config).
        provider=k8s.Provider(name, context=context),
        # No cloud identity can trust a cluster we know nothing about: static keys (dev only).
        identities=AccessKeyIdentities(name_prefix=f"{cfg.project}-{cfg.stack}", region=cfg.aws_region),
        kubectl=f"kubectl --context {context}" if context else "kubectl",
        # Reached with `kubectl port-forward`: nothing is exposed outside the cluster.
        exposure=ServiceExposure(),
        nodes_pull_images=False,
        gpu_nodes_start_from_zero=False,  # its nodes are there or not; the program adds none
    )


def gke_cluster(cfg: StackConfig, gke: GkeCluster, identities: WebIdentityIdentities) -> Cluster:
    """The program's GKE cluster (`serving.cluster: gke`): keyless AWS access, an internal LB."""
    return Cluster(
        provider=gke.provider,
        identities=identities,
        kubectl=f"kubectl --context {gke.context}",
        exposure=ServiceExposure(
            type="LoadBalancer",
            annotations=load_balancer_annotations(public=cfg.gke.public_endpoint),
            public=cfg.gke.public_endpoint,
        ),
        # The node service account reads Artifact Registry; an access token in a Secret would expire in an hour.
        nodes_pull_images=True,
        gpu_nodes_start_from_zero=cfg.compute.min_nodes == 0,
    )
