"""The workloads' namespace (components/namespace.py): locked down before anything runs in it."""

from __future__ import annotations

import json
from typing import Any

import kubernetes_validate
import pytest

from components import namespace
from components.config import cpu_millicores
from components.namespace import PodBudget, container_limits, memory_bytes, memory_quantity, quota_hard
from offline.engine import Recording, run_program, stack_config_with
from offline.values import is_secret
from tests.manifests import container, manifest, of_kind, pod_spec
from tests.test_kubernetes_checks import KUBERNETES_VERSION

NAMESPACE = "kubernetes:core/v1:Namespace"


@pytest.mark.parametrize(("stack", "name"), [("dev", "mlops-dev"), ("prod", "mlops-prod")])
def test_namespace_enforces_warns_and_audits_the_latest_restricted_standard(request: pytest.FixtureRequest, stack: str, name: str) -> None:
    # Without enforce the API server admits a privileged pod; a pinned version would miss newer checks.
    [ns] = of_kind(request.getfixturevalue(stack), "Namespace", namespace=name)
    assert ns["metadata"] == {
        "name": name,
        "labels": {
            "app.kubernetes.io/part-of": "mlops",
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
        },
    }


def test_default_deny_covers_every_pod_both_ways(dev: Recording) -> None:
    # An empty podSelector is every pod; without "Egress" here a compromised pod reaches anything.
    deny = manifest(dev, "NetworkPolicy", "default-deny", namespace="mlops-dev")
    assert deny["metadata"] == {"name": "default-deny", "namespace": "mlops-dev"}
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_egress_opens_dns_and_https_for_every_pod(prod: Recording) -> None:
    # Without DNS no pod resolves S3 or STS; without 443 none reaches them.
    egress = manifest(prod, "NetworkPolicy", "allow-dns-and-https-egress")
    assert egress["metadata"] == {"name": "allow-dns-and-https-egress", "namespace": "mlops-prod"}
    assert egress["spec"] == {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [
            {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
            {"ports": [{"protocol": "TCP", "port": 443}]},
        ],
    }


def test_the_pull_secret_is_a_docker_config_for_the_registry(dev: Recording) -> None:
    # The kubelet reads only kubernetes.io/dockerconfigjson Secrets as pull secrets.
    pull = manifest(dev, "Secret", namespace.PULL_SECRET, namespace="mlops-dev")
    assert (pull["metadata"], pull["type"]) == ({"name": "registry-pull", "namespace": "mlops-dev"}, "kubernetes.io/dockerconfigjson")
    assert list(pull["stringData"]) == [".dockerconfigjson"]
    assert set(json.loads(pull["stringData"][".dockerconfigjson"])["auths"]) == {"123456789012.dkr.ecr.us-east-1.amazonaws.com"}
    assert is_secret(dev.named("workloads-pull").inputs["stringData"])


@pytest.mark.parametrize("stack", ["dev", "prod_on_aws"])
def test_a_renewed_pull_secret_data_is_left_to_the_renewer(request: pytest.FixtureRequest, stack: str) -> None:
    # Both keys: the API server returns the token under `data`, so ignoring only stringData still diffs.
    assert request.getfixturevalue(stack).named("workloads-pull").ignore_changes == ("stringData", "data")


def test_gke_nodes_pull_themselves_so_prod_has_no_pull_secret(prod: Recording) -> None:
    with pytest.raises(LookupError):
        manifest(prod, "Secret", namespace.PULL_SECRET)


@pytest.mark.parametrize("child", ["workloads-default-deny", "workloads-egress", "workloads-pull", "workloads-quota", "workloads-limits"])
def test_namespace_objects_wait_for_the_namespace(dev: Recording, child: str) -> None:
    # Created before it, each fails with "namespaces not found" on the first `up`.
    created = dev.named(child)
    assert dev.get(NAMESPACE, "workloads").urn in created.dependencies
    assert created.parent == dev.get("mlops:kubernetes:WorkloadNamespace", "workloads").urn


def test_namespace_is_a_child_of_its_component(dev: Recording) -> None:
    # A parent change is a URN change: Pulumi would delete the namespace, and everything in it.
    assert dev.get(NAMESPACE, "workloads").parent == dev.get("mlops:kubernetes:WorkloadNamespace", "workloads").urn
    assert dev.outputs["servingNamespace"] == "mlops-dev"


# --- The ResourceQuota and the LimitRange -------------------------------------------------

SMALL = {"train": {"source": "images/train", "data": "builtin:digits", "gpus": 0}, "serve": {"cpu": "250m", "memory": "256Mi", "maxReplicas": 4}}


@pytest.fixture(scope="module")
def two_on_cluster() -> Recording:
    """dev with a small digits beside iris, both training on the cluster's CPUs."""
    projects = {"iris": {"train": {"gpus": 0}}, "digits": SMALL}
    return run_program("dev", stack_config_with("dev", {"mlops:compute": {"kind": "none"}, "mlops:projects": projects}))


def hard(run: Recording) -> dict[str, str]:
    [quota] = of_kind(run, "ResourceQuota")
    return quota["spec"]["hard"]


def test_dev_quota_holds_iris_at_its_most_and_the_renewer(dev: Recording) -> None:
    # iris: maxReplicas 2, its surge pod and the pod it replaces: 4 pods of 1 CPU / 512Mi; the renewer 100m / 128Mi.
    assert manifest(dev, "ResourceQuota", "workloads")["metadata"] == {"name": "workloads", "namespace": "mlops-dev"}
    assert hard(dev) == {
        "pods": "5",
        "requests.cpu": "4100m",
        "limits.cpu": "4100m",
        "requests.memory": "2176Mi",
        "limits.memory": "2176Mi",
        "requests.nvidia.com/gpu": "0",
    }


def test_prod_quota_holds_iris_at_its_most_and_its_gpu_training_run(prod: Recording) -> None:
    # iris: maxReplicas 6 + 2 pods of 1 CPU / 1Gi; its training CronJob's pod, 1 CPU / 2Gi and one GPU. No renewer on GKE.
    assert hard(prod) == {
        "pods": "9",
        "requests.cpu": "9",
        "limits.cpu": "9",
        "requests.memory": "10Gi",
        "limits.memory": "10Gi",
        "requests.nvidia.com/gpu": "1",
    }


def test_a_second_project_adds_its_pods_to_the_quota(two_on_cluster: Recording) -> None:
    # iris 4 x (1 CPU, 512Mi) + its training (1, 2Gi); digits 6 x (250m, 256Mi) + its training (1, 2Gi); the renewer.
    assert hard(two_on_cluster) == {
        "pods": "13",
        "requests.cpu": "7600m",
        "limits.cpu": "7600m",
        "requests.memory": "7808Mi",
        "limits.memory": "7808Mi",
        "requests.nvidia.com/gpu": "0",
    }


def most_pods_recorded(run: Recording) -> list[tuple[int, dict[str, str]]]:
    """Every workload's pods at their most in the workloads' namespace, read from the recorded objects themselves
    (not the program's sums): a Deployment its HPA's maximum + maxSurge + the pod being replaced; a CronJob
    (concurrencyPolicy Forbid) one. Airflow's namespace has its own objects, and no quota."""
    workloads = run.outputs["servingNamespace"]
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h["spec"]["maxReplicas"] for h in of_kind(run, "HorizontalPodAutoscaler")}
    pods = []
    for deployment in of_kind(run, "Deployment", namespace=workloads):
        surge = deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
        pods.append((hpas[deployment["metadata"]["name"]] + surge + 1, container(deployment)["resources"]["requests"]))
    for cronjob in of_kind(run, "CronJob", namespace=workloads):
        assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
        pods.append((1, container(cronjob)["resources"]["requests"]))
    return pods


