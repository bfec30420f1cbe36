"""Where training runs (components/training_backends.py): one choice, one shape of outputs."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError
from typing import Any, cast

import pytest

from components.pipeline.spec import RUNTIME_ENV
from components.training_backends import TrainingBackend
from offline.engine import Recording
from tests.pipeline.airflow_support import env
from tests.support import CPU_TRAINING, SCHEDULED, RunWith

BATCH = "mlops:batch:BatchTraining"
CRONJOB = "mlops:training:TrainingCronJob"
BATCH_OUTPUTS = {"jobQueue", "trainingLogGroup", "describeJobCommand", "logsCommand"}
KUBECTL_CREATE_JOB = "create job -n {namespace} --from=cronjob/iris-train iris-train-manual-$(date +%s)"


def backends(recording: Recording) -> list[tuple[str, str]]:
    return [(r.type, r.name) for r in recording.resources if r.type in (BATCH, CRONJOB)]


def test_ec2_trains_on_batch_and_nothing_on_the_cluster(dev: Recording) -> None:
    assert backends(dev) == [(BATCH, "training")]


def test_batch_exports_its_queue_definition_logs_and_commands(dev: Recording, dev_scheduled: Recording) -> None:
    assert BATCH_OUTPUTS <= set(dev.outputs)
    assert (dev.outputs["jobQueue"], dev.outputs["projects"]["iris"]["jobDefinition"], dev.outputs["trainingLogGroup"]) == (
        "mlops-dev-train", "mlops-dev-iris-train", "/aws/batch/mlops-dev-train"
    )
    # Without Airflow (with it, trainNowCommand starts the project's DAG: tests/pipeline/test_airflow_outputs.py).
    assert dev_scheduled.outputs["projects"]["iris"]["trainNowCommand"] == (
        "aws batch submit-job --region us-east-1 --job-queue mlops-dev-train --job-definition mlops-dev-iris-train"
        " --job-name mlops-dev-iris-train-manual --query jobId --output text"
    )


def test_batch_runs_have_no_role_on_the_cluster(dev: Recording) -> None:
    assert "trainingRoleArn" not in dev.outputs["projects"]["iris"]


def test_compute_none_trains_as_a_cronjob_on_the_kubeconfig_cluster(dev_cluster_training: Recording, run_with: RunWith) -> None:
    assert backends(dev_cluster_training) == [(CRONJOB, "training-iris")]
    scheduled = run_with("dev", **CPU_TRAINING, **SCHEDULED)
    assert scheduled.outputs["projects"]["iris"]["trainNowCommand"] == "kubectl " + KUBECTL_CREATE_JOB.format(namespace="mlops-dev")
    # The CronJob's runs are looked at with kubectl, not the Batch commands; access keys, not roles.
    assert BATCH_OUTPUTS.isdisjoint(dev_cluster_training.outputs)
    assert "trainingRoleArn" not in dev_cluster_training.outputs["projects"]["iris"]
    assert "jobDefinition" not in dev_cluster_training.outputs["projects"]["iris"]


def test_gke_trains_as_a_cronjob_with_its_own_role(prod: Recording, run_with: RunWith) -> None:
    assert backends(prod) == [(CRONJOB, "training-iris")]
    assert run_with("prod", **SCHEDULED).outputs["projects"]["iris"]["trainNowCommand"] == (
        "kubectl --context gke_mlops-prod-123456_us-central1-a_mlops-prod " + KUBECTL_CREATE_JOB.format(namespace="mlops-prod")
    )
    assert BATCH_OUTPUTS.isdisjoint(prod.outputs)
    assert prod.outputs["projects"]["iris"]["trainingRoleArn"] == "arn:aws:iam::123456789012:role/mlops/mlops-prod-iris-train"


def test_a_backend_defaults_to_no_outputs_of_its_own_and_no_service_account() -> None:
    command = cast(Any, "train now")
    backend = TrainingBackend(train_now_commands={"iris": command})
    assert (backend.exports, backend.project_exports, backend.service_accounts) == ({}, {}, {})
    targets = backend.pipeline
    assert (targets.projects, targets.job_queue, targets.policy_statements) == ({}, None, [])
    with pytest.raises(FrozenInstanceError):
        backend.service_accounts = {"iris": "iris-train"}  # type: ignore[misc]


# --- what the pipeline starts runs with (PipelineTargets, as Airflow's runtime hands them on) ---


def targets(recording: Recording) -> dict[str, Any]:
    """The training targets in MLOPS_PIPELINE_RUNTIME, as the DAGs read them (components/pipeline/spec.py)."""
    runtime = json.loads(env(recording)[RUNTIME_ENV])
    keys = ("job_definition", "cronjob")
    return {
        "projects": {name: {k: v for k, v in project.items() if k in keys} for name, project in runtime["projects"].items()},
        "jobQueue": runtime["job_queue"],
    }


def test_on_batch_the_pipeline_submits_each_projects_registered_revision_to_the_queue(dev: Recording) -> None:
    # The revision Pulumi registered, never a reproduce one; the queue by ARN, as the BatchOperator takes it.
    assert targets(dev) == {
        "projects": {"iris": {"job_definition": "arn:aws:batch:us-east-1:123456789012:job-definition/mlops-dev-iris-train:1"}},
        "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/mlops-dev-train",
    }


def test_on_the_cluster_the_pipeline_copies_each_projects_cronjob(prod: Recording) -> None:
    assert targets(prod) == {"projects": {"iris": {"cronjob": "iris-train"}}, "jobQueue": None}
