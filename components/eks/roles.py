"""The two roles EKS Auto Mode acts with: the cluster's (it runs the nodes, load balancers, volumes and
the network) and the nodes', each with exactly the AWS managed policies Auto Mode documents.

They live under their own path (`/mlops/eks/`) with the EKS service boundary, not the workload one:
a role's effective permissions are its policies intersected with its boundary, and the workload
boundary allows none of the EC2, load balancing, volume, network interface and instance profile
actions those policies grant, nor the secrets key's use. The deployer may give that boundary to
roles on that path only (docs/deployer-policy-eks.json)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam import EKS_SERVICE_PATH, assumable_by, eks_service_boundary_arn

# EKS User Guide, "Amazon EKS Auto Mode cluster IAM role".
CLUSTER_POLICIES = (
    "AmazonEKSClusterPolicy",
    "AmazonEKSComputePolicy",
    "AmazonEKSBlockStoragePolicy",
    "AmazonEKSLoadBalancingPolicy",
    "AmazonEKSNetworkingPolicy",
)
# EKS User Guide, "Amazon EKS Auto Mode node IAM role": register with the cluster, pull from ECR.
NODE_POLICIES = ("AmazonEKSWorkerNodeMinimalPolicy", "AmazonEC2ContainerRegistryPullOnly")
# What EKS needs of the secrets key (the key policy leaves its use to IAM): envelope-encrypt
# Secrets, and check the key and its grants.
SECRETS_KEY_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:ListGrants"]


def cluster_trust() -> dict[str, Any]:
    """EKS assumes the cluster role, and tags its sessions (the trust Auto Mode documents)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}
        ],
    }


def service_role(
    name: str,
    *,
    role_name: str,
    description: str,
    trust: dict[str, Any],
    managed_policies: Sequence[str],
    parent: pulumi.Resource,
) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
    """A role under the EKS service path, with the EKS service boundary, and the AWS managed policies attached."""
    child = pulumi.ResourceOptions(parent=parent)
    invoke = pulumi.InvokeOutputOptions(parent=parent)
    role = aws.iam.Role(
        name,
        name=role_name,
        description=description,
        assume_role_policy=pulumi.Output.json_dumps(trust),
        path=EKS_SERVICE_PATH,
        permissions_boundary=eks_service_boundary_arn(invoke),
        opts=child,
    )
    partition = aws.get_partition_output(opts=invoke).partition
    attachments = [
        aws.iam.RolePolicyAttachment(
            f"{name}-{policy}",
            role=role.name,
            policy_arn=pulumi.Output.concat("arn:", partition, ":iam::aws:policy/", policy),
            opts=child,
        )
        for policy in managed_policies
    ]
    return role, attachments


def cluster_role(
    name: str, *, cluster_name: str, secrets_key_arn: pulumi.Input[str], parent: pulumi.Resource
) -> tuple[aws.iam.Role, list[pulumi.Resource]]:
    """The cluster role, its managed policies and its use of the secrets key; the cluster must wait for
    all of them (else EKS cannot clean up its security groups when the cluster is deleted)."""
    role, attachments = service_role(
        f"{name}-cluster-role",
        role_name=f"{cluster_name}-eks-cluster",
        description=f"EKS Auto Mode runs the {cluster_name} cluster's nodes, load balancers and volumes as this role",
        trust=cluster_trust(),
        managed_policies=CLUSTER_POLICIES,
        parent=parent,
    )
    key_use = aws.iam.RolePolicy(
        f"{name}-cluster-secrets-key",
        role=role.name,
        policy=pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "EncryptSecrets", "Effect": "Allow", "Action": SECRETS_KEY_ACTIONS, "Resource": secrets_key_arn}
                ],
            }
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return role, [*attachments, key_use]


def node_role(name: str, *, cluster_name: str, parent: pulumi.Resource) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
    """The nodes' role: they join the cluster and pull images from ECR, nothing else (pods have their own roles)."""
    return service_role(
        f"{name}-node-role",
        role_name=f"{cluster_name}-eks-node",
        description=f"The {cluster_name} cluster's Auto Mode nodes: join the cluster, pull images",
        trust=assumable_by("ec2.amazonaws.com"),
        managed_policies=NODE_POLICIES,
        parent=parent,
    )
