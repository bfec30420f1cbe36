"""train on a cluster (ClusterJobTraining) through the real Kubernetes client, against a small fake of
the Kubernetes API on loopback (in_airflow/cluster_train.py) that holds the CronJob the program
registers for prod: the Job it creates, a Job that exists already (adopted, not made twice), the
pod's log in the task's, and how each exit code ends the task."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from mlops_pipeline import cluster_job

from offline.engine import Recording
from tests.manifests import manifest
from tests.pipeline.support import CLUSTER_TRAIN, DAGS, airflow_bin, airflow_env, runtime_for, stack_spec, write_spec

RUN_ID = "scheduled__2026-12-02T02:00:00+00:00"
PLAN = {"data": "builtin:iris", "params": {}, "seed": 42, "image": None, "reproduces": None}
UID = "9f3c2b1a-0000-4000-8000-000000000001"


@pytest.fixture(scope="module")
def cronjob(prod: Recording) -> dict[str, Any]:
    """prod's CronJob as the API returns it: the recorded manifest, with the uid the cluster gives it."""
    recorded = manifest(prod, "CronJob", "iris-train")
    return {**recorded, "apiVersion": "batch/v1", "metadata": {**recorded["metadata"], "uid": UID}}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("cluster")
    spec = stack_spec("prod")
    return airflow_env(home, write_spec(spec, home / "pipeline.json"), runtime_for(spec), PYTHONPATH=str(DAGS))


CASES = {"done": {"exit_code": 0, "exists": False}, "adopted": {"exit_code": 0, "exists": True},
         "below the gate": {"exit_code": 6, "exists": False}, "bad data": {"exit_code": 5, "exists": False}}


@pytest.fixture(scope="module")
def runs(env: dict[str, str], cronjob: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each case's train against its own fake API, in one .venv-airflow process."""
    given = {"cronjob": cronjob, "plan": PLAN, "run_id": RUN_ID, "cases": list(CASES.values())}
    result = subprocess.run([str(airflow_bin("python")), str(CLUSTER_TRAIN), "iris", json.dumps(given)],
                            env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return dict(zip(CASES, json.loads(result.stdout.strip().splitlines()[-1])))


def test_train_creates_the_runs_job_from_the_cronjob_and_prints_its_pods_log(runs: dict[str, Any], cronjob: dict[str, Any]) -> None:
    done = runs["done"]
    name = cluster_job.job_name("iris-train", RUN_ID, 1)
    assert (done["error"], done["returned"]) == (None, name)
    assert done["created"] == [cluster_job.job_manifest(cronjob, name=name, args=done["command"], run_id=RUN_ID, try_number=1, image=None)]
    assert done["created"][0]["metadata"]["ownerReferences"][0]["uid"] == UID
    assert any(line.startswith(f"log of pod {name}-abcde:\ntrain: stored s3://") for line in done["logged"])


def test_a_job_that_exists_is_adopted(runs: dict[str, Any]) -> None:
    done = runs["adopted"]
    assert done["error"] is None and len(done["created"]) == 1  # the 409 is taken as "this try ran before"
    assert any("exists (this try ran before): adopting it" in line for line in done["logged"])


def test_a_job_below_the_gate_is_a_result_for_evaluate(runs: dict[str, Any]) -> None:
    done = runs["below the gate"]
    assert (done["error"], done["returned"]) == (None, cluster_job.job_name("iris-train", RUN_ID, 1))


def test_a_failed_job_fails_train_at_once_with_its_condition_and_exit_code(runs: dict[str, Any]) -> None:
    done = runs["bad data"]
    name = cluster_job.job_name("iris-train", RUN_ID, 1)
    assert done["error"] == (
        f"AirflowFailException: Job mlops-prod/{name} failed: PodFailurePolicy: Container train for pod x failed "
        "with exit code 5 matching FailJob rule at index 0; exit code 5"
    )
