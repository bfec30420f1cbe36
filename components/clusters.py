"""Which Kubernetes cluster the workloads run on, and how their pods reach AWS: decided once.

Components get a `Cluster`: a `kubernetes.Provider` to register through, the workload
identities that fit that cluster, how the serving Service is exposed, whether pods need an
image pull secret, and the `kubectl` prefix for the commands in the outputs. They never
learn which kind of cluster it is. `cluster_for` makes the choice, for the whole program.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.config import StackConfig
from components.eks import LOAD_BALANCER_CLASS, EksCluster, EksClusterArgs, gpu_nodes_for
from components.eks import load_balancer_annotations as nlb_annotations
from components.gke import GkeCluster, GkeClusterArgs, ServedPods, load_balancer_annotations
from components.identity import AccessKeyIdentities, WorkloadIdentities
from components.namespace import kube_dns_pods
from components.network import TrainingNetwork
from components.pod_identity import PodIdentityIdentities, agent_egress
from components.pipeline.chart import always_on_millicores
from components.providers import default_tags
from components.registry import ContainerRegistry
from components.serving import ServiceExposure
from components.web_identity import WebIdentityIdentities, WebIdentityProvider


@dataclass(frozen=True)
class NodeNetwork:
    """The AWS VPC a cluster's nodes and pods run in, as a managed database beside them needs it."""

    vpc_id: pulumi.Output[str]
    cidr: str
    private_subnet_ids: Sequence[pulumi.Input[str]]
    """The private subnets the nodes run in (two zones at least): a database's subnet group."""
    security_group_id: pulumi.Output[str]
    """The security group every node carries, and so every pod (pods use their node's network
    interfaces and its groups): what a database admits the cluster's pods by."""


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
    exports: Mapping[str, pulumi.Output[str]] = field(default_factory=dict)
    """The stack outputs about the cluster itself (the program's own: kubeconfig, name, endpoints)."""
    role_arns: Mapping[str, pulumi.Output[str]] | None = None
    """The AWS role of each workload's ServiceAccount, where the identities are roles; None for keys."""
    private_network: pulumi.Output[str] | None = None
    """The VPC the pods' addresses route on, where the program made it (GKE: a managed database
    peers with it and gets a private IP there); None for a cluster you bring."""
    pod_egress: Sequence[k8s.networking.v1.NetworkPolicyEgressRuleArgs] = ()
    """What the pods must reach beyond DNS and HTTPS, which the namespaces admit (EKS: the Pod Identity Agent)."""
    node_network: NodeNetwork | None = None
    """The AWS VPC the nodes and pods run in, where the program made it (EKS: a database there admits
    them by their security group); None where the pods are not in one of the program's VPCs."""
    dns_servers: Sequence[k8s.networking.v1.NetworkPolicyPeerArgs] = field(default_factory=kube_dns_pods)
    """Where the pods' DNS queries go, as a NetworkPolicy names them; empty: no pod selector can name
    them (EKS Auto Mode answers on each node), so DNS egress is admitted on port 53 to any address."""

    def role_exports(self, service_accounts: Mapping[str, str | None]) -> dict[str, pulumi.Output[str]]:
        """Each output name with the AWS role of its workload's ServiceAccount (None: no such workload)."""
        if self.role_arns is None:
            return {}
        return {output: self.role_arns[account] for output, account in service_accounts.items() if account is not None}


def runs_on_gke(cfg: StackConfig) -> bool:
    """The workloads run on the program's GKE cluster (`compute.kind: gke`; the config model
    requires `serving.cluster: gke` with it): serving, and training on its GPU pool."""
    return cfg.compute.kind == "gke"


def runs_on_eks(cfg: StackConfig) -> bool:
    """The model servers run on the program's EKS cluster (`serving.cluster: eks`; training stays on
    Batch, in the same network: the config model requires `compute.kind: ec2` with it)."""
    return cfg.serving.cluster == "eks"


def cluster_for(
    cfg: StackConfig,
    *,
    name_prefix: str,
    registry: ContainerRegistry,
    in_region: pulumi.ResourceOptions,
    on_gcp: pulumi.ResourceOptions,
    network: TrainingNetwork | None = None,
) -> Cluster:
    """The cluster `serving.cluster` names: the program's GKE or EKS cluster (in the stack's `network`),
    or the kubeconfig's."""
    if runs_on_eks(cfg):
        if network is None:
            raise ValueError("an EKS cluster runs in the stack's network: pass it")
        cluster = build_eks(cfg, name_prefix=name_prefix, network=network, opts=in_region)
        identities = PodIdentityIdentities(
            cluster_name=cluster.name, cluster_arn=cluster.arn, name_prefix=name_prefix, region=cfg.aws_region
        )
        nodes = NodeNetwork(
            vpc_id=network.vpc_id, cidr=network.cidr_block, private_subnet_ids=network.subnet_ids,
            security_group_id=cluster.security_group_id,
        )
        return eks_cluster(cfg, cluster, identities, nodes)
    if not runs_on_gke(cfg):
        return kubeconfig_cluster("cluster", cfg)
    gke = build_gke(cfg, name_prefix=name_prefix, registry=registry, opts=on_gcp)
    oidc = WebIdentityProvider("gke-identity", issuer_url=gke.issuer_url, opts=in_region)
    return gke_cluster(cfg, gke, WebIdentityIdentities(provider=oidc, name_prefix=name_prefix, region=cfg.aws_region))


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
        exports={
            "kubeconfig": gke.kubeconfig,
            "clusterName": gke.name,
            "clusterEndpoint": gke.endpoint,
            "clusterIssuer": gke.issuer_url,
        },
        # Filled in as the workloads are granted their roles.
        role_arns=identities.role_arns,
        private_network=gke.network,
    )


