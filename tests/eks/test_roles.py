"""The cluster's and the nodes' roles: exactly the AWS managed policies EKS Auto Mode documents, the
trust it documents, and the EKS service path and boundary (what those policies need, which the
workload boundary does not allow)."""

from __future__ import annotations

import json

from offline.engine import ACCOUNT_ID, Recording
from tests.eks.support import attached_policies

BOUNDARY = f"arn:aws:iam::{ACCOUNT_ID}:policy/mlops/mlops-eks-service-boundary"


def test_the_cluster_role_has_auto_modes_five_policies(prod_aws: Recording) -> None:
    role = prod_aws.get("aws:iam/role:Role", "eks-cluster-role")
    assert attached_policies(prod_aws, role) == [
        "AmazonEKSBlockStoragePolicy", "AmazonEKSClusterPolicy", "AmazonEKSComputePolicy",
        "AmazonEKSLoadBalancingPolicy", "AmazonEKSNetworkingPolicy",
    ]


def test_the_node_role_only_joins_the_cluster_and_pulls_images(prod_aws: Recording) -> None:
    role = prod_aws.get("aws:iam/role:Role", "eks-node-role")
    assert attached_policies(prod_aws, role) == ["AmazonEC2ContainerRegistryPullOnly", "AmazonEKSWorkerNodeMinimalPolicy"]


def test_managed_policies_are_aws_owned_in_the_partition(prod_aws: Recording) -> None:
    arns = {a.inputs["policyArn"] for a in prod_aws.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a.name.startswith("eks-")}
    assert {arn.rsplit("/", 1)[0] for arn in arns} == {"arn:aws:iam::aws:policy"}


def test_eks_assumes_the_cluster_role_and_tags_its_sessions(prod_aws: Recording) -> None:
    trust = json.loads(prod_aws.get("aws:iam/role:Role", "eks-cluster-role").inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}
    ]


def test_only_ec2_assumes_the_node_role(prod_aws: Recording) -> None:
    trust = json.loads(prod_aws.get("aws:iam/role:Role", "eks-node-role").inputs["assumeRolePolicy"])
    assert trust["Statement"] == [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]


def test_both_roles_live_under_the_eks_service_path_with_its_boundary(prod_aws: Recording) -> None:
    for name, role_name in (("eks-cluster-role", "mlops-prod-aws-eks-cluster"), ("eks-node-role", "mlops-prod-aws-eks-node")):
        role = prod_aws.get("aws:iam/role:Role", name)
        assert (role.inputs["name"], role.inputs["path"], role.inputs["permissionsBoundary"]) == (role_name, "/mlops/eks/", BOUNDARY)


def test_the_cluster_is_given_the_roles_on_that_path(prod_aws: Recording) -> None:
    cluster = prod_aws.one("aws:eks/cluster:Cluster").inputs
    assert cluster["roleArn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/mlops/eks/mlops-prod-aws-eks-cluster"
    assert cluster["computeConfig"]["nodeRoleArn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/mlops/eks/mlops-prod-aws-eks-node"
