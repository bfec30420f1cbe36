"""Serving several projects (components/serving.py): each its own size, its own autoscaler, and
the built-in server or one of its own, as recorded for a stack with two served projects."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config import ServeConfig
from components.serving import most_pods
from offline.engine import Recording, run_program, stack_config_with
from offline.values import reveal
from tests.manifests import container, env, manifest, of_kind

OWN_SERVER = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/digits-server@sha256:" + "e" * 64
DIGITS = {
    "train": {"source": "images/train", "data": "builtin:digits"},
    "serve": {"cpu": "250m", "memory": "256Mi", "minReplicas": 1, "maxReplicas": 5, "targetCpuUtilization": 50, "image": OWN_SERVER},
}


@pytest.fixture(scope="module")
def two() -> Recording:
    """dev: iris on the built-in server, digits on a server of its own, each with its own bounds."""
    return run_program("dev", stack_config_with("dev", {"mlops:projects": {"digits": DIGITS}}))


def with_cpu(cpu: object) -> Recording:
    return run_program("dev", stack_config_with("dev", {"mlops:projects": {"iris": {"serve": {"cpu": cpu}}}}))


@pytest.mark.parametrize(
    ("cpu", "quantity", "workers"),
    [("250m", "250m", "1"), (0.5, "500m", "1"), (1, "1", "1"), (1.5, "1500m", "1"), (2, "2", "2")],
)
def test_a_server_gets_the_cpu_it_asks_for_and_one_worker_per_whole_core(cpu: object, quantity: str, workers: str) -> None:
    # Below a core the one worker shares its quarter or half; the server cannot see the quota, so a
    # second worker on a fraction would only be throttled.
    deployment = manifest(with_cpu(cpu), "Deployment", "iris-server")
    resources = container(deployment)["resources"]
    assert resources == {"requests": {"cpu": quantity, "memory": "512Mi"}, "limits": {"cpu": quantity, "memory": "512Mi"}}
    assert env(deployment)["WEB_CONCURRENCY"] == workers


def test_each_project_runs_its_own_server_image(two: Recording) -> None:
    assert container(manifest(two, "Deployment", "digits-server"))["image"] == OWN_SERVER
    assert container(manifest(two, "Deployment", "iris-server"))["image"] == two.outputs["imageRefs"]["serve"]


def test_a_projects_own_server_image_is_used_by_its_deployment_and_nothing_else(two: Recording) -> None:
    # Not built, not pushed, not another project's: the one place the digest appears is digits' pod template.
    holders = [r.name for r in two.resources if OWN_SERVER in json.dumps(reveal(r.inputs), default=str)]
    assert holders == ["serving-digits-deployment"]
    assert OWN_SERVER not in json.dumps(two.outputs["imageRefs"])


def test_an_own_server_gets_the_same_contract_as_the_built_in_one(two: Recording) -> None:
    # The Open Inference Protocol on 8080, the same health endpoints, and the model to load.
    server = container(manifest(two, "Deployment", "digits-server"))
    assert server["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert [server[p]["httpGet"] for p in ("startupProbe", "readinessProbe", "livenessProbe")] == [
        {"path": "/v2/health/live", "port": "http"},
        {"path": "/v2/health/ready", "port": "http"},
        {"path": "/v2/health/live", "port": "http"},
    ]
    assert {k: v for k, v in env(manifest(two, "Deployment", "digits-server")).items() if k != "AWS_SHARED_CREDENTIALS_FILE"} == {
        "MODEL_URI": f"s3://{two.outputs['bucketName']}/models/digits/LATEST",
        "MODEL_NAME": "digits",
        "WEB_CONCURRENCY": "1",
        "PORT": "8080",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def hpa_spec(run: Recording, name: str) -> dict[str, Any]:
    return manifest(run, "HorizontalPodAutoscaler", name)["spec"]


def test_each_served_project_has_one_autoscaler(two: Recording) -> None:
    assert sorted(h["metadata"]["name"] for h in of_kind(two, "HorizontalPodAutoscaler")) == ["digits-server", "iris-server"]


@pytest.mark.parametrize(("project", "bounds", "target"), [("iris", (1, 2), 70), ("digits", (1, 5), 50)])
def test_each_project_scales_its_own_deployment_on_its_own_settings(
    two: Recording, project: str, bounds: tuple[int, int], target: int
) -> None:
    spec = hpa_spec(two, f"{project}-server")
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{project}-server"}
    assert (spec["minReplicas"], spec["maxReplicas"]) == bounds
    assert spec["metrics"] == [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}}}
    ]
    assert manifest(two, "HorizontalPodAutoscaler", f"{project}-server")["metadata"]["labels"]["mlops/project"] == project


@pytest.mark.parametrize(("max_replicas", "pods"), [(1, 3), (6, 8)])
def test_a_server_has_at_most_its_maximum_its_surge_pod_and_the_pod_it_replaces(max_replicas: int, pods: int) -> None:
    assert most_pods(ServeConfig.model_validate({"maxReplicas": max_replicas})) == pods
