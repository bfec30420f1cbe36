"""The eks section and the rules of an EKS stack: its version, who reaches the API server, logs, CI's
role, and the GPU pool's size; EKS serves only where Batch trains, in private subnets."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config.eks import GPU_COUNTS, LOG_RETENTION_DAYS, ROLLOUT_SURGE, gpus_per_node
from components.serving import MAX_SURGE
from tests.config.support import iris, parse, problems

ON_EKS: dict[str, Any] = {"serving": {"cluster": "eks"}, "compute": {"subnets": "private"}}


def eks_stack(environment: str = "dev", **eks: Any) -> Any:
    return parse(environment, **ON_EKS, eks=eks)


def eks_problems(**eks: Any) -> list[str]:
    return problems("dev", **ON_EKS, eks=eks)


def test_an_eks_stack_on_batch_in_private_subnets_is_valid() -> None:
    cfg = eks_stack()
    assert (cfg.serving.cluster, cfg.compute.kind, cfg.subnets, cfg.registry.kind) == ("eks", "ec2", "private", "ecr")
    assert cfg.eks.public_access_cidrs == [], "no public endpoint unless networks are listed"
    assert cfg.eks.public_endpoint is False, "serving stays internal unless asked"


def test_eks_in_prod_takes_its_private_subnets_by_default() -> None:
    assert parse("prod", serving={"cluster": "eks"}).subnets == "private"


def test_eks_with_cluster_training_is_refused() -> None:
    assert problems("dev", serving={"cluster": "eks"}, compute={"kind": "none"}, **iris(gpus=0)) == [
        'mlops:serving.cluster: "eks" needs compute.kind: ec2, not none: an EKS stack trains on AWS Batch GPU '
        "instances (training on the cluster itself is built for GKE and kubeconfig clusters only)"
    ]


def test_eks_with_gke_compute_is_refused_as_gke_compute_needs_gke() -> None:
    refused = problems(
        "dev", serving={"cluster": "eks"}, compute={"kind": "gke"}, registry={"kind": "artifact-registry"},
        gke={"project": "mlops-dev-123456", "zones": ["us-central1-a"], "authorizedNetworks": ["198.51.100.0/24"]},
    )
    assert refused == [
        'mlops:serving.cluster: "eks" must be gke with compute.kind: gke: training runs as a CronJob on the '
        "cluster's GPU pool, beside serving"
    ]


def test_eks_in_public_subnets_is_refused() -> None:
    assert problems("dev", serving={"cluster": "eks"}, compute={"subnets": "public"}) == [
        'mlops:compute.subnets: "public" must be private with serving.cluster: eks: the cluster\'s nodes and API '
        "server interfaces run in the private subnets, behind the NAT gateway"
    ]


@pytest.mark.parametrize("version", ["1.29", "1.35", "1.40"])
def test_kubernetes_versions_from_auto_modes_minimum_are_accepted(version: str) -> None:
    assert eks_stack(kubernetesVersion=version).eks.kubernetes_version == version


@pytest.mark.parametrize(
    ("version", "reason"),
    [
        ("1.28", "EKS Auto Mode needs 1.29 or newer, got 1.28"),
        ("1.35.2", "'1.35.2' is not a Kubernetes minor version such as 1.35"),
        ("v1.35", "'v1.35' is not a Kubernetes minor version such as 1.35"),
    ],
)
def test_kubernetes_versions_refuse_these(version: str, reason: str) -> None:
    assert eks_problems(kubernetesVersion=version) == [f'mlops:eks.kubernetesVersion: "{version}" is invalid: {reason}']


def test_an_unquoted_version_is_told_to_be_quoted() -> None:
    # YAML reads 1.30 as the number 1.3: a version must be a string.
    assert eks_problems(kubernetesVersion=1.3) == [
        'mlops:eks.kubernetesVersion: 1.3 is invalid: write the version in quotes, "1.3": unquoted, YAML reads it as a number'
    ]


@pytest.mark.parametrize(
    ("cidrs", "reason"),
    [
        (["0.0.0.0/0"], "'0.0.0.0/0' opens the API server to the whole internet; list your own networks"),
        (["2001:db8::/32"], "'2001:db8::/32' is IPv6; the EKS public endpoint takes IPv4 CIDRs"),
        (["198.51.100.1/24"], "'198.51.100.1/24' is not a CIDR such as 203.0.113.0/24 (198.51.100.1/24 has host bits set)"),
        (["198.51.100.0/24", "198.51.100.0/24"], "lists a network twice"),
    ],
)
def test_public_access_cidrs_refuse_these(cidrs: list[str], reason: str) -> None:
    assert eks_problems(publicAccessCidrs=cidrs) == [f"mlops:eks.publicAccessCidrs: {json.dumps(cidrs)} is invalid: {reason}"]


def test_a_narrow_public_network_is_accepted() -> None:
    assert eks_stack(publicAccessCidrs=["128.0.0.0/1"]).eks.public_access_cidrs == ["128.0.0.0/1"]


@pytest.mark.parametrize("days", [1, 90, 3653])
def test_log_retention_takes_cloudwatchs_periods(days: int) -> None:
    assert eks_stack(logRetentionDays=days).eks.log_retention_days == days


def test_log_retention_refuses_a_period_cloudwatch_has_not() -> None:
    assert eks_problems(logRetentionDays=100) == [
        "mlops:eks.logRetentionDays: 100 is invalid: CloudWatch Logs keeps logs for one of its fixed periods (nearest: 90)"
    ]
    assert len(LOG_RETENTION_DAYS) == 22


def test_ci_role_arn_takes_a_role_with_a_path() -> None:
    arn = "arn:aws:iam::123456789012:role/ci/mlops-preview"
    assert eks_stack(ciRoleArn=arn).eks.ci_role_arn == arn


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:sts::123456789012:assumed-role/mlops-preview/run-1",
        "arn:aws:iam::123456789012:user/ci",
        "arn:aws:iam::1234:role/mlops-preview",
    ],
)
def test_ci_role_arn_refuses_what_is_not_a_role(arn: str) -> None:
    [problem] = eks_problems(ciRoleArn=arn)
    assert problem.startswith(f'mlops:eks.ciRoleArn: "{arn}" is invalid: \'{arn}\' is not an IAM role ARN')


@pytest.mark.parametrize(("nodes", "fine"), [(0, False), (1, True), (100, True), (101, False)])
def test_gpu_nodes_bounds(nodes: int, fine: bool) -> None:
    if fine:
        assert eks_stack(gpuNodes=nodes).eks.gpu_nodes == nodes
    else:
        assert eks_problems(gpuNodes=nodes)[0].startswith(f"mlops:eks.gpuNodes: {nodes} is invalid")


def gpu_served(gpus: int, max_replicas: int, gpu_nodes: int) -> list[str]:
    return problems(
        "dev", **ON_EKS, eks={"gpuNodes": gpu_nodes}, **iris(serve={"gpus": gpus, "maxReplicas": max_replicas})
    )


def test_the_gpu_pool_must_hold_the_served_gpu_pods_and_a_rollouts_extra_one() -> None:
    assert gpu_served(1, 3, 3) == [
        "mlops:eks.gpuNodes: 3 GPU nodes of 1 GPU(s) hold 3 GPUs; the served GPU pods need 4 at their most "
        "(iris (3 + 1 pods of 1)): set it to 4 or more, or lower maxReplicas"
    ]


@pytest.mark.parametrize(("gpus", "max_replicas", "nodes"), [(1, 3, 4), (2, 3, 2), (4, 1, 2), (5, 1, 2)])
def test_the_gpu_pool_that_holds_them_is_accepted(gpus: int, max_replicas: int, nodes: int) -> None:
    # 2 GPUs a pod: 4-GPU nodes, 8 GPUs for 4 pods; 5 GPUs: 8-GPU nodes, one pod each.
    assert gpu_served(gpus, max_replicas, nodes - 1) != []
    assert parse("dev", **ON_EKS, eks={"gpuNodes": nodes}, **iris(serve={"gpus": gpus, "maxReplicas": max_replicas}))


def test_cpu_serving_needs_no_gpu_nodes() -> None:
    assert parse("dev", **ON_EKS, eks={"gpuNodes": 1}, **iris(serve={"gpus": 0, "maxReplicas": 10}))


@pytest.mark.parametrize(("largest", "per_node"), [(1, 1), (2, 4), (4, 4), (5, 8), (8, 8)])
def test_a_gpu_node_carries_the_fewest_gpus_that_hold_the_largest_pod(largest: int, per_node: int) -> None:
    assert gpus_per_node(largest) == per_node
    assert GPU_COUNTS == (1, 4, 8)


def test_the_rollout_surge_is_servings() -> None:
    assert ROLLOUT_SURGE == MAX_SURGE
