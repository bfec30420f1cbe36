"""What lets the pipeline run training on the cluster (components/training_runner.py): a Role in the
workloads' namespace, bound to Airflow's ServiceAccount in its own, as the Airflow component asks."""

from __future__ import annotations

from typing import Any

import pytest

from offline.engine import Recording, run_program, stack_config_with
from tests.manifests import manifest
from tests.support import CPU_TRAINING
from tests.test_kubernetes_checks import schema_problems

@pytest.fixture(scope="module")
def cluster_training() -> Recording:
    """dev with compute.kind none and a digits project beside iris."""
    digits = {"train": {"source": "images/train", "data": "builtin:digits", "gpus": 0}}
    return run_program("dev", stack_config_with("dev", {**CPU_TRAINING, "mlops:projects": {**CPU_TRAINING["mlops:projects"], "digits": digits}}))


def test_the_runner_may_read_the_projects_cronjobs_and_run_their_jobs_and_nothing_else(cluster_training: Recording) -> None:
    role = manifest(cluster_training, "Role", "pipeline-runner")
    assert role["metadata"]["namespace"] == "mlops-dev"
    assert role["rules"] == [
        {"apiGroups": ["batch"], "resources": ["cronjobs"], "resourceNames": ["digits-train", "iris-train"], "verbs": ["get"]},
        {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create", "get", "list", "watch", "delete"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    ]


def test_the_runner_role_is_bound_to_airflows_service_account_in_its_own_namespace(cluster_training: Recording) -> None:
    binding = manifest(cluster_training, "RoleBinding", "pipeline-runner")
    assert (binding["metadata"]["namespace"], binding["roleRef"], binding["subjects"]) == (
        "mlops-dev",
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pipeline-runner"},
        [{"kind": "ServiceAccount", "name": "airflow", "namespace": "mlops-dev-airflow"}],
    )


def test_the_runner_objects_meet_the_strict_kubernetes_schema(cluster_training: Recording) -> None:
    objects: list[dict[str, Any]] = [manifest(cluster_training, kind, "pipeline-runner") for kind in ("Role", "RoleBinding")]
    assert {o["kind"]: schema_problems(o) for o in objects} == {"Role": [], "RoleBinding": []}


def test_the_runner_is_on_gke_too(prod: Recording) -> None:
    assert manifest(prod, "Role", "pipeline-runner")["rules"][0]["resourceNames"] == ["iris-train"]


def test_batch_gives_the_runner_nothing_on_the_cluster(dev: Recording) -> None:
    # Batch jobs run outside the cluster: Airflow needs no Kubernetes grant for them.
    assert [r.name for r in dev.resources if r.name.startswith("training-runner")] == []