@pytest.mark.parametrize("run", ["dev", "prod", "dev_cluster_training", "two_on_cluster"])
def test_the_stacks_own_workloads_at_their_most_fill_the_quota_exactly(request: pytest.FixtureRequest, run: str) -> None:
    # The ResourceQuota admission refuses a pod that would pass `hard`: every own pod fits, and nothing more does.
    recording: Recording = request.getfixturevalue(run)
    pods = most_pods_recorded(recording)
    cpu = sum(n * cpu_millicores(r["cpu"]) for n, r in pods)
    memory = sum(n * memory_bytes(r["memory"]) for n, r in pods)
    gpus = sum(n * int(r.get("nvidia.com/gpu", "0")) for n, r in pods)
    quota = hard(recording)
    assert quota["pods"] == str(sum(n for n, _ in pods))
    assert (cpu_millicores(quota["requests.cpu"]), cpu_millicores(quota["limits.cpu"])) == (cpu, cpu)
    assert (memory_bytes(quota["requests.memory"]), memory_bytes(quota["limits.memory"])) == (memory, memory)
    assert quota["requests.nvidia.com/gpu"] == str(gpus)


def test_the_quota_counts_requests_equal_to_limits_because_every_container_sets_them_so(two_on_cluster: Recording) -> None:
    for workload in of_kind(two_on_cluster, "Deployment") + of_kind(two_on_cluster, "CronJob"):
        resources = container(workload)["resources"]
        assert resources["requests"] == resources["limits"], workload["metadata"]["name"]


def test_dev_limit_range_defaults_a_bare_container_to_a_small_helpers_size(dev: Recording) -> None:
    limits = manifest(dev, "LimitRange", "container-defaults")
    assert limits["metadata"] == {"name": "container-defaults", "namespace": "mlops-dev"}
    assert limits["spec"] == {
        "limits": [
            {
                "type": "Container",
                "max": {"cpu": "1", "memory": "512Mi"},
                "default": {"cpu": "100m", "memory": "128Mi"},
                "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
            }
        ]
    }


