"""The EKS control plane in Auto Mode: Secrets encrypted with the stack's own key, the api, audit and
authenticator logs kept for a retention, access entries only (no aws-auth ConfigMap), and an API
server that is private unless CIDRs are listed."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from components.eks.args import EksClusterArgs

LOG_TYPES = ["api", "audit", "authenticator"]
"""The control plane logs kept: every API request, who made it, and how they authenticated."""
BUILT_IN_NODE_POOLS = ["general-purpose", "system"]
"""Auto Mode's own NodePools: on-demand C, M and R instances for the workloads, and for its add-ons."""
HTTPS = 443


def secrets_key(name: str, args: EksClusterArgs, *, parent: pulumi.Resource) -> aws.kms.Key:
    """The key the API server envelope-encrypts Secrets with (a rotated, customer-managed one)."""
    child = pulumi.ResourceOptions(parent=parent)
    key = aws.kms.Key(
        f"{name}-secrets-key",
        description=f"Encrypts the {args.name} cluster's Kubernetes Secrets",
        enable_key_rotation=True,
        deletion_window_in_days=args.key_deletion_window_days,
        opts=child,
    )
    aws.kms.Alias(f"{name}-secrets-key-alias", name=f"alias/{args.name}-eks-secrets", target_key_id=key.key_id, opts=child)
    return key


def control_plane_logs(name: str, args: EksClusterArgs, *, parent: pulumi.Resource) -> aws.cloudwatch.LogGroup:
    """The group EKS writes the control plane's logs to, made first so it has the retention (EKS
    would otherwise create it itself, keeping the logs for ever)."""
    return aws.cloudwatch.LogGroup(
        f"{name}-logs",
        name=f"/aws/eks/{args.name}/cluster",
        retention_in_days=args.log_retention_days,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def api_from_the_vpc(name: str, args: EksClusterArgs, *, parent: pulumi.Resource) -> aws.ec2.SecurityGroup:
    """HTTPS to the API server's private endpoint from anywhere in the VPC (a runner, a bastion); the
    cluster security group EKS makes admits only the nodes."""
    return aws.ec2.SecurityGroup(
        f"{name}-api",
        vpc_id=args.vpc_id,
        description=f"The {args.name} API server's private endpoint: HTTPS from the VPC",
        ingress=[
            aws.ec2.SecurityGroupIngressArgs(
                description="kubectl and pulumi from inside the VPC",
                protocol="tcp",
                from_port=HTTPS,
                to_port=HTTPS,
                cidr_blocks=[args.vpc_cidr],
            )
        ],
        # The API server's interfaces answer; they open nothing themselves through this group.
        egress=[],
        tags={"Name": f"{args.name}-api"},
        opts=pulumi.ResourceOptions(parent=parent),
    )


def control_plane(
    name: str,
    args: EksClusterArgs,
    *,
    cluster_role: aws.iam.Role,
    node_role: aws.iam.Role,
    key: aws.kms.Key,
    api_access: aws.ec2.SecurityGroup,
    after: Sequence[pulumi.Resource],
    parent: pulumi.Resource,
) -> aws.eks.Cluster:
    """The cluster, made only once its log group and every grant of its roles (`after`) exist."""
    public = bool(args.public_access_cidrs)
    return aws.eks.Cluster(
        name,
        name=args.name,
        version=args.kubernetes_version,
        role_arn=cluster_role.arn,
        vpc_config=aws.eks.ClusterVpcConfigArgs(
            subnet_ids=list(args.subnet_ids),
            security_group_ids=[api_access.id],
            endpoint_private_access=True,
            # A public endpoint only for the listed networks; none at all without them.
            endpoint_public_access=public,
            public_access_cidrs=list(args.public_access_cidrs) if public else None,
        ),
        # Access entries only: who may do what is in the EKS API, not in a ConfigMap inside the
        # cluster, and the creator gets no hidden admin grant (access.py grants the deployer).
        access_config=aws.eks.ClusterAccessConfigArgs(
            authentication_mode="API", bootstrap_cluster_creator_admin_permissions=False
        ),
        # Auto Mode runs the VPC CNI, kube-proxy and CoreDNS itself; self-managed copies would clash.
        bootstrap_self_managed_addons=False,
        compute_config=aws.eks.ClusterComputeConfigArgs(
            enabled=True, node_pools=BUILT_IN_NODE_POOLS, node_role_arn=node_role.arn
        ),
        kubernetes_network_config=aws.eks.ClusterKubernetesNetworkConfigArgs(
            elastic_load_balancing=aws.eks.ClusterKubernetesNetworkConfigElasticLoadBalancingArgs(enabled=True)
        ),
        storage_config=aws.eks.ClusterStorageConfigArgs(
            block_storage=aws.eks.ClusterStorageConfigBlockStorageArgs(enabled=True)
        ),
        encryption_config=aws.eks.ClusterEncryptionConfigArgs(
            provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=key.arn), resources=["secrets"]
        ),
        enabled_cluster_log_types=LOG_TYPES,
        # Standard support only: extended support bills $0.60 an hour instead of $0.10. EKS then
        # upgrades a cluster left on a version past its standard support by itself.
        upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
        deletion_protection=args.deletion_protection,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(after)),
    )
