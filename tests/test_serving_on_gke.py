"""prod on GKE: serving and the training CronJob run on the program's cluster, keyless."""

from __future__ import annotations

from typing import Any

import pytest

from offline.engine import Recording
from tests.manifests import manifests
from tests.support import SCHEDULED, RunWith

TOKEN_ENV = {"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_DEFAULT_REGION"}


def of_kind(recording: Recording, kind: str) -> list[dict[str, Any]]:
    return [m for m in manifests(recording) if m["kind"] == kind]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec = workload["spec"]
    return (spec["jobTemplate"]["spec"] if workload["kind"] == "CronJob" else spec)["template"]["spec"]


def workloads(recording: Recording) -> dict[str, dict[str, Any]]:
    return {m["kind"]: m for m in manifests(recording) if m["kind"] in ("Deployment", "CronJob")}


def test_serving_and_training_register_through_the_gke_provider(prod: Recording) -> None:
    gke_provider = prod.get("pulumi:providers:kubernetes", "gke-k8s")
    on_cluster = [r for r in prod.resources if r.type.startswith("kubernetes:") and r.custom]
    # Airflow's Helm release among them: it has no `kind`, it is Helm's.
    assert {r.inputs.get("kind") for r in on_cluster} >= {"Namespace", "Deployment", "Service", "CronJob", None}
    assert all(r.provider.startswith(gke_provider.urn) for r in on_cluster)


@pytest.mark.parametrize("kind", ["Deployment", "CronJob"])
def test_pods_reach_aws_with_a_projected_token_not_a_key(prod: Recording, kind: str) -> None:
    spec = pod_spec(workloads(prod)[kind])
    [container] = spec["containers"]
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    assert TOKEN_ENV <= set(env)
    assert "AWS_ACCESS_KEY_ID" not in env and "AWS_SHARED_CREDENTIALS_FILE" not in env
    [token] = [v for v in spec["volumes"] if "projected" in v]
    assert token["projected"]["sources"][0]["serviceAccountToken"]["audience"] == "sts.amazonaws.com"


@pytest.mark.parametrize(("kind", "output"), [("Deployment", "servingRoleArn"), ("CronJob", "trainingRoleArn")])
def test_each_workload_assumes_its_own_role(prod: Recording, kind: str, output: str) -> None:
    [container] = pod_spec(workloads(prod)[kind])["containers"]
    role = next(e["value"] for e in container["env"] if e["name"] == "AWS_ROLE_ARN")
    assert role == prod.outputs["projects"]["iris"][output]
    assert prod.outputs["projects"]["iris"]["servingRoleArn"] != prod.outputs["projects"]["iris"]["trainingRoleArn"]


def test_no_secret_holds_a_credential_in_a_gke_stack(prod: Recording) -> None:
    # No access key, and no pull token: the nodes pull with their own identity. Airflow's own secrets
    # only: the chart's, and its Cloud SQL connection.
    assert sorted(s["metadata"]["name"] for s in of_kind(prod, "Secret")) == [
        "airflow-admin-password", "airflow-api-secret-key", "airflow-fernet-key", "airflow-jwt-secret", "airflow-metadata"]
    assert prod.of_type("aws:iam/accessKey:AccessKey") == []
    for workload in workloads(prod).values():
        assert "imagePullSecrets" not in pod_spec(workload)


def test_serving_is_reached_through_an_internal_load_balancer(prod: Recording) -> None:
    [service] = of_kind(prod, "Service")
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["metadata"]["annotations"]["networking.gke.io/load-balancer-type"] == "Internal"


def test_a_public_load_balancer_only_when_the_config_asks(run_with: RunWith) -> None:
    public = run_with("prod", **{"mlops:gke": {"publicEndpoint": True}})
    [service] = of_kind(public, "Service")
    assert service["spec"]["type"] == "LoadBalancer"
    assert "networking.gke.io/load-balancer-type" not in service["metadata"].get("annotations", {})


def test_training_runs_on_the_gpu_pool(prod: Recording) -> None:
    spec = pod_spec(workloads(prod)["CronJob"])
    [container] = spec["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
    gpu_pool = prod.get("gcp:container/nodePool:NodePool", "gke-gpu")
    assert gpu_pool.inputs["nodeConfig"]["taints"][0]["key"] == "nvidia.com/gpu"


def test_train_now_runs_a_job_from_the_cronjob_on_the_cluster_context(run_with: RunWith) -> None:
    # Without Airflow (with it, the project's DAG: tests/pipeline/test_airflow_outputs.py).
    command = run_with("prod", **SCHEDULED).outputs["projects"]["iris"]["trainNowCommand"]
    assert command.startswith("kubectl --context ")
    assert "create job" in command and "--from=cronjob/iris-train" in command


def test_serving_cpu_sizes_the_serving_node_pool(run_with: RunWith) -> None:
    two_cores = run_with("prod", **{"mlops:projects": {"iris": {"serve": {"cpu": 2}}}})
    pool = two_cores.get("gcp:container/nodePool:NodePool", "gke-cpu")
    assert pool.inputs["nodeConfig"]["machineType"] == "e2-standard-4"