def build_gke(cfg: StackConfig, *, name_prefix: str, registry: ContainerRegistry, opts: pulumi.ResourceOptions) -> GkeCluster:
    """The GKE cluster (`compute.kind: gke`): serving and GPU training run there."""
    if cfg.gke.project is None:  # the config model already requires it with compute.kind gke
        raise ValueError("a GKE cluster needs mlops:gke.project")
    return GkeCluster(
        "gke",
        GkeClusterArgs(
            project=cfg.gke.project,
            region=cfg.gke.region,
            zones=cfg.gke.zones,
            name=name_prefix,
            release_channel=cfg.gke.release_channel,
            authorized_networks=cfg.gke.authorized_networks,
            deletion_protection=cfg.protect_data,
            compute=cfg.compute,
            spot=cfg.spot,
            serving=[
                *(
                    ServedPods(project.serve.min_replicas, project.serve.max_replicas, project.serve.cpu)
                    for project in cfg.projects.values()
                    if project.serve is not None
                ),
                # Airflow's scheduler, api-server and dag-processor run all the time, on these nodes too.
                *([ServedPods(1, 1, always_on_millicores())] if cfg.pipeline.kind == "airflow" else []),
            ],
            # Release images only; the nodes never read the build cache.
            image_repositories={"images": next(iter(registry.repository_arns.values()))},
            labels=default_tags(cfg),
        ),
        opts=opts,
    )


def eks_cluster(cfg: StackConfig, cluster: EksCluster, identities: PodIdentityIdentities, nodes: NodeNetwork) -> Cluster:
    """The program's EKS cluster (`serving.cluster: eks`): Pod Identity, an internal NLB, its nodes in `nodes`."""
    public = cfg.eks.public_endpoint
    return Cluster(
        provider=cluster.provider,
        identities=identities,
        kubectl=f"kubectl --context {cluster.context}",
        exposure=ServiceExposure(
            type="LoadBalancer",
            annotations=nlb_annotations(public=public),
            load_balancer_class=LOAD_BALANCER_CLASS,
            public=public,
        ),
        # The node role pulls from ECR (AmazonEC2ContainerRegistryPullOnly): no pull secret to renew.
        nodes_pull_images=True,
        # Auto Mode starts a GPU node only when a GPU pod waits for one.
        gpu_nodes_start_from_zero=True,
        exports={"kubeconfig": cluster.kubeconfig, "clusterName": cluster.name, "clusterEndpoint": cluster.endpoint},
        # Filled in as the workloads are granted their roles.
        role_arns=identities.role_arns,
        # The pods' credentials come from the agent on their node.
        pod_egress=[agent_egress()],
        node_network=nodes,
        # Auto Mode runs CoreDNS as a service of each node, not as pods: the kube-dns Service's
        # address answers there, and a selector of kube-system's pods matches nothing (README,
        # "Prod on AWS (EKS)", DNS).
        dns_servers=[],
    )


def build_eks(cfg: StackConfig, *, name_prefix: str, network: TrainingNetwork, opts: pulumi.ResourceOptions) -> EksCluster:
    """The EKS cluster (`serving.cluster: eks`), in the private subnets of the network Batch trains in."""
    served_gpus = [project.serve.gpus for project in cfg.projects.values() if project.serve is not None]
    return EksCluster(
        "eks",
        EksClusterArgs(
            name=name_prefix,
            region=cfg.aws_region,
            kubernetes_version=cfg.eks.kubernetes_version,
            vpc_id=network.vpc_id,
            vpc_cidr=network.cidr_block,
            subnet_ids=network.subnet_ids,
            public_access_cidrs=cfg.eks.public_access_cidrs,
            log_retention_days=cfg.eks.log_retention_days,
            deletion_protection=cfg.protect_data,
            key_deletion_window_days=cfg.key_deletion_window_days,
            ci_role_arn=cfg.eks.ci_role_arn,
            gpu_nodes=gpu_nodes_for(max(served_gpus, default=0), max_nodes=cfg.eks.gpu_nodes),
        ),
        opts=opts,
    )