def test_the_largest_own_container_bounds_every_container(prod: Recording, two_on_cluster: Recording) -> None:
    # prod: iris serves with 1 CPU / 1Gi and trains with 1 CPU / 2Gi; with digits' 250m the largest is unchanged.
    [prod_item] = manifest(prod, "LimitRange", "container-defaults")["spec"]["limits"]
    [two_item] = manifest(two_on_cluster, "LimitRange", "container-defaults")["spec"]["limits"]
    assert (prod_item["max"], two_item["max"]) == ({"cpu": "1", "memory": "2Gi"}, {"cpu": "1", "memory": "2Gi"})


def limit_range_is_valid(limit_range: dict[str, Any]) -> list[str]:
    """default <= max and defaultRequest <= default, per resource.

    kubernetes pkg/apis/core/validation/validation.go, ValidateLimitRange: "default value ... must be
    less than or equal to max value", "default request value ... must be less than or equal to default limit".
    """
    size = {"cpu": cpu_millicores, "memory": memory_bytes}
    errors = []
    for item in limit_range["spec"]["limits"]:
        for resource, measure in size.items():
            top, default, request = (item.get(key, {}).get(resource) for key in ("max", "default", "defaultRequest"))
            if top is not None and default is not None and measure(default) > measure(top):
                errors.append(f"default {resource} {default} is above max {top}")
            if default is not None and request is not None and measure(request) > measure(default):
                errors.append(f"defaultRequest {resource} {request} is above default {default}")
    return errors


@pytest.mark.parametrize("run", ["dev", "prod", "dev_cluster_training", "two_on_cluster"])
def test_the_limit_range_is_valid_and_admits_every_own_container(request: pytest.FixtureRequest, run: str) -> None:
    recording: Recording = request.getfixturevalue(run)
    limit_range = manifest(recording, "LimitRange", "container-defaults")
    assert limit_range_is_valid(limit_range) == []
    [item] = limit_range["spec"]["limits"]
    for workload in of_kind(recording, "Deployment") + of_kind(recording, "CronJob"):
        for one in pod_spec(workload)["containers"]:
            assert cpu_millicores(one["resources"]["limits"]["cpu"]) <= cpu_millicores(item["max"]["cpu"])
            assert memory_bytes(one["resources"]["limits"]["memory"]) <= memory_bytes(item["max"]["memory"])


def test_the_limit_range_rule_catches_a_default_above_the_max() -> None:
    item = {"type": "Container", "max": {"cpu": "100m"}, "default": {"cpu": "1"}, "defaultRequest": {"cpu": "2"}}
    assert limit_range_is_valid({"spec": {"limits": [item]}}) == [
        "default cpu 1 is above max 100m",
        "defaultRequest cpu 2 is above default 1",
    ]


def test_two_project_quota_and_limit_range_meet_the_strict_schema(two_on_cluster: Recording) -> None:
    # tests/test_kubernetes_checks.py checks the stack files' runs; this one has two projects' sums.
    for kind, name in (("ResourceQuota", "workloads"), ("LimitRange", "container-defaults")):
        kubernetes_validate.validate(manifest(two_on_cluster, kind, name), KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize(
    ("quantity", "size"), [("512Mi", 512 * 2**20), ("2Gi", 2 * 2**30), ("1G", 10**9), ("64Ki", 65536), ("3k", 3000), ("1Ti", 2**40)]
)
def test_memory_quantities_are_read_in_bytes(quantity: str, size: int) -> None:
    assert memory_bytes(quantity) == size


@pytest.mark.parametrize(("size", "quantity"), [(2**31, "2Gi"), (2176 * 2**20, "2176Mi"), (10**9, "1000000000")])
def test_memory_sums_are_written_in_the_largest_whole_unit(size: int, quantity: str) -> None:
    assert memory_quantity(size) == quantity


def test_the_quota_multiplies_each_pod_by_how_many_may_run() -> None:
    budgets = [PodBudget("a serving", 3, "500m", "1Gi", gpus=1), PodBudget("b training", 1, "2", "512Mi")]
    assert quota_hard(budgets) == {
        "pods": "4",
        "requests.cpu": "3500m",
        "limits.cpu": "3500m",
        "requests.memory": "3584Mi",
        "limits.memory": "3584Mi",
        "requests.nvidia.com/gpu": "3",
    }


def test_the_default_never_passes_the_max_of_a_stack_of_tiny_pods() -> None:
    # A default above max would make the API server refuse the LimitRange itself.
    item = container_limits([PodBudget("a serving", 2, "50m", "64Mi")])
    assert (item.max, item.default, item.default_request) == (
        {"cpu": "50m", "memory": "64Mi"}, {"cpu": "50m", "memory": "64Mi"}, {"cpu": "50m", "memory": "64Mi"}
    )


def test_a_namespace_with_nothing_to_run_gets_a_zero_quota_and_the_plain_defaults() -> None:
    assert set(quota_hard([]).values()) == {"0"}
    item = container_limits([])
    assert (item.max, item.default) == ({"cpu": "100m", "memory": "128Mi"}, {"cpu": "100m", "memory": "128Mi"})
