"""The EKS cluster component: its roles, secrets key, logs, control plane, access, provider and the
few objects it keeps in the cluster for itself, composed.

`EksCluster` runs in EKS Auto Mode: EKS starts and stops the nodes (its built-in Karpenter, with
the `general-purpose` and `system` NodePools), makes the load balancers, the EBS volumes and the
pods' credentials (Pod Identity). The program adds a tainted GPU NodePool that scales from zero
when a served project asks for GPUs (node_pools.py), and turns on NetworkPolicy enforcement
(network_policies.py).

Callers get `provider` (a `kubernetes.Provider` for this cluster), `kubeconfig` (a secret like
GKE's, though it holds no credential: `aws eks get-token` signs in on each use), `context`, `name`,
`arn`, `endpoint` and `security_group_id`.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.eks.access import CLUSTER_ADMIN, READ_EVERYTHING, cluster_access, deploying_identity
from components.eks.args import EksClusterArgs
from components.eks.control_plane import api_from_the_vpc, control_plane, control_plane_logs, secrets_key
from components.eks.kubeconfig import cluster_provider, kubeconfig_for
from components.eks.network_policies import network_policy_controller
from components.eks.node_pools import gpu_node_pool
from components.eks.roles import cluster_role, node_role


class EksCluster(pulumi.ComponentResource):
    """An EKS Auto Mode cluster with private nodes, encrypted Secrets, control plane logs and access entries."""

    name: pulumi.Output[str]
    arn: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    """The API server's URL: its private endpoint inside the VPC, its public one from the listed CIDRs."""
    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider
    context: str
    """The kubeconfig context name: the cluster's name."""
    security_group_id: pulumi.Output[str]
    """The cluster security group EKS makes: the control plane's interfaces and every Auto Mode node
    carry it (what a database in the VPC admits the pods by)."""

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:eks:EksCluster", name, None, opts)
        if len(args.subnet_ids) < 2:
            raise ValueError("an EKS cluster needs subnets in at least two availability zones")

        key = secrets_key(name, args, parent=self)
        logs = control_plane_logs(name, args, parent=self)
        cluster_identity, cluster_grants = cluster_role(name, cluster_name=args.name, secrets_key_arn=key.arn, parent=self)
        nodes, node_grants = node_role(name, cluster_name=args.name, parent=self)
        cluster = control_plane(
            name, args, cluster_role=cluster_identity, node_role=nodes, key=key,
            api_access=api_from_the_vpc(name, args, parent=self), after=[logs, *cluster_grants, *node_grants], parent=self,
        )
        deployer = cluster_access(
            f"{name}-deployer", cluster=cluster, principal_arn=deploying_identity(self), policy=CLUSTER_ADMIN, parent=self
        )
        if args.ci_role_arn is not None:
            cluster_access(f"{name}-ci", cluster=cluster, principal_arn=args.ci_role_arn, policy=READ_EVERYTHING, parent=self)

        self.name = cluster.name
        self.arn = cluster.arn
        self.endpoint = cluster.endpoint
        self.context = args.name
        self.security_group_id = cluster.vpc_config.apply(lambda vpc: vpc.cluster_security_group_id or "")
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(cluster.endpoint, cluster.certificate_authority.data).apply(
                lambda values: kubeconfig_for(
                    context=args.name, endpoint=values[0], certificate_authority=values[1] or "",
                    cluster_name=args.name, region=args.region,
                )
            )
        )
        self.provider = cluster_provider(
            name, kubeconfig=self.kubeconfig, created_at=cluster.created_at, ready=[deployer], parent=self
        )
        network_policy_controller(name, provider=self.provider, parent=self)
        if args.gpu_nodes is not None:
            gpu_node_pool(name, args.gpu_nodes, provider=self.provider, parent=self)
        self.register_outputs(
            {"name": self.name, "arn": self.arn, "endpoint": self.endpoint, "kubeconfig": self.kubeconfig}
        )
