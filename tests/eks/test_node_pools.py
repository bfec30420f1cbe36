"""Serving's GPU NodePool: only where a served project asks for GPUs; tainted, on-demand, from zero,
capped by eks.gpuNodes, and never consolidated while a GPU pod runs; valid against Karpenter's CRD."""

from __future__ import annotations

from typing import Any

import pytest

from components.eks import GpuNodes, gpu_nodes_for
from components.eks.node_pools import gpu_node_pool_spec
from offline.engine import Recording
from tests.crd_schemas import custom_resource_problems
from tests.eks.support import NODE_POOL, inputs
from tests.manifests import manifest, pod_spec
from tests.support import RunWith


def pool(recording: Recording) -> dict[str, Any]:
    return inputs(recording.one(NODE_POOL))


def test_no_gpu_pool_while_nothing_serves_on_a_gpu(prod_aws: Recording) -> None:
    assert prod_aws.of_type(NODE_POOL) == []


def test_a_gpu_served_project_gets_a_cluster_scoped_pool_on_auto_modes_node_class(prod_aws_gpu: Recording) -> None:
    found = pool(prod_aws_gpu)
    assert (found["apiVersion"], found["kind"], found["metadata"]) == (
        "karpenter.sh/v1", "NodePool", {"name": "gpu", "labels": {"app.kubernetes.io/part-of": "mlops"}}
    )
    assert found["spec"]["template"]["spec"]["nodeClassRef"] == {"group": "eks.amazonaws.com", "kind": "NodeClass", "name": "default"}


def test_gpu_nodes_are_tainted_on_demand_nvidia_of_the_g_families(prod_aws_gpu: Recording) -> None:
    template = pool(prod_aws_gpu)["spec"]["template"]["spec"]
    assert template["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]
    assert template["requirements"] == [
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
        {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
        {"key": "eks.amazonaws.com/instance-family", "operator": "In", "values": ["g4dn", "g5", "g6", "g6e"]},
        {"key": "eks.amazonaws.com/instance-gpu-count", "operator": "In", "values": ["1"]},
    ]
    assert (template["expireAfter"], template["terminationGracePeriod"]) == ("336h", "24h")


def test_only_empty_gpu_nodes_are_consolidated_one_at_a_time(prod_aws_gpu: Recording) -> None:
    assert pool(prod_aws_gpu)["spec"]["disruption"] == {
        "consolidationPolicy": "WhenEmpty", "consolidateAfter": "10m", "budgets": [{"nodes": "1"}]
    }


def test_the_pool_is_capped_at_gpu_nodes(prod_aws_gpu: Recording, run_with: RunWith) -> None:
    assert pool(prod_aws_gpu)["spec"]["limits"] == {"nvidia.com/gpu": "4"}
    # Two GPUs a pod: 4-GPU nodes, so 3 nodes are 12 GPUs.
    bigger = run_with("prod-aws", **{"mlops:projects": {"iris": {"serve": {"gpus": 2, "maxReplicas": 3}}}, "mlops:eks": {"gpuNodes": 3}})
    found = pool(bigger)["spec"]
    assert found["limits"] == {"nvidia.com/gpu": "12"}
    assert found["template"]["spec"]["requirements"][-1]["values"] == ["4"]


def test_the_gpu_pool_is_valid_against_karpenters_crd(prod_aws_gpu: Recording) -> None:
    assert custom_resource_problems(manifest(prod_aws_gpu, "NodePool", "gpu")) == []


def test_a_wrong_pool_field_is_named_by_the_crd_check() -> None:
    spec = gpu_node_pool_spec(GpuNodes(1, 2))
    spec["disruption"]["consolidationPolicy"] = "WhenIdle"
    spec["template"]["spec"]["taint"] = spec["template"]["spec"].pop("taints")
    wrong = {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "gpu"}, "spec": spec}
    assert custom_resource_problems(wrong) == [
        "spec.disruption.consolidationPolicy: 'WhenIdle' is not one of ['WhenEmpty', 'WhenEmptyOrUnderutilized', 'Balanced']",
        "spec.template.spec: Additional properties are not allowed ('taint' was unexpected)",
    ]


def test_the_gpu_pods_tolerate_the_pools_taint(prod_aws_gpu: Recording) -> None:
    pod = pod_spec(manifest(prod_aws_gpu, "Deployment", "iris-server"))
    # Exists on the key tolerates the taint's value "true".
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"


@pytest.mark.parametrize(("largest", "expected"), [(0, None), (1, GpuNodes(1, 5)), (3, GpuNodes(4, 5)), (8, GpuNodes(8, 5))])
def test_the_pool_follows_the_largest_served_pod(largest: int, expected: GpuNodes | None) -> None:
    assert gpu_nodes_for(largest, max_nodes=5) == expected


def test_the_gpu_limit_is_nodes_times_their_gpus() -> None:
    assert GpuNodes(gpus_per_node=4, max_nodes=3).gpu_limit == 12
